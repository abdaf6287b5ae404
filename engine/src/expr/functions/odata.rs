//! OData literal builders: turning values into text that can be spliced
//! safely into a `$filter`, and reading the Microsoft JSON date format
//! (`/Date(ms)/`) that OData v2 services such as Exact Online return.
//!
//! This is protocol knowledge only; which fields a system filters on is
//! described in that system's YAML.

use chrono::SecondsFormat;
use minijinja::{Environment, Error, Value};

use super::dates::{out_of_range, parse_iso, utc_from_millis, within_years};
use super::{invalid, reject_undefined, show, text_of};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("odata_string", odata_string);
    env.add_filter("odata_guid", odata_guid);
    env.add_filter("odata_date", odata_date);
    env.add_filter("from_odata_date", from_odata_date);
}

/// `'…'` with embedded single quotes doubled, which is the only escaping an
/// OData string literal has. Doubling every quote is what keeps a value like
/// `x' or '1' eq '1` inside the literal instead of extending the filter.
fn odata_string(value: &Value) -> Result<String, Error> {
    let text = text_of(value)?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}

/// `guid'…'` for a valid GUID (braces stripped, lowercased).
///
/// The value is validated rather than quoted: a GUID literal has no escaping,
/// so anything that is not exactly a GUID is rejected.
fn odata_guid(value: &Value) -> Result<String, Error> {
    reject_undefined(value)?;
    let guid = value
        .as_str()
        .and_then(normalise_guid)
        .ok_or_else(|| invalid(format!("{} is not a valid GUID (expected 8-4-4-4-12 hex digits)", show(value))))?;
    Ok(format!("guid'{guid}'"))
}

/// The lowercased GUID if `text` is one, with optional surrounding braces.
fn normalise_guid(text: &str) -> Option<String> {
    let text = text.trim();
    let inner = match text.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}')?,
        None => text,
    };
    let groups: Vec<&str> = inner.split('-').collect();
    let well_formed = groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()));
    well_formed.then(|| inner.to_ascii_lowercase())
}

/// ISO date or datetime → `/Date(ms)/`.
///
/// A date means UTC midnight; a datetime without offset is taken as UTC; one
/// with an offset is converted to the UTC instant. A value that already is a
/// `/Date(…)/` string is accepted and normalised, so the filter can be applied
/// to data that may come from either an OData source or elsewhere. An
/// instant outside years 1 to 9999 (UTC) is refused, as `from_odata_date`
/// would refuse it.
fn odata_date(value: &Value) -> Result<String, Error> {
    reject_undefined(value)?;
    let text = value.as_str().unwrap_or_default();
    let instant = if let Some(millis) = parse_ms_date(text) {
        utc_from_millis(value, millis)?
    } else if let Some(moment) = parse_iso(text) {
        Some(moment.utc()).filter(|utc| within_years(utc.date_naive())).ok_or_else(|| out_of_range(&show(value)))?
    } else {
        return Err(invalid(format!(
            "{} is not an ISO date or datetime (expected e.g. 2024-03-05 or \
             2024-03-05T10:20:00)",
            show(value)
        )));
    };
    Ok(format!("/Date({})/", instant.timestamp_millis()))
}

/// `/Date(ms)/` → `2024-03-05T00:00:00Z` (milliseconds are shown only when
/// not zero), or `2024-03-05` with the argument `"date"`. `none` stays
/// `none`: an OData source returns `null` for an empty date field. An
/// instant outside years 1 to 9999 is an error.
fn from_odata_date(value: &Value, shape: Option<&str>) -> Result<Value, Error> {
    reject_undefined(value)?;
    let date_only = match shape {
        None | Some("datetime") => false,
        Some("date") => true,
        Some(other) => {
            return Err(invalid(format!("unknown shape {other:?} for from_odata_date (expected \"date\" or \"datetime\")")));
        }
    };
    if value.is_none() {
        return Ok(Value::from(()));
    }
    let millis = value
        .as_str()
        .and_then(parse_ms_date)
        .ok_or_else(|| invalid(format!("{} is not an OData date (expected e.g. /Date(1709596800000)/)", show(value))))?;
    let instant = utc_from_millis(value, millis)?;
    Ok(Value::from(if date_only { instant.format("%Y-%m-%d").to_string() } else { instant.to_rfc3339_opts(SecondsFormat::AutoSi, true) }))
}

/// The UTC milliseconds of a `/Date(ms)/` value or an ISO date or datetime
/// (a watermark is compared by it, whichever the source writes).
pub fn instant_ms(text: &str) -> Option<i64> {
    parse_ms_date(text).or_else(|| super::dates::parse_iso(text).map(|m| m.utc().timestamp_millis()))
}

/// The milliseconds of a `/Date(ms)/` or `/Date(ms+hhmm)/` string.
///
/// The number is always milliseconds since the Unix epoch in UTC; the
/// optional offset only records the zone the sender was in, so it is
/// validated and then ignored.
pub(super) fn parse_ms_date(text: &str) -> Option<i64> {
    let inner = text.trim().strip_prefix("/Date(")?.strip_suffix(")/")?;
    // The offset sign is searched after the first character so that a
    // negative (pre-1970) millisecond count is not mistaken for an offset.
    let (millis, offset) = match inner.char_indices().skip(1).find(|&(_, c)| c == '+' || c == '-') {
        Some((at, _)) => (&inner[..at], Some(&inner[at + 1..])),
        None => (inner, None),
    };
    if let Some(offset) = offset
        && !(offset.len() == 4 && offset.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let digits = millis.strip_prefix('-').unwrap_or(millis);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    millis.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error, json};
    use minijinja::context;
    use minijinja::value::{Serde, Value};
    use serde_json::json;

    #[test]
    fn string_doubles_quotes() {
        assert_eq!(json("'O\\'Brien' | odata_string", context! {}), json!("'O''Brien'"));
        assert_eq!(json("name | odata_string", context! { name => "plain" }), json!("'plain'"));
        assert_eq!(json("name | odata_string", context! { name => "''" }), json!("''''''"));
    }

    #[test]
    fn string_keeps_injection_inside_the_literal() {
        assert_eq!(json("v | odata_string", context! { v => "x' or '1' eq '1" }), json!("'x'' or ''1'' eq ''1'"));
    }

    #[test]
    fn string_stringifies_numbers() {
        assert_eq!(json("12 | odata_string", context! {}), json!("'12'"));
        assert_eq!(json("12.5 | odata_string", context! {}), json!("'12.5'"));
        assert_eq!(json("21.0 | odata_string", context! {}), json!("'21'"));
    }

    #[test]
    fn string_rejects_other_kinds() {
        assert_eq!(error("v | odata_string", context! { v => () }), "invalid operation: expected text or a number, got none (in <expression>:1)");
        assert_eq!(error("missing | odata_string", context! {}), "undefined value (in <expression>:1)");
    }

    #[test]
    fn guid_is_validated_and_normalised() {
        assert_eq!(
            json("g | odata_guid", context! { g => "3F2504E0-4F89-11D3-9A0C-0305E82C3301" }),
            json!("guid'3f2504e0-4f89-11d3-9a0c-0305e82c3301'")
        );
        assert_eq!(
            json("g | odata_guid", context! { g => "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}" }),
            json!("guid'3f2504e0-4f89-11d3-9a0c-0305e82c3301'")
        );
    }

    #[test]
    fn guid_rejects_anything_else() {
        assert_eq!(
            error("g | odata_guid", context! { g => "3f2504e0' or 1 eq 1" }),
            "invalid operation: \"3f2504e0' or 1 eq 1\" is not a valid GUID \
             (expected 8-4-4-4-12 hex digits) (in <expression>:1)"
        );
        for bad in [
            "",
            "3f2504e0-4f89-11d3-9a0c-0305e82c330",
            "3f2504e0-4f89-11d3-9a0c-0305e82c33011",
            "3f2504e04f8911d39a0c0305e82c3301",
            "3g2504e0-4f89-11d3-9a0c-0305e82c3301",
            "{3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
            "3f2504e0-4f89-11d3-9a0c-0305-e82c3301",
        ] {
            let err = error("g | odata_guid", context! { g => bad });
            assert!(err.contains("is not a valid GUID"), "{bad}: {err}");
        }
        assert_eq!(
            error("12 | odata_guid", context! {}),
            "invalid operation: 12 is not a valid GUID (expected 8-4-4-4-12 hex digits) \
             (in <expression>:1)"
        );
    }

    #[test]
    fn date_to_microsoft_json() {
        assert_eq!(json("'2024-03-05' | odata_date", context! {}), json!("/Date(1709596800000)/"));
        assert_eq!(json("'2024-03-05T10:20:00' | odata_date", context! {}), json!("/Date(1709634000000)/"));
        assert_eq!(json("'2024-03-05T10:20:00Z' | odata_date", context! {}), json!("/Date(1709634000000)/"));
        assert_eq!(json("'2024-03-05T11:20:00+01:00' | odata_date", context! {}), json!("/Date(1709634000000)/"));
        assert_eq!(json("'1969-12-31' | odata_date", context! {}), json!("/Date(-86400000)/"));
        assert_eq!(json("'/Date(1709596800000+0100)/' | odata_date", context! {}), json!("/Date(1709596800000)/"));
    }

    #[test]
    fn date_rejects_bad_input() {
        assert_eq!(
            error("'05-03-2024' | odata_date", context! {}),
            "invalid operation: \"05-03-2024\" is not an ISO date or datetime \
             (expected e.g. 2024-03-05 or 2024-03-05T10:20:00) (in <expression>:1)"
        );
        assert!(error("'2023-02-29' | odata_date", context! {}).contains("\"2023-02-29\""));
    }

    #[test]
    fn from_microsoft_json() {
        assert_eq!(json("'/Date(1709596800000)/' | from_odata_date", context! {}), json!("2024-03-05T00:00:00Z"));
        assert_eq!(json("'/Date(1552262400000+0000)/' | from_odata_date", context! {}), json!("2019-03-11T00:00:00Z"));
        assert_eq!(json("'/Date(1552262400000+0000)/' | from_odata_date('date')", context! {}), json!("2019-03-11"));
        assert_eq!(json("'/Date(1709634000123)/' | from_odata_date", context! {}), json!("2024-03-05T10:20:00.123Z"));
        assert_eq!(json("'/Date(-86400000)/' | from_odata_date", context! {}), json!("1969-12-31T00:00:00Z"));
        assert_eq!(json("d | from_odata_date", context! { d => () }), json!(null));
    }

    #[test]
    fn round_trips() {
        for date in ["2024-02-29", "2000-01-01", "1969-07-20", "2099-12-31"] {
            assert_eq!(json("d | odata_date | from_odata_date('date')", context! { d => date }), json!(date));
        }
        assert_eq!(json("d | odata_date | from_odata_date", context! { d => "2024-03-05T10:20:30" }), json!("2024-03-05T10:20:30Z"));
        for ms in ["/Date(1709596800000)/", "/Date(0)/", "/Date(-1)/"] {
            let iso = json("d | from_odata_date", context! { d => ms });
            assert_eq!(json("d | odata_date", context! { d => Value::from(Serde(iso)) }), json!(ms));
        }
    }

    /// Issue 9: a `/Date(…)/` outside years 1 to 9999 is refused both ways
    /// (chrono would write `+10000-01-01T00:00:00Z`).
    #[test]
    fn out_of_range_dates_are_refused() {
        for (expr, shown) in [
            ("'/Date(253402300800000)/' | from_odata_date", "\"/Date(253402300800000)/\""),
            ("'/Date(253402300800000)/' | from_odata_date('date')", "\"/Date(253402300800000)/\""),
            ("'/Date(-62135596800001)/' | from_odata_date", "\"/Date(-62135596800001)/\""),
            ("'/Date(9223372036854775807)/' | from_odata_date", "\"/Date(9223372036854775807)/\""),
            ("'/Date(253402300800000+0100)/' | odata_date", "\"/Date(253402300800000+0100)/\""),
            ("'9999-12-31T23:00:00-05:00' | odata_date", "\"9999-12-31T23:00:00-05:00\""),
            ("'0001-01-01T00:30:00+01:00' | odata_date", "\"0001-01-01T00:30:00+01:00\""),
        ] {
            assert_eq!(
                error(expr, context! {}),
                format!("invalid operation: {shown} is out of range (dates run from year 1 to 9999) (in <expression>:1)"),
                "{expr}"
            );
        }
        assert_eq!(json("'/Date(253402300799999)/' | from_odata_date", context! {}), json!("9999-12-31T23:59:59.999Z"));
        assert_eq!(json("'9999-12-31T23:59:59.999Z' | odata_date", context! {}), json!("/Date(253402300799999)/"));
        assert_eq!(json("'0001-01-01' | odata_date | from_odata_date('date')", context! {}), json!("0001-01-01"));
    }

    #[test]
    fn from_rejects_bad_input() {
        assert_eq!(
            error("'2024-03-05' | from_odata_date", context! {}),
            "invalid operation: \"2024-03-05\" is not an OData date \
             (expected e.g. /Date(1709596800000)/) (in <expression>:1)"
        );
        for bad in ["/Date()/", "/Date(12a)/", "/Date(1+01)/", "/Date(1+0100/", "Date(1)"] {
            let err = error("d | from_odata_date", context! { d => bad });
            assert!(err.contains("is not an OData date"), "{bad}: {err}");
        }
        assert_eq!(
            error("'/Date(0)/' | from_odata_date('time')", context! {}),
            "invalid operation: unknown shape \"time\" for from_odata_date \
             (expected \"date\" or \"datetime\") (in <expression>:1)"
        );
    }
}
