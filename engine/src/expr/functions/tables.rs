//! Mapping tables: `invoice.tax_rate | translate(settings.vat_codes)`.
//!
//! Tables usually come from YAML settings, where keys are text (`"21"`)
//! while the looked-up values come from JSON, where they are numbers (`21`,
//! `21.0`). Keys are therefore compared by a normalised text: numbers by
//! their canonical text, strings trimmed. Strings are not parsed as numbers,
//! so codes such as `"007"` and `"7"` stay distinct.

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, Value};

use super::{invalid, number_text, reject_undefined, show};

/// How many known keys an error message lists.
const LISTED_KEYS: usize = 10;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("translate", translate);
}

/// The text a key is compared by, or `None` for values that cannot be keys
/// (none, lists, maps).
fn key_text(value: &Value) -> Option<String> {
    match value.kind() {
        ValueKind::String => Some(value.as_str().unwrap_or_default().trim().to_owned()),
        ValueKind::Number => number_text(value),
        ValueKind::Bool => Some(if value.is_true() { "true" } else { "false" }.to_owned()),
        // A number too long for a float.
        _ => number_text(value),
    }
}

/// `translate(table, default)`: the table's entry for the value. Without a
/// default (positional or `default=`), a missing entry is an error listing
/// the known keys; with one, the default is returned (it may be `none`).
fn translate(value: &Value, table: &Value, default: &[Value], kwargs: Kwargs) -> Result<Value, Error> {
    reject_undefined(value)?;
    reject_undefined(table)?;
    // `Option<Value>` would turn an explicit `none` default into "no
    // default", so presence is decided on the raw argument list instead.
    let default = match (default, kwargs.has("default")) {
        ([], false) => None,
        ([], true) => Some(kwargs.get::<Value>("default")?),
        ([given], false) => Some(given.clone()),
        ([_], true) => {
            return Err(Error::new(minijinja::ErrorKind::TooManyArguments, "argument default given both by position and by keyword"));
        }
        _ => return Err(Error::from(minijinja::ErrorKind::TooManyArguments)),
    };
    kwargs.assert_all_used()?;
    if table.kind() != ValueKind::Map {
        return Err(invalid(format!("the translation table must be a map, got {}", show(table))));
    }

    let wanted = key_text(value);
    let mut known = Vec::new();
    for key in table.try_iter()? {
        let text = key_text(&key);
        if text.is_some() && text == wanted {
            return table.get_item(&key);
        }
        known.push(text.unwrap_or_else(|| key.to_string()));
    }
    if let Some(default) = default {
        return Ok(default);
    }
    Err(invalid(format!("no entry for {} in the table ({})", show(value), describe_keys(&mut known))))
}

/// `known: a, b, c` (at most [`LISTED_KEYS`] of them) for error messages.
///
/// Keys are listed in a natural order, numeric keys by value first
/// (`0, 6, 21`) and then the rest alphabetically, so the message does not
/// depend on how the map happens to order its keys.
fn describe_keys(keys: &mut [String]) -> String {
    if keys.is_empty() {
        return "the table is empty".to_owned();
    }
    let numeric = |key: &str| key.parse::<f64>().ok().filter(|n| n.is_finite());
    keys.sort_by(|a, b| match (numeric(a), numeric(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    });
    let listed = keys.iter().take(LISTED_KEYS).map(|key| if key.is_empty() { "\"\"" } else { key.as_str() }).collect::<Vec<_>>().join(", ");
    match keys.len().saturating_sub(LISTED_KEYS) {
        0 => format!("known: {listed}"),
        more => format!("known: {listed} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error, json};
    use minijinja::value::Serde;
    use minijinja::{Value, context};
    use serde_json::json;

    fn vat_codes() -> Value {
        Value::from(Serde(json!({ "0": "0", "6": "1", "21": "2", "0.21": "H" })))
    }

    #[test]
    fn numbers_match_by_canonical_text() {
        for rate in [Value::from(21), Value::from(21.0), Value::from("21"), Value::from(" 21 ")] {
            assert_eq!(json("rate | translate(codes)", context! { rate => rate.clone(), codes => vat_codes() }), json!("2"), "{rate:?}");
        }
        assert_eq!(json("rate | translate(codes)", context! { rate => 0.21, codes => vat_codes() }), json!("H"));
        assert_eq!(json("0 | translate(codes)", context! { codes => vat_codes() }), json!("0"));
    }

    #[test]
    fn table_keys_are_normalised_too() {
        let codes = Value::from(Serde(json!({ " NL ": "Netherlands", "7": "seven" })));
        assert_eq!(json("'NL' | translate(codes)", context! { codes => codes.clone() }), json!("Netherlands"));
        assert_eq!(json("7.0 | translate(codes)", context! { codes => codes.clone() }), json!("seven"));
        assert_eq!(json("7 | translate({7: 'x'})", context! {}), json!("x"));
        assert_eq!(
            error("'007' | translate(codes)", context! { codes }),
            "invalid operation: no entry for \"007\" in the table (known: 7, NL) \
             (in <expression>:1)"
        );
    }

    #[test]
    fn missing_key_lists_known_keys() {
        let codes = Value::from(Serde(json!({ "0": "0", "6": "1", "21": "2" })));
        assert_eq!(
            error("rate | translate(codes)", context! { rate => 9, codes }),
            "invalid operation: no entry for 9 in the table (known: 0, 6, 21) (in <expression>:1)"
        );
        let many: serde_json::Map<_, _> = (1..=12).map(|i| (i.to_string(), json!(i))).collect();
        assert_eq!(
            error("0 | translate(codes)", context! { codes => Value::from(Serde(&many)) }),
            "invalid operation: no entry for 0 in the table \
             (known: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more) (in <expression>:1)"
        );
        assert_eq!(
            error("none | translate({})", context! {}),
            "invalid operation: no entry for none in the table (the table is empty) \
             (in <expression>:1)"
        );
    }

    #[test]
    fn default_is_used_when_missing() {
        let ctx = context! { codes => vat_codes() };
        assert_eq!(json("9 | translate(codes, 'X')", ctx.clone()), json!("X"));
        assert_eq!(json("9 | translate(codes, default='X')", ctx.clone()), json!("X"));
        assert_eq!(json("9 | translate(codes, none)", ctx.clone()), json!(null));
        assert_eq!(json("21 | translate(codes, 'X')", ctx.clone()), json!("2"));
        assert_eq!(
            error("9 | translate(codes, 'X', default='Y')", ctx.clone()),
            "too many arguments: argument default given both by position and by keyword \
             (in <expression>:1)"
        );
    }

    #[test]
    fn table_must_be_a_map() {
        assert_eq!(
            error("21 | translate([21])", context! {}),
            "invalid operation: the translation table must be a map, got sequence [21] \
             (in <expression>:1)"
        );
        assert_eq!(error("21 | translate(settings.missing)", context! { settings => context! {} }), "undefined value (in <expression>:1)");
    }
}
