//! A constant written to a field whose catalogue lists its `values` must be one of them:
//! the system refuses any other (Xero answers `ACREC` with a validation error), so `check` says so
//! before a record is sent. Values read from the record are known only at run time.

use minijinja::value::ValueKind;

use super::context::Ctx;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::Expr;
use crate::model::FieldDef;

/// Beyond this many values the help names where they are listed instead of listing them
/// (Xero's CurrencyCode has 168).
const LISTED_VALUES: usize = 12;

/// Checks the constant `e` (at `pointer`, the value's own place in the file) against the values of
/// field `name` of `parent`.
pub fn check_constant_value(ctx: &mut Ctx, pointer: &str, name: &str, e: &Expr, def: Option<&FieldDef>, parent: &str) {
    let (Some(v), Some(values)) = (e.as_const(), def.and_then(|d| d.values.as_ref())) else { return };
    // `none` leaves the field out of the request: there is no value to refuse.
    if matches!(v.kind(), ValueKind::None | ValueKind::Undefined) {
        return;
    }
    let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    if values.contains(&text) {
        return;
    }
    let mut d = Diagnostic::error(format!("`{text}` is not a value of `{name}` for {parent}")).at(ctx.spans.value_loc(pointer));
    if let Some(near) = did_you_mean(&text, values.iter().map(String::as_str)) {
        d = d.label(format!("did you mean `{near}`?"));
    }
    d = d.help(values_help(name, values, def.and_then(|d| d.source.as_deref())));
    ctx.error(d);
}

fn values_help(name: &str, values: &[String], source: Option<&str>) -> String {
    match source {
        Some(source) if values.len() > LISTED_VALUES => format!("`{name}` takes one of {} values, listed in {source}", values.len()),
        _ => format!("`{name}` takes one of: {}", values.join(", ")),
    }
}
