//! Conversions between serde_json values (files, fixtures, reports) and
//! minijinja values (what expressions compute with).

mod number;
mod record;
mod select;

pub use number::{ExactNumber, canonical_number, compare, decimal_of, decimal_value, is_number, json_number, number_from_text, number_text};
pub use record::{Json, Record, parse_json, with_entry};
pub use select::search;

use minijinja::Value;

pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Object(o) => Value::from_object(Record(o.iter().map(|(k, v)| (Value::from(k.as_str()), from_json(v))).collect())),
        serde_json::Value::Array(a) => Value::from(a.iter().map(from_json).collect::<Vec<_>>()),
        serde_json::Value::Number(n) => number(n),
        other => Value::from(minijinja::value::Serde(other)),
    }
}

/// A serde_json number as a value, every digit kept (see `number`).
pub fn number(n: &serde_json::Number) -> Value {
    if let Some(int) = n.as_i64() {
        return Value::from(int);
    }
    number_from_text(n.as_str()).unwrap_or_else(|| Value::from(()))
}

pub fn to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(Json(v)).unwrap_or(serde_json::Value::Null)
}

/// The text a key is matched by: strings as they are, numbers in their
/// canonical form (so 10023 and "10023" find the same record).
pub fn key_text(v: &Value) -> String {
    match v.as_str() {
        Some(s) => s.to_string(),
        None => v.to_string(),
    }
}

/// True for values an optional field leaves out: none, empty text, empty list or map.
pub fn is_empty(v: &Value) -> bool {
    v.is_none()
        || v.is_undefined()
        || v.as_str().is_some_and(|s| s.trim().is_empty())
        || (matches!(v.kind(), minijinja::value::ValueKind::Seq | minijinja::value::ValueKind::Map) && v.len() == Some(0))
}

/// A map value keeping insertion order (payload field order is what users wrote).
pub fn map<K: Into<Value>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
    Value::from_object(Record(entries.into_iter().map(|(k, v)| (k.into(), v)).collect()))
}
