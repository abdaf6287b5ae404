//! Exact decimal arithmetic for amounts, so that `0.1 + 0.2` is `0.3` and
//! rounding `2.675` to cents gives `2.68`, as an accountant expects.
//!
//! Inputs may be integers, floats, long JSON numbers or numeric strings
//! (`"12.50"`). Results are numbers again, exact to the last digit computed
//! (see [`value_of`]): `money_add("1234567890123456.78", "0.01")` is written
//! into a payload as `1234567890123456.79`.

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
/// A float counts as its shortest round-trip text, not as its binary value:
/// the float `0.1` is really 0.1000000000000000055511151231257827…, but the
/// text it prints as is `0.1`, which is what the source system meant.
/// Converting the binary value would carry that error into every sum. A
/// number too long for a float arrives as an `ExactNumber` and is read digit
/// for digit (see `crate::value::number`).
fn decimal_of(value: &Value) -> Result<Decimal, Error> {
    reject_undefined(value)?;
    let parsed = match value.as_str() {
        Some(text) => parse_numeric_text(text),
        None => crate::value::decimal_of(value),
    };
    parsed.ok_or_else(|| {
        if crate::value::is_number(value) || value.as_str().is_some_and(numeric_shape) {
            // Beyond ±7.9e28, more than 28 significant digits, NaN or infinity.
            invalid(format!("{} is out of range for money arithmetic (at most 28 significant digits, below 7.9e28)", show(value)))
        } else {
            invalid(format!("{} is not a number", show(value)))
        }
    })
}

/// Parses `[+-]digits[.digits]` (surrounding spaces allowed) without
/// rounding. Stricter than `Decimal::from_str`, which would also take
/// `1_000`; thousands separators and decimal commas are ambiguous, so they
/// are rejected rather than guessed.
fn parse_numeric_text(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if !numeric_shape(text) {
        return None;
    }
    Decimal::from_str_exact(text.strip_prefix('+').unwrap_or(text)).ok()
}

/// True for text of the shape `[+-]digits[.digits]`, whatever its size.
fn numeric_shape(text: &str) -> bool {
    let text = text.trim();
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    whole.len() + fraction.len() > 0 && all_digits(whole) && all_digits(fraction)
}

/// A decimal as a template value: an integer when it is whole, a float when
/// the float's shortest text is the same number (up to 15 significant
/// digits always), otherwise an `ExactNumber` holding every digit. Each is
/// written into a payload as the exact decimal.
fn value_of(decimal: Decimal) -> Value {
    crate::value::decimal_value(decimal)
}

fn too_large(function: &str) -> Error {
    invalid(format!("the result of {function} is too large"))
}

/// Folds `first` and `rest` with a checked operation.
pub(super) fn fold(function: &str, first: &Value, rest: &[Value], op: fn(Decimal, Decimal) -> Option<Decimal>) -> Result<Value, Error> {
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
pub(super) fn money_sub(a: &Value, b: &Value) -> Result<Value, Error> {
    fold("money_sub", a, std::slice::from_ref(b), Decimal::checked_sub)
}

/// `money_mul(a, b, ...)`: the exact product of one or more numbers.
fn money_mul(first: &Value, rest: Rest<Value>) -> Result<Value, Error> {
    fold("money_mul", first, &rest, Decimal::checked_mul)
}

/// `money_div(a, b)`: `a / b` (to 28 significant digits; round it with
/// `| money`).
pub(super) fn money_div(a: &Value, b: &Value) -> Result<Value, Error> {
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
    sum(list, attribute.as_deref())
}

/// `money_sum` once its arguments are read.
pub(super) fn sum(list: &Value, attribute: Option<&str>) -> Result<Value, Error> {
    let mut total = Decimal::ZERO;
    for (index, item) in items("money_sum", list)?.iter().enumerate() {
        let number = number_at(item, index, attribute)?;
        total = total.checked_add(number).ok_or_else(|| too_large("money_sum"))?;
    }
    Ok(value_of(total))
}

/// `money_sum_product(list, attr_a, attr_b)`: Σ a × b over the list, e.g.
/// `money_sum_product(lines, "quantity", "unit_price")`.
pub(super) fn money_sum_product(list: &Value, attr_a: &str, attr_b: &str) -> Result<Value, Error> {
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
    round(value, places)
}

/// The `money` filter once its arguments are read.
pub(super) fn round(value: &Value, places: u32) -> Result<Value, Error> {
    if places > Decimal::MAX_SCALE {
        return Err(invalid(format!("money can round to at most {} places, not {places}", Decimal::MAX_SCALE)));
    }
    let rounded = decimal_of(value)?.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    Ok(value_of(rounded))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error, eval, json, json_text};
    use minijinja::context;
    use serde_json::json;

    /// Amounts too long for a float leave exactly (issue 9): a float
    /// would write 99999999999999.98 and 1234567890123456.8.
    #[test]
    fn long_amounts_keep_every_digit() {
        assert_eq!(json_text("'99999999999999.99' | money(2)", context! {}), "99999999999999.99");
        assert_eq!(json_text("money_add('1234567890123456.78', '0.01')", context! {}), "1234567890123456.79");
        assert_eq!(json_text("money_sub('0', '1234567890123456.78')", context! {}), "-1234567890123456.78");
        assert_eq!(json_text("money_div(1, 3)", context! {}), "0.3333333333333333333333333333");
        assert_eq!(json_text("money_div(1, 3) ~ ''", context! {}), "\"0.3333333333333333333333333333\"");
        // A result passed on to another money function keeps its digits.
        assert_eq!(json_text("money_mul(money_div(1, 3), 3)", context! {}), "0.9999999999999999999999999999");
        assert_eq!(json_text("money_add('1234567890123456.78', '0.01') | money(1)", context! {}), "1234567890123456.8");
        assert_eq!(json_text("money_sum([money_add('1234567890123456.78', '0.01'), '0.01'])", context! {}), "1234567890123456.8");
        // Whole results beyond i64 are integers.
        assert_eq!(json_text("money_mul('10000000000', '10000000000', '10000')", context! {}), "1000000000000000000000000");
        assert!(eval("money_mul('10000000000', '10000000000')", context! {}).unwrap().is_integer());
    }

    /// A JSON number with more digits than a float holds reaches the money
    /// functions, and the payload, as written.
    #[test]
    fn long_json_numbers_are_read_exactly() {
        let order = crate::value::parse_json(
            r#"{"total": 1234567890123456.78, "lines": [{"amount": 0.01, "qty": 2}, {"amount": 1234567890123456.78, "qty": 3}]}"#,
        )
        .expect("JSON");
        let ctx = context! { order => order };
        assert_eq!(json_text("order.total", ctx.clone()), "1234567890123456.78");
        assert_eq!(json_text("money_add(order.total, 0.01)", ctx.clone()), "1234567890123456.79");
        assert_eq!(json_text("money_sum(order.lines, 'amount')", ctx.clone()), "1234567890123456.79");
        assert_eq!(json_text("money_sum_product(order.lines, 'qty', 'amount')", ctx.clone()), "3703703670370370.36");
        assert_eq!(json_text("order.total | money(1)", ctx.clone()), "1234567890123456.8");
        let tree = crate::value::from_json(&serde_json::from_str(r#"{"total": 99999999999999.99}"#).expect("JSON"));
        assert_eq!(json_text("order.total | money", context! { order => tree }), "99999999999999.99");
    }

    /// Exact results compare with each other by value in minijinja itself
    /// (ordering against plain numbers is the native evaluator's, tested in
    /// expr::simple).
    #[test]
    fn long_amounts_compare_by_value() {
        let holds = |expr: &str| eval(expr, context! {}).unwrap_or_else(|e| panic!("{expr}: {e}")).is_true();
        assert!(holds("money_div(1, 3) == money_div(2, 6)"));
        assert!(holds("money_div(1, 3) != money_div(1, 6)"));
        assert!(holds("money_div(1, 3) > money_div(1, 6)"));
        assert!(holds("money_add('1234567890123456.78', '0.01') > money_add('1234567890123456.78', '0.001')"));
        assert!(holds("money_sub('0', '1234567890123456.78') < money_sub('0', '1234567890123456.77')"));
        // Never equal to a plain number: a float that holds the value would
        // have been used instead.
        assert!(holds("money_div(1, 3) != 0.3333333333333333"));
        assert!(holds("true if money_div(1, 3) else false"), "an exact number is never 0, so it is true");
    }

    #[test]
    fn more_digits_than_money_arithmetic_keeps_is_an_error() {
        assert_eq!(
            error("money_add('0.10000000000000000000000000001', 0)", context! {}),
            "invalid operation: \"0.10000000000000000000000000001\" is out of range for money arithmetic \
             (at most 28 significant digits, below 7.9e28) (in <expression>:1)"
        );
        let order = crate::value::parse_json(r#"{"rate": 0.1000000000000000055511151231257827}"#).expect("JSON");
        assert_eq!(
            error("order.rate | money", context! { order => order }),
            "invalid operation: 0.1000000000000000055511151231257827 is out of range for money arithmetic \
             (at most 28 significant digits, below 7.9e28) (in <expression>:1)"
        );
    }

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
             arithmetic (at most 28 significant digits, below 7.9e28) (in <expression>:1)"
        );
    }
}
