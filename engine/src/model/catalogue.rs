use std::sync::Arc;

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

impl Catalogue {
    /// Notes on every entity and field where the catalogue was read from (`schemas/catalogue/exact.yaml`),
    /// so a diagnostic about a field can say where the entity's fields are listed.
    pub fn locate(&mut self, source: &str) {
        let source: Arc<str> = Arc::from(source);
        for entity in self.entities.values_mut() {
            // An entity made elsewhere (an X12 set, from its definitions) keeps where it was made.
            let source = entity.source.get_or_insert_with(|| source.clone()).clone();
            locate_fields(&mut entity.fields, &source);
        }
    }
}

fn locate_fields(fields: &mut IndexMap<String, FieldDef>, source: &Arc<str>) {
    for field in fields.values_mut() {
        field.source = Some(source.clone());
        if let Some(nested) = &mut field.fields {
            locate_fields(nested, source);
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityDef {
    /// How errors name the entity, e.g. `Exact SalesOrder`.
    pub title: String,
    /// Primary key field.
    pub key: Option<String>,
    pub fields: IndexMap<String, FieldDef>,
    /// A list of the entity on its regular endpoint needs a `$filter` on one of
    /// these fields (Exact since 2022: Accounts, Items); bulk listings do not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mandatory_filter: Vec<String>,
    /// The catalogue file, as the project names it; set by `Catalogue::locate`.
    #[serde(skip)]
    pub source: Option<Arc<str>>,
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
    /// Returned by the system, never taken: Exact skips such a property in a POST or PUT without a word,
    /// so a mapping that writes one is a check error.
    #[serde(default)]
    pub read_only: bool,
    /// The editions of the system that have this field (e.g. "Wholesale & Distribution, Manufacturing");
    /// `check` warns where a mapping writes it.
    pub edition: Option<String>,
    /// The only values the system takes (an enum of its published definition, e.g. Xero's
    /// Invoice `Type`: ACCREC, ACCPAY, …); `check` refuses a mapping that writes another constant.
    /// Values that come from the record are known only at run time, so they are not checked here.
    pub values: Option<Vec<String>>,
    /// Fields of a nested object or of each list entry.
    pub fields: Option<IndexMap<String, FieldDef>>,
    /// The catalogue file (see `EntityDef::source`), so a nested field list knows it too.
    #[serde(skip)]
    pub source: Option<Arc<str>>,
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
    // A date with a time of day (Xero's `UpdatedDateUTC`); a plain comment keeps the schema a plain enum.
    Datetime,
    Object,
    List,
}
