use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// The entity catalogue of one system (`schemas/catalogue/<system>.yaml`):
/// the fields a mapping may write for each entity.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub system: String,
    pub entities: IndexMap<String, EntityDef>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityDef {
    /// How errors name the entity, e.g. `Exact SalesOrder`.
    pub title: String,
    /// Primary key field.
    pub key: Option<String>,
    pub fields: IndexMap<String, FieldDef>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    pub max_length: Option<u32>,
    pub doc: Option<String>,
    #[serde(default)]
    pub read_only: bool,
    /// Fields of a nested object or of each list entry.
    pub fields: Option<IndexMap<String, FieldDef>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    String,
    Number,
    Integer,
    Boolean,
    Guid,
    Date,
    Object,
    List,
}
