//! One `/api.xro/2.0/…` call: bearer token (401), `xero-tenant-id` of a connected tenant (403,
//! as Xero answers a missing or foreign tenant: NangoHQ/nango #203, xero-node #432), rate limits
//! (429), then the read or the write. Writes with an `Idempotency-Key` (at most 128 characters)
//! are done once per tenant and key; a repeat gets the first answer again.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};

use super::envelope;
use super::rate_limit::Verdict;
use super::{API_PREFIX, Stored, Xero, XeroState, entities, lock, oauth, read, write};
use crate::http::request::{ApiRequest, decode_path};
use crate::http::response::ApiResponse;

const MAX_IDEMPOTENCY_KEY: usize = 128;

pub fn handle(xero: &Xero, request: &ApiRequest) -> ApiResponse {
    let now_ms = xero.now_ms();
    let mut state = xero.lock();
    if let Err(refused) = oauth::authenticate(&state, request, now_ms) {
        return refused;
    }
    let tenant_header = request.header("xero-tenant-id").unwrap_or_default().trim().to_string();
    let Some(index) = state.tenants.iter().position(|t| t.connected && t.id.eq_ignore_ascii_case(&tenant_header)) else {
        return envelope::problem(StatusCode::FORBIDDEN, "AuthenticationUnsuccessful");
    };
    let tenant_id = state.tenants[index].id.to_string();
    let limits = xero.own.limits();
    let mut rate_headers = Vec::new();
    if limits.enabled {
        match state.limiter.check(&tenant_id, limits, now_ms) {
            Verdict::Allowed(headers) => rate_headers = headers,
            Verdict::Exceeded(problem, retry_after, headers) => {
                // Xero's 429 carries its reason in headers; the body says no more than the status.
                return envelope::problem(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded")
                    .with_headers(headers)
                    .with_header("X-Rate-Limit-Problem", problem)
                    .with_header("Retry-After", retry_after.to_string());
            }
        }
    }
    let answer = answer(&mut state, index, request, now_ms).with_headers(rate_headers);
    drop(state);
    let in_flight = limits.enabled.then(|| InFlight { state: xero.state.clone(), tenant: tenant_id });
    ApiResponse::held(answer, xero.latency_ms.load(Ordering::Relaxed), in_flight)
}

/// A call admitted by the limiter; dropping it (answered, or the client gone mid-wait) ends it.
struct InFlight {
    state: Arc<Mutex<XeroState>>,
    tenant: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.state).limiter.finish(&self.tenant);
    }
}

fn answer(state: &mut XeroState, index: usize, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    // The sandbox speaks JSON only; Xero answers XML to a client that does not ask for JSON, so
    // such a client would not work against Xero either.
    if !request.header("accept").is_some_and(|a| a.to_ascii_lowercase().contains("application/json")) {
        return ApiResponse::text(
            StatusCode::NOT_ACCEPTABLE,
            "text/plain; charset=utf-8",
            "The sandbox answers application/json only: send Accept: application/json",
        );
    }
    let rest = &request.path[API_PREFIX.len()..];
    let segments: Vec<String> = rest.trim_matches('/').split('/').map(decode_path).collect();
    let (entity, id) = match segments.as_slice() {
        [entity] => (entity, None),
        [entity, id] => (entity, Some(id.as_str())),
        _ => return envelope::not_found(),
    };
    let Some(entity) = entities::find(entity) else {
        return envelope::not_found();
    };
    let tenant_id = state.tenants[index].id.to_string();
    match (&request.method, id) {
        (&Method::GET, None) => read::list(entity, &state.tenants[index].books, request, now_ms),
        (&Method::GET, Some(id)) => read::single(entity, &state.tenants[index].books, id, now_ms),
        (&Method::PUT | &Method::POST, None) if entity.writable => {
            let key = request.header("idempotency-key").map(str::to_string);
            if let Some(key) = &key {
                if key.chars().count() > MAX_IDEMPOTENCY_KEY {
                    return envelope::api_error(
                        StatusCode::BAD_REQUEST,
                        10,
                        "ValidationException",
                        "Idempotency-Key must be 128 characters or fewer.",
                    );
                }
                if let Some(stored) = state.idempotent.get(&(tenant_id.clone(), key.clone())) {
                    state.replays += 1;
                    return ApiResponse {
                        status: stored.status,
                        headers: Vec::new(),
                        content_type: stored.content_type,
                        body: stored.body.clone(),
                        pending: None,
                    };
                }
            }
            let answer = write::write(entity, &mut state.tenants[index].books, request, now_ms);
            if let Some(key) = key {
                let stored = Stored { status: answer.status, content_type: answer.content_type, body: answer.body.clone() };
                state.idempotent.insert((tenant_id, key), stored);
            }
            answer
        }
        _ => ApiResponse::empty(StatusCode::METHOD_NOT_ALLOWED),
    }
}
