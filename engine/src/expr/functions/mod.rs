//! Filters and functions available in mapping expressions.
//!
//! Everything here is generic protocol or data-shaping knowledge (OData
//! literals, text padding, date arithmetic, exact money arithmetic, lookup
//! tables). Knowledge about one particular system belongs in that system's
//! YAML, which combines these building blocks.
//!
//! Conventions shared by every file:
//! - errors are `ErrorKind::InvalidOperation` with a message that names the
//!   offending value (see `show`), so an integrator can find the bad record;
//! - an undefined input is an `ErrorKind::UndefinedError`, matching the
//!   strict undefined behaviour the engine runs expressions with;
//! - numbers that have to become text use `number_text`, so `21`, `21.0`
//!   and a float read from JSON all give the same text.

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};

mod dates;
mod lists;
mod money;
mod native;
mod odata;
pub use odata::instant_ms;
mod tables;
mod text;
mod widths;

pub(crate) use native::{NativeCall, native_filter, native_function};
pub(crate) use text::pad_text;
pub use widths::{WIDTH_ARGUMENTS, width_problem};

/// Registers every filter and function of this module on `env`.
pub fn register(env: &mut Environment<'static>) {
    odata::register(env);
    text::register(env);
    dates::register(env);
    lists::register(env);
    money::register(env);
    tables::register(env);
    widths::register(env);
}

/// An `InvalidOperation` error with the given message.
fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// Fails on an undefined value the same way strict undefined handling does.
///
/// In strict mode minijinja still hands undefined values to filters (so that
/// `default` can work); the filters here have no sensible answer for them.
fn reject_undefined(value: &Value) -> Result<(), Error> {
    if value.is_undefined() { Err(Error::from(ErrorKind::UndefinedError)) } else { Ok(()) }
}

/// How a value is named in an error message: strings quoted, numbers as
/// written, anything else by its kind and (shortened) rendering.
fn show(value: &Value) -> String {
    const MAX: usize = 60;
    let text = match value.kind() {
        ValueKind::String => format!("{:?}", value.as_str().unwrap_or_default()),
        ValueKind::Undefined => "undefined".to_owned(),
        ValueKind::None => "none".to_owned(),
        ValueKind::Bool if value.is_true() => "true".to_owned(),
        ValueKind::Bool => "false".to_owned(),
        ValueKind::Number => value.to_string(),
        _ if crate::value::is_number(value) => value.to_string(),
        kind => format!("{kind} {value}"),
    };
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// The canonical text of a number, or `None` if the value is not a number.
///
/// Integers print as integers. Floats print through Rust's shortest
/// round-trip formatting, which never uses an exponent and drops a zero
/// fraction: `21.0` → `21`, `0.21` → `0.21`, `0.1` → `0.1` (not
/// `0.1000000000000000055…`). That makes the text identical whether a value
/// came in as `21`, `21.0` or a float parsed from JSON. A number too long
/// for a float keeps every digit.
fn number_text(value: &Value) -> Option<String> {
    crate::value::number_text(value)
}

/// Text from a string (as is) or a number (its canonical text); anything
/// else is an error naming the value.
fn text_of(value: &Value) -> Result<String, Error> {
    reject_undefined(value)?;
    if let Some(s) = value.as_str() {
        return Ok(s.to_owned());
    }
    number_text(value).ok_or_else(|| invalid(format!("expected text or a number, got {}", show(value))))
}

/// An optional parameter that may be passed positionally or by keyword
/// (`lpad(18, "0")` or `lpad(18, fill="0")`). Giving it both ways is an
/// error. Callers must still call `kwargs.assert_all_used()`.
fn optional_arg<'a, T>(positional: Option<T>, kwargs: &'a Kwargs, name: &'a str) -> Result<Option<T>, Error>
where
    T: minijinja::value::ArgType<'a, Output = T>,
{
    let keyword: Option<T> = if kwargs.has(name) { Some(kwargs.get(name)?) } else { None };
    match (positional, keyword) {
        (Some(_), Some(_)) => Err(Error::new(ErrorKind::TooManyArguments, format!("argument {name} given both by position and by keyword"))),
        (positional, keyword) => Ok(positional.or(keyword)),
    }
}

#[cfg(test)]
mod test_support {
    use minijinja::{Environment, Error, UndefinedBehavior, Value};

    /// An environment configured like the engine's, with everything here
    /// registered.
    pub fn env() -> Environment<'static> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        super::register(&mut env);
        env
    }

    /// Evaluates `expr` against `ctx`.
    pub fn eval(expr: &str, ctx: Value) -> Result<Value, Error> {
        env().compile_expression(expr)?.eval(ctx)
    }

    /// Evaluates `expr` and returns the result as JSON, i.e. exactly what a
    /// mapping would write into a payload (the engine's conversion, which
    /// writes long numbers digit for digit).
    pub fn json(expr: &str, ctx: Value) -> serde_json::Value {
        let value = eval(expr, ctx).unwrap_or_else(|err| panic!("{expr}: {err}"));
        crate::value::to_json(&value)
    }

    /// The JSON text of `expr`'s result, as a payload would carry it.
    pub fn json_text(expr: &str, ctx: Value) -> String {
        json(expr, ctx).to_string()
    }

    /// Evaluates `expr`, expecting an error, and returns its text.
    pub fn error(expr: &str, ctx: Value) -> String {
        match eval(expr, ctx) {
            Ok(value) => panic!("{expr}: expected an error, got {value:?}"),
            Err(err) => err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{error, json};
    use minijinja::context;
    use serde_json::json;

    #[test]
    fn number_text_is_canonical() {
        assert_eq!(super::number_text(&21.into()), Some("21".into()));
        assert_eq!(super::number_text(&21.0.into()), Some("21".into()));
        assert_eq!(super::number_text(&0.21.into()), Some("0.21".into()));
        assert_eq!(super::number_text(&(-0.0).into()), Some("0".into()));
        assert_eq!(super::number_text(&"21".into()), None);
    }

    #[test]
    fn keyword_and_positional_together_is_an_error() {
        assert_eq!(
            error("'7' | lpad(3, '0', fill='0')", context! {}),
            "too many arguments: argument fill given both by position and by keyword \
             (in <expression>:1)"
        );
        assert_eq!(json("'7' | lpad(3, fill='0')", context! {}), json!("007"));
    }
}

#[cfg(test)]
mod robustness {
    use super::test_support::eval;
    use minijinja::context;

    /// Source data never panics a filter: every filter and function, with the
    /// argument shapes they take, on text that is cut or malformed in the
    /// places their parsers look (non-ASCII where digits, signs or offsets are
    /// expected). Errors are fine; a panic is a failed test naming the call.
    #[test]
    fn no_filter_panics_on_odd_source_values() {
        let texts = [
            "",
            " ",
            "é",
            "-",
            "+",
            ".",
            "ééééééééééé",
            "2024-03-05",
            "2024-0é-05",
            "2024-03-05Té",
            "2024-03-05T10:20:00+1é00",
            "2024-03-05T10:20:00+1é0",
            "2024-03-05T10:20:00-é",
            "2024-03-05T10:2é:00",
            "2024-03-05T10:20:00.é",
            "/Date(é)/",
            "/Date(1+é)/",
            "/Date(-)/",
            "/Date(1709596800000+01é0)/",
            "€12,50",
            "1é5",
            "a\u{301}bc",
            "99999999999999999999999999999999",
            "1e400",
            "-0",
            "NaN",
            "guid'é'",
            "'",
        ];
        let filters = [
            "add_days(1)",
            "add_days(-100000000)",
            "collapse_spaces",
            "date_format('%Y-%m-%d %z')",
            "digits",
            "from_odata_date",
            "left(3)",
            "right(3)",
            "lpad(5, 'é')",
            "rpad(5, '0')",
            "money",
            "money(4)",
            "nonempty",
            "odata_date",
            "odata_guid",
            "odata_string",
            "split_name",
            "to_date",
            "translate({'é': 1}, 0)",
        ];
        let functions = [
            "days_between(v, v)",
            "days_between(v, '2024-03-05')",
            "money_add(v, v)",
            "money_sub(v, '1')",
            "money_mul(v, v)",
            "money_div(v, v)",
            "money_div('1', v)",
            "money_sum([v, v])",
            "money_sum_product([v], [v])",
        ];
        let calls = filters.iter().map(|f| format!("v | {f}")).chain(functions.iter().map(|f| f.to_string()));
        let mut panicked = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            for text in texts {
                let caught = std::panic::catch_unwind(|| eval(&call, context! { v => text }));
                if caught.is_err() {
                    panicked.push(format!("{call} with v = {text:?}"));
                }
            }
        }
        assert!(panicked.is_empty(), "panicked: {panicked:#?}");
    }
}
