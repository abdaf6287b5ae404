//! The request that sends a mapped record to the target, as a new record or
//! as an update of the one the existence check found.

use minijinja::Value;

use crate::compile::CompiledTarget;

/// A request a run sends (or, in a dry-run, would send).
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    pub system: String,
    pub method: String,
    pub path: String,
    pub body: Option<Value>,
}

impl PlannedRequest {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl serde::Serialize for PlannedRequest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("system", &self.system)?;
        m.serialize_entry("method", &self.method)?;
        m.serialize_entry("path", &self.path)?;
        if let Some(b) = &self.body {
            m.serialize_entry("body", &crate::value::Json(b))?;
        }
        m.end()
    }
}

pub fn create(target: &CompiledTarget, payload: Value) -> PlannedRequest {
    PlannedRequest { system: target.system.clone(), method: target.method.clone(), path: target.path.clone(), body: Some(payload) }
}

/// An update of the record with `id`; the path shape is the system's
/// (`update_path` in its YAML, e.g. Exact's `{entity}(guid'{id}')`).
pub fn update(target: &CompiledTarget, id: &str, payload: Value) -> PlannedRequest {
    let path = target.update_path.replace("{entity}", &target.path).replace("{id}", id);
    PlannedRequest { system: target.system.clone(), method: target.update_method.clone(), path, body: Some(payload) }
}
