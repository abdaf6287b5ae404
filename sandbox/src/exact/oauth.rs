//! `/api/oauth2/auth` and `/api/oauth2/token` with the answers Exact gives, errors included.

use axum::http::StatusCode;
use chrono::DateTime;
use serde_json::{Value, json};

use super::Exact;
use super::tokens::{Issued, Revoke, TokenError};
use crate::http::request::{ApiRequest, encode_component};
use crate::http::response::ApiResponse;

/// The consent page. The sandbox stands in for the user clicking Allow, so a known client is sent
/// straight back to its redirect URI with a code.
pub fn authorize(exact: &Exact, request: &ApiRequest) -> ApiResponse {
    let client_ok = request.query_param("client_id") == Some(exact.client_id.as_str());
    // Only printable ASCII can go into the Location header.
    let redirect_uri = request.query_param("redirect_uri").filter(|u| !u.is_empty() && u.chars().all(|c| c.is_ascii_graphic()));
    let (Some(redirect_uri), true) = (redirect_uri, client_ok) else {
        return error_page("The client_id is unknown or the redirect_uri is missing.");
    };
    if request.query_param("response_type") != Some("code") {
        return error_page("The response_type must be code.");
    }
    let code = exact.lock().tokens.issue_code(redirect_uri, exact.now_ms());
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut location = format!("{redirect_uri}{separator}code={}", encode_component(&code));
    if let Some(state) = request.query_param("state") {
        location.push_str(&format!("&state={}", encode_component(state)));
    }
    ApiResponse::empty(StatusCode::FOUND).with_header("Location", location)
}

/// The control API's revocation (`POST /_sandbox/exact/revoke`): the tokens issued so far stop
/// working, now or after `after_requests` more API requests, as when Exact's token store restarts
/// (`refresh_tokens`) or the user removes the app's access.
pub fn revoke(exact: &Exact, refresh_tokens: bool, until_consent: bool, after_requests: u64) {
    exact.lock().tokens.revoke(Revoke { refresh_tokens, until_consent }, after_requests);
}

fn error_page(message: &str) -> ApiResponse {
    let html = format!("<!DOCTYPE html><html><head><title>Exact Online</title></head><body><h1>Bad request</h1><p>{message}</p></body></html>");
    ApiResponse::text(StatusCode::BAD_REQUEST, "text/html; charset=utf-8", html)
}

pub fn token(exact: &Exact, request: &ApiRequest) -> ApiResponse {
    let form = request.form();
    let field = |name: &str| ApiRequest::form_field(&form, name).filter(|v| !v.is_empty());
    if field("client_id") != Some(exact.client_id.as_str()) || field("client_secret") != Some(exact.client_secret.as_str()) {
        return oauth_error(StatusCode::BAD_REQUEST, json!({ "error": "invalid_request" }));
    }
    let now_ms = exact.now_ms();
    let result = match field("grant_type") {
        Some("authorization_code") => match (field("code"), field("redirect_uri")) {
            (Some(code), Some(redirect_uri)) => exact.lock().tokens.exchange_code(code, redirect_uri, now_ms),
            _ => return oauth_error(StatusCode::BAD_REQUEST, json!({ "error": "invalid_request" })),
        },
        Some("refresh_token") => match field("refresh_token") {
            Some(refresh_token) => exact.lock().tokens.refresh(refresh_token, now_ms),
            None => return oauth_error(StatusCode::BAD_REQUEST, json!({ "error": "invalid_request" })),
        },
        _ => return oauth_error(StatusCode::BAD_REQUEST, json!({ "error": "unsupported_grant_type" })),
    };
    match result {
        Ok(issued) => issued_answer(issued),
        Err(error) => token_error(error, now_ms),
    }
}

fn issued_answer(issued: Issued) -> ApiResponse {
    // expires_in is a string in Exact's answer.
    let body = json!({
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": (super::tokens::ACCESS_TOKEN_MS / 1000).to_string(),
        "refresh_token": issued.refresh_token,
    });
    ApiResponse::json(StatusCode::OK, &body).with_header("Cache-Control", "no-store")
}

fn token_error(error: TokenError, now_ms: i64) -> ApiResponse {
    match error {
        TokenError::InvalidGrant => oauth_error(StatusCode::BAD_REQUEST, json!({ "error": "invalid_grant" })),
        TokenError::OldRefreshToken => {
            oauth_error(StatusCode::UNAUTHORIZED, json!({ "error": "unauthorized_client", "error_description": "Old refresh token used." }))
        }
        TokenError::RefreshExpired { expired_ms } => {
            let description = format!("The refresh token expired at {} and it is now {}.", us_time(expired_ms), us_time(now_ms));
            oauth_error(StatusCode::BAD_REQUEST, json!({ "error": "invalid_request", "error_description": description }))
        }
        TokenError::TooEarly { last_issue_ms } => {
            let body = json!({ "error": "access_denied", "error_description": "Rate limit exceeded: access_token not expired" });
            let reason = format!(
                "TooEarlyToRefreshTokens: tokens were issued at {} UTC; a new token can be requested from {} UTC",
                us_time(last_issue_ms),
                us_time(last_issue_ms + super::tokens::MIN_REFRESH_MS)
            );
            oauth_error(StatusCode::BAD_REQUEST, body).with_header("Reason", reason)
        }
    }
}

fn oauth_error(status: StatusCode, body: Value) -> ApiResponse {
    ApiResponse::json(status, &body)
}

/// `10/11/2022 9:18:20 PM`, the format of Exact's expiry message.
fn us_time(epoch_ms: i64) -> String {
    DateTime::from_timestamp_millis(epoch_ms).map(|t| t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_times_read_like_exacts() {
        assert_eq!(us_time(1_665_523_100_000), "10/11/2022 9:18:20 PM");
    }
}
