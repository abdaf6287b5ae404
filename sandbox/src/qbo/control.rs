//! `/_sandbox/qbo/…`: `realm`; `records/{Entity}` (GET: the records; POST a JSON array: add them);
//! `records/{Entity}/{id}` (POST an object: change those fields as a user would, SyncToken and
//! LastUpdatedTime moving on); `replays` (calls answered from the requestid store); `latency`
//! (POST `{"ms":N}`: hold every API answer that long); `revoke` (POST: every token is refused);
//! `requests` (the requests QBO answered); `webhook` (POST `{"url"}`: the app's endpoint; DELETE:
//! none); `fire` (POST `{"entity","id","operation"}`: send that change's CloudEvent, signed, and
//! answer the endpoint's status, the signature and the body sent).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::Qbo;
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

pub fn handle(qbo: &Qbo, request: &ApiRequest, path: &str) -> Option<ApiResponse> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let answer = match (&request.method, segments.as_slice()) {
        (&Method::GET, ["realm"]) => ok(&json!({ "realmId": qbo.realm() })),
        (&Method::GET, ["requests"]) => {
            let requests: Vec<_> = qbo.shared.recorder.all().into_iter().filter(|r| r.system == "qbo").collect();
            ok(&serde_json::to_value(requests).unwrap_or_default())
        }
        (&Method::POST, ["revoke"]) => {
            qbo.revoke_tokens();
            ApiResponse::empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, ["replays"]) => ok(&json!({ "replays": qbo.replays() })),
        (&Method::POST, ["latency"]) => match request.json().as_ref().and_then(|b| b.get("ms")).and_then(Value::as_u64) {
            Some(ms) => {
                qbo.set_latency_ms(ms);
                ok(&json!({ "ms": ms }))
            }
            None => refuse("send {\"ms\": N}, N a whole number ≥ 0"),
        },
        (&Method::POST, ["webhook"]) => match request.json().as_ref().and_then(|b| b.get("url")).and_then(Value::as_str) {
            Some(url) if url.starts_with("http://") => {
                qbo.set_webhook_url(Some(url.to_string()));
                ok(&json!({ "url": url }))
            }
            _ => refuse("send {\"url\": \"http://…\"}"),
        },
        (&Method::DELETE, ["webhook"]) => {
            qbo.set_webhook_url(None);
            ApiResponse::empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, ["fire"]) => {
            let body = request.json().unwrap_or_default();
            let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
            match qbo.notify(&field("entity"), &field("id"), &field("operation")) {
                Ok(Some(sending)) => sending,
                Ok(None) => refuse("no webhook endpoint: POST /_sandbox/qbo/webhook {\"url\": …} first"),
                Err(e) => refuse(&e),
            }
        }
        (&Method::GET, ["records", entity]) => ok(&Value::Array(qbo.records(entity))),
        (&Method::POST, ["records", entity]) => match request.json() {
            Some(Value::Array(records)) => done(qbo.add_records(entity, records)),
            _ => refuse("send a JSON array of records"),
        },
        (&Method::POST, ["records", entity, id]) => match request.json() {
            Some(Value::Object(fields)) => done(qbo.edit_record(entity, id, fields)),
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
