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
    /// The key that makes a repeat of this write harmless, where the target takes one.
    pub idempotency_key: Option<String>,
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
        if let Some(k) = &self.idempotency_key {
            m.serialize_entry("idempotency_key", k)?;
        }
        m.end()
    }
}

/// A new record. `identity` names the record-version (flow, key) for the idempotency key.
pub fn create(target: &CompiledTarget, payload: Value, identity: &[&str]) -> PlannedRequest {
    planned(target, target.method.clone(), target.path.clone(), payload, identity)
}

/// An update of the record with `id`; the path shape is the system's
/// (`update_path` in its YAML, e.g. Exact's `{entity}(guid'{id}')`).
pub fn update(target: &CompiledTarget, id: &str, payload: Value, identity: &[&str]) -> PlannedRequest {
    let path = target.update_path.replace("{entity}", &target.path).replace("{id}", id);
    planned(target, target.update_method.clone(), path, payload, identity)
}

fn planned(target: &CompiledTarget, method: String, path: String, payload: Value, identity: &[&str]) -> PlannedRequest {
    let body = match &target.envelope {
        Some(name) => Value::from_iter([(name.clone(), Value::from(vec![payload]))]),
        None => payload,
    };
    let idempotency_key = target.idempotent.then(|| idempotency_key(identity, &method, &path, &body));
    PlannedRequest { system: target.system.clone(), method, path, body: Some(body), idempotency_key }
}

/// The same record sent the same way gets the same key, in every run and process, so the
/// system answers a repeat (after a lost answer, a crash) with what it did the first time; a
/// changed record is a new write with a new key. A SHA-256 in UUID form: 36 characters fit
/// Xero's 128 and QuickBooks' 50.
fn idempotency_key(identity: &[&str], method: &str, path: &str, body: &Value) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for part in identity.iter().copied().chain([method, path]) {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(crate::value::to_json(body).to_string().as_bytes());
    let hex: String = hash.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The record a write sends: the body, or its one element under the envelope.
pub fn record_of(target: &CompiledTarget, body: &Value) -> Value {
    match &target.envelope {
        Some(name) => body.get_attr(name).ok().and_then(|list| list.get_item(&Value::from(0)).ok()).unwrap_or_else(|| body.clone()),
        None => body.clone(),
    }
}
