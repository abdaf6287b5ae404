//! Change Data Capture (notes §6, Intuit's change-data-capture page; VCR cdc/basic.yml):
//! `GET cdc?entities=Invoice,Item&changedSince=<date or date-time>` answers
//! `{"CDCResponse":[{"QueryResponse":[{"Invoice":[…],"startPosition":1,"maxResults":n},{}…]}],"time"}`,
//! one QueryResponse per entity asked, in the order asked (`{}` when it has no changes), full
//! records changed at or after the moment, deleted ones as `{"domain","status":"Deleted","Id",
//! "MetaData"}`. At most 1000 objects in all: the oldest changes first, the rest left out (ask a
//! shorter window). A moment more than 30 days back is refused; Intuit's code for that is not
//! published, so the sandbox answers 400 Fault 6000 naming the limit (⚠ chosen).

use serde_json::{Value, json};

use super::company::{Company, at};
use super::entities;
use super::envelope::{FaultError, answer_time, parse_time, validation_fault};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

const MOST: usize = 1000;
const DAYS: i64 = 30;

pub fn changes(company: &Company, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    let business = |detail: String| {
        validation_fault(vec![FaultError::new("6000", "A business validation error has occurred while processing your request", detail)], now_ms)
    };
    let names: Vec<&str> = request.query_param("entities").unwrap_or_default().split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        return business("Business Validation Error: entities is required".into());
    }
    let mut asked = Vec::with_capacity(names.len());
    for name in names {
        match entities::ENTITIES.iter().find(|e| e.name.eq_ignore_ascii_case(name)) {
            Some(entity) => asked.push(entity.name),
            None => return business(format!("Business Validation Error: {name} is not an entity CDC reports")),
        }
    }
    let Some(since) = request.query_param("changedSince").and_then(parse_time) else {
        return business("Business Validation Error: changedSince must be a date or date-time (ISO 8601)".into());
    };
    if since < now_ms - DAYS * 86_400_000 {
        return business(format!("Business Validation Error: changedSince must be within the last {DAYS} days"));
    }
    let changed_at = |record: &serde_json::Map<String, Value>| at(record, "/MetaData/LastUpdatedTime").and_then(Value::as_str).and_then(parse_time);
    // Every change asked, oldest first, then cut at 1000.
    let mut all: Vec<(i64, usize, Value)> = Vec::new();
    for (slot, name) in asked.iter().enumerate() {
        let live = company.of(name).iter();
        let gone = company.deleted.iter().filter(|(entity, _)| entity == name).map(|(_, r)| r);
        for record in live.chain(gone) {
            if let Some(at) = changed_at(record).filter(|at| *at >= since) {
                all.push((at, slot, Value::Object(record.clone())));
            }
        }
    }
    all.sort_by_key(|(at, _, _)| *at);
    all.truncate(MOST);
    let responses: Vec<Value> = asked
        .iter()
        .enumerate()
        .map(|(slot, name)| {
            let records: Vec<Value> = all.iter().filter(|(_, s, _)| *s == slot).map(|(_, _, r)| r.clone()).collect();
            if records.is_empty() {
                json!({})
            } else {
                let count = records.len();
                json!({ *name: records, "startPosition": 1, "maxResults": count })
            }
        })
        .collect();
    ApiResponse::json(axum::http::StatusCode::OK, &json!({ "CDCResponse": [{ "QueryResponse": responses }], "time": answer_time(now_ms) }))
}
