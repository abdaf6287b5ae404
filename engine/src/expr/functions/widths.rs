//! Filters that make a text or a list as large as a number asks: ours
//! (`lpad`, `rpad`, in text.rs) and minijinja's `indent`, `batch`, `slice` and
//! `format` (widths and precisions in the format string, `*` widths from the
//! arguments). The result is allocated at once, so `lpad(9223372036854775807)`
//! from a typo or from a record's data would abort the process on allocation;
//! every such number is checked against `MAX_WIDTH` first. minijinja bounds
//! the others itself: `range` at 100,000 items, `*` at 100,000,000 bytes or
//! items.
//!
//! `compile.rs` checks the same numbers when they are written as constants,
//! so most mistakes are `check` errors; what comes from data blocks the record.

use minijinja::value::{Kwargs, Rest, StringInput, ValueOrKwargs};
use minijinja::{Environment, Error, State, Value};

use super::invalid;
use crate::limits::MAX_WIDTH;

/// The filters above whose argument at a position (or keyword) is a width or
/// count, and what it is called, for the compile-time check of constants.
pub const WIDTH_ARGUMENTS: &[(&str, usize, Option<&str>, &str)] = &[
    ("lpad", 0, None, "width"),
    ("rpad", 0, None, "width"),
    ("indent", 0, Some("width"), "width"),
    ("batch", 0, None, "count"),
    ("slice", 0, None, "count"),
];

/// Why `n` is refused as `what` (`lpad width`, `batch count`, …), if it is.
pub fn width_problem(what: &str, n: u128) -> Option<String> {
    (n > MAX_WIDTH as u128).then(|| format!("{what} {n} is more than {MAX_WIDTH}, the largest flowmap allows"))
}

/// `n` as `what`, or the error a record is blocked with.
pub fn check_width(what: &str, n: usize) -> Result<(), Error> {
    width_problem(what, n as u128).map_or(Ok(()), |m| Err(invalid(m)))
}

/// Registered over minijinja's built-ins of the same names.
pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("indent", indent);
    env.add_filter("batch", batch);
    env.add_filter("slice", slice);
    env.add_filter("format", format);
}

fn indent(value: StringInput<'_>, width: Option<usize>, first: Option<bool>, blank: Option<bool>, kwargs: Kwargs) -> Result<Value, Error> {
    let asked = match width {
        Some(w) => Some(w),
        None => kwargs.get::<Option<usize>>("width")?,
    };
    check_width("indent width", asked.unwrap_or(0))?;
    minijinja::filters::indent(value, width, first, blank, kwargs)
}

fn batch(state: &State, value: Value, count: usize, fill_with: Option<Value>) -> Result<Value, Error> {
    check_width("batch count", count)?;
    minijinja::filters::batch(state, value, count, fill_with)
}

fn slice(state: &State, value: Value, count: usize, fill_with: Option<Value>) -> Result<Value, Error> {
    check_width("slice count", count)?;
    minijinja::filters::slice(state, value, count, fill_with)
}

fn format(state: &mut State, format_str: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    if let Some(text) = format_str.as_str() {
        check_format(text, &args.0)?;
    }
    minijinja::filters::format(state, format_str, args)
}

/// Walks printf-style fields (`%[(key)][flags][width][.precision][hlL]type`)
/// the way minijinja reads them, checking every width and precision, written
/// or taken from the arguments (`*`).
fn check_format(text: &str, args: &[ValueOrKwargs]) -> Result<(), Error> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut next_arg = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if bytes.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        let keyed = bytes.get(i) == Some(&b'(');
        if keyed {
            i += bytes[i..].iter().position(|&b| b == b')').map_or(bytes.len() - i, |p| p + 1);
        }
        while matches!(bytes.get(i), Some(b'#' | b'0' | b'-' | b' ' | b'+')) {
            i += 1;
        }
        for (n, what) in [(0, "format width"), (1, "format precision")] {
            if n == 1 {
                if bytes.get(i) != Some(&b'.') {
                    break;
                }
                i += 1;
            }
            if bytes.get(i) == Some(&b'*') {
                i += 1;
                let asked = args.get(next_arg).and_then(|a| a.as_i64());
                next_arg += 1;
                if let Some(m) = asked.and_then(|a| width_problem(what, a.unsigned_abs().into())) {
                    return Err(invalid(m));
                }
            } else {
                let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                // More digits than any u128 has is too large too.
                let asked = text[i..i + digits].parse::<u128>().unwrap_or(u128::MAX);
                if digits > 0
                    && let Some(m) = width_problem(what, asked)
                {
                    return Err(invalid(m));
                }
                i += digits;
            }
        }
        if !keyed {
            next_arg += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error, json};
    use minijinja::context;
    use serde_json::json;

    #[test]
    fn widths_from_data_are_refused_before_anything_is_made() {
        let big = context! { n => i64::MAX };
        for (expr, what) in [
            ("'a' | lpad(n)", "lpad width"),
            ("'a' | rpad(n, '0')", "rpad width"),
            ("'a' | indent(n)", "indent width"),
            ("'a' | indent(width=n)", "indent width"),
            ("[1] | batch(n, 0)", "batch count"),
            ("[1] | slice(n)", "slice count"),
            ("'%*d' | format(n, 1)", "format width"),
            ("'%.*f' | format(n, 1.5)", "format precision"),
        ] {
            assert_eq!(
                error(expr, big.clone()),
                format!("invalid operation: {what} 9223372036854775807 is more than 10000, the largest flowmap allows (in <expression>:1)"),
                "{expr}"
            );
        }
        assert_eq!(
            error("'%099999999999999999999999999999999999999999d' | format(1)", context! {}),
            "invalid operation: format width 340282366920938463463374607431768211455 is more than 10000, the largest flowmap allows (in <expression>:1)"
        );
    }

    #[test]
    fn widths_within_the_bound_work_as_before() {
        let n = context! { n => 10_000 };
        assert_eq!(json("('a' | lpad(n)) | length", n.clone()), json!(10_000));
        assert_eq!(json("'a\nb' | indent(2)", context! {}), json!("a\n  b"));
        assert_eq!(json("[1, 2, 3] | batch(2, 0) | list", context! {}), json!([[1, 2], [3, 0]]));
        assert_eq!(json("[1, 2, 3] | slice(2) | list", context! {}), json!([[1, 2], [3]]));
        assert_eq!(json("'%05d-%s-%%' | format(42, 'a')", context! {}), json!("00042-a-%"));
        assert_eq!(json("'%-4s|%.2f' | format('ab', 1.234)", context! {}), json!("ab  |1.23"));
    }
}
