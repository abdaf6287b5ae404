use indexmap::IndexMap;
use minijinja::Value;

use super::context::Ctx;
use super::flow::{CompiledField, FieldKind};
use super::values::check_constant_value;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::{Expr, names::intern};
use crate::load::pointer_child;
use crate::model::{Field, FieldDef, FieldSpec, FieldType};

/// The fields a mapping may write, when the target's catalogue knows them.
pub struct Schema<'a> {
    pub title: String,
    pub fields: &'a IndexMap<String, FieldDef>,
}

/// Compiles a mapping (or a request body), checking each key against `schema`.
pub fn compile_fields(ctx: &mut Ctx, pointer: &str, fields: &IndexMap<String, Field>, roots: &[&str], schema: Option<Schema>) -> Vec<CompiledField> {
    let mut out = Vec::with_capacity(fields.len());
    for (name, field) in fields {
        let here = pointer_child(pointer, name);
        let def = schema.as_ref().and_then(|s| check_key(ctx, &here, name, s));
        let parent = schema.as_ref().map(|s| s.title.as_str()).unwrap_or_default();
        if let Some(f) = compile_field(ctx, &here, name, field, roots, def, parent) {
            out.push(f);
        }
    }
    if let Some(s) = schema {
        check_required(ctx, pointer, fields, &s);
    }
    out
}

fn check_key<'a>(ctx: &mut Ctx, pointer: &str, name: &str, schema: &Schema<'a>) -> Option<&'a FieldDef> {
    match schema.fields.get(name) {
        // Exact skips a read-only property in a POST without a word: the value would be lost.
        Some(def) if def.read_only => {
            ctx.error(
                Diagnostic::error(format!("`{name}` is read-only for {}: it is returned, never sent", schema.title))
                    .at(ctx.spans.key_loc(pointer))
                    .help("the system keeps its own value and skips this one without an error: remove the field from the mapping"),
            );
            None
        }
        Some(def) => {
            if let Some(editions) = &def.edition {
                ctx.error(
                    Diagnostic::warning(format!("`{name}` of {} exists only in some editions: {editions}", schema.title))
                        .at(ctx.spans.key_loc(pointer))
                        .help("other editions do not have the field; send it only to an administration of one of these"),
                );
            }
            Some(def)
        }
        None => {
            let mut d = Diagnostic::error(format!("unknown field `{name}` for {}", schema.title)).at(ctx.spans.key_loc(pointer));
            if let Some(near) = did_you_mean(name, schema.fields.keys().map(String::as_str)) {
                d = d.label(format!("did you mean `{near}`?"));
            }
            // Every field of an entity carries the catalogue it was read from.
            if let Some(source) = schema.fields.values().find_map(|f| f.source.as_deref()) {
                d = d.help(format!("the fields of {} are listed in {source}", schema.title));
            }
            ctx.error(d);
            None
        }
    }
}

fn check_required(ctx: &mut Ctx, pointer: &str, fields: &IndexMap<String, Field>, schema: &Schema) {
    for (name, def) in schema.fields {
        if def.required && !fields.contains_key(name) {
            ctx.error(Diagnostic::error(format!("missing required field `{name}` for {}", schema.title)).at(ctx.spans.key_loc(pointer)));
        }
    }
}

fn compile_field(
    ctx: &mut Ctx,
    pointer: &str,
    name: &str,
    field: &Field,
    roots: &[&str],
    def: Option<&FieldDef>,
    parent: &str,
) -> Option<CompiledField> {
    let origin = ctx.origin(pointer);
    let plain = |kind| CompiledField { name: name.to_string(), kind, optional: false, when: None, create_only: false, origin: origin.clone() };
    match field {
        Field::Expr(text) => {
            let e = ctx.expr(pointer, text, roots)?;
            check_constant_type(ctx, pointer, name, &e, def);
            check_constant_value(ctx, pointer, name, &e, def, parent);
            Some(plain(FieldKind::Value(e)))
        }
        Field::Number(n) => {
            let e = Expr::constant(Value::from_serialize_number(n));
            check_constant_value(ctx, pointer, name, &e, def, parent);
            Some(plain(FieldKind::Value(e)))
        }
        Field::Bool(b) => {
            let e = Expr::constant(Value::from(*b));
            check_constant_value(ctx, pointer, name, &e, def, parent);
            Some(plain(FieldKind::Value(e)))
        }
        Field::Spec(spec) => compile_spec(ctx, pointer, name, spec, roots, def, parent, origin),
    }
}

#[allow(clippy::too_many_arguments)]
fn compile_spec(
    ctx: &mut Ctx,
    pointer: &str,
    name: &str,
    spec: &FieldSpec,
    roots: &[&str],
    def: Option<&FieldDef>,
    parent: &str,
    origin: String,
) -> Option<CompiledField> {
    let when = spec.when.as_ref().and_then(|w| ctx.expr(&pointer_child(pointer, "when"), w, roots));
    let nested = def.and_then(|d| d.fields.as_ref()).map(|fields| Schema { title: format!("`{name}` of {parent}"), fields });
    let kind = match (&spec.value, &spec.constant, &spec.each, &spec.fields) {
        (Some(text), None, None, None) => {
            let here = pointer_child(pointer, "value");
            let e = ctx.expr(&here, text, roots)?;
            check_constant_value(ctx, &here, name, &e, def, parent);
            FieldKind::Value(e)
        }
        (None, Some(c), None, None) => {
            let e = Expr::constant(crate::value::from_json(c));
            check_constant_value(ctx, &pointer_child(pointer, "const"), name, &e, def, parent);
            FieldKind::Value(e)
        }
        (None, None, Some(each), Some(fields)) => {
            let alias = intern(spec.alias.as_deref().unwrap_or("item"));
            let each = ctx.each(&pointer_child(pointer, "each"), each, roots, alias);
            let mut inner: Vec<&str> = roots.to_vec();
            inner.push(alias);
            let fields = compile_fields(ctx, &pointer_child(pointer, "fields"), fields, &inner, nested);
            ctx.end_each();
            FieldKind::List { each: each?, alias, fields }
        }
        (None, None, None, Some(fields)) => FieldKind::Object(compile_fields(ctx, &pointer_child(pointer, "fields"), fields, roots, nested)),
        _ => {
            ctx.error(
                Diagnostic::error(format!("field `{name}` needs exactly one of `value`, `const`, `fields`, or `each` with `fields`"))
                    .at(ctx.spans.key_loc(pointer)),
            );
            return None;
        }
    };
    Some(CompiledField { name: name.to_string(), kind, optional: spec.optional, when, create_only: spec.create_only, origin })
}

/// A constant of the wrong type is certain to be refused by the target; say so now.
fn check_constant_type(ctx: &mut Ctx, pointer: &str, name: &str, e: &Expr, def: Option<&FieldDef>) {
    let (Some(v), Some(def)) = (e.as_const(), def) else { return };
    let fits = match def.kind {
        FieldType::Number | FieldType::Integer => crate::value::is_number(v),
        FieldType::Boolean => v.kind() == minijinja::value::ValueKind::Bool,
        FieldType::List => v.kind() == minijinja::value::ValueKind::Seq,
        _ => true,
    };
    if !fits {
        ctx.error(Diagnostic::error(format!("`{name}` expects a {:?} value, not {}", def.kind, v)).at(ctx.spans.value_loc(pointer)));
    }
}

/// YAML numbers reach us as serde_json numbers; keep integers integers and
/// every digit of a long amount (`value::number`).
trait FromNumber {
    fn from_serialize_number(n: &serde_json::Number) -> Value;
}

impl FromNumber for Value {
    fn from_serialize_number(n: &serde_json::Number) -> Value {
        crate::value::number(n)
    }
}
