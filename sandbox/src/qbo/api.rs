//! One `/v3/company/{realm}/…` call (notes §1–§6): the bearer token (401), the realm the token was
//! granted for (403 ApplicationAuthorizationFailed, code 3100, as integrators meet it for a company
//! the token does not belong to), the throttles (429), then `requestid` (at most 50 characters: a
//! repeat answers the first answer again and does nothing), then the call. `minorversion` is read
//! as Intuit does since 2025-08-01: any value below 75, or none, means 75, so it changes nothing.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::envelope::{self, FaultError, validation_fault};
use super::{Qbo, QboState, Stored, cdc, entities, lock, oauth, select, upload, write};
use crate::http::request::{ApiRequest, decode_path};
use crate::http::response::ApiResponse;

pub const PREFIX: &str = "/v3/company/";
const MAX_REQUEST_ID: usize = 50;

pub fn handle(qbo: &Qbo, request: &ApiRequest) -> ApiResponse {
    // Every answer names its transaction in `intuit_tid`, as Intuit's do (VCR headers).
    call(qbo, request).with_header("intuit_tid", crate::random::new_guid())
}

fn call(qbo: &Qbo, request: &ApiRequest) -> ApiResponse {
    let now_ms = qbo.now_ms();
    let mut state = qbo.lock();
    if let Err(refused) = oauth::authenticate(&state, request, now_ms) {
        return refused;
    }
    let rest = &request.path[PREFIX.len()..];
    let (realm, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if realm != qbo.realm {
        return envelope::gateway(StatusCode::FORBIDDEN, "ApplicationAuthorizationFailed", "3100", "", "AUTHORIZATION", now_ms);
    }
    let limits = qbo.own.limits();
    if limits.enabled && !state.limiter.admit(realm, limits.minutely, now_ms) {
        return envelope::throttled(now_ms);
    }
    let in_flight = limits.enabled.then(|| InFlight { state: qbo.state.clone(), realm: realm.to_string() });
    let answer = replayable(qbo, &mut state, rest, request, now_ms);
    drop(state);
    ApiResponse::held(answer, qbo.latency_ms.load(Ordering::Relaxed), in_flight)
}

/// A call admitted by the limiter; dropping it (answered, or the client gone) ends it.
struct InFlight {
    state: Arc<Mutex<QboState>>,
    realm: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.state).limiter.finish(&self.realm);
    }
}

fn replayable(qbo: &Qbo, state: &mut QboState, rest: &str, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    let Some(request_id) = request.query_param("requestid").map(str::to_string) else {
        return answer(qbo, state, rest, request, now_ms);
    };
    if request_id.chars().count() > MAX_REQUEST_ID {
        // Intuit documents the limit, not its refusal (⚠ chosen: 400 Fault 2010 naming the parameter).
        return validation_fault(
            vec![FaultError::new("2010", "Request has invalid or unsupported property", "requestid must be at most 50 characters").on("requestid")],
            now_ms,
        );
    }
    if let Some(stored) = state.request_ids.get(&request_id) {
        state.replays += 1;
        return ApiResponse {
            status: stored.status,
            headers: Vec::new(),
            content_type: stored.content_type,
            body: stored.body.clone(),
            pending: None,
        };
    }
    let answer = answer(qbo, state, rest, request, now_ms);
    state.request_ids.insert(request_id, Stored { status: answer.status, content_type: answer.content_type, body: answer.body.clone() });
    answer
}

fn answer(qbo: &Qbo, state: &mut QboState, rest: &str, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    // The sandbox speaks JSON only; QBO answers XML to a client that does not ask for JSON.
    if !request.header("accept").is_some_and(|a| a.to_ascii_lowercase().contains("application/json")) {
        return ApiResponse::text(
            StatusCode::NOT_ACCEPTABLE,
            "text/plain; charset=utf-8",
            "The sandbox answers application/json only: send Accept: application/json",
        );
    }
    let segments: Vec<String> = rest.trim_matches('/').split('/').map(decode_path).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (&request.method, segments.as_slice()) {
        (&Method::GET, ["query"]) => select::run(&state.company, request.query_param("query").unwrap_or_default(), now_ms),
        (&Method::POST, ["query"]) => select::run(&state.company, &String::from_utf8_lossy(&request.body), now_ms),
        (&Method::GET, ["cdc"]) => cdc::changes(&state.company, request, now_ms),
        (&Method::GET, ["preferences"]) => envelope::entity("Preferences", preferences(now_ms), now_ms),
        (&Method::GET, ["companyinfo", id]) if *id == qbo.realm => envelope::entity("CompanyInfo", company_info(&qbo.realm, now_ms), now_ms),
        (&Method::POST, ["upload"]) => upload::upload(&mut state.company, &qbo.realm, request, now_ms),
        (&Method::GET, [path, id]) if entities::by_path(path).is_some() => {
            let entity = entities::by_path(path).map(|e| e.name).unwrap_or_default();
            match state.company.find(entity, id) {
                Some(record) => envelope::entity(entity, Value::Object(record.clone()), now_ms),
                None => validation_fault(vec![not_found()], now_ms),
            }
        }
        (&Method::POST, [path]) if entities::by_path(path).is_some_and(|e| e.writable) => {
            let Some(entity) = entities::by_path(path) else { return unsupported(request, now_ms) };
            write::write(&mut state.company, entity, request, now_ms)
        }
        _ => unsupported(request, now_ms),
    }
}

pub fn not_found() -> FaultError {
    FaultError::new(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
    )
}

/// What QBO answers a path it has no resource for (Intuit's answers quoted in minimul/qbo_api #79,
/// IntuitDeveloper/SampleApp-CRUD-PHP #7). Entities the sandbox does not serve (Vendor, Bill, …)
/// get it too, though Intuit serves them.
fn unsupported(request: &ApiRequest, now_ms: i64) -> ApiResponse {
    let query = if request.raw_query.is_empty() { String::new() } else { format!("?{}", request.raw_query) };
    let detail = format!("Operation Could not find resource for relative : {0} of full path: {0}{query} is not supported.", request.path);
    validation_fault(vec![FaultError::new("500", "Unsupported Operation", detail)], now_ms)
}

/// The settings the engine's connection check reads (`GET preferences`); the sandbox company's.
fn preferences(now_ms: i64) -> Value {
    json!({
        "domain": "QBO", "sparse": false, "Id": "1", "SyncToken": "0",
        "CurrencyPrefs": { "HomeCurrency": { "value": "EUR" }, "MultiCurrencyEnabled": true },
        "SalesFormsPrefs": { "CustomTxnNumbers": false, "AllowDiscount": true },
        "MetaData": { "CreateTime": envelope::meta_time(now_ms), "LastUpdatedTime": envelope::meta_time(now_ms) }
    })
}

fn company_info(realm: &str, now_ms: i64) -> Value {
    json!({
        "domain": "QBO", "sparse": false, "Id": realm, "SyncToken": "0",
        "CompanyName": "Acme Fashion (sandbox)", "Country": "NL",
        "MetaData": { "CreateTime": envelope::meta_time(now_ms), "LastUpdatedTime": envelope::meta_time(now_ms) }
    })
}
