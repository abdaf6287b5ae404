use anstyle::{AnsiColor, Style};
use serde_json::Value;

const RED: Style = AnsiColor::Red.on_default();
const GREEN: Style = AnsiColor::Green.on_default();

/// Numbers compare by value (`49` equals `49.0`, `1.50` equals `1.5`):
/// fixtures and YAML write whole amounts without decimals, computed amounts
/// may be floats. Every digit counts (serde_json keeps them all).
pub fn normalise(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::Number(crate::value::canonical_number(n)),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), normalise(v))).collect()),
        _ => v.clone(),
    }
}

/// A line diff of two values' pretty JSON: `-` expected, `+` actual.
pub fn diff_text(expected: &Value, actual: &Value) -> String {
    let e = serde_json::to_string_pretty(&normalise(expected)).unwrap_or_default() + "\n";
    let a = serde_json::to_string_pretty(&normalise(actual)).unwrap_or_default() + "\n";
    diff_lines(&e, &a)
}

pub fn diff_lines(expected: &str, actual: &str) -> String {
    let mut out = String::new();
    for change in similar::TextDiff::from_lines(expected, actual).iter_all_changes() {
        let (sign, style) = match change.tag() {
            similar::ChangeTag::Delete => ("-", RED),
            similar::ChangeTag::Insert => ("+", GREEN),
            similar::ChangeTag::Equal => (" ", Style::new()),
        };
        // The style is reset before the line break, so no escape code starts the next line.
        out.push_str(&format!("{style}{sign} {}{style:#}\n", change.value().trim_end_matches('\n')));
    }
    out
}
