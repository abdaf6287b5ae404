//! Element values between X12 text and JSON, per the element's type: AN, ID,
//! DT and TM stay text; R is a decimal number; Nn has `n` implied decimals
//! (`TDS*843202` with N2 is 8432.02). Numbers keep their digits (serde_json's
//! arbitrary precision), so amounts go through exactly.

use std::str::FromStr;

use serde_json::{Number, Value};

use super::definitions::{ElementDef, ElementType};
use super::separators::Separators;

/// The JSON value of element text as read; an error says why the text does not fit the type.
pub fn read_value(def: &ElementDef, text: String) -> Result<Value, String> {
    match def.kind {
        ElementType::Text | ElementType::Id | ElementType::Date | ElementType::Time => Ok(Value::String(text)),
        ElementType::Real => {
            let (negative, int, frac) = split_decimal(text.trim()).ok_or_else(|| format!("'{}' is not a number (type R)", clip(&text)))?;
            number(negative, int, frac)
        }
        ElementType::Implied(decimals) => {
            let trimmed = text.trim();
            let (negative, digits) = match trimmed.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, trimmed),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("'{}' is not a number of type N{decimals} (digits only, decimals implied)", clip(&text)));
            }
            let split = digits.len().saturating_sub(decimals as usize);
            let (int, frac) = digits.split_at(split);
            let frac = format!("{frac:0>width$}", width = decimals as usize);
            number(negative, int, &frac)
        }
    }
}

/// The X12 text of a JSON value for this element; an error says why it does not fit.
pub fn write_value(def: &ElementDef, value: &Value, separators: &Separators) -> Result<String, String> {
    let text = match def.kind {
        ElementType::Text | ElementType::Id | ElementType::Date | ElementType::Time => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => return Err(format!("must be text, not {}", kind_of(other))),
            };
            check_text(def, &text)?;
            text
        }
        ElementType::Real => {
            let (negative, int, frac) = decimal_of(value)?;
            let frac = frac.trim_end_matches('0');
            let digits = int.len() + frac.len();
            check_length(def, digits)?;
            let sign = if negative { "-" } else { "" };
            if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
        }
        ElementType::Implied(decimals) => {
            let (negative, int, frac) = decimal_of(value)?;
            let kept = frac.trim_end_matches('0');
            if kept.len() > decimals as usize {
                let shown = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                return Err(format!("{} has more than {decimals} decimals (type N{decimals})", clip(&shown)));
            }
            let scaled = format!("{int}{kept:0<width$}", width = decimals as usize);
            let scaled = scaled.trim_start_matches('0');
            let digits = format!("{scaled:0>width$}", width = def.min.max(1));
            check_length(def, digits.len())?;
            let sign = if negative && digits.bytes().any(|b| b != b'0') { "-" } else { "" };
            format!("{sign}{digits}")
        }
    };
    let bytes = [Some(separators.element), Some(separators.component), Some(separators.segment), separators.repetition];
    if let Some(b) = text.bytes().find(|b| bytes.contains(&Some(*b))) {
        return Err(format!("'{}' contains {}, a separator of this interchange", clip(&text), super::separators::shown(b)));
    }
    Ok(text)
}

fn check_text(def: &ElementDef, text: &str) -> Result<(), String> {
    check_length(def, text.chars().count())?;
    match def.kind {
        ElementType::Id if !def.codes.is_empty() && !def.codes.iter().any(|c| c == text) => {
            Err(format!("'{}' is not one of its codes ({})", clip(text), def.codes.join(", ")))
        }
        ElementType::Date | ElementType::Time if !text.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("'{}' must be digits ({})", clip(text), if def.kind == ElementType::Date { "CCYYMMDD" } else { "HHMM" }))
        }
        _ => Ok(()),
    }
}

fn check_length(def: &ElementDef, length: usize) -> Result<(), String> {
    if length < def.min || length > def.max {
        let range = if def.min == def.max { def.min.to_string() } else { format!("{}..{}", def.min, def.max) };
        return Err(format!("is {length} characters long, its length is {range}"));
    }
    Ok(())
}

/// Sign, integer digits (no leading zeros, at least one) and fraction digits of a number.
fn decimal_of(value: &Value) -> Result<(bool, String, String), String> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        other => return Err(format!("must be a number, not {}", kind_of(other))),
    };
    let (negative, int, frac) = split_decimal(&text).ok_or_else(|| format!("'{}' is not a decimal number", clip(&text)))?;
    let int = int.trim_start_matches('0');
    Ok((negative, if int.is_empty() { "0".to_string() } else { int.to_string() }, frac.to_string()))
}

/// `-12.50` → (true, "12", "50"); also `.5`, `5.`; no exponents (X12 has none).
fn split_decimal(text: &str) -> Option<(bool, &str, &str)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty())).then_some((negative, int, frac))
}

fn number(negative: bool, int: &str, frac: &str) -> Result<Value, String> {
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let zero = int == "0" && frac.bytes().all(|b| b == b'0');
    let sign = if negative && !zero { "-" } else { "" };
    let text = if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") };
    Number::from_str(&text).map(Value::Number).map_err(|e| format!("'{}' is not a number: {e}", clip(&text)))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Data quoted in a message, cut to a readable length.
pub fn clip(text: &str) -> String {
    if text.chars().count() <= 40 { text.to_string() } else { format!("{}…", text.chars().take(40).collect::<String>()) }
}
