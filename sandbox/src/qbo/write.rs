//! `POST /v3/company/{realm}/{entity}`: a create, or — with `Id` — an update (notes §3). The body
//! is the entity object itself. An update carries the current `SyncToken` (5010 Stale Object Error
//! otherwise) and is full unless `"sparse": true`: a full update clears every writable property it
//! leaves out. The answer is the stored record with `SyncToken` one up and `LastUpdatedTime` now.
//! `?operation=delete` with `{Id, SyncToken}` deletes a transaction (name lists are made inactive
//! instead; QBO refuses to delete them).

use serde_json::{Map, Value, json};

use super::catalogue::catalogue;
use super::company::{Company, at};
use super::entities::Entity;
use super::envelope::{self, FaultError, meta_time, validation_fault};
use super::{lists, transactions, validate};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

pub fn write(company: &mut Company, entity: &Entity, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    match one(company, entity, request, now_ms) {
        Ok(record) => envelope::entity(entity.name, Value::Object(record), now_ms),
        Err(error) => validation_fault(vec![error], now_ms),
    }
}

fn one(company: &mut Company, entity: &Entity, request: &ApiRequest, now_ms: i64) -> Result<Map<String, Value>, FaultError> {
    let Some(Value::Object(mut body)) = request.json() else {
        return Err(FaultError::new("2010", "Request has invalid or unsupported property", "Property Name:Unable to read the request body as JSON"));
    };
    if request.query_param("operation") == Some("delete") {
        return delete(company, entity, &body, now_ms);
    }
    let fields = catalogue().get(entity.name).map(|e| &e.fields);
    if let Some(fields) = fields {
        validate::shape(fields, &mut body, entity.name, "")?;
        validate::drop_read_only(fields, &mut body, true);
    }
    let sparse = body.remove("sparse") == Some(Value::Bool(true));
    let id = body.get("Id").and_then(Value::as_str).map(str::to_string);
    let mut record = match &id {
        Some(id) => updated(company, entity, &body, id, sparse, now_ms)?,
        None => {
            if let Some(error) = fields.and_then(|f| validate::field_error(f, &body, true, "")) {
                return Err(error);
            }
            let id = company.next_id();
            let mut record = body;
            record.insert("Id".into(), json!(id));
            record.insert("SyncToken".into(), json!("0"));
            record.insert("MetaData".into(), json!({ "CreateTime": meta_time(now_ms), "LastUpdatedTime": meta_time(now_ms) }));
            record
        }
    };
    if id.is_some()
        && let Some(error) = fields.and_then(|f| validate::field_error(f, &record, !sparse, ""))
    {
        return Err(error);
    }
    record.insert("domain".into(), json!("QBO"));
    record.insert("sparse".into(), json!(false));
    match entity.name {
        "Invoice" | "SalesReceipt" => {
            // What was paid stays paid: an update moves the open balance with the new total only.
            let paid = id.as_deref().and_then(|id| company.find(entity.name, id)).map(|current| {
                let amount = |field: &str| current.get(field).and_then(Value::as_f64).unwrap_or_default();
                amount("TotalAmt") - amount("Balance")
            });
            transactions::complete(company, entity.name, &mut record, now_ms)?;
            if entity.name == "Invoice"
                && let Some(paid) = paid
            {
                let total = record.get("TotalAmt").and_then(Value::as_f64).unwrap_or_default();
                record.insert("Balance".into(), json!(((total - paid).max(0.0) * 100.0).round() / 100.0));
            }
        }
        _ => lists::apply(company, entity, &mut record)?,
    }
    let record_id = record.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
    match company.position(entity.name, &record_id) {
        Some(index) => company.of_mut(entity.name)[index] = record.clone(),
        None => company.of_mut(entity.name).push(record.clone()),
    }
    Ok(record)
}

/// The record after an update: checks Id and SyncToken, then merges (sparse) or replaces the
/// writable properties (full), keeping what only QBO sets.
fn updated(
    company: &Company,
    entity: &Entity,
    body: &Map<String, Value>,
    id: &str,
    sparse: bool,
    now_ms: i64,
) -> Result<Map<String, Value>, FaultError> {
    let Some(current) = company.find(entity.name, id) else {
        return Err(super::api::not_found().on("Id"));
    };
    let Some(sync_token) = body.get("SyncToken").and_then(Value::as_str) else {
        return Err(FaultError::new(
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter SyncToken is missing in the request",
        )
        .on("SyncToken"));
    };
    let current_token = current.get("SyncToken").and_then(Value::as_str).unwrap_or("0");
    if sync_token != current_token {
        return Err(stale());
    }
    let mut record = if sparse {
        current.clone()
    } else {
        // Only what the client cannot set survives a full update.
        let read_only = |name: &str| catalogue().get(entity.name).is_some_and(|e| e.fields.get(name).is_some_and(|s| s.read_only));
        current.iter().filter(|(name, _)| read_only(name)).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    for (name, value) in body {
        record.insert(name.clone(), value.clone());
    }
    let next = current_token.parse::<u64>().unwrap_or_default() + 1;
    record.insert("SyncToken".into(), json!(next.to_string()));
    let created = at(current, "/MetaData/CreateTime").cloned().unwrap_or_else(|| json!(meta_time(now_ms)));
    record.insert("MetaData".into(), json!({ "CreateTime": created, "LastUpdatedTime": meta_time(now_ms) }));
    Ok(record)
}

/// VCR batch/basic: 5010 with Intuit's wording about two users.
pub fn stale() -> FaultError {
    FaultError::new(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and sandbox@flowmap were working on this at the same time. sandbox@flowmap finished before you did, so your work was not saved.",
    )
}

fn delete(company: &mut Company, entity: &Entity, body: &Map<String, Value>, now_ms: i64) -> Result<Map<String, Value>, FaultError> {
    if entity.name_list {
        return Err(FaultError::new(
            "6000",
            "A business validation error has occurred while processing your request",
            format!("Business Validation Error: {} cannot be deleted; make it inactive (Active: false)", entity.name),
        ));
    }
    let id = body.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
    let Some(index) = company.position(entity.name, &id) else {
        return Err(super::api::not_found().on("Id"));
    };
    let current_token = company.of(entity.name)[index].get("SyncToken").and_then(Value::as_str).unwrap_or("0").to_string();
    if body.get("SyncToken").and_then(Value::as_str) != Some(current_token.as_str()) {
        return Err(stale());
    }
    company.of_mut(entity.name).remove(index);
    let mut gone = Map::new();
    gone.insert("domain".into(), json!("QBO"));
    gone.insert("status".into(), json!("Deleted"));
    gone.insert("Id".into(), json!(id));
    let answer = gone.clone();
    gone.insert("MetaData".into(), json!({ "LastUpdatedTime": meta_time(now_ms) }));
    company.deleted.push((entity.name.to_string(), gone));
    Ok(answer)
}
