//! JSON values in TEXT columns (sources, payloads, answers, summaries, reasons).

use serde_json::Value;

/// The column text of `value`.
pub(crate) fn to_text(value: &Value) -> String {
    // Display of a Value is its compact JSON and cannot fail (object keys are strings).
    value.to_string()
}

/// The column text of a list of reasons.
pub(crate) fn reasons_to_text(reasons: &[String]) -> String {
    Value::from(reasons.to_vec()).to_string()
}

/// `text` parsed; the error names the position only, never the content
/// (which may be customer data).
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|error| format!("not valid JSON (line {}, column {})", error.line(), error.column()))
}

/// A column that may be NULL.
pub(crate) fn parse_optional(text: Option<&str>) -> Result<Option<Value>, String> {
    text.map(parse).transpose()
}

/// A JSON array of strings.
pub(crate) fn parse_reasons(text: &str) -> Result<Vec<String>, String> {
    match parse(text)? {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(reason) => Ok(reason),
                _ => Err("not a list of texts".to_string()),
            })
            .collect(),
        _ => Err("not a list of texts".to_string()),
    }
}
