//! Xero's request shapes, read from `schemas/catalogue/xero.yaml`, the catalogue `flowmap check`
//! holds mappings to (its fields come from XeroAPI/Xero-OpenAPI `xero_accounting.yaml`). The
//! emulator checks every write against it, so the engine and the emulator share one definition.
//! Read generically: whatever entity, field, `values` enum or limit the catalogue gains is checked.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use saphyr::{LoadableYamlNode, Yaml};

const XERO_YAML: &str = include_str!("../../../schemas/catalogue/xero.yaml");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    String,
    Number,
    Integer,
    Boolean,
    Date,
    DateTime,
    Guid,
    Object,
    List,
}

impl FieldType {
    fn parse(name: &str) -> Option<FieldType> {
        Some(match name {
            "string" => FieldType::String,
            "number" => FieldType::Number,
            "integer" => FieldType::Integer,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "datetime" => FieldType::DateTime,
            "guid" => FieldType::Guid,
            "object" => FieldType::Object,
            "list" => FieldType::List,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub struct FieldSpec {
    pub kind: FieldType,
    pub required: bool,
    pub read_only: bool,
    pub max_length: Option<usize>,
    /// The enum of allowed values, when the catalogue gives one.
    pub values: Option<Vec<String>>,
    /// Of an object, or of each element of a list.
    pub fields: BTreeMap<String, FieldSpec>,
}

#[derive(Debug)]
pub struct EntitySpec {
    pub fields: BTreeMap<String, FieldSpec>,
}

/// Every entity of the catalogue by name (`Invoices`, `Contacts`, …).
pub fn catalogue() -> &'static BTreeMap<String, EntitySpec> {
    static CATALOGUE: OnceLock<BTreeMap<String, EntitySpec>> = OnceLock::new();
    // The file is part of the build: a broken one is caught by the unit test below, and the
    // emulator then checks nothing rather than failing every request.
    CATALOGUE.get_or_init(|| from_yaml(XERO_YAML).unwrap_or_default())
}

pub(crate) fn from_yaml(text: &str) -> Result<BTreeMap<String, EntitySpec>, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    let entities = docs.first().and_then(|d| d.as_mapping_get("entities")).and_then(Yaml::as_mapping).ok_or("no `entities`")?;
    let mut out = BTreeMap::new();
    for (name, entity) in entities {
        let name = name.as_str().ok_or("an entity name is not text")?;
        let fields = fields(entity.as_mapping_get("fields").ok_or_else(|| format!("{name} has no fields"))?)?;
        out.insert(name.to_string(), EntitySpec { fields });
    }
    Ok(out)
}

fn fields(map: &Yaml) -> Result<BTreeMap<String, FieldSpec>, String> {
    let mut out = BTreeMap::new();
    for (name, def) in map.as_mapping().into_iter().flatten() {
        let name = name.as_str().ok_or("a field name is not text")?;
        let type_name = def.as_mapping_get("type").and_then(Yaml::as_str).unwrap_or("string");
        let kind = FieldType::parse(type_name).ok_or_else(|| format!("{name}: unknown type `{type_name}`"))?;
        let flag = |key: &str| def.as_mapping_get(key).and_then(Yaml::as_bool) == Some(true);
        let max_length = def.as_mapping_get("max_length").and_then(Yaml::as_integer).and_then(|n| usize::try_from(n).ok());
        let values = def.as_mapping_get("values").and_then(Yaml::as_vec).map(|values| values.iter().filter_map(scalar_text).collect());
        let nested = match def.as_mapping_get("fields") {
            Some(nested) => fields(nested)?,
            None => BTreeMap::new(),
        };
        out.insert(
            name.to_string(),
            FieldSpec { kind, required: flag("required"), read_only: flag("read_only"), max_length, values, fields: nested },
        );
    }
    Ok(out)
}

/// An enum value as text: YAML reads `NONE` as a string but `001` or `true` as other scalars.
fn scalar_text(value: &Yaml) -> Option<String> {
    if let Some(text) = value.as_str() {
        return Some(text.to_string());
    }
    if let Some(number) = value.as_integer() {
        return Some(number.to_string());
    }
    value.as_bool().map(|b| b.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_catalogue_is_the_emulator_catalogue() {
        let all = from_yaml(XERO_YAML).expect("schemas/catalogue/xero.yaml reads");
        let invoices = &all["Invoices"];
        assert!(invoices.fields["InvoiceID"].read_only);
        assert_eq!(invoices.fields["LineItems"].kind, FieldType::List);
        assert!(invoices.fields["LineItems"].fields.contains_key("ItemCode"));
        assert_eq!(invoices.fields["Contact"].kind, FieldType::Object);
        assert!(all.contains_key("CreditNotes") && all.contains_key("Contacts"));
    }

    #[test]
    fn values_are_read_as_the_enum() {
        let yaml = "entities:\n  X:\n    key: ID\n    fields:\n      Type: { type: string, values: [ACCREC, ACCPAY] }\n";
        let all = from_yaml(yaml).unwrap();
        assert_eq!(all["X"].fields["Type"].values.as_deref(), Some(&["ACCREC".to_string(), "ACCPAY".to_string()][..]));
    }
}
