//! `POST /auth/token` (client credentials, one hour) and the `access_token` query check.

use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat};
use serde_json::{Value, json};

use super::{Lnb, message};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

const TOKEN_MS: i64 = 3_600_000;

pub fn token(lnb: &Lnb, request: &ApiRequest) -> ApiResponse {
    // The SDKs send JSON; a form body (the Java SDK's variant) is read too.
    let fields: Vec<(String, String)> = match request.json() {
        Some(Value::Object(body)) => body.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_string()))).collect(),
        _ => request.form(),
    };
    let field = |name: &str| ApiRequest::form_field(&fields, name);
    let valid = field("grant_type") == Some("client_credentials")
        && field("client_id") == Some(lnb.client_id.as_str())
        && field("client_secret") == Some(lnb.client_secret.as_str());
    if !valid {
        return message(StatusCode::UNAUTHORIZED, "Invalid client credentials");
    }
    let now_ms = lnb.shared.clock.now_ms();
    let expires_ms = now_ms + TOKEN_MS;
    let access_token = crate::random::new_token("lnb_");
    let mut state = lnb.lock();
    state.tokens.retain(|_, expiry| *expiry > now_ms);
    state.tokens.insert(access_token.clone(), expires_ms);
    let expire_on = DateTime::from_timestamp_millis(expires_ms).map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)).unwrap_or_default();
    ApiResponse::json(StatusCode::OK, &json!({ "access_token": access_token, "token_type": "Bearer", "expire_on": expire_on }))
}

/// `None` when the request carries a live `access_token` query parameter; the 401 otherwise.
pub fn check(lnb: &Lnb, request: &ApiRequest) -> Option<ApiResponse> {
    let now_ms = lnb.shared.clock.now_ms();
    let live = request.query_param("access_token").and_then(|t| lnb.lock().tokens.get(t).copied()).is_some_and(|expiry| now_ms < expiry);
    if live { None } else { Some(message(StatusCode::UNAUTHORIZED, "Unauthenticated.")) }
}
