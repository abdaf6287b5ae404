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
    /// A multipart write-back's file, fetched only when the request is really sent.
    pub file: Option<UploadFile>,
    /// What the request sends, for a write-back sent only once per record (`once` in the flow).
    pub once: Option<String>,
}

/// The file part of a multipart request: where its bytes are fetched, and how it is named.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UploadFile {
    pub json_part: String,
    pub file_part: String,
    /// The system whose connection fetches the file (its host only, with its credentials).
    pub from: String,
    pub url: String,
    pub name: String,
    pub content_type: String,
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
        if let Some(f) = &self.file {
            m.serialize_entry("file", f)?;
        }
        m.end()
    }
}

/// A new record. `identity` names the record-version (flow, key) for the idempotency key.
pub fn create(target: &CompiledTarget, payload: Value, identity: &[&str]) -> PlannedRequest {
    planned(target, target.method.clone(), target.path.clone(), payload, identity)
}

/// An update of the record with `id` (`found`, as the existence check found it); the path
/// shape is the system's (`update_path` in its YAML, e.g. Exact's `{entity}(guid'{id}')`), and
/// the payload carries what the system's updates need (`update`: QuickBooks' Id and SyncToken).
pub fn update(target: &CompiledTarget, id: &str, payload: Value, found: &Value, identity: &[&str]) -> PlannedRequest {
    let path = target.update_path.replace("{entity}", &target.path).replace("{id}", id);
    planned(target, target.update_method.clone(), path, carried(target, payload, found), identity)
}

/// `payload` with the fields the system's updates carry from `found`, and those it always sends.
pub fn carried(target: &CompiledTarget, payload: Value, found: &Value) -> Value {
    let Some(update) = &target.update else { return payload };
    let mut fields: Vec<(Value, Value)> =
        payload.try_iter().map(|keys| keys.map(|k| (k.clone(), payload.get_item(&k).unwrap_or_default())).collect()).unwrap_or_default();
    let mut put = |name: &str, value: Value| match fields.iter_mut().find(|(k, _)| k.as_str() == Some(name)) {
        Some((_, v)) => *v = value,
        None => fields.push((Value::from(name), value)),
    };
    for name in &update.carry {
        if let Ok(v) = found.get_attr(name)
            && !v.is_undefined()
        {
            put(name, v);
        }
    }
    for (name, value) in &update.fields {
        put(name, crate::value::from_json(value));
    }
    crate::value::map(fields)
}

fn planned(target: &CompiledTarget, method: String, path: String, payload: Value, identity: &[&str]) -> PlannedRequest {
    let body = match &target.envelope {
        Some(name) => crate::value::map([(name.clone(), Value::from(vec![payload]))]),
        None => payload,
    };
    let idempotency_key = target.idempotent.then(|| idempotency_key(identity, &method, &path, &body));
    PlannedRequest { system: target.system.clone(), method, path, body: Some(body), idempotency_key, file: None, once: None }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(update: Option<crate::model::UpdateDef>, envelope: Option<&str>, idempotent: bool) -> CompiledTarget {
        CompiledTarget {
            system: "qbo".into(),
            entity: "Item".into(),
            title: "QuickBooks Item".into(),
            method: "POST".into(),
            path: "item".into(),
            key_field: Some("Id".into()),
            update_method: "POST".into(),
            update_path: "{entity}".into(),
            update,
            envelope: envelope.map(str::to_string),
            idempotent,
            transport: crate::model::Transport::Http,
            file: None,
            group: None,
            extension: "json",
        }
    }

    fn json(v: &Value) -> serde_json::Value {
        crate::value::to_json(v)
    }

    #[test]
    fn a_quickbooks_update_carries_id_and_sync_token_and_is_sparse() {
        let shape: crate::model::UpdateDef =
            serde_json::from_value(serde_json::json!({"carry": ["Id", "SyncToken"], "fields": {"sparse": true}})).unwrap();
        let found = crate::value::from_json(&serde_json::json!({"Id": "19", "SyncToken": "3", "Name": "Old"}));
        let payload = crate::value::from_json(&serde_json::json!({"Name": "New", "SyncToken": "0"}));
        let request = update(&target(Some(shape), None, false), "19", payload, &found, &["flow", "K"]);
        assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "item"));
        assert_eq!(json(request.body.as_ref().unwrap()), serde_json::json!({"Name": "New", "SyncToken": "3", "Id": "19", "sparse": true}));
    }

    #[test]
    fn an_enveloped_write_is_a_list_under_the_entity_and_its_key_is_stable() {
        let record = crate::value::from_json(&serde_json::json!({"InvoiceNumber": "INV-1"}));
        let t = target(None, Some("Invoices"), true);
        let first = create(&t, record.clone(), &["lnb-invoices-to-xero", "INV-1"]);
        assert_eq!(json(first.body.as_ref().unwrap()), serde_json::json!({"Invoices": [{"InvoiceNumber": "INV-1"}]}));
        assert_eq!(json(&record_of(&t, first.body.as_ref().unwrap())), serde_json::json!({"InvoiceNumber": "INV-1"}));
        let again = create(&t, record.clone(), &["lnb-invoices-to-xero", "INV-1"]);
        let other = create(&t, record, &["lnb-invoices-to-xero", "INV-2"]);
        let key = first.idempotency_key.clone().unwrap();
        assert_eq!((key.len(), again.idempotency_key, other.idempotency_key == Some(key.clone())), (36, Some(key), false));
    }
}
