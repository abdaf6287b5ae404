//! `/_sandbox/xero/…`: `tenants`; `records/{tenant}/{Entity}` (GET: the records; POST a JSON
//! array: add them); `records/{tenant}/{Entity}/{id}` (POST an object: change those fields);
//! `replays` (writes answered from the Idempotency-Key store); `latency` (POST `{"ms":N}`: hold
//! every API answer that long); `revoke` (POST: every token issued so far is refused); `requests` (the requests Xero answered, as `/_sandbox/requests`
//! lists them). A tenant is named by its id or its name.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::Xero;
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

pub fn handle(xero: &Xero, request: &ApiRequest, path: &str) -> Option<ApiResponse> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let answer = match (&request.method, segments.as_slice()) {
        (&Method::GET, ["tenants"]) => {
            let tenants: Vec<Value> = xero.tenants().into_iter().map(|(id, name)| json!({ "tenantId": id, "tenantName": name })).collect();
            ok(&Value::Array(tenants))
        }
        (&Method::GET, ["requests"]) => {
            let requests: Vec<_> = xero.shared.recorder.all().into_iter().filter(|r| r.system == "xero").collect();
            ok(&serde_json::to_value(requests).unwrap_or_default())
        }
        (&Method::POST, ["revoke"]) => {
            xero.revoke_tokens();
            ApiResponse::empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, ["replays"]) => ok(&json!({ "replays": xero.replays() })),
        (&Method::POST, ["latency"]) => match request.json().as_ref().and_then(|b| b.get("ms")).and_then(Value::as_u64) {
            Some(ms) => {
                xero.set_latency_ms(ms);
                ok(&json!({ "ms": ms }))
            }
            None => refuse("send {\"ms\": N}, N a whole number ≥ 0"),
        },
        (&Method::GET, ["records", tenant, entity]) => match xero.records(tenant, entity) {
            Some(records) => ok(&Value::Array(records)),
            None => ApiResponse::json(StatusCode::NOT_FOUND, &json!({ "error": format!("no Xero tenant `{tenant}`") })),
        },
        (&Method::POST, ["records", tenant, entity]) => match request.json() {
            Some(Value::Array(records)) => done(xero.add_records(tenant, entity, records)),
            _ => refuse("send a JSON array of records"),
        },
        (&Method::POST, ["records", tenant, entity, id]) => match request.json() {
            Some(Value::Object(fields)) => done(xero.edit_record(tenant, entity, id, fields)),
            _ => refuse("send a JSON object of fields"),
        },
        _ => return None,
    };
    Some(answer)
}

fn ok(value: &Value) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, value)
}

fn refuse(message: &str) -> ApiResponse {
    ApiResponse::json(StatusCode::BAD_REQUEST, &json!({ "error": message }))
}

fn done(result: Result<(), String>) -> ApiResponse {
    match result {
        Ok(()) => ApiResponse::empty(StatusCode::NO_CONTENT),
        Err(e) => refuse(&e),
    }
}
