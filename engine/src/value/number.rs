//! Numbers exactly as written: a JSON number or a computed amount becomes a
//! minijinja value without passing through a binary float when a float
//! cannot hold it.
//!
//! minijinja's own numbers (i64, u64, i128, u128, f64) are used whenever one
//! of them holds the value exactly, so arithmetic and comparisons stay
//! minijinja's and the common case costs nothing. A float counts as exact
//! when its shortest text (what serde_json writes) is the same number, which
//! is always so for 15 significant digits or fewer. Anything else — an
//! amount of 16 or more significant digits, `money_div(1, 3)`'s 28 digits —
//! is an [`ExactNumber`]: the number's text, written back out as a JSON
//! number digit for digit (serde_json's `arbitrary_precision` keeps the text
//! in a `serde_json::Number`).
//!
//! By that rule an `ExactNumber` never equals a native number, so `==` and
//! `!=` are right everywhere, and two `ExactNumber`s compare by value in
//! minijinja too. Ordering (`<`, `>`) against a native number is right in the
//! native evaluator ([`compare`]), which also runs the money functions, so
//! `money_div(total, 3) < 1000` is right; minijinja's VM orders values of
//! different kinds by kind (an object after every number), so an expression
//! it evaluates cannot order the two. minijinja's arithmetic (`+`, `*`)
//! refuses them: the money functions compute with them.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{DynObject, Object, ObjectRepr};
use rust_decimal::Decimal;

/// A number no native minijinja number holds exactly, kept as its text.
#[derive(Debug)]
pub struct ExactNumber {
    /// Valid JSON number text (checked when made).
    number: serde_json::Number,
}

impl ExactNumber {
    /// The number's text as written (or as computed).
    pub fn text(&self) -> &str {
        self.number.as_str()
    }

    /// The number for serde_json, which writes its text as it is.
    pub fn json(&self) -> &serde_json::Number {
        &self.number
    }

    /// The decimal, when it fits rust_decimal without rounding (28
    /// significant digits, magnitude below 7.9e28).
    pub fn decimal(&self) -> Option<Decimal> {
        Digits::parse(self.text())?.decimal()
    }
}

impl Object for ExactNumber {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn is_true(self: &Arc<Self>) -> bool {
        Digits::parse(self.text()).is_none_or(|d| !d.is_zero())
    }

    /// Between two exact numbers (minijinja asks only for objects of the
    /// same type): by value, so `==` and `<` work on them in the VM too.
    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<ExactNumber>()?;
        Some(Digits::parse(self.text())?.cmp(&Digits::parse(other.text())?))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// The value for JSON number text (as serde_json scanned it, or any text in
/// the JSON number grammar): a native number when one holds it exactly,
/// otherwise an [`ExactNumber`]. `None` for text that is not a number.
pub fn number_from_text(text: &str) -> Option<Value> {
    if let Some(float) = short_float(text) {
        return Some(Value::from(float));
    }
    let digits = Digits::parse(text)?;
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(int) = text.parse::<i64>() {
            return Some(Value::from(int));
        }
        if let Ok(int) = text.parse::<i128>() {
            return Some(Value::from(int));
        }
        if let Ok(int) = text.parse::<u128>() {
            return Some(Value::from(int));
        }
    }
    if let Some(float) = digits.exact_float(text) {
        return Some(Value::from(float));
    }
    let number = digits.json_number(text)?;
    Some(Value::from_object(ExactNumber { number }))
}

/// The serde_json number for number text, every digit kept: as written when
/// that is JSON number text, otherwise (YAML's `+1.5`, `.5`, `5.`) in plain
/// notation.
pub fn json_number(text: &str) -> Option<serde_json::Number> {
    Digits::parse(text)?.json_number(text)
}

/// One text per number, whatever the notation: `49.0`, `49` and `4.9e1` all
/// give `49`, `1.50` gives `1.5`. For comparing numbers in JSON values by
/// value (serde_json's `arbitrary_precision` compares them by text).
pub fn canonical_number(number: &serde_json::Number) -> serde_json::Number {
    Digits::parse(number.as_str())
        .and_then(|digits| digits.plain())
        .and_then(|plain| serde_json::from_str(&plain).ok())
        .unwrap_or_else(|| number.clone())
}

/// The float of plain-notation text with a point and at most 15 digits —
/// nearly every amount — without a closer look: 15 significant digits
/// always survive a float (DBL_DIG). Computed as digits ÷ 10^places, both
/// exact in a float, so the one division is correctly rounded: the float
/// `str::parse` gives, at a fraction of the cost (every amount of every
/// input record comes through here).
fn short_float(text: &str) -> Option<f64> {
    const POWERS: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut places: Option<usize> = None;
    for b in unsigned.bytes() {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 15 {
                    return None;
                }
                mantissa = mantissa * 10 + u64::from(b - b'0');
                places = places.map(|p| p + 1);
            }
            b'.' if places.is_none() => places = Some(0),
            _ => return None,
        }
    }
    // Whole numbers take the integer path.
    let places = places.filter(|_| digits > 0)?;
    // Below 10^15 < 2^53: exact.
    let magnitude = mantissa as f64 / POWERS[places];
    Some(if negative { -magnitude } else { magnitude })
}

/// A computed decimal as a value: an integer when whole, a float when the
/// float is exact, otherwise an [`ExactNumber`] with every digit.
pub fn decimal_value(decimal: Decimal) -> Value {
    let decimal = decimal.normalize();
    if decimal.is_integer() {
        if let Ok(int) = i64::try_from(decimal) {
            return Value::from(int);
        }
        if let Ok(int) = i128::try_from(decimal) {
            return Value::from(int);
        }
    }
    // A decimal's text is always valid number text.
    number_from_text(&decimal.to_string()).unwrap_or_else(|| Value::from(()))
}

/// The exact decimal text of a number value (integers as digits, floats in
/// their shortest form, exact numbers as kept); `None` for anything else.
pub fn number_text(value: &Value) -> Option<String> {
    if let Some(exact) = value.downcast_object_ref::<ExactNumber>() {
        return Some(exact.text().to_owned());
    }
    if !value.is_number() {
        return None;
    }
    if value.is_integer() {
        return Some(value.to_string());
    }
    let float = f64::try_from(value.clone()).ok()?;
    // `-0` is written `0`.
    Some(if float == 0.0 { "0".to_owned() } else { format!("{float}") })
}

/// The number's decimal, without rounding; `None` when it is not a number
/// or does not fit rust_decimal (beyond ±7.9e28, or more than 28
/// significant digits).
pub fn decimal_of(value: &Value) -> Option<Decimal> {
    if let Some(exact) = value.downcast_object_ref::<ExactNumber>() {
        return exact.decimal();
    }
    Digits::parse(&number_text(value)?)?.decimal()
}

/// True for numbers of every representation (native ones and exact ones).
pub fn is_number(value: &Value) -> bool {
    value.is_number() || value.downcast_object_ref::<ExactNumber>().is_some()
}

/// Orders two values by number when one of them is an [`ExactNumber`] and
/// the other a number too; `None` otherwise (the caller uses minijinja's
/// ordering, which is right for every other pair).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let exact = |v: &Value| v.downcast_object_ref::<ExactNumber>().is_some();
    if !(exact(a) || exact(b)) || !is_number(a) || !is_number(b) {
        return None;
    }
    Some(Digits::parse(&number_text(a)?)?.cmp(&Digits::parse(&number_text(b)?)?))
}

/// A decimal number as sign, significant digits and exponent: the value is
/// ±0.d₁d₂… × 10^exponent, and zero has no digits. Two numbers are equal
/// exactly when their `Digits` are, whatever their notation (`1.50`,
/// `15e-1`).
#[derive(Debug, PartialEq, Eq)]
struct Digits {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Digits {
    /// Parses `[+-]int[.frac][(e|E)[+-]exp]` (digits on at least one side of
    /// the point); `None` for anything else or an absurd exponent.
    fn parse(text: &str) -> Option<Digits> {
        let (negative, unsigned) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let exponent: i64 = match exponent {
            Some(e) => {
                let unsigned_exponent = e.strip_prefix(['+', '-']).unwrap_or(e);
                // More than 9 digits of exponent is no amount.
                if unsigned_exponent.is_empty() || unsigned_exponent.len() > 9 || !all_digits(unsigned_exponent) {
                    return None;
                }
                e.parse().ok()?
            }
            None => 0,
        };
        let all: String = whole.chars().chain(fraction.chars()).collect();
        let significant = all.trim_start_matches('0');
        let leading_zeros = all.len() - significant.len();
        let digits = significant.trim_end_matches('0').to_owned();
        if digits.is_empty() {
            return Some(Digits { negative: false, digits, exponent: 0 });
        }
        let whole_len = i64::try_from(whole.len()).ok()?;
        let leading = i64::try_from(leading_zeros).ok()?;
        Some(Digits { negative, digits, exponent: exponent + whole_len - leading })
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The float holding this number, when its shortest text is the same
    /// number (serde_json then writes it back digit for digit).
    fn exact_float(&self, text: &str) -> Option<f64> {
        // Fifteen significant digits always survive a float (DBL_DIG), away
        // from the subnormal and overflow ends of its range.
        let safe = self.digits.len() <= 15 && (-290..=290).contains(&self.exponent);
        if !safe && self.digits.len() > 17 {
            return None;
        }
        let float: f64 = text.parse().ok().or_else(|| self.plain()?.parse().ok()).filter(|f: &f64| f.is_finite())?;
        if safe || Digits::parse(&format!("{float}")).as_ref() == Some(self) { Some(float) } else { None }
    }

    /// As serde_json number text: `text` when it is JSON, else plain.
    fn json_number(&self, text: &str) -> Option<serde_json::Number> {
        serde_json::from_str(text).ok().or_else(|| serde_json::from_str(&self.plain()?).ok())
    }

    /// Plain notation (`-0.00123`, `1200`); `None` beyond 10^±400, where
    /// writing out the zeros would take more memory than the number is worth
    /// and no amount lives.
    fn plain(&self) -> Option<String> {
        if self.is_zero() {
            return Some("0".to_owned());
        }
        if self.exponent.abs() > 400 {
            return None;
        }
        let sign = if self.negative { "-" } else { "" };
        let len = i64::try_from(self.digits.len()).unwrap_or(i64::MAX);
        Some(if self.exponent <= 0 {
            let zeros = "0".repeat(usize::try_from(-self.exponent).unwrap_or(0));
            format!("{sign}0.{zeros}{}", self.digits)
        } else if self.exponent >= len {
            let zeros = "0".repeat(usize::try_from(self.exponent - len).unwrap_or(0));
            format!("{sign}{}{zeros}", self.digits)
        } else {
            let (whole, fraction) = self.digits.split_at(usize::try_from(self.exponent).unwrap_or(0));
            format!("{sign}{whole}.{fraction}")
        })
    }

    /// As a rust_decimal, refusing anything it would have to round.
    fn decimal(&self) -> Option<Decimal> {
        // Beyond 10^29 or below 10^-28 it cannot fit; checked before
        // `plain` writes out a long run of zeros.
        if self.is_zero() {
            return Some(Decimal::ZERO);
        }
        if self.exponent > 29 || self.exponent < -28 {
            return None;
        }
        Decimal::from_str_exact(&self.plain()?).ok()
    }
}

impl PartialOrd for Digits {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Digits {
    fn cmp(&self, other: &Self) -> Ordering {
        // -1 for negative, 0 for zero, 1 for positive.
        let sign = |d: &Digits| {
            if d.is_zero() {
                0
            } else if d.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        // Same sign: compare magnitudes (no trailing zeros, so the digit
        // strings compare as the fractions 0.d₁d₂… do).
        let magnitude = self.exponent.cmp(&other.exponent).then_with(|| self.digits.cmp(&other.digits));
        if self.negative { magnitude.reverse() } else { magnitude }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;

    fn json(v: &Value) -> String {
        serde_json::to_string(&crate::value::Json(v)).unwrap()
    }

    #[test]
    fn short_numbers_stay_native() {
        assert!(number_from_text("12").unwrap().is_integer());
        assert!(number_from_text("19.95").unwrap().is_number());
        assert!(number_from_text("1.50").unwrap().is_number());
        assert!(number_from_text("0.30000000000000004").unwrap().is_number(), "17 digits a float writes back as they were");
        assert!(number_from_text("123456789012345678901234567890").unwrap().is_integer());
        assert_eq!(json(&number_from_text("-170141183460469231731687303715884105728").unwrap()), "-170141183460469231731687303715884105728");
    }

    /// The quick way to a float gives exactly the float `str::parse` gives.
    #[test]
    fn short_floats_are_parsed_as_rust_parses_them() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            // xorshift: cheap, deterministic variety of digits and places.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let digits = (seed % 999_999_999_999_999).to_string();
            let at = usize::try_from(seed >> 59).unwrap_or(0) % (digits.len() + 1);
            let sign = if seed & 1 == 1 { "-" } else { "" };
            let text = format!("{sign}{}.{}", &digits[..at], &digits[at..]);
            let parsed: f64 = text.parse().unwrap();
            assert_eq!(short_float(&text).map(f64::to_bits), Some(parsed.to_bits()), "{text}");
        }
        for text in ["0.1", "-0.0", "999999999999999.", ".5", "+1.25", "0.00000000000001", "12345678901234.5"] {
            assert_eq!(short_float(text).map(f64::to_bits), text.parse::<f64>().ok().map(f64::to_bits), "{text}");
        }
        for not_short in ["12", "1e5", "1.2.3", "-", ".", "1-2.3", "0.000000000000001", "1234567890123456.7", "１.5"] {
            assert_eq!(short_float(not_short), None, "{not_short}");
        }
    }

    #[test]
    fn long_numbers_keep_every_digit() {
        for text in ["1234567890123456.78", "99999999999999.99", "0.3333333333333333333333333333", "-0.1000000000000000055511151231257827"] {
            let value = number_from_text(text).unwrap();
            assert!(!value.is_number(), "{text}");
            assert_eq!(json(&value), text);
            assert_eq!(value.to_string(), text);
        }
        // serde_json writes the exponent's sign; the number is the same.
        assert_eq!(json(&number_from_text("1e400").unwrap()), "1e+400");
        assert_eq!(json(&number_from_text("1234567890123456789012345678901234567890.5").unwrap()), "1234567890123456789012345678901234567890.5");
    }

    #[test]
    fn non_json_notation_is_written_plainly() {
        assert_eq!(json(&number_from_text("+.10000000000000000000001").unwrap()), "0.10000000000000000000001");
    }

    #[test]
    fn one_canonical_text_per_number() {
        let canonical = |s: &str| canonical_number(&serde_json::from_str(s).unwrap()).to_string();
        assert_eq!(canonical("49.0"), "49");
        assert_eq!(canonical("4.9e1"), "49");
        assert_eq!(canonical("1.50"), "1.5");
        assert_eq!(canonical("-0.0"), "0");
        assert_eq!(canonical("1111111101111111.10"), "1111111101111111.1");
        assert_eq!(canonical("1e-3"), "0.001");
        assert_eq!(canonical("1e999"), "1e+999", "too long to write out: kept");
        assert_eq!(json_number("+.5").unwrap().to_string(), "0.5");
        assert_eq!(json_number("12.50").unwrap().to_string(), "12.50");
        assert_eq!(json_number("1.2.3"), None);
    }

    #[test]
    fn decimals_become_the_smallest_exact_value() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert!(decimal_value(d("2.00")).is_integer());
        assert!(decimal_value(d("12345678901234567890123")).is_integer());
        assert!(decimal_value(d("0.3")).is_number());
        assert_eq!(json(&decimal_value(d("1234567890123456.79"))), "1234567890123456.79");
        assert_eq!(json(&decimal_value(d("99999999999999.990"))), "99999999999999.99");
    }

    #[test]
    fn ordering_is_by_value_across_notations() {
        let n = |s: &str| number_from_text(s).unwrap();
        let big = n("1234567890123456.78");
        assert_eq!(compare(&big, &Value::from(0)), Some(Ordering::Greater));
        assert_eq!(compare(&n("-1234567890123456.78"), &Value::from(0)), Some(Ordering::Less));
        assert_eq!(compare(&big, &Value::from(1234567890123456.8_f64)), Some(Ordering::Less));
        assert_eq!(compare(&big, &n("1234567890123456.779")), Some(Ordering::Greater));
        assert_eq!(compare(&big, &n("123456789012345678e-2")), Some(Ordering::Equal));
        assert_eq!(compare(&Value::from(1), &Value::from(2)), None, "native pairs are minijinja's");
        assert_eq!(compare(&big, &Value::from("x")), None);
        // In the VM, two exact numbers compare by value too.
        assert!(big == n("123456789012345678e-2"));
        assert!(big < n("1234567890123456.79"));
        assert!(big != Value::from(1234567890123456.8_f64));
    }

    #[test]
    fn decimals_only_without_rounding() {
        let n = |s: &str| number_from_text(s).unwrap();
        assert_eq!(decimal_of(&n("1234567890123456.78")), Some(Decimal::from_str("1234567890123456.78").unwrap()));
        assert_eq!(decimal_of(&n("0.1000000000000000055511151231257827")), None);
        assert_eq!(decimal_of(&n("1e400")), None);
        assert_eq!(decimal_of(&Value::from(0.1)), Some(Decimal::from_str("0.1").unwrap()));
        assert_eq!(decimal_of(&Value::from("1")), None);
    }
}
