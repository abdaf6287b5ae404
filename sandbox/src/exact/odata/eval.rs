//! Evaluates a parsed `$filter` against one record, comparing the way Exact does: strings
//! exactly (a padded `Code` only matches the padded value), GUIDs case-insensitively, dates by
//! instant, and `null` only equal to `null` or a missing value.

use std::cmp::Ordering;

use serde_json::Value;

use super::parser::{CompareOp, Expr, Function, Literal};
use crate::exact::store::Record;

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Guid(String),
    Date(i64),
}

pub fn matches(expr: &Expr, record: &Record) -> bool {
    eval(expr, record) == Val::Bool(true)
}

fn eval(expr: &Expr, record: &Record) -> Val {
    match expr {
        Expr::Literal(literal) => from_literal(literal),
        Expr::Field(name) => record.get(name).map(from_json).unwrap_or(Val::Null),
        Expr::Call(function, args) => call(*function, &args.iter().map(|a| eval(a, record)).collect::<Vec<_>>()),
        Expr::Compare(op, left, right) => Val::Bool(compare(*op, &eval(left, record), &eval(right, record))),
        Expr::And(left, right) => Val::Bool(matches(left, record) && matches(right, record)),
        Expr::Or(left, right) => Val::Bool(matches(left, record) || matches(right, record)),
        // `not` of an unknown (null) condition stays not-true, as in SQL.
        Expr::Not(inner) => match eval(inner, record) {
            Val::Bool(b) => Val::Bool(!b),
            _ => Val::Null,
        },
    }
}

fn from_literal(literal: &Literal) -> Val {
    match literal {
        Literal::Null => Val::Null,
        Literal::Bool(b) => Val::Bool(*b),
        Literal::Int(n) => Val::Num(*n as f64),
        Literal::Float(x) => Val::Num(*x),
        Literal::Str(s) => Val::Str(s.clone()),
        Literal::Guid(g) => Val::Guid(g.clone()),
        Literal::DateTime(ms) => Val::Date(*ms),
    }
}

fn from_json(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => n.as_f64().map(Val::Num).unwrap_or(Val::Null),
        Value::String(s) => ms_date(s).map(Val::Date).unwrap_or_else(|| Val::Str(s.clone())),
        // Line collections and other objects compare with nothing.
        Value::Array(_) | Value::Object(_) => Val::Null,
    }
}

/// `/Date(1382667872203)/` → 1382667872203.
pub fn ms_date(text: &str) -> Option<i64> {
    text.strip_prefix("/Date(")?.strip_suffix(")/")?.parse().ok()
}

/// The order `$orderby` puts two values in: `null` (or missing) first, then by value; values of
/// different types (which one field never holds) by type.
pub fn order_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let rank = |v: &Val| match v {
        Val::Null => 0,
        Val::Bool(_) => 1,
        Val::Num(_) => 2,
        Val::Date(_) => 3,
        Val::Str(_) | Val::Guid(_) => 4,
    };
    let (a, b) = (a.map(from_json).unwrap_or(Val::Null), b.map(from_json).unwrap_or(Val::Null));
    match (&a, &b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        (Val::Date(x), Val::Date(y)) => x.cmp(y),
        (Val::Str(x) | Val::Guid(x), Val::Str(y) | Val::Guid(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
        _ => rank(&a).cmp(&rank(&b)),
    }
}

fn call(function: Function, args: &[Val]) -> Val {
    let text = |i: usize| match args.get(i) {
        Some(Val::Str(s) | Val::Guid(s)) => Some(s.as_str()),
        _ => None,
    };
    match function {
        Function::Trim => text(0).map(|s| Val::Str(s.trim().to_string())).unwrap_or(Val::Null),
        Function::ToLower => text(0).map(|s| Val::Str(s.to_lowercase())).unwrap_or(Val::Null),
        Function::ToUpper => text(0).map(|s| Val::Str(s.to_uppercase())).unwrap_or(Val::Null),
        Function::Length => text(0).map(|s| Val::Num(s.chars().count() as f64)).unwrap_or(Val::Null),
        Function::SubstringOf => both(text(0), text(1), |needle, hay| hay.contains(needle)),
        Function::StartsWith => both(text(0), text(1), |hay, prefix| hay.starts_with(prefix)),
        Function::EndsWith => both(text(0), text(1), |hay, suffix| hay.ends_with(suffix)),
    }
}

fn both(a: Option<&str>, b: Option<&str>, test: impl Fn(&str, &str) -> bool) -> Val {
    match (a, b) {
        (Some(a), Some(b)) => Val::Bool(test(a, b)),
        _ => Val::Null,
    }
}

fn compare(op: CompareOp, left: &Val, right: &Val) -> bool {
    let ordering = match (left, right) {
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
        (Val::Guid(a), Val::Str(b)) | (Val::Str(a), Val::Guid(b)) | (Val::Guid(a), Val::Guid(b)) => {
            Some(a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()))
        }
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
        // Different types never match (Exact refuses some of these outright; none are useful).
        _ => None,
    };
    match (op, ordering) {
        (CompareOp::Eq, o) => o == Some(Ordering::Equal),
        (CompareOp::Ne, o) => o != Some(Ordering::Equal),
        // Ordering against null is unknown, hence false.
        (_, None) => false,
        (_, _) if *left == Val::Null || *right == Val::Null => false,
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::odata::parser::parse;
    use serde_json::json;

    fn record() -> Record {
        let value = json!({"ID": "5df0d39f-7524-4add-9413-788062e10fbe", "Code": "             10023", "Name": "O'Brien & Daughters",
            "Status": "C", "Blocked": false, "Timestamp": 387, "Modified": "/Date(1736410500000)/", "Email": null});
        value.as_object().cloned().unwrap_or_default()
    }

    fn check(filter: &str) -> bool {
        matches(&parse(filter).unwrap(), &record())
    }

    #[test]
    fn padded_codes_match_only_padded_or_trimmed() {
        assert!(check("Code eq '             10023'"));
        assert!(!check("Code eq '10023'"));
        assert!(check("trim(Code) eq '10023'"));
    }

    #[test]
    fn quotes_inside_values_and_injection_shapes() {
        assert!(check("Name eq 'O''Brien & Daughters'"));
        assert!(!check("Code eq 'x'' or ''1'' eq ''1'"));
    }

    #[test]
    fn guids_compare_case_insensitively() {
        assert!(check("ID eq guid'5DF0D39F-7524-4ADD-9413-788062E10FBE'"));
        assert!(!check("ID ne guid'5df0d39f-7524-4add-9413-788062e10fbe'"));
    }

    #[test]
    fn numbers_dates_booleans_nulls() {
        assert!(check("Timestamp gt 1L and Timestamp le 387"));
        assert!(check("Modified gt datetime'2025-01-01T00:00:00' and Modified lt datetime'2025-02-01'"));
        assert!(check("Blocked eq false and not Blocked"));
        assert!(check("Email eq null and Missing eq null and Name ne null"));
        assert!(!check("Email gt 'a'"));
    }

    #[test]
    fn string_functions() {
        assert!(check("substringof('Brien', Name) and startswith(Name, 'O''') and endswith(Name, 'ters')"));
        assert!(check("tolower(Status) eq 'c' and length(Status) eq 1"));
    }

    #[test]
    fn precedence_decides_the_answer() {
        assert!(check("Status eq 'X' and Status eq 'Y' or Status eq 'C'"));
        assert!(!check("Status eq 'X' and (Status eq 'Y' or Status eq 'C')"));
    }
}
