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

/// A line diff of two values' pretty JSON: `-` expected, `+` actual. Key
/// order is no difference (the values compare equal whatever it is), so the
/// actual's keys are shown in the expected's order and only what differs is marked.
pub fn diff_text(expected: &Value, actual: &Value) -> String {
    let expected = normalise(expected);
    let actual = in_order_of(&expected, &normalise(actual));
    let e = serde_json::to_string_pretty(&expected).unwrap_or_default() + "\n";
    let a = serde_json::to_string_pretty(&actual).unwrap_or_default() + "\n";
    diff_lines(&e, &a)
}

/// `actual` with each object's keys in the order `expected` has them (keys
/// it does not have after them, as they were), at every depth.
pub fn in_order_of(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let known = e.iter().filter_map(|(k, ev)| a.get(k).map(|av| (k.clone(), in_order_of(ev, av))));
            let extra = a.iter().filter(|(k, _)| !e.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone()));
            Value::Object(known.chain(extra).collect())
        }
        (Value::Array(e), Value::Array(a)) => {
            Value::Array(a.iter().enumerate().map(|(i, av)| e.get(i).map_or_else(|| av.clone(), |ev| in_order_of(ev, av))).collect())
        }
        _ => actual.clone(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_alone_is_no_difference_in_a_diff() {
        let expected = json!({"a": 1, "lines": [{"x": 1, "y": 2}], "b": 2});
        let actual = json!({"b": 3, "lines": [{"y": 2, "x": 1}], "a": 1, "c": 4});
        let diff = anstream::adapter::strip_str(&diff_text(&expected, &actual)).to_string();
        let changed: Vec<&str> = diff.lines().filter(|l| !l.starts_with("  ")).collect();
        assert_eq!(changed, ["-   \"b\": 2", "+   \"b\": 3,", "+   \"c\": 4"], "{diff}");
    }
}
