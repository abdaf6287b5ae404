//! The Exact division's data: one entity set per `service/Entity`, records kept in seed order,
//! then creation order (the order Exact's paging and skip tokens follow here).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::catalogue::{EntitySpec, catalogue};
use super::projection::Projection;

pub type Record = Map<String, Value>;

pub struct Entity {
    /// The service in the casing of the fixture or catalogue (`crm`); matched in any casing.
    pub service: String,
    pub name: String,
    pub key: String,
    pub type_name: String,
    /// Fields a filter, `$select` or POST may name.
    pub fields: HashSet<String>,
    /// Fields Exact returns but skips in a POST or PUT.
    pub read_only: HashSet<String>,
    pub lines: Option<Lines>,
    /// A list on the regular endpoint needs a `$filter` on one of these (empty: none needed).
    pub mandatory_filter: Vec<String>,
    pub records: Vec<Record>,
    /// Lowercased key → position in `records`.
    index: HashMap<String, usize>,
}

pub struct Lines {
    pub property: String,
    pub type_name: String,
    pub fields: HashSet<String>,
    pub read_only: HashSet<String>,
}

impl Entity {
    fn from_spec(spec: &EntitySpec) -> Entity {
        let (service, name) = spec.path.split_once('/').unwrap_or(("", spec.path.as_str()));
        let mut entity = Entity::new(service, name);
        entity.key = spec.key.clone();
        if let Some(type_name) = spec.type_name {
            entity.type_name = type_name.to_string();
        }
        entity.fields.extend(spec.fields.iter().cloned());
        entity.read_only.extend(spec.read_only.iter().cloned());
        entity.mandatory_filter = spec.mandatory_filter.clone();
        entity.lines = spec.lines.as_ref().map(|l| Lines {
            property: l.property.clone(),
            type_name: l.type_name(),
            fields: l.fields.iter().cloned().collect(),
            read_only: l.read_only.iter().cloned().collect(),
        });
        entity
    }

    fn new(service: &str, name: &str) -> Entity {
        // Exact's types are the singular of the set: Accounts → Exact.Web.Api.Models.Account.
        let singular = name.strip_suffix("ies").map(|s| format!("{s}y")).unwrap_or_else(|| name.trim_end_matches('s').to_string());
        Entity {
            service: service.to_string(),
            name: name.to_string(),
            key: "ID".into(),
            type_name: format!("Exact.Web.Api.Models.{singular}"),
            fields: HashSet::new(),
            read_only: HashSet::new(),
            lines: None,
            mandatory_filter: Vec::new(),
            records: Vec::new(),
            index: HashMap::new(),
        }
    }

    pub fn path(&self) -> String {
        format!("{}/{}", self.service, self.name)
    }

    /// The key of a record, as text (GUIDs compare case-insensitively, so the index is lowercased).
    pub fn key_of(&self, record: &Record) -> Option<String> {
        match record.get(&self.key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    pub fn position(&self, key: &str) -> Option<usize> {
        self.index.get(&key.to_ascii_lowercase()).copied()
    }

    pub fn get(&self, key: &str) -> Option<&Record> {
        self.position(key).map(|i| &self.records[i])
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Record> {
        self.position(key).map(|i| &mut self.records[i])
    }

    pub fn insert(&mut self, record: Record) {
        if let Some(key) = self.key_of(&record) {
            self.index.insert(key.to_ascii_lowercase(), self.records.len());
        }
        self.fields.extend(record.keys().cloned());
        self.records.push(record);
    }

    /// Takes a record out; the records after it move up, as do their places in the index.
    pub fn remove(&mut self, key: &str) -> Option<Record> {
        let position = self.position(key)?;
        let record = self.records.remove(position);
        self.index.retain(|_, i| *i != position);
        for i in self.index.values_mut() {
            if *i > position {
                *i -= 1;
            }
        }
        Some(record)
    }

    /// The record as Exact answers a plain GET or a POST: `__metadata` first, every field, the
    /// lines and other navigation properties as links pointing here (`projection` for the rest).
    pub fn served(&self, record: &Record, api_base: &str) -> Record {
        Projection::plain().serve(self, record, api_base)
    }

    /// The record with its lines expanded whole: what the control API and tests read.
    pub fn served_whole(&self, record: &Record, api_base: &str) -> Record {
        Projection::everything().serve(self, record, api_base)
    }
}

/// `guid'…'` for GUID keys, the plain value otherwise.
pub fn key_literal(key: &str) -> String {
    if crate::random::is_guid(key) { format!("guid'{key}'") } else { key.to_string() }
}

pub struct Store {
    entities: Vec<Entity>,
}

impl Store {
    /// Every catalogue entity, empty.
    pub fn new() -> Store {
        Store { entities: catalogue().iter().map(Entity::from_spec).collect() }
    }

    pub fn find(&self, service: &str, name: &str) -> Option<usize> {
        self.entities.iter().position(|e| e.service.eq_ignore_ascii_case(service) && e.name == name)
    }

    pub fn at(&self, index: usize) -> &Entity {
        &self.entities[index]
    }

    pub fn at_mut(&mut self, index: usize) -> &mut Entity {
        &mut self.entities[index]
    }

    /// `crm/Accounts` (service in any casing).
    pub fn by_path(&self, path: &str) -> Option<&Entity> {
        let (service, name) = path.trim_matches('/').split_once('/')?;
        self.find(service, name).map(|i| &self.entities[i])
    }

    /// The entity, created empty when neither the catalogue nor earlier seeds have it.
    pub fn entity_for_seed(&mut self, service: &str, name: &str) -> &mut Entity {
        let index = match self.find(service, name) {
            Some(i) => i,
            None => {
                self.entities.push(Entity::new(service, name));
                self.entities.len() - 1
            }
        };
        &mut self.entities[index]
    }

    /// Adds fixture records (`d.results` of a list answer); their `__metadata.type` names the type.
    pub fn seed(&mut self, service: &str, name: &str, records: Vec<Value>) -> Result<(), String> {
        let entity = self.entity_for_seed(service, name);
        for (i, record) in records.into_iter().enumerate() {
            let Value::Object(mut record) = record else {
                return Err(format!("record {i} is not an object"));
            };
            if let Some(type_name) = record.shift_remove("__metadata").as_ref().and_then(|m| m.get("type")).and_then(Value::as_str) {
                entity.type_name = type_name.to_string();
            }
            // Expanded lines come with their own `__metadata`; it is made again when they are served.
            let lines = entity.lines.as_ref().map(|l| l.property.as_str());
            if let Some(Value::Array(items)) = lines.and_then(|p| record.get_mut(p)).and_then(|l| l.get_mut("results")) {
                items.iter_mut().filter_map(Value::as_object_mut).for_each(|line| drop(line.shift_remove("__metadata")));
            }
            entity.insert(record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn catalogue_entities_exist_empty_and_services_match_in_any_casing() {
        let store = Store::new();
        let accounts = store.by_path("CRM/Accounts").expect("catalogue entity");
        assert!(accounts.records.is_empty());
        assert_eq!(accounts.type_name, "Exact.Web.Api.Models.Account");
        assert!(store.by_path("crm/accounts").is_none(), "entity names are case-sensitive");
    }

    #[test]
    fn removing_a_record_keeps_the_others_findable() {
        let mut store = Store::new();
        let ids = ["5df0d39f-7524-4add-9413-788062e10fb1", "5df0d39f-7524-4add-9413-788062e10fb2", "5df0d39f-7524-4add-9413-788062e10fb3"];
        store.seed("crm", "Accounts", ids.iter().map(|id| json!({"ID": id})).collect()).unwrap();
        let accounts = store.entity_for_seed("crm", "Accounts");
        assert!(accounts.remove(&ids[0].to_uppercase()).is_some());
        assert!(accounts.remove(ids[0]).is_none());
        assert_eq!(accounts.get(ids[2]).and_then(|r| r.get("ID")), Some(&json!(ids[2])));
        assert_eq!(accounts.position(ids[1]), Some(0));
        assert_eq!(accounts.records.len(), 2);
    }

    #[test]
    fn served_records_point_at_this_server() {
        let mut store = Store::new();
        let record = json!({"__metadata": {"uri": "https://start.exactonline.nl/x", "type": "Exact.Web.Api.Models.SalesOrder"},
            "OrderID": "6856708e-0398-494c-b57d-652b0e06f0e3", "SalesOrderLines": {"__deferred": {"uri": "https://start.exactonline.nl/y"}}});
        store.seed("salesorder", "SalesOrders", vec![record]).unwrap();
        let orders = store.by_path("salesorder/SalesOrders").unwrap();
        let served = orders.served(orders.get("6856708E-0398-494C-B57D-652B0E06F0E3").unwrap(), "http://127.0.0.1:1/api/v1/3");
        let uri = "http://127.0.0.1:1/api/v1/3/salesorder/SalesOrders(guid'6856708e-0398-494c-b57d-652b0e06f0e3')";
        assert_eq!(served["__metadata"]["uri"], uri);
        assert_eq!(served["SalesOrderLines"]["__deferred"]["uri"], format!("{uri}/SalesOrderLines"));
        let keys: Vec<&str> = served.keys().map(String::as_str).collect();
        assert_eq!(keys, ["__metadata", "OrderID", "SalesOrderLines"], "fields keep their order");
    }
}
