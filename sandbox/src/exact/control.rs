//! `/_sandbox/exact/…`: `webhooks` (GET: the events sent; POST: send one), `revoke` (POST: refuse
//! tokens), and any other GET path `service/Entity`: that entity's records as the API serves them.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::Exact;
use crate::control::{body, ok, refuse};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

pub fn handle(exact: &Exact, request: &ApiRequest, path: &str) -> Option<ApiResponse> {
    Some(match (&request.method, path) {
        (&Method::GET, "webhooks") => ok(&serde_json::to_value(exact.webhook_deliveries()).unwrap_or_default()),
        (&Method::POST, "webhooks") => fire_webhook(exact, request),
        (&Method::POST, "revoke") => revoke(exact, request),
        (&Method::GET, entity) => match exact.records(entity) {
            Some(records) => ok(&Value::Array(records)),
            None => refuse(StatusCode::NOT_FOUND, &format!("no Exact entity `{entity}`")),
        },
        _ => return None,
    })
}

/// `{"refresh_tokens":true,"until_consent":false,"after_requests":3}` (all optional): Exact's
/// access tokens issued so far are refused (401); with `refresh_tokens` their refresh tokens too
/// (`invalid_grant`: only a new consent helps, as after a restart); with `until_consent` also the
/// access tokens issued later, until the next consent; with `after_requests` once that many more
/// API requests have been answered.
fn revoke(exact: &Exact, request: &ApiRequest) -> ApiResponse {
    let body = match request.json() {
        None => serde_json::Map::new(),
        Some(Value::Object(body)) => body,
        Some(_) => return refuse(StatusCode::BAD_REQUEST, "send a JSON object"),
    };
    let flag = |name: &str| body.get(name).map(|v| v.as_bool().ok_or(format!("{name} must be true or false"))).unwrap_or(Ok(false));
    let after = body.get("after_requests").map(|v| v.as_u64().ok_or("after_requests must be a whole number ≥ 0".to_string())).unwrap_or(Ok(0));
    match (flag("refresh_tokens"), flag("until_consent"), after) {
        (Ok(refresh_tokens), Ok(until_consent), Ok(after)) => {
            super::oauth::revoke(exact, refresh_tokens, until_consent, after);
            ApiResponse::empty(StatusCode::NO_CONTENT)
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => refuse(StatusCode::BAD_REQUEST, &e),
    }
}

/// `{"topic":"SalesOrders","key":"…","action":"Update"}` (action optional): sends the event to every
/// subscription of the topic and answers, once all have answered or timed out, with the deliveries.
fn fire_webhook(exact: &Exact, request: &ApiRequest) -> ApiResponse {
    let body = match body(request) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let action = body.get("action").and_then(Value::as_str).unwrap_or("Update");
    match exact.fire_webhook(text("topic"), text("key"), action) {
        Ok(sending) => ApiResponse::later(async move {
            let deliveries = sending.await;
            ok(&json!({ "sent": deliveries.len(), "deliveries": deliveries }))
        }),
        Err(e) => refuse(StatusCode::BAD_REQUEST, &e),
    }
}
