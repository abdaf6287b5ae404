use std::fmt;

/// Why an expression gave no value for one record. Shown as a block reason,
/// so the text names the path or the operation and suggests a fix.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalError {
    /// A path that resolves to nothing: `order.retailer.reference`.
    Missing(String),
    /// `+` between text and a number.
    PlusOnText(String),
    /// Anything else minijinja or a flowmap function reported.
    Failed(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Missing(path) => write!(f, "`{path}` is missing"),
            EvalError::PlusOnText(detail) => write!(f, "{detail}; use `~` to join text (e.g. \"PO\" ~ order.id)"),
            EvalError::Failed(detail) => f.write_str(detail),
        }
    }
}

impl EvalError {
    pub fn from_minijinja(e: &minijinja::Error) -> EvalError {
        let detail = e.detail().map(str::to_string).unwrap_or_else(|| e.kind().to_string());
        if e.kind() == minijinja::ErrorKind::InvalidOperation && detail.contains("+ operator") && detail.contains("string") {
            EvalError::PlusOnText(detail)
        } else if e.kind() == minijinja::ErrorKind::InvalidOperation
            && detail.contains(" operator on unsupported types")
            && detail.contains("plain object")
        {
            // The only plain objects in a flow are numbers too long for a
            // float (`value::ExactNumber`), which minijinja cannot compute with.
            EvalError::Failed(format!(
                "{detail}: the number has more digits than a float holds; compute with money_add, money_sub, money_mul and money_div"
            ))
        } else {
            EvalError::Failed(detail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EvalError;

    /// `*` on a money result too long for a float blocks the record with a
    /// way out, not minijinja's bare "unsupported types".
    #[test]
    fn arithmetic_on_an_exact_number_names_the_money_functions() {
        let env = crate::expr::ExprEnv::new(&Vec::new()).unwrap();
        let err = env.compile("money_div(1, 3) * 2").unwrap().eval(minijinja::context! {}).unwrap_err();
        assert_eq!(
            EvalError::from_minijinja(&err).to_string(),
            "tried to use * operator on unsupported types plain object and number: the number has more digits than a float \
             holds; compute with money_add, money_sub, money_mul and money_div"
        );
    }
}
