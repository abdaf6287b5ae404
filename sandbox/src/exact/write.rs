//! POST (create) and PUT (merge) on an entity set, with Exact's refusals: unknown properties and
//! line objects are 400s from the request reader, read-only properties are skipped as Exact skips
//! them; business checks come from `validate`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::odata::{ms_date, parse_datetime};
use super::store::{Entity, Record, Store};
use super::{Exact, defaults, envelope, validate, webhooks};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
use crate::random::new_guid;

pub fn create(exact: &Exact, store: &mut Store, index: usize, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    let body = match read_body(store.at(index), request) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let problems = validate::check_new(store, &store.at(index).path(), &body);
    if !problems.messages.is_empty() {
        let status = if problems.server_error { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
        return envelope::error(status, &problems.messages.join("\r\n"));
    }
    let record = new_record(store, index, body, now_ms, exact.division);
    let entity = store.at_mut(index);
    let served = entity.served(&record, &exact.api_base());
    let key = entity.key_of(&record).unwrap_or_default();
    entity.insert(record);
    let path = entity.path();
    webhooks::changed(exact, store, &path, &key, now_ms);
    envelope::data(StatusCode::CREATED, Value::Object(served))
}

pub fn update(exact: &Exact, store: &mut Store, index: usize, request: &ApiRequest, key: &str, now_ms: i64) -> ApiResponse {
    let body = match read_body(store.at(index), request) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let entity = store.at_mut(index);
    let key_field = entity.key.clone();
    let lines = entity.lines.as_ref().map(|l| l.property.clone());
    let Some(record) = entity.get_mut(key) else {
        return envelope::not_found();
    };
    for (name, value) in body {
        // The key cannot be changed through the record it addresses.
        if name == key_field {
            continue;
        }
        let value = if Some(&name) == lines.as_ref() { json!({ "results": value }) } else { stored_value(&name, value) };
        record.insert(name, value);
    }
    record.insert("Modified".into(), ms_value(now_ms));
    let path = entity.path();
    webhooks::changed(exact, store, &path, key, now_ms);
    ApiResponse::empty(StatusCode::NO_CONTENT)
}

/// The body as an object whose every property the entity (and its lines) knows.
pub(super) fn read_body(entity: &Entity, request: &ApiRequest) -> Result<Record, ApiResponse> {
    let stream_error = |detail: &str| envelope::error(StatusCode::BAD_REQUEST, &format!("Error processing request stream. {detail}"));
    let Some(Value::Object(mut body)) = request.json() else {
        return Err(stream_error("JSON text specified is not valid."));
    };
    body.shift_remove("__metadata");
    let invalid = |name: &str, type_name: &str| stream_error(&format!("The property name '{name}' specified for type '{type_name}' is not valid."));
    if let Some(unknown) = body.keys().find(|k| !entity.fields.contains(*k)) {
        return Err(invalid(unknown, &entity.type_name));
    }
    // Exact skips what is read-only without a word (exactonline-api-dotnet-client #56): its own value stands.
    body.retain(|name, _| !entity.read_only.contains(name));
    let Some(lines) = &entity.lines else { return Ok(body) };
    match body.get_mut(&lines.property) {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let Value::Object(line) = item else {
                    return Err(stream_error(&format!("An object was expected in the collection '{}'.", lines.property)));
                };
                if let Some(unknown) = line.keys().find(|k| !lines.fields.contains(*k) && *k != "__metadata") {
                    return Err(invalid(unknown, &lines.type_name));
                }
                line.retain(|name, _| !lines.read_only.contains(name));
            }
        }
        // Lines sent as an object instead of an array (#117).
        Some(_) => {
            return Err(stream_error(&format!(
                "A collection (JSON array) was expected for the property '{}' of type '{}'.",
                lines.property, entity.type_name
            )));
        }
    }
    Ok(body)
}

/// The stored record: a new key, the sent fields (dates in Exact's form), lines with their own
/// keys, and what Exact fills in itself (numbers, status, names, creation time).
fn new_record(store: &Store, index: usize, body: Record, now_ms: i64, division: i64) -> Record {
    let entity = store.at(index);
    let key = new_guid();
    let mut record = Map::new();
    record.insert(entity.key.clone(), Value::String(key.clone()));
    let line_property = entity.lines.as_ref().map(|l| l.property.as_str());
    for (name, value) in body {
        if name == entity.key {
            continue;
        }
        let value = match (Some(name.as_str()) == line_property, value) {
            (true, Value::Array(lines)) => json!({ "results": new_lines(store, &entity.key, &key, lines) }),
            (_, value) => stored_value(&name, value),
        };
        record.insert(name, value);
    }
    defaults::fill_in(store, &entity.path(), &mut record, now_ms);
    record.insert("Created".into(), ms_value(now_ms));
    record.insert("Modified".into(), ms_value(now_ms));
    record.insert("Division".into(), json!(division));
    record
}

fn new_lines(store: &Store, parent_key_field: &str, parent_key: &str, lines: Vec<Value>) -> Vec<Value> {
    let items = store.by_path("logistics/Items");
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let mut out = Map::new();
            out.insert("ID".into(), Value::String(new_guid()));
            out.insert(parent_key_field.to_string(), Value::String(parent_key.to_string()));
            out.insert("LineNumber".into(), json!(i + 1));
            if let Value::Object(line) = line {
                let item = line.get("Item").and_then(Value::as_str).and_then(|k| items?.get(k));
                for (name, value) in line {
                    out.insert(name.clone(), stored_value(&name, value));
                }
                if let Some(item) = item {
                    out.entry("ItemCode").or_insert_with(|| item.get("Code").cloned().unwrap_or(Value::Null));
                    out.entry("ItemDescription").or_insert_with(|| item.get("Description").cloned().unwrap_or(Value::Null));
                }
                defaults::fill_line(store, &mut out, item);
            }
            Value::Object(out)
        })
        .collect()
}

/// Dates are sent as ISO 8601 and kept the way Exact answers them, `/Date(ms)/`.
pub(super) fn stored_value(name: &str, value: Value) -> Value {
    let is_date_field = name.ends_with("Date") || matches!(name, "Created" | "Modified" | "From" | "To");
    match &value {
        Value::String(text) if is_date_field && ms_date(text).is_none() => iso_ms(text).map(ms_value).unwrap_or(value),
        _ => value,
    }
}

fn iso_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text).map(|d| d.timestamp_millis()).ok().or_else(|| parse_datetime(text))
}

pub(super) fn ms_value(ms: i64) -> Value {
    Value::String(format!("/Date({ms})/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_stored_as_exact_dates() {
        assert_eq!(stored_value("InvoiceDate", json!("2025-03-04")), json!("/Date(1741046400000)/"));
        assert_eq!(stored_value("Created", json!("2025-03-02T09:14:00Z")), json!("/Date(1740906840000)/"));
        assert_eq!(stored_value("Description", json!("2025-03-04")), json!("2025-03-04"));
        assert_eq!(stored_value("DueDate", json!("soon")), json!("soon"));
    }
}
