use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationError, ValidationErrorKind};
use jsonschema::{JsonType, Validator};
use serde_json::Value;

use super::pointer::{pointer_child, pointer_keys};
use super::span_index::SpanIndex;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::model::{Catalogue, FlowFile, SystemDef, TestFile};

/// The kinds of YAML file flowmap reads, each with a schema generated from its Rust type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Flow,
    /// A flow that `extends` another: the same keys, none of them required
    /// (an override restates only what it changes; the merged flow is checked as `Flow`).
    FlowOverride,
    FlowTest,
    System,
    Catalogue,
    Connections,
}

impl SchemaKind {
    pub const ALL: [SchemaKind; 6] =
        [SchemaKind::Flow, SchemaKind::FlowOverride, SchemaKind::FlowTest, SchemaKind::System, SchemaKind::Catalogue, SchemaKind::Connections];

    /// File name under `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::Flow => "flow.schema.json",
            SchemaKind::FlowOverride => "flow-override.schema.json",
            SchemaKind::FlowTest => "flow-test.schema.json",
            SchemaKind::System => "system.schema.json",
            SchemaKind::Catalogue => "catalogue.schema.json",
            SchemaKind::Connections => "connections.schema.json",
        }
    }

    fn compiled(self) -> &'static (Value, Validator) {
        static CELLS: [OnceLock<(Value, Validator)>; 6] = [const { OnceLock::new() }; 6];
        CELLS[self as usize].get_or_init(|| {
            let schema = schema_json(self);
            let validator = jsonschema::validator_for(&schema).expect("generated schemas are valid");
            (schema, validator)
        })
    }
}

/// The JSON Schema of a file kind, as written to `schemas/`.
pub fn schema_json(kind: SchemaKind) -> Value {
    let schema = match kind {
        SchemaKind::Flow | SchemaKind::FlowOverride => schemars::schema_for!(FlowFile),
        SchemaKind::FlowTest => schemars::schema_for!(TestFile),
        SchemaKind::System => schemars::schema_for!(SystemDef),
        SchemaKind::Catalogue => schemars::schema_for!(Catalogue),
        SchemaKind::Connections => schemars::schema_for!(crate::model::ConnectionsFile),
    };
    let mut json = serde_json::to_value(schema).expect("schemas serialise");
    if kind == SchemaKind::Flow {
        // Optional in the Rust type (an override may inherit them), required of a flow that stands alone.
        json["required"] = Value::from(STANDALONE_REQUIRED.to_vec());
    }
    if kind == SchemaKind::FlowOverride {
        drop_required(&mut json);
        json["title"] = Value::from("FlowOverride");
        json["description"] = Value::from("A flow file that `extends` another and restates only what it changes. The merged flow must be complete.");
    }
    json
}

/// What a flow file that extends no other must define itself.
const STANDALONE_REQUIRED: [&str; 4] = ["flow", "source", "target", "mapping"];

fn drop_required(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.shift_remove("required");
            o.values_mut().for_each(drop_required);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_required),
        _ => {}
    }
}

/// Validates `value` against the schema of `kind` and turns every error into a
/// diagnostic at the key or value it concerns.
pub fn check_schema(kind: SchemaKind, value: &Value, spans: &SpanIndex) -> Vec<Diagnostic> {
    let (schema, validator) = kind.compiled();
    let mut out = Vec::new();
    for error in validator.iter_errors(value) {
        explain(&error, schema, spans, &mut out);
    }
    out
}

/// Validates a merged flow (a chain of `extends`) against the flow schema. A
/// top-level part none of the files define is left to the compiler, which says
/// that neither the file nor the flows it extends define it.
pub fn check_merged_flow(value: &Value, spans: &SpanIndex) -> Vec<Diagnostic> {
    let (schema, validator) = SchemaKind::Flow.compiled();
    let mut out = Vec::new();
    for error in validator.iter_errors(value) {
        let top_required = error.instance_path().as_str().is_empty() && matches!(error.kind(), ValidationErrorKind::Required { .. });
        if !top_required {
            explain(&error, schema, spans, &mut out);
        }
    }
    out
}

fn explain(error: &ValidationError, schema: &Value, spans: &SpanIndex, out: &mut Vec<Diagnostic>) {
    let pointer = error.instance_path().as_str().to_string();
    let place = dotted(&pointer);
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known = known_properties(schema, error.schema_path().as_str());
            for key in unexpected {
                let child = pointer_child(&pointer, key);
                let mut d = Diagnostic::error(format!("unknown key `{key}`{}", in_place(&place))).at(spans.key_loc(&child));
                match did_you_mean(key, known.iter().map(String::as_str)) {
                    Some(near) => d = d.label(format!("did you mean `{near}`?")),
                    None if !known.is_empty() => d = d.help(format!("known keys: {}", known.join(", "))),
                    None => {}
                }
                out.push(d);
            }
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // Untagged alternatives: explain the branch whose shape matched
            // (no type error at this very node); if none did, say what fits.
            let fitting = context
                .iter()
                .filter(|branch| {
                    !branch.iter().any(|e| e.instance_path().as_str() == pointer && matches!(e.kind(), ValidationErrorKind::Type { .. }))
                })
                .min_by_key(|branch| branch.len());
            match fitting {
                Some(branch) => branch.iter().for_each(|e| explain(e, schema, spans, out)),
                None => out.push(
                    Diagnostic::error(format!(
                        "`{place}` has the wrong type: expected {}, found {}",
                        alternatives(context),
                        type_name(error.instance())
                    ))
                    .at(spans.value_loc(&pointer)),
                ),
            }
        }
        ValidationErrorKind::Type { kind } => {
            let what = if place.is_empty() { "the file".to_string() } else { format!("`{place}`") };
            out.push(
                Diagnostic::error(format!("{what} must be {}, found {}", expected(kind), type_name(error.instance()))).at(spans.value_loc(&pointer)),
            );
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let what = if place.is_empty() { "the file".to_string() } else { format!("`{place}`") };
            out.push(Diagnostic::error(format!("missing `{name}` in {what}")).at(spans.key_loc(&pointer)));
        }
        ValidationErrorKind::Enum { options } => {
            let names: Vec<&str> = options.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let found = error.instance().as_str().unwrap_or_default().to_string();
            let mut d =
                Diagnostic::error(format!("`{place}` must be one of {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")))
                    .at(spans.value_loc(&pointer));
            if let Some(near) = did_you_mean(&found, names.iter().copied()) {
                d = d.label(format!("did you mean `{near}`?"));
            }
            out.push(d);
        }
        _ => out.push(Diagnostic::error(format!("`{place}`: {error}")).at(spans.value_loc(&pointer))),
    }
}

fn in_place(place: &str) -> String {
    if place.is_empty() { String::new() } else { format!(" in `{place}`") }
}

/// `/mapping/SalesOrderLines/fields/0` → `mapping.SalesOrderLines.fields[0]`.
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for key in pointer_keys(pointer) {
        if key.chars().all(|c| c.is_ascii_digit()) && !key.is_empty() {
            out.push_str(&format!("[{key}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&key);
        }
    }
    out
}

/// The property names allowed where an `additionalProperties` error was raised,
/// found by walking the schema along the error's schema path (following `$ref`s).
fn known_properties(schema: &Value, schema_path: &str) -> Vec<String> {
    let mut node = schema;
    let keys: Vec<String> = pointer_keys(schema_path).collect();
    for key in &keys[..keys.len().saturating_sub(1)] {
        node = if key == "$ref" {
            match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')).and_then(|p| schema.pointer(p)) {
                Some(target) => target,
                None => return Vec::new(),
            }
        } else {
            match node.get(key.as_str()) {
                Some(n) => n,
                None => return Vec::new(),
            }
        };
    }
    node.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect()).unwrap_or_default()
}

fn expected(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => article(*t),
        // `Option<T>` fields accept null; saying so only distracts.
        TypeKind::Multiple(set) => set.iter().filter(|t| *t != JsonType::Null).map(article).collect::<Vec<_>>().join(" or "),
    }
}

fn article(t: JsonType) -> String {
    match t {
        JsonType::String => "text".into(),
        JsonType::Object => "a mapping of keys".into(),
        JsonType::Array => "a list".into(),
        JsonType::Integer => "a whole number".into(),
        JsonType::Number => "a number".into(),
        JsonType::Boolean => "true or false".into(),
        JsonType::Null => "null".into(),
    }
}

fn alternatives(context: &[Vec<ValidationError<'static>>]) -> String {
    let mut names: Vec<String> = Vec::new();
    for branch in context {
        for e in branch {
            if let ValidationErrorKind::Type { kind } = e.kind() {
                let n = expected(kind);
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
    }
    names.join(", ")
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
