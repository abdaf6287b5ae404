//! A constant written to a field whose catalogue lists its `values` must be one of them:
//! the system refuses any other (Xero answers `ACREC` with a validation error), so `check` says so
//! before a record is sent. A setting is a constant too (`Status: settings.status`); values read
//! from the record are known only at run time.

use minijinja::Value;
use minijinja::value::ValueKind;

use super::context::Ctx;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::Expr;
use crate::load::pointer_child;
use crate::model::FieldDef;

/// Beyond this many values the help names where they are listed instead of listing them
/// (Xero's CurrencyCode has 168).
const LISTED_VALUES: usize = 12;

/// Checks what `e` (written at `pointer`) writes to field `name` of `parent`, when it is known now.
pub fn check_constant_value(ctx: &mut Ctx, pointer: &str, name: &str, e: &Expr, def: Option<&FieldDef>, parent: &str) {
    let Some(def) = def.filter(|d| d.values.is_some()) else { return };
    if let Some(v) = e.as_const() {
        if let Some(d) = refusal(v, name, def, parent, None) {
            ctx.error(d.at(ctx.spans.value_loc(pointer)));
        }
        return;
    }
    // The wrong value is written in the settings, so that is where the error points.
    let Some((setting, path)) = setting_read(ctx, &e.text) else { return };
    let written = ctx.spans.value_loc(pointer).map(|l| format!(" at {l}")).unwrap_or_default();
    let how = format!("the mapping writes `{}` to `{name}`{written}", e.text.trim());
    if let Some(d) = refusal(&crate::value::from_json(setting), name, def, parent, Some(how)) {
        ctx.error(d.at(ctx.spans.value_loc(&path)));
    }
}

/// The error for `v` when it is not one of the field's values; `how` says how it reaches the field
/// when that is not where it is written.
fn refusal(v: &Value, name: &str, def: &FieldDef, parent: &str, how: Option<String>) -> Option<Diagnostic> {
    let values = def.values.as_ref()?;
    // `none` leaves the field out of the request: there is no value to refuse.
    if matches!(v.kind(), ValueKind::None | ValueKind::Undefined) {
        return None;
    }
    let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    if values.contains(&text) {
        return None;
    }
    let mut d = Diagnostic::error(format!("`{text}` is not a value of `{name}` for {parent}"));
    if let Some(near) = did_you_mean(&text, values.iter().map(String::as_str)) {
        d = d.label(format!("did you mean `{near}`?"));
    }
    if let Some(how) = how {
        d = d.help(how);
    }
    let help = match def.source.as_deref() {
        Some(source) if values.len() > LISTED_VALUES => format!("`{name}` takes one of {} values, listed in {source}", values.len()),
        _ => format!("`{name}` takes one of: {}", values.join(", ")),
    };
    Some(d.help(help))
}

/// The setting an expression that is nothing but a path into the settings (`settings.status`,
/// `settings.defaults.status`) reads, with the JSON pointer of where it is written. Anything more
/// (a filter, an index, text around it) is left to run time.
fn setting_read<'c>(ctx: &'c Ctx, text: &str) -> Option<(&'c serde_json::Value, String)> {
    let mut keys = text.trim().strip_prefix("settings.")?.split('.');
    let is_name = |k: &str| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let first = keys.next().filter(|k| is_name(k))?;
    let mut value = ctx.setting_values.get(first)?;
    let mut pointer = pointer_child("/settings", first);
    for key in keys {
        value = value.get(Some(key).filter(|k| is_name(k))?)?;
        pointer = pointer_child(&pointer, key);
    }
    (!value.is_object() && !value.is_array()).then_some((value, pointer))
}
