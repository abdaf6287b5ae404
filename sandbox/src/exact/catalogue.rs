//! The Exact entities the emulator knows without fixtures. Those a flow can touch come from
//! `schemas/catalogue/exact.yaml`, the catalogue `flowmap check` holds mappings to, so the emulator
//! and the engine share one definition of every field and of which ones are read-only. The one
//! entity no flow maps (webhook subscriptions) is listed here. Fixture records add whatever other
//! fields they carry.

use std::sync::OnceLock;

use saphyr::{LoadableYamlNode, Yaml};

/// The engine's catalogue of Exact, read when the emulator first needs it.
const EXACT_YAML: &str = include_str!("../../../schemas/catalogue/exact.yaml");

pub struct EntitySpec {
    /// `service/Entity`, with the service in the casing Exact's own URLs use.
    pub path: String,
    pub key: String,
    /// The OData type, when it is not the singular of the entity's name.
    pub type_name: Option<&'static str>,
    /// Every field a filter, `$select` or body may name.
    pub fields: Vec<String>,
    /// Returned, never taken: Exact skips these in a POST or PUT.
    pub read_only: Vec<String>,
    pub lines: Option<LineSpec>,
    /// A list on the regular endpoint needs a `$filter` on one of these (the catalogue's `mandatory_filter`).
    pub mandatory_filter: Vec<String>,
}

/// An inline line collection (`SalesOrderLines`), sent as an array on POST.
pub struct LineSpec {
    pub property: String,
    pub fields: Vec<String>,
    pub read_only: Vec<String>,
}

impl LineSpec {
    /// `SalesOrderLines` → `Exact.Web.Api.Models.SalesOrderLine`.
    pub fn type_name(&self) -> String {
        format!("Exact.Web.Api.Models.{}", self.property.strip_suffix('s').unwrap_or(&self.property))
    }
}

/// Every entity the emulator starts with.
pub fn catalogue() -> &'static [EntitySpec] {
    static CATALOGUE: OnceLock<Vec<EntitySpec>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut all = from_yaml(EXACT_YAML).unwrap_or_else(|e| panic!("schemas/catalogue/exact.yaml: {e}"));
        all.extend(UNMAPPED.iter().map(unmapped));
        all
    })
}

/// The entities of a catalogue file (`entities: { path: { key, fields: { Name: { read_only, fields } } } }`).
fn from_yaml(text: &str) -> Result<Vec<EntitySpec>, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    let entities = docs.first().and_then(|d| d.as_mapping_get("entities")).and_then(Yaml::as_mapping).ok_or("no `entities`")?;
    let mut out = Vec::new();
    for (path, entity) in entities {
        let path = path.as_str().ok_or("an entity name is not text")?;
        let key = entity.as_mapping_get("key").and_then(Yaml::as_str).unwrap_or("ID");
        let fields = entity.as_mapping_get("fields").ok_or_else(|| format!("{path} has no fields"))?;
        let (names, read_only, lines) = field_names(fields);
        let lines = lines.map(|(property, fields)| {
            let (fields, read_only, _) = field_names(fields);
            LineSpec { property, fields, read_only }
        });
        let mandatory_filter = entity
            .as_mapping_get("mandatory_filter")
            .and_then(Yaml::as_vec)
            .map(|names| names.iter().filter_map(Yaml::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        out.push(EntitySpec { path: path.to_string(), key: key.to_string(), type_name: None, fields: names, read_only, lines, mandatory_filter });
    }
    Ok(out)
}

/// The names of a field map, the read-only ones, and the list of lines with its own fields.
fn field_names<'y>(fields: &'y Yaml<'y>) -> (Vec<String>, Vec<String>, Option<(String, &'y Yaml<'y>)>) {
    let (mut names, mut read_only, mut lines) = (Vec::new(), Vec::new(), None);
    for (name, def) in fields.as_mapping().into_iter().flatten() {
        let Some(name) = name.as_str() else { continue };
        names.push(name.to_string());
        if def.as_mapping_get("read_only").and_then(Yaml::as_bool) == Some(true) {
            read_only.push(name.to_string());
        }
        if let Some(nested) = def.as_mapping_get("fields").filter(|_| lines.is_none()) {
            lines = Some((name.to_string(), nested));
        }
    }
    (names, read_only, lines)
}

/// Read-only fields every Exact record carries.
const COMMON: &[&str] = &["Created", "Modified", "Creator", "CreatorFullName", "Modifier", "ModifierFullName", "Division"];

/// An entity no shipped flow maps: its documented fields (shared/reference/exact-online.md §5).
struct Unmapped {
    path: &'static str,
    key: &'static str,
    type_name: Option<&'static str>,
    fields: &'static [&'static str],
}

const UNMAPPED: &[Unmapped] = &[
    // Written through `webhooks::create` (the callback check), not the generic create.
    Unmapped {
        path: "webhooks/WebhookSubscriptions",
        key: "ID",
        type_name: Some("Exact.Web.Api.Models.Webhooks.WebhookSubscription"),
        fields: &["ID", "CallbackURL", "Topic", "Description", "IsInstant", "ClientID", "UserID"],
    },
];

fn unmapped(u: &Unmapped) -> EntitySpec {
    let owned = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let mut fields = owned(u.fields);
    fields.extend(owned(COMMON));
    EntitySpec {
        path: u.path.to_string(),
        key: u.key.to_string(),
        type_name: u.type_name,
        fields,
        read_only: owned(COMMON),
        lines: None,
        mandatory_filter: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str) -> &'static EntitySpec {
        catalogue().iter().find(|e| e.path == path).unwrap()
    }

    #[test]
    fn the_engine_catalogue_is_the_emulator_catalogue() {
        let orders = spec("salesorder/SalesOrders");
        assert_eq!(orders.key, "OrderID");
        assert!(orders.fields.iter().any(|f| f == "Remarks"));
        assert!(orders.read_only.iter().any(|f| f == "AmountFC"));
        let lines = orders.lines.as_ref().unwrap();
        assert_eq!((lines.property.as_str(), lines.type_name().as_str()), ("SalesOrderLines", "Exact.Web.Api.Models.SalesOrderLine"));
        assert!(lines.fields.iter().any(|f| f == "Item") && lines.read_only.iter().any(|f| f == "OrderID"));
        let invoices = spec("salesinvoice/SalesInvoices");
        for field in ["InvoiceDate", "Status", "InvoiceNumber"] {
            assert!(invoices.read_only.iter().any(|f| f == field), "{field}");
        }
        assert!(spec("crm/Accounts").read_only.iter().any(|f| f == "IsSales"));
        // Which lists need a filter is the catalogue's too.
        assert!(spec("crm/Accounts").mandatory_filter.iter().any(|f| f == "Code"));
        assert!(spec("salesorder/SalesOrders").mandatory_filter.is_empty());
        // Purchasing comes from the catalogue too, with every field Exact defines.
        let purchase_orders = spec("purchaseorder/PurchaseOrders");
        assert_eq!((purchase_orders.key.as_str(), purchase_orders.fields.len()), ("PurchaseOrderID", 57));
        let order_lines = purchase_orders.lines.as_ref().unwrap();
        assert_eq!((order_lines.property.as_str(), order_lines.fields.len()), ("PurchaseOrderLines", 49));
        assert!(order_lines.read_only.iter().any(|f| f == "Quantity"), "QuantityInPurchaseUnits is the one Exact takes");
        let entries = spec("purchaseentry/PurchaseEntries");
        assert_eq!((entries.key.as_str(), entries.fields.len()), ("EntryID", 44));
        assert_eq!(entries.lines.as_ref().unwrap().fields.len(), 47);
        assert_eq!(spec("hrm/Costcenters").fields.len(), 11);
        assert_eq!(spec("financial/Journals").fields.len(), 33);
    }
}
