//! The functions and filters the native evaluator (`expr::simple`) calls
//! directly: the money functions, whose results may be exact numbers that
//! only the native evaluator can order against plain numbers
//! (`money_div(total, 3) < 1000` — minijinja orders values of different
//! kinds by kind).
//!
//! Arguments are positional only, a filter's input first. Any argument shape
//! other than the plain ones, and any error, is an `Err`: the expression then
//! goes back to minijinja, which calls the same function through its own
//! argument handling and reports the error in its own words. So native and
//! minijinja agree on every result, and on every message.

use minijinja::{Error, ErrorKind, Value};
use rust_decimal::Decimal;

use super::money;

/// A function or filter as the native evaluator calls it.
pub type NativeCall = fn(&[Value]) -> Result<Value, Error>;

/// The function called `name`, if the native evaluator may call it.
pub fn native_function(name: &str) -> Option<NativeCall> {
    let call: NativeCall = match name {
        "money_add" => |args| match args {
            [first, rest @ ..] => money::fold("money_add", first, rest, Decimal::checked_add),
            [] => Err(shape()),
        },
        "money_sub" => |args| match args {
            [a, b] => money::money_sub(a, b),
            _ => Err(shape()),
        },
        "money_mul" => |args| match args {
            [first, rest @ ..] => money::fold("money_mul", first, rest, Decimal::checked_mul),
            [] => Err(shape()),
        },
        "money_div" => |args| match args {
            [a, b] => money::money_div(a, b),
            _ => Err(shape()),
        },
        "money_sum" => |args| match args {
            [list] => money::sum(list, None),
            [list, attribute] => money::sum(list, Some(attribute.as_str().ok_or_else(shape)?)),
            _ => Err(shape()),
        },
        "money_sum_product" => |args| match args {
            [list, a, b] => money::money_sum_product(list, a.as_str().ok_or_else(shape)?, b.as_str().ok_or_else(shape)?),
            _ => Err(shape()),
        },
        _ => return None,
    };
    Some(call)
}

/// The filter called `name`, if the native evaluator may call it.
pub fn native_filter(name: &str) -> Option<NativeCall> {
    let call: NativeCall = match name {
        "money" => |args| match args {
            [value] => money::round(value, 2),
            [value, places] => money::round(value, places.as_i64().and_then(|p| u32::try_from(p).ok()).ok_or_else(shape)?),
            _ => Err(shape()),
        },
        _ => return None,
    };
    Some(call)
}

/// Arguments the native call does not take as they are; minijinja will.
fn shape() -> Error {
    Error::from(ErrorKind::InvalidOperation)
}
