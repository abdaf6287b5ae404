//! One cell of a typed column: read into a JSON value, written from one.

use chrono::NaiveDate;
use chrono::format::{Item, StrftimeItems};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{ColumnDef, ColumnType, MAX_PLACES};

/// How a file writes a date when the column does not say.
const ISO_DATE: &str = "%Y-%m-%d";

/// A column's type, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CellKind {
    Text,
    Number,
    Decimal { places: u8 },
    Date { format: String },
}

impl CellKind {
    /// The type of column `def` (at `at` in the configuration), its problems reported.
    pub(super) fn of(def: &ColumnDef, at: &str, problem: &mut impl FnMut(String, String)) -> Option<CellKind> {
        let ColumnDef::Typed(column) = def else { return Some(CellKind::Text) };
        let mut fine = true;
        if column.places.is_some() && column.kind != ColumnType::Decimal {
            problem(format!("{at}.places"), "`places` is for decimal columns only".into());
            fine = false;
        }
        if column.format.is_some() && column.kind != ColumnType::Date {
            problem(format!("{at}.format"), "`format` is for date columns only".into());
            fine = false;
        }
        let kind = match column.kind {
            ColumnType::Text => CellKind::Text,
            ColumnType::Number => CellKind::Number,
            ColumnType::Decimal => match column.places {
                Some(places) if places <= MAX_PLACES => CellKind::Decimal { places },
                Some(places) => {
                    problem(format!("{at}.places"), format!("{places} places is more than the {MAX_PLACES} a decimal column can have"));
                    return None;
                }
                None => {
                    problem(at.to_string(), "a decimal column needs `places` (digits after the point)".into());
                    return None;
                }
            },
            ColumnType::Date => {
                let format = column.format.clone().unwrap_or_else(|| ISO_DATE.to_string());
                if StrftimeItems::new(&format).any(|item| matches!(item, Item::Error)) {
                    problem(format!("{at}.format"), format!("{format:?} is not a valid date format (strftime notation, e.g. %Y%m%d)"));
                    return None;
                }
                CellKind::Date { format }
            }
        };
        fine.then_some(kind)
    }

    /// The value of `cell` (as it stands in the file).
    pub(super) fn read(&self, cell: &str) -> Result<Value, String> {
        if *self == CellKind::Text {
            return Ok(Value::String(cell.to_string()));
        }
        let cell = cell.trim();
        if cell.is_empty() {
            return Ok(Value::Null);
        }
        match self {
            CellKind::Text => unreachable!("handled above"),
            CellKind::Number => {
                let plain = Plain::parse(cell).ok_or_else(|| format!("{cell:?} is not a number"))?;
                Ok(plain.json(None))
            }
            CellKind::Decimal { places } => {
                let plain = Plain::parse(cell).ok_or_else(|| format!("{cell:?} is not a decimal number"))?;
                if plain.fraction.len() > usize::from(*places) {
                    return Err(format!("{cell:?} has {} decimal places; at most {places} are allowed", plain.fraction.len()));
                }
                Ok(plain.json(Some(*places)))
            }
            CellKind::Date { format } => NaiveDate::parse_from_str(cell, format)
                .map(|date| Value::String(date.format(ISO_DATE).to_string()))
                .map_err(|_| format!("{cell:?} is not a date in the form {format}")),
        }
    }

    /// The cell for `value`; `null` is an empty cell.
    pub(super) fn write(&self, value: &Value) -> Result<String, String> {
        match (self, value) {
            (_, Value::Null) => Ok(String::new()),
            (_, Value::Array(_)) => Err("is a list, not a single value".into()),
            (_, Value::Object(_)) => Err("is an object, not a single value".into()),
            (CellKind::Text, Value::String(text)) => Ok(text.clone()),
            (CellKind::Text, Value::Number(number)) => Ok(number.to_string()),
            (CellKind::Text, Value::Bool(flag)) => Ok(flag.to_string()),
            (CellKind::Number, value) => Ok(plain_of(value).ok_or_else(|| format!("{value} is not a number"))?.text(None)),
            (CellKind::Decimal { places }, value) => {
                let mut plain = plain_of(value).ok_or_else(|| format!("{value} is not a decimal number"))?;
                let significant = plain.fraction.trim_end_matches('0').len();
                if significant > usize::from(*places) {
                    return Err(format!("{value} has more than {places} decimal places (it is not rounded)"));
                }
                plain.fraction.truncate(significant);
                Ok(plain.text(Some(*places)))
            }
            (CellKind::Date { format }, Value::String(text)) => {
                // A date, or the date of a date-time (`2026-12-02T10:00:00Z`).
                let date = text.get(..10).filter(|_| text.len() == 10 || text.as_bytes()[10] == b'T');
                let date = date.and_then(|date| NaiveDate::parse_from_str(date, ISO_DATE).ok());
                let date = date.ok_or_else(|| format!("{value} is not a date (YYYY-MM-DD)"))?;
                Ok(date.format(format).to_string())
            }
            (CellKind::Date { .. }, value) => Err(format!("{value} is not a date (YYYY-MM-DD)")),
        }
    }
}

/// The plain decimal of a JSON number or of text holding one.
fn plain_of(value: &Value) -> Option<Plain> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.trim().to_string(),
        _ => return None,
    };
    if let Some(plain) = Plain::parse(&text) {
        return Some(plain);
    }
    // A JSON number with an exponent (`1.5e3`): its plain digits, exactly.
    let exact = if text.contains(['e', 'E']) { Decimal::from_scientific(&text).ok()? } else { return None };
    Plain::parse(&exact.to_string())
}

/// A number as sign, integer digits and fraction digits, without an exponent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plain {
    negative: bool,
    /// No leading zeros, at least one digit.
    integer: String,
    fraction: String,
}

impl Plain {
    /// `-12.50`, `+7`, `007`, `.5`, `5.`; nothing else (no exponent, no grouping).
    fn parse(text: &str) -> Option<Plain> {
        let (negative, unsigned) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if integer.len() + fraction.len() == 0 || !digits(integer) || !digits(fraction) {
            return None;
        }
        let integer = integer.trim_start_matches('0');
        let integer = if integer.is_empty() { "0" } else { integer };
        let zero = integer == "0" && fraction.bytes().all(|byte| byte == b'0');
        Some(Plain { negative: negative && !zero, integer: integer.to_string(), fraction: fraction.to_string() })
    }

    /// The number's text, with exactly `places` fraction digits when given
    /// (the caller checked that no significant digit is cut).
    fn text(&self, places: Option<u8>) -> String {
        let mut fraction = self.fraction.clone();
        if let Some(places) = places {
            fraction.truncate(usize::from(places));
            while fraction.len() < usize::from(places) {
                fraction.push('0');
            }
        }
        let sign = if self.negative { "-" } else { "" };
        if fraction.is_empty() { format!("{sign}{}", self.integer) } else { format!("{sign}{}.{fraction}", self.integer) }
    }

    /// The number as JSON, digit for digit (serde_json keeps a number's text).
    fn json(&self, places: Option<u8>) -> Value {
        let text = self.text(places);
        serde_json::from_str::<serde_json::Number>(&text).map_or(Value::String(text), Value::Number)
    }
}
