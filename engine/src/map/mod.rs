//! Map: computes the target payload from the compiled mapping, one record at a time.

use minijinja::Value;

use crate::compile::{CompiledField, FieldKind};
use crate::expr::{EvalError, Expr, Scope};
use crate::run::{Reason, ReasonKind, reason};
use crate::value::is_empty;

/// A field that could not be computed for this record.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// Where in the payload, e.g. `SalesOrderLines[2].Item`.
    pub field: String,
    /// `file:line:col` of the field in the flow.
    pub origin: String,
    pub error: EvalError,
    /// Whose problem it is (from the expression that failed).
    pub kind: ReasonKind,
}

impl FieldError {
    /// The block reason: short for missing data, with the flow position for
    /// expression failures (those are bugs in the flow, not in the record).
    pub fn reason(&self) -> Reason {
        let text = match &self.error {
            EvalError::Missing(_) => format!("{} ({})", self.error, self.field),
            other => format!("{} ({}): {other}", self.field, self.origin),
        };
        Reason::new(self.kind, text, &self.origin)
    }

    pub fn is_about_lookup(&self) -> bool {
        matches!(&self.error, EvalError::Missing(p) if p.starts_with("lookup."))
    }
}

/// Block reasons for the fields that failed. The same failure of the same
/// field in many list entries (a table miss on every line) is one reason,
/// with the entries shown as `[*]`; a missing value keeps its entry's index.
pub fn reasons(errors: &[FieldError]) -> Vec<Reason> {
    let mut out: Vec<Reason> = Vec::with_capacity(errors.len());
    let mut seen: Vec<(String, String)> = Vec::new();
    for e in errors {
        if matches!(e.error, EvalError::Missing(_)) {
            out.push(e.reason());
            continue;
        }
        let group = (e.origin.clone(), e.error.to_string());
        if seen.contains(&group) {
            continue;
        }
        let repeated = errors.iter().filter(|o| o.origin == group.0 && o.error.to_string() == group.1).count() > 1;
        let field = if repeated { without_indices(&e.field) } else { e.field.clone() };
        out.push(FieldError { field, ..e.clone() }.reason());
        seen.push(group);
    }
    out
}

/// `LineItems[2].TaxType` → `LineItems[*].TaxType`.
fn without_indices(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[*");
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// Which fields to write: all of them for a new record, all but the
/// create-only ones for an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Create,
    Update,
}

/// Evaluates `fields` into a map. Problems are collected, not returned early,
/// so a blocked record lists every reason at once.
pub fn map_fields(fields: &[CompiledField], scope: &mut Scope, purpose: Purpose, prefix: &str, errors: &mut Vec<FieldError>) -> Value {
    let mut out: Vec<(&str, Value)> = Vec::with_capacity(fields.len());
    for f in fields {
        if f.create_only && purpose == Purpose::Update {
            continue;
        }
        // The field's place in the payload is only spelled out when it failed.
        let path = || if prefix.is_empty() { f.name.clone() } else { format!("{prefix}.{}", f.name) };
        let fail = |expr: &Expr, error: EvalError, errors: &mut Vec<FieldError>| {
            let kind = reason::of_failure(expr, &error);
            errors.push(FieldError { field: path(), origin: f.origin.clone(), error, kind })
        };
        if let Some(when) = &f.when {
            match when.holds(scope) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    fail(when, e, errors);
                    continue;
                }
            }
        }
        let value = match &f.kind {
            FieldKind::Value(e) => match e.eval(scope) {
                Ok(v) => v,
                Err(EvalError::Missing(_)) if f.optional => continue,
                Err(err) => {
                    fail(e, err, errors);
                    continue;
                }
            },
            FieldKind::Object(inner) => map_fields(inner, scope, purpose, &path(), errors),
            FieldKind::List { each, alias, fields } => match each.eval(scope) {
                Ok(list) => map_list(&list, (each, alias), fields, scope, purpose, &path(), errors),
                Err(EvalError::Missing(_)) if f.optional => continue,
                Err(err) => {
                    fail(each, err, errors);
                    continue;
                }
            },
        };
        if f.optional && is_empty(&value) {
            continue;
        }
        out.push((f.name.as_str(), value));
    }
    crate::value::map(out)
}

fn map_list(
    list: &Value,
    (each, alias): (&Expr, &'static str),
    fields: &[CompiledField],
    scope: &mut Scope,
    purpose: Purpose,
    path: &str,
    errors: &mut Vec<FieldError>,
) -> Value {
    let Ok(items) = list.try_iter() else {
        errors.push(FieldError {
            field: path.to_string(),
            origin: String::new(),
            error: EvalError::Failed(format!("`each` gave {} instead of a list", list.kind())),
            kind: if reason::reads_record(each) { ReasonKind::Record } else { ReasonKind::Flow },
        });
        return Value::from(Vec::<Value>::new());
    };
    let mut out = Vec::with_capacity(list.len().unwrap_or(0));
    for (i, item) in items.enumerate() {
        scope.push(alias, item);
        let before = errors.len();
        out.push(map_fields(fields, scope, purpose, "", errors));
        // Errors inside the entry get the entry's place as their prefix.
        for e in &mut errors[before..] {
            e.field = format!("{path}[{i}].{}", e.field);
        }
        scope.pop();
    }
    Value::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(field: &str, origin: &str, why: &str) -> FieldError {
        FieldError { field: field.into(), origin: origin.into(), error: EvalError::Failed(why.into()), kind: ReasonKind::Record }
    }

    #[test]
    fn a_failure_repeated_over_list_entries_is_one_reason() {
        let errors = vec![
            failed("LineItems[0].TaxType", "f.yaml:9:7", "no entry for 7"),
            failed("LineItems[1].TaxType", "f.yaml:9:7", "no entry for 7"),
            FieldError {
                field: "LineItems[1].Item".into(),
                origin: "f.yaml:8:7".into(),
                error: EvalError::Missing("line.sku".into()),
                kind: ReasonKind::Record,
            },
            failed("Reference", "f.yaml:4:3", "bad"),
        ];
        assert_eq!(
            reasons(&errors).iter().map(|r| r.text.as_str()).collect::<Vec<_>>(),
            ["LineItems[*].TaxType (f.yaml:9:7): no entry for 7", "`line.sku` is missing (LineItems[1].Item)", "Reference (f.yaml:4:3): bad",]
        );
    }
}
