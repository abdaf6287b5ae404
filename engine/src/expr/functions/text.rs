//! Text shaping filters: padding, cutting, cleaning and splitting.
//!
//! Lengths count characters, not bytes, so `é` is one position, as it is in
//! the fixed-width fields of the systems these values end up in. Numbers are
//! turned into their canonical text first (`12.0` → `12`).

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, Value};

use super::{invalid, optional_arg, show, text_of};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("lpad", lpad);
    env.add_filter("rpad", rpad);
    env.add_filter("left", left);
    env.add_filter("right", right);
    env.add_filter("digits", digits);
    env.add_filter("collapse_spaces", collapse_spaces);
    env.add_filter("split_name", split_name);
    env.add_filter("nonempty", nonempty);
}

/// Which side the fill goes on.
#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
}

/// Pads `value` with `fill` up to `width` characters; never truncates.
fn pad(value: &Value, width: usize, fill: Option<String>, kwargs: &Kwargs, side: Side) -> Result<String, Error> {
    let fill = optional_arg(fill, kwargs, "fill")?;
    kwargs.assert_all_used()?;
    let fill = match fill.as_deref() {
        None => ' ',
        Some(fill) => {
            let mut chars = fill.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(invalid(format!("fill must be a single character, got {fill:?}")));
                }
            }
        }
    };
    pad_text(value, width, fill, matches!(side, Side::Left))
}

/// The padding itself; native evaluation (`expr/simple.rs`) calls it too, so
/// both paths give the same text and the same errors.
pub(crate) fn pad_text(value: &Value, width: usize, fill: char, left: bool) -> Result<String, Error> {
    super::widths::check_width(if left { "lpad width" } else { "rpad width" }, width)?;
    let text = text_of(value)?;
    let missing = width.saturating_sub(text.chars().count());
    let padding: String = std::iter::repeat_n(fill, missing).collect();
    Ok(if left { padding + &text } else { text + &padding })
}

/// `lpad(width, fill=" ")`: right-aligns to `width` characters, e.g. an
/// 18-character right-aligned account code: `value | string | trim | lpad(18)`.
fn lpad(value: &Value, width: usize, fill: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    pad(value, width, fill, &kwargs, Side::Left)
}

/// `rpad(width, fill=" ")`: left-aligns to `width` characters.
fn rpad(value: &Value, width: usize, fill: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    pad(value, width, fill, &kwargs, Side::Right)
}

/// `left(n)`: the first `n` characters.
fn left(value: &Value, count: usize) -> Result<String, Error> {
    Ok(text_of(value)?.chars().take(count).collect())
}

/// `right(n)`: the last `n` characters.
fn right(value: &Value, count: usize) -> Result<String, Error> {
    let text = text_of(value)?;
    let skip = text.chars().count().saturating_sub(count);
    Ok(text.chars().skip(skip).collect())
}

/// `digits`: only the ASCII digits 0-9 (phone numbers, postcodes, IBAN
/// check digits, …).
fn digits(value: &Value) -> Result<String, Error> {
    Ok(text_of(value)?.chars().filter(char::is_ascii_digit).collect())
}

/// `collapse_spaces`: trimmed, with every run of whitespace (including tabs
/// and line breaks) replaced by one space.
fn collapse_spaces(value: &Value) -> Result<String, Error> {
    Ok(words(&text_of(value)?).join(" "))
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// `split_name`: a full name as `[first, last]`, where the last word is the
/// last name and everything before it the first name. One word is taken to
/// be a last name (`["", word]`), as that is what systems require.
fn split_name(value: &Value) -> Result<Vec<String>, Error> {
    let text = text_of(value)?;
    let words = words(&text);
    Ok(match words.split_last() {
        None => vec![String::new(), String::new()],
        Some((last, first)) => vec![first.join(" "), (*last).to_owned()],
    })
}

/// `nonempty`: false for undefined, none, and strings, lists or maps that are
/// empty (strings after trimming); true for everything else, including `0`
/// and `false`, which are values.
fn nonempty(value: &Value) -> Result<bool, Error> {
    Ok(match value.kind() {
        ValueKind::Undefined | ValueKind::None => false,
        ValueKind::String => !value.as_str().unwrap_or_default().trim().is_empty(),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => match value.len() {
            Some(len) => len > 0,
            None => value.try_iter()?.next().is_some(),
        },
        ValueKind::Invalid => {
            return Err(invalid(format!("cannot test {}", show(value))));
        }
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error, json};
    use minijinja::context;
    use serde_json::json;

    #[test]
    fn lpad_right_aligns_exact_account_codes() {
        assert_eq!(json("code | string | trim | lpad(18)", context! { code => " 1300 " }), json!("              1300"));
        assert_eq!(json("1300 | lpad(18)", context! {}), json!("              1300"));
        assert_eq!(json("7 | lpad(3, '0')", context! {}), json!("007"));
        assert_eq!(json("'abcd' | lpad(2)", context! {}), json!("abcd"));
        assert_eq!(json("'é' | lpad(3, '·')", context! {}), json!("··é"));
        assert_eq!(json("12.0 | lpad(4, fill='0')", context! {}), json!("0012"));
    }

    #[test]
    fn rpad_left_aligns() {
        assert_eq!(json("'ab' | rpad(4)", context! {}), json!("ab  "));
        assert_eq!(json("'ü' | rpad(3, '-')", context! {}), json!("ü--"));
        assert_eq!(json("'abcd' | rpad(2)", context! {}), json!("abcd"));
    }

    #[test]
    fn pad_errors() {
        assert_eq!(error("'a' | lpad(3, '00')", context! {}), "invalid operation: fill must be a single character, got \"00\" (in <expression>:1)");
        assert_eq!(error("v | lpad(3)", context! { v => () }), "invalid operation: expected text or a number, got none (in <expression>:1)");
        assert_eq!(error("'a' | lpad(3, filler='0')", context! {}), "too many arguments: unknown keyword argument 'filler' (in <expression>:1)");
    }

    #[test]
    fn left_and_right_count_characters() {
        assert_eq!(json("'Ölmühle' | left(3)", context! {}), json!("Ölm"));
        assert_eq!(json("'Ölmühle' | right(4)", context! {}), json!("ühle"));
        assert_eq!(json("'ab' | left(5)", context! {}), json!("ab"));
        assert_eq!(json("'ab' | right(5)", context! {}), json!("ab"));
        assert_eq!(json("123456 | right(2)", context! {}), json!("56"));
    }

    #[test]
    fn digits_keeps_only_digits() {
        assert_eq!(json("'+31 (0)20-123 45 67' | digits", context! {}), json!("310201234567"));
        assert_eq!(json("'no digits' | digits", context! {}), json!(""));
        assert_eq!(json("'١٢٣4' | digits", context! {}), json!("4"));
    }

    #[test]
    fn collapse_spaces_normalises_whitespace() {
        assert_eq!(json("v | collapse_spaces", context! { v => "  Main \t Street\n 12  " }), json!("Main Street 12"));
        assert_eq!(json("'   ' | collapse_spaces", context! {}), json!(""));
    }

    #[test]
    fn split_name_takes_last_word_as_last_name() {
        assert_eq!(json("'Jan  de Vries' | split_name", context! {}), json!(["Jan de", "Vries"]));
        assert_eq!(json("'Ada Lovelace' | split_name", context! {}), json!(["Ada", "Lovelace"]));
        assert_eq!(json("' Cher ' | split_name", context! {}), json!(["", "Cher"]));
        assert_eq!(json("'' | split_name", context! {}), json!(["", ""]));
        assert_eq!(json("('Ada Lovelace' | split_name)[1]", context! {}), json!("Lovelace"));
    }

    #[test]
    fn nonempty_tests_presence() {
        let ctx = context! {
            text => "x", blank => "  ", nothing => (), zero => 0, no => false,
            list => vec![1], empty_list => Vec::<i32>::new(),
            map => context! { a => 1 }, empty_map => context! {},
        };
        for (expr, expected) in [
            ("text", true),
            ("blank", false),
            ("nothing", false),
            ("missing", false),
            ("map.missing", false),
            ("zero", true),
            ("no", true),
            ("list", true),
            ("empty_list", false),
            ("map", true),
            ("empty_map", false),
        ] {
            assert_eq!(json(&format!("{expr} | nonempty"), ctx.clone()), json!(expected), "{expr}");
        }
    }
}
