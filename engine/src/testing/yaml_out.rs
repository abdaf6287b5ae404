//! JSON values written as YAML the way test files are written by hand:
//! block mappings, and short inner mappings and lists on one line
//! (`- { Item: 5df0…, Quantity: 12 }`). Strings that YAML would read as
//! something else are double-quoted (JSON's quoting is valid YAML).

use serde_json::Value;

/// Inner mappings and lists are written on one line when the line stays this short.
const WIDTH: usize = 120;

/// An `expect` value as the YAML of a mapping entry's value at `indent`
/// spaces: the text after `expect:` (a line break first, for a block).
pub fn entry_value(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    block(value, indent, 0, &mut out);
    out
}

fn block(value: &Value, indent: usize, depth: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() && !fits(value, indent, depth) => {
            for (k, v) in map {
                out.push_str(&format!("\n{pad}{}:", scalar_text(k)));
                block(v, indent + 2, depth + 1, out);
            }
        }
        Value::Array(items) if !items.is_empty() && !fits(value, indent, depth) => {
            for item in items {
                out.push_str(&format!("\n{pad}-"));
                item_block(item, indent + 2, depth + 1, out);
            }
        }
        _ => out.push_str(&format!(" {}", flow(value))),
    }
}

/// A list item: a mapping that does not fit on one line starts on the dash's line.
fn item_block(value: &Value, indent: usize, depth: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() && !fits(value, indent, depth) => {
            let mut first = true;
            for (k, v) in map {
                if first {
                    out.push_str(&format!(" {}:", scalar_text(k)));
                    first = false;
                } else {
                    out.push_str(&format!("\n{}{}:", " ".repeat(indent), scalar_text(k)));
                }
                block(v, indent + 2, depth + 1, out);
            }
        }
        _ => block(value, indent, depth, out),
    }
}

/// The `expect` mapping and what is right in it (the payload, the list of
/// reasons) are blocks; what is inside those goes on one line when it is
/// short. A list of mappings or lists is a block of lines (`- { … }` each), as by hand.
fn fits(value: &Value, indent: usize, depth: usize) -> bool {
    let nested_list = value.as_array().is_some_and(|items| items.iter().any(|i| i.is_object() || i.is_array()));
    depth >= 2 && !nested_list && indent + flow(value).chars().count() <= WIDTH
}

/// One-line YAML.
fn flow(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => format!("{{ {} }}", map.iter().map(|(k, v)| format!("{}: {}", scalar_text(k), flow(v))).collect::<Vec<_>>().join(", ")),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::String(s) => scalar_text(s),
        other => other.to_string(),
    }
}

/// A string as YAML: plain when YAML reads it back as the same string, else double-quoted.
fn scalar_text(s: &str) -> String {
    if plain_is_safe(s) { s.to_string() } else { Value::String(s.to_string()).to_string() }
}

fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let reserved = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"];
    let lower = s.to_ascii_lowercase();
    // What reads as a number (`50001`, `1e5`, `0x1F`, `.inf`) is quoted; indicators start other nodes.
    let number =
        s.parse::<f64>().is_ok() || lower.starts_with("0x") || lower.starts_with("0o") || lower.trim_start_matches(['+', '-']).starts_with(".inf");
    !number
        && !"-?:,[]{}#&*!|>'\"%@` ".contains(first)
        && !s.ends_with(' ')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.chars().any(|c| c.is_control() || ",[]{}".contains(c))
        && !reserved.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_payload_is_a_block_with_short_lines_on_one_line() {
        let expect = json!({"ready": {
            "YourRef": "PO50001",
            "Code": "50001",
            "Id": "5df0d39f-7524",
            "Note": "a: b",
            "Lines": [{"Item": "e53fcc59", "Quantity": 12, "UnitPrice": 19.95}],
            "Empty": {},
        }});
        assert_eq!(
            entry_value(&expect, 6),
            "\n      ready:\n        YourRef: PO50001\n        Code: \"50001\"\n        Id: 5df0d39f-7524\n        Note: \"a: b\"\n        Lines:\n          - { Item: e53fcc59, Quantity: 12, UnitPrice: 19.95 }\n        Empty: {}"
        );
    }

    #[test]
    fn reasons_are_a_block_and_a_message_a_scalar() {
        assert_eq!(entry_value(&json!({"blocked": ["Customer 9 does not exist"]}), 6), "\n      blocked:\n        - Customer 9 does not exist");
        assert_eq!(entry_value(&json!({"skipped": "true"}), 6), "\n      skipped: \"true\"");
        assert_eq!(entry_value(&json!({"ignored": true}), 6), "\n      ignored: true");
    }

    #[test]
    fn a_long_mapping_in_a_list_starts_on_the_dash() {
        let long = "x".repeat(130);
        assert_eq!(entry_value(&json!({"ready": {"L": [{"a": long, "b": 1}]}}), 2), format!("\n  ready:\n    L:\n      - a: {long}\n        b: 1"));
    }
}
