//! `$select` and `$expand` as Exact (WCF Data Services, OData v2 verbose JSON) reads them, for the
//! one navigation property an entity has: its line collection.
//!
//! - Not expanded, the lines are a link: `"PurchaseOrderLines": {"__deferred": {"uri": "…/PurchaseOrders(guid'…')/PurchaseOrderLines"}}`.
//! - `$expand=PurchaseOrderLines`: `"PurchaseOrderLines": {"results": [{"__metadata": {"uri": "…/purchaseorder/PurchaseOrderLines(guid'…')",
//!   "type": "Exact.Web.Api.Models.PurchaseOrderLine"}, "ID": …, …}]}` (the form clients read as `['PurchaseOrderLines']['results']`).
//! - With a `$select`, only what it names: `Lines` (every line field) or `Lines/Field` (those, in the order asked);
//!   a `$select` that names neither leaves the lines out, expanded or not; `*` alone keeps them a link.
//! - `Lines/Field` without `$expand=Lines` is refused; `$expand` of a plain field is ignored, as WCF does.
//! - A POST answers the created record with its lines as a link (Exact's .NET SDK reads the record again to get them).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::envelope;
use super::store::{Entity, Record, key_literal};
use crate::http::response::ApiResponse;

/// What a GET asks of a record's fields and lines.
pub struct Projection {
    /// The top-level names `$select` asks for, in its order; `None`: every field (no `$select`, or `*`).
    fields: Option<Vec<String>>,
    lines: Lines,
}

#[derive(Clone, Debug, PartialEq)]
enum Lines {
    /// A `$select` that does not name them.
    Omitted,
    /// `{"__deferred":{"uri":…}}`
    Deferred,
    /// `{"results":[…]}`, with these line fields (`None`: all of them).
    Expanded(Option<Vec<String>>),
}

/// WCF Data Services' refusal of `$select=Lines/Field` without `$expand=Lines`.
fn not_expanded(property: &str) -> ApiResponse {
    let message = format!("Only properties specified in $expand can be traversed in $select query options. Property {property}.");
    envelope::error(StatusCode::BAD_REQUEST, &message)
}

/// WCF Data Services' refusal of a path through a plain field (`$select=Description/X`).
fn primitive_path(type_name: &str, property: &str) -> ApiResponse {
    let message = format!("Property '{property}' on type '{type_name}' is of primitive type and cannot be used as a navigation property.");
    envelope::error(StatusCode::BAD_REQUEST, &message)
}

impl Projection {
    /// Every field, lines expanded whole: the record as the control API and tests read it.
    pub fn everything() -> Projection {
        Projection { fields: None, lines: Lines::Expanded(None) }
    }

    /// Every field, lines as a link: a POST's answer, or a GET without `$select` and `$expand`.
    pub fn plain() -> Projection {
        Projection { fields: None, lines: Lines::Deferred }
    }

    /// The projection a GET's `$select` and `$expand` ask for, or Exact's 400 for a name or path it refuses.
    pub fn parse(entity: &Entity, select: Option<&str>, expand: Option<&str>) -> Result<Projection, ApiResponse> {
        let lines = entity.lines.as_ref();
        let expanded = match expand {
            Some(text) => expanded_lines(entity, text)?,
            None => false,
        };
        let Some(select) = select else {
            return Ok(Projection { fields: None, lines: if expanded { Lines::Expanded(None) } else { Lines::Deferred } });
        };
        let (mut names, mut star, mut whole_lines, mut line_fields) = (Vec::<String>::new(), false, false, Vec::<String>::new());
        for item in select.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let path: Vec<&str> = item.split('/').map(str::trim).collect();
            let first = path[0];
            if first == "*" && path.len() == 1 {
                star = true;
                continue;
            }
            if !entity.fields.contains(first) {
                return Err(envelope::unknown_property(first, &entity.type_name));
            }
            let is_lines = lines.is_some_and(|l| l.property == first);
            if !names.iter().any(|n| n == first) {
                names.push(first.to_string());
            }
            match (path.len(), lines.filter(|_| is_lines)) {
                (1, Some(_)) => whole_lines = true,
                (1, None) => {}
                (_, None) => return Err(primitive_path(&entity.type_name, first)),
                (_, Some(lines)) => {
                    let field = path[1];
                    if field != "*" && !lines.fields.contains(field) {
                        return Err(envelope::unknown_property(field, &lines.type_name));
                    }
                    if path.len() > 2 {
                        return Err(primitive_path(&lines.type_name, field));
                    }
                    if !expanded {
                        return Err(not_expanded(first));
                    }
                    match field {
                        "*" => whole_lines = true,
                        field if !line_fields.iter().any(|f| f == field) => line_fields.push(field.to_string()),
                        _ => {}
                    }
                }
            }
        }
        let named = lines.is_some_and(|l| names.contains(&l.property));
        let lines = match (named, expanded, whole_lines) {
            (true, true, true) => Lines::Expanded(None),
            (true, true, false) => Lines::Expanded(Some(line_fields)),
            (true, false, _) => Lines::Deferred,
            // `*` selects every field and keeps a navigation property a link; an expansion it does not name is dropped.
            (false, _, _) if star => Lines::Deferred,
            (false, _, _) => Lines::Omitted,
        };
        Ok(Projection { fields: (!star).then_some(names), lines })
    }

    /// The record as this projection shows it: `__metadata` first, links pointing at this server.
    pub fn serve(&self, entity: &Entity, record: &Record, api_base: &str) -> Record {
        let uri = match entity.key_of(record) {
            Some(key) => format!("{api_base}/{}({})", entity.path(), key_literal(&key)),
            None => format!("{api_base}/{}", entity.path()),
        };
        let line_property = entity.lines.as_ref().map(|l| l.property.as_str());
        let mut served = Map::new();
        served.insert("__metadata".into(), json!({ "uri": uri, "type": entity.type_name }));
        let value_of = |name: &str| -> Option<Value> {
            if Some(name) == line_property {
                return self.lines_value(entity, record.get(name), &uri, api_base);
            }
            match record.get(name) {
                Some(value) if value.get("__deferred").is_some() => Some(json!({ "__deferred": { "uri": format!("{uri}/{name}") } })),
                // The picture is served by this server, as `__metadata.uri` is.
                Some(Value::String(url)) if name == "PictureUrl" => Some(json!(picture_here(url, api_base))),
                Some(value) => Some(value.clone()),
                None => Some(Value::Null),
            }
        };
        match &self.fields {
            Some(names) => {
                for name in names {
                    if let Some(value) = value_of(name) {
                        served.insert(name.clone(), value);
                    }
                }
            }
            None => {
                for name in record.keys() {
                    if let Some(value) = value_of(name) {
                        served.insert(name.clone(), value);
                    }
                }
                // Every record has its navigation property, stored or not.
                if let Some(property) = line_property.filter(|p| !record.contains_key(*p))
                    && let Some(value) = value_of(property)
                {
                    served.insert(property.to_string(), value);
                }
            }
        }
        served
    }

    /// The line collection as asked; `None` when the projection leaves it out.
    fn lines_value(&self, entity: &Entity, stored: Option<&Value>, uri: &str, api_base: &str) -> Option<Value> {
        let lines = entity.lines.as_ref()?;
        let fields = match &self.lines {
            Lines::Omitted => return None,
            Lines::Deferred => return Some(json!({ "__deferred": { "uri": format!("{uri}/{}", lines.property) } })),
            Lines::Expanded(fields) => fields.as_deref(),
        };
        // Stored as `{"results":[…]}`; a seed that only linked its lines has none to show.
        let stored = stored.and_then(|s| s.get("results")).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let service = &entity.service;
        let results: Vec<Value> = stored
            .iter()
            .filter_map(Value::as_object)
            .map(|line| {
                let id = line.get("ID").and_then(Value::as_str).unwrap_or_default();
                let line_uri = format!("{api_base}/{service}/{}({})", lines.property, key_literal(id));
                let mut out = Map::new();
                out.insert("__metadata".into(), json!({ "uri": line_uri, "type": lines.type_name }));
                match fields {
                    Some(fields) => {
                        for field in fields {
                            out.insert(field.clone(), line.get(field).cloned().unwrap_or(Value::Null));
                        }
                    }
                    None => out.extend(line.iter().filter(|(k, _)| *k != "__metadata").map(|(k, v)| (k.clone(), v.clone()))),
                }
                Value::Object(out)
            })
            .collect();
        Some(json!({ "results": results }))
    }
}

/// Whether `$expand` names the line collection; an unknown name is refused, a plain field or a
/// path through one ignored (WCF drops expansions that end on a non-navigation property).
fn expanded_lines(entity: &Entity, text: &str) -> Result<bool, ApiResponse> {
    let mut expanded = false;
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let path: Vec<&str> = item.split('/').map(str::trim).collect();
        if !entity.fields.contains(path[0]) {
            return Err(envelope::unknown_property(path[0], &entity.type_name));
        }
        let Some(lines) = entity.lines.as_ref().filter(|l| l.property == path[0]) else { continue };
        match path.get(1) {
            None => expanded = true,
            Some(field) if !lines.fields.contains(*field) => return Err(envelope::unknown_property(field, &lines.type_name)),
            Some(_) => {}
        }
    }
    Ok(expanded)
}

/// `https://start.exactonline.nl/docs/…` as a URL on this server (`api_base` is `<base>/api/v1/<division>`);
/// any other URL (a test's) is served as it is stored.
fn picture_here(url: &str, api_base: &str) -> String {
    let base = api_base.split("/api/v1/").next().unwrap_or(api_base);
    match url.strip_prefix("https://start.exactonline.nl/docs/") {
        Some(rest) => format!("{base}/docs/{rest}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::store::Store;

    const ORDER: &str = "5002aab4-e1cc-49f1-a3b8-f9e529dcb79c";

    fn store() -> Store {
        let mut store = Store::new();
        let line = json!({"__metadata": {"uri": "https://start.exactonline.nl/x"}, "ID": "9a6c6a52-0f4b-4c55-8d3e-1f0c2b1d7e01", "ItemCode": "TSH", "CostCenter": "100"});
        let order = json!({"PurchaseOrderID": ORDER, "OrderNumber": 30001, "PurchaseOrderLines": {"results": [line]}});
        store.seed("purchaseorder", "PurchaseOrders", vec![order]).unwrap();
        store
    }

    fn served(select: Option<&str>, expand: Option<&str>) -> Value {
        let store = store();
        let orders = store.by_path("purchaseorder/PurchaseOrders").unwrap();
        let projection = Projection::parse(orders, select, expand).unwrap_or_else(|_| panic!("{select:?} {expand:?} is taken"));
        Value::Object(projection.serve(orders, orders.get(ORDER).unwrap(), "http://h/api/v1/1"))
    }

    #[test]
    fn lines_are_a_link_unless_expanded_and_selected() {
        let link = json!({"__deferred": {"uri": format!("http://h/api/v1/1/purchaseorder/PurchaseOrders(guid'{ORDER}')/PurchaseOrderLines")}});
        assert_eq!(served(None, None)["PurchaseOrderLines"], link);
        assert_eq!(served(Some("*"), Some("PurchaseOrderLines"))["PurchaseOrderLines"], link, "`*` does not take in an expansion");
        assert_eq!(served(Some("OrderNumber"), Some("PurchaseOrderLines")).get("PurchaseOrderLines"), None);
        // `$expand` of a plain field, or of a path ending on one, is ignored as WCF ignores it.
        assert_eq!(served(None, Some("OrderNumber,PurchaseOrderLines/ItemCode"))["PurchaseOrderLines"], link);
    }

    #[test]
    fn expanded_lines_carry_their_own_metadata_and_the_fields_asked() {
        let line_uri = "http://h/api/v1/1/purchaseorder/PurchaseOrderLines(guid'9a6c6a52-0f4b-4c55-8d3e-1f0c2b1d7e01')";
        let metadata = json!({"uri": line_uri, "type": "Exact.Web.Api.Models.PurchaseOrderLine"});
        let whole = served(None, Some("PurchaseOrderLines"));
        let expected = json!({"__metadata": metadata, "ID": "9a6c6a52-0f4b-4c55-8d3e-1f0c2b1d7e01", "ItemCode": "TSH", "CostCenter": "100"});
        assert_eq!(whole["PurchaseOrderLines"], json!({"results": [expected]}));
        let some = served(Some("PurchaseOrderLines/CostCenter,OrderNumber,PurchaseOrderLines/Unit"), Some("PurchaseOrderLines"));
        let keys: Vec<&str> = some.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["__metadata", "PurchaseOrderLines", "OrderNumber"], "fields in the order asked");
        assert_eq!(some["PurchaseOrderLines"], json!({"results": [{"__metadata": metadata, "CostCenter": "100", "Unit": null}]}));
    }

    #[test]
    fn paths_exact_refuses() {
        let store = store();
        let orders = store.by_path("purchaseorder/PurchaseOrders").unwrap();
        for (select, expand) in [
            (Some("PurchaseOrderLines/ItemCode"), None),
            (Some("OrderNumber/Value"), None),
            (Some("PurchaseOrderLines/Colour"), Some("PurchaseOrderLines")),
            (None, Some("Lines")),
        ] {
            assert!(Projection::parse(orders, select, expand).is_err(), "{select:?} {expand:?}");
        }
    }
}
