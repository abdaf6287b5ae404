//! JMESPath over serde_json values with every number kept.
//!
//! `jmespath::Expression::search` first turns its input into jmespath's own
//! variables by serialising it, and a serde_json number with
//! `arbitrary_precision` serialises as a private one-field struct, which
//! jmespath takes for an object: `{"CurrentDivision": 3}` would come back
//! with an object where the 3 was. Building the variables directly keeps
//! numbers numbers (and every digit of them).

use std::collections::BTreeMap;

use jmespath::{Context, DEFAULT_RUNTIME, Expression, Rcvar, SearchResult, Variable, interpret};

/// `expr` applied to `data`, as `Expression::search` would but with numbers kept.
pub fn search(expr: &Expression<'_>, data: &serde_json::Value) -> SearchResult {
    let data = Rcvar::new(variable(data));
    let mut ctx = Context::new(expr.as_str(), &DEFAULT_RUNTIME);
    interpret(&data, expr.as_ast(), &mut ctx)
}

/// The jmespath variable of a JSON value. serde_json limits nesting to 128
/// levels when parsing, so the recursion is bounded.
fn variable(value: &serde_json::Value) -> Variable {
    match value {
        serde_json::Value::Null => Variable::Null,
        serde_json::Value::Bool(b) => Variable::Bool(*b),
        serde_json::Value::Number(n) => Variable::Number(n.clone()),
        serde_json::Value::String(s) => Variable::String(s.clone()),
        serde_json::Value::Array(items) => Variable::Array(items.iter().map(|v| Rcvar::new(variable(v))).collect()),
        serde_json::Value::Object(entries) => {
            Variable::Object(entries.iter().map(|(k, v)| (k.clone(), Rcvar::new(variable(v)))).collect::<BTreeMap<_, _>>())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers come back numbers, digit for digit, where
    /// `Expression::search` would give objects.
    #[test]
    fn numbers_stay_numbers() {
        let body: serde_json::Value =
            serde_json::from_str(r#"{"d": {"results": [{"CurrentDivision": 3, "Amount": 1234567890123456.78, "Rate": 0.5}]}}"#).unwrap();
        let expr = jmespath::compile("not_null(d.results, d)").unwrap();
        let found = serde_json::to_value(&*search(&expr, &body).unwrap()).unwrap();
        assert_eq!(found.to_string(), r#"[{"Amount":1234567890123456.78,"CurrentDivision":3,"Rate":0.5}]"#);
        let division = jmespath::compile("d.results[0].CurrentDivision").unwrap();
        assert_eq!(serde_json::to_value(&*search(&division, &body).unwrap()).unwrap(), serde_json::json!(3));
    }
}
