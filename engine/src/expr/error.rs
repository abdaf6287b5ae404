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
        } else {
            EvalError::Failed(detail)
        }
    }
}
