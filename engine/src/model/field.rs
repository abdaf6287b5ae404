use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// How one target field is computed.
///
/// - a string is an expression (`order.retailer.reference`, `'"PO" ~ order.id'`);
/// - a number, boolean or null is a constant;
/// - an object says more: `value`, `const`, a nested object (`fields`), or a list
///   built from a source list (`each` + `as` + `fields`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Field {
    Expr(String),
    Number(serde_json::Number),
    Bool(bool),
    Spec(Box<FieldSpec>),
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Expression computing the value.
    pub value: Option<String>,
    /// A constant value, written as YAML (string, number, list, object).
    #[serde(rename = "const")]
    pub constant: Option<serde_json::Value>,
    /// Expression giving a source list; the field becomes a list with one entry per element.
    pub each: Option<String>,
    /// Name the element of `each` is known by in the entry's expressions (default `item`).
    #[serde(rename = "as")]
    pub alias: Option<String>,
    /// Entry or nested-object fields.
    pub fields: Option<IndexMap<String, Field>>,
    /// Leave the field out when it has no value (missing, null, empty text or list).
    #[serde(default)]
    pub optional: bool,
    /// Expression; the field (or list entry) is only written when it is true.
    pub when: Option<String>,
    /// Only sent when the record is created, never on update (enrichment done in the target is kept).
    #[serde(default)]
    pub create_only: bool,
}
