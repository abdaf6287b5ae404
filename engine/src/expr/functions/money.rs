//! Exact decimal arithmetic for amounts, so that `0.1 + 0.2` is `0.3` and
//! rounding `2.675` to cents gives `2.68`, as an accountant expects.
//!
//! Inputs may be integers, floats or numeric strings (`"12.50"`). Results
//! are plain numbers again (see [`value_of`]), so they serialise into a
//! payload the same way any other number does.

use std::str::FromStr as _;

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, Value};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{invalid, optional_arg, reject_undefined, show};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("money_add", money_add);
    env.add_function("money_sub", money_sub);
    env.add_function("money_mul", money_mul);
    env.add_function("money_div", money_div);
    env.add_function("money_sum", money_sum);
    env.add_function("money_sum_product", money_sum_product);
    env.add_filter("money", money);
}

/// The exact decimal a value stands for.
///
/// A float goes through its shortest round-trip text (`format!("{}")`), not
/// through its binary value: the float `0.1` is really
/// 0.1000000000000000055511151231257827…, but the text it prints as is
/// `0.1`, which is what the source system meant. Converting the binary value
/// would carry that error into every sum.
fn decimal_of(value: &Value) -> Result<Decimal, Error> {
    reject_undefined(value)?;
    let parsed = match value.kind() {
        ValueKind::Number => match i128::try_from(value.clone()) {
            Ok(int) => Decimal::try_from_i128_with_scale(int, 0).ok(),
            Err(_) => {
                f64::try_from(value.clone()).ok().filter(|float| float.is_finite()).and_then(|float| Decimal::from_str(&format!("{float}")).ok())
            }
        },
        ValueKind::String => parse_numeric_text(value.as_str().unwrap_or_default()),
        _ => None,
    };
    parsed.ok_or_else(|| {
        if value.is_number() {
            // Beyond ±7.9e28, or NaN/infinity.
            invalid(format!("{} is out of range for money arithmetic", show(value)))
        } else {
            invalid(format!("{} is not a number", show(value)))
        }
    })
}

/// Parses `[+-]digits[.digits]` (surrounding spaces allowed). Stricter than
/// `Decimal::from_str`, which would also take `1_000`; thousands separators
/// and decimal commas are ambiguous, so they are rejected rather than
/// guessed.
fn parse_numeric_text(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    Decimal::from_str(text.strip_prefix('+').unwrap_or(text)).ok()
}

/// A decimal as a template value: an integer when it is whole and fits an
/// `i64`, otherwise an `f64`.
///
/// The `f64` is parsed from the decimal's text, which yields the float
/// nearest to the exact decimal; serde_json prints floats in their shortest
/// round-trip form, so `0.3` comes out as `0.3` again.
fn value_of(decimal: Decimal) -> Value {
    let decimal = decimal.normalize();
    if decimal.is_integer()
        && let Ok(int) = i64::try_from(decimal)
    {
        return Value::from(int);
    }
    let float: f64 = decimal.to_string().parse().expect("a decimal's text is a valid float");
    Value::from(float)
}

fn too_large(function: &str) -> Error {
    invalid(format!("the result of {function} is too large"))
}

/// Folds `first` and `rest` with a checked operation.
fn fold(function: &str, first: &Value, rest: &[Value], op: fn(Decimal, Decimal) -> Option<Decimal>) -> Result<Value, Error> {
    let mut total = decimal_of(first)?;
    for value in rest {
        total = op(total, decimal_of(value)?).ok_or_else(|| too_large(function))?;
    }
    Ok(value_of(total))
}

/// `money_add(a, b, ...)`: the exact sum of one or more numbers.
fn money_add(first: &Value, rest: Rest<Value>) -> Result<Value, Error> {
    fold("money_add", first, &rest, Decimal::checked_add)
}

/// `money_sub(a, b)`: `a - b`.
fn money_sub(a: &Value, b: &Value) -> Result<Value, Error> {
    fold("money_sub", a, std::slice::from_ref(b), Decimal::checked_sub)
}

/// `money_mul(a, b, ...)`: the exact product of one or more numbers.
fn money_mul(first: &Value, rest: Rest<Value>) -> Result<Value, Error> {
    fold("money_mul", first, &rest, Decimal::checked_mul)
}

/// `money_div(a, b)`: `a / b` (to 28 significant digits; round it with
/// `| money`).
fn money_div(a: &Value, b: &Value) -> Result<Value, Error> {
    let dividend = decimal_of(a)?;
    let divisor = decimal_of(b)?;
    if divisor.is_zero() {
        return Err(invalid(format!("cannot divide {} by zero", show(a))));
    }
    let quotient = dividend.checked_div(divisor).ok_or_else(|| too_large("money_div"))?;
    Ok(value_of(quotient))
}

/// Where in a list a bad number was found, for error messages.
fn located(err: Error, index: usize, attribute: Option<&str>) -> Error {
    let place = match attribute {
        Some(attribute) => format!("{attribute} of the item at index {index}"),
        None => format!("the item at index {index}"),
    };
    match err.detail() {
        Some(detail) => invalid(format!("{detail} ({place})")),
        None => err,
    }
}

/// The items of a list argument; a string or map is refused even though
/// minijinja could iterate it, because summing its characters or keys is
/// never what was meant.
fn items(function: &str, list: &Value) -> Result<Vec<Value>, Error> {
    reject_undefined(list)?;
    match list.kind() {
        ValueKind::Seq | ValueKind::Iterable => Ok(list.try_iter()?.collect()),
        _ => Err(invalid(format!("{function} needs a list, got {}", show(list)))),
    }
}

/// The number at `attribute` (a dotted path such as `"price.amount"`) of
/// `item`, or the item itself without an attribute.
fn number_at(item: &Value, index: usize, attribute: Option<&str>) -> Result<Decimal, Error> {
    let mut value = item.clone();
    if let Some(attribute) = attribute {
        for part in attribute.split('.') {
            value = value.get_attr(part)?;
            if value.is_undefined() {
                return Err(invalid(format!("the item at index {index} has no {attribute:?}")));
            }
        }
    }
    decimal_of(&value).map_err(|err| located(err, index, attribute))
}

/// `money_sum(list, attribute=none)`: the exact sum of a list of numbers, or
/// of one attribute of a list of objects (`money_sum(lines, "amount")`).
/// An empty list sums to 0.
fn money_sum(list: &Value, attribute: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let attribute = optional_arg(attribute, &kwargs, "attribute")?;
    kwargs.assert_all_used()?;
    let mut total = Decimal::ZERO;
    for (index, item) in items("money_sum", list)?.iter().enumerate() {
        let number = number_at(item, index, attribute.as_deref())?;
        total = total.checked_add(number).ok_or_else(|| too_large("money_sum"))?;
    }
    Ok(value_of(total))
}

/// `money_sum_product(list, attr_a, attr_b)`: Σ a × b over the list, e.g.
/// `money_sum_product(lines, "quantity", "unit_price")`.
fn money_sum_product(list: &Value, attr_a: &str, attr_b: &str) -> Result<Value, Error> {
    let mut total = Decimal::ZERO;
    for (index, item) in items("money_sum_product", list)?.iter().enumerate() {
        let a = number_at(item, index, Some(attr_a))?;
        let b = number_at(item, index, Some(attr_b))?;
        total = a.checked_mul(b).and_then(|product| total.checked_add(product)).ok_or_else(|| too_large("money_sum_product"))?;
    }
    Ok(value_of(total))
}

/// `value | money(places=2)`: rounded to `places` decimals, halves away from
/// zero (2.675 → 2.68, -2.675 → -2.68). Away-from-zero rather than banker's
/// rounding because that is how invoices and tax returns round.
fn money(value: &Value, places: Option<u32>, kwargs: Kwargs) -> Result<Value, Error> {
    let places = optional_arg(places, &kwargs, "places")?.unwrap_or(2);
    kwargs.assert_all_used()?;
    if places > Decimal::MAX_SCALE {
        return Err(invalid(format!("money can round to at most {} places, not {places}", Decimal::MAX_SCALE)));
    }
    let rounded = decimal_of(value)?.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    Ok(value_of(rounded))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error, json};
    use minijinja::context;
    use serde_json::json;

    #[test]
    fn no_float_drift() {
        assert_eq!(json("money_add(0.1, 0.2)", context! {}), json!(0.3));
        assert_eq!(json("money_add(0.1, 0.2)", context! {}).to_string(), "0.3");
        assert_eq!(json("0.1 + 0.2", context! {}).to_string(), "0.30000000000000004");
        assert_eq!(json("money_sub(1.1, 0.9)", context! {}), json!(0.2));
        assert_eq!(json("money_mul(1.1, 1.1)", context! {}), json!(1.21));
        assert_eq!(json("money_add(a, b)", context! { a => 0.1, b => 0.7 }), json!(0.8));
    }

    #[test]
    fn accepts_ints_floats_and_numeric_strings() {
        assert_eq!(json("money_add('12.50', 1, 0.25)", context! {}), json!(13.75));
        assert_eq!(json("money_add(' -2.5 ', '+1')", context! {}), json!(-1.5));
        assert_eq!(json("money_add(7)", context! {}), json!(7));
        assert_eq!(json("money_add('0.5', '0.5')", context! {}), json!(1));
        assert_eq!(json("money_mul(3, '1.5', 2)", context! {}), json!(9));
    }

    #[test]
    fn whole_results_are_integers() {
        let value = super::super::test_support::eval("money_add(0.5, 1.5)", context! {}).unwrap();
        assert!(value.is_integer());
        assert_eq!(json("money_add(0.5, 1.5)", context! {}).to_string(), "2");
    }

    #[test]
    fn division() {
        assert_eq!(json("money_div(10, 4)", context! {}), json!(2.5));
        assert_eq!(json("money_div(1, 3) | money", context! {}), json!(0.33));
        assert_eq!(json("money_div(121, '1.21')", context! {}), json!(100));
        assert_eq!(error("money_div(10, 0.0)", context! {}), "invalid operation: cannot divide 10 by zero (in <expression>:1)");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(json("2.675 | money", context! {}), json!(2.68));
        assert_eq!(json("-2.675 | money", context! {}), json!(-2.68));
        assert_eq!(json("1.005 | money", context! {}), json!(1.01));
        assert_eq!(json("'1.005' | money", context! {}), json!(1.01));
        assert_eq!(json("2.665 | money", context! {}), json!(2.67));
        assert_eq!(json("2.674 | money", context! {}), json!(2.67));
        assert_eq!(json("2.5 | money(0)", context! {}), json!(3));
        assert_eq!(json("-2.5 | money(places=0)", context! {}), json!(-3));
        assert_eq!(json("1.23456 | money(3)", context! {}), json!(1.235));
        assert_eq!(json("3 | money", context! {}), json!(3));
        assert_eq!(error("1 | money(29)", context! {}), "invalid operation: money can round to at most 28 places, not 29 (in <expression>:1)");
    }

    #[test]
    fn sums_over_lists() {
        let first = context! {
            amount => 0.1, quantity => 3, unit_price => "0.10", tax => context! { amount => 0.7 },
        };
        let second = context! {
            amount => "0.2", quantity => 0.5, unit_price => 19.99, tax => context! { amount => 0.1 },
        };
        let ctx = context! { amounts => vec![0.1, 0.2, 0.3], lines => vec![first, second] };
        assert_eq!(json("money_sum(amounts)", ctx.clone()), json!(0.6));
        assert_eq!(json("money_sum(lines, 'amount')", ctx.clone()), json!(0.3));
        assert_eq!(json("money_sum(lines, attribute='amount')", ctx.clone()), json!(0.3));
        assert_eq!(json("money_sum(lines, 'tax.amount')", ctx.clone()), json!(0.8));
        assert_eq!(json("money_sum([])", ctx.clone()), json!(0));
        // 3 × 0.10 + 0.5 × 19.99 = 0.3 + 9.995
        assert_eq!(json("money_sum_product(lines, 'quantity', 'unit_price')", ctx.clone()), json!(10.295));
        assert_eq!(error("money_sum(lines, 'price')", ctx.clone()), "invalid operation: the item at index 0 has no \"price\" (in <expression>:1)");
        assert_eq!(
            error(
                "money_sum_product(lines, 'quantity', 'amount')",
                context! {
                    lines => vec![
                        context! { quantity => 1, amount => 2 },
                        context! { quantity => 1, amount => "n/a" },
                    ],
                }
            ),
            "invalid operation: \"n/a\" is not a number (amount of the item at index 1) \
             (in <expression>:1)"
        );
        assert_eq!(error("money_sum('12')", context! {}), "invalid operation: money_sum needs a list, got \"12\" (in <expression>:1)");
    }

    #[test]
    fn non_numbers_are_named() {
        assert_eq!(error("money_add(1, 'abc')", context! {}), "invalid operation: \"abc\" is not a number (in <expression>:1)");
        for bad in ["''", "'1,50'", "'1_000'", "'1e3'", "'.'", "none", "true", "[1]"] {
            let err = error(&format!("money_add({bad}, 1)"), context! {});
            assert!(err.contains("is not a number"), "{bad}: {err}");
        }
        assert_eq!(error("money_add(missing)", context! {}), "undefined value (in <expression>:1)");
        assert_eq!(
            error("money_add(1e30)", context! {}),
            "invalid operation: 1000000000000000000000000000000.0 is out of range for money \
             arithmetic (in <expression>:1)"
        );
    }
}
