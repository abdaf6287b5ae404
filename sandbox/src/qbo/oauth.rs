//! Intuit's OAuth 2.0 endpoints on the emulator's one port (notes §1): consent at
//! `GET /connect/oauth2` (appcenter.intuit.com; the sandbox user consents at once, for the one
//! company) redirecting with `code`, `state` and `realmId`; `POST /oauth2/v1/tokens/bearer`
//! (oauth.platform.intuit.com) with the client as `Authorization: Basic` and a form body.

use axum::http::StatusCode;
use serde_json::json;

use super::envelope;
use super::tokens::{ACCESS_SECONDS, Access, REFRESH_SECONDS};
use super::{Qbo, QboState};
use crate::http::request::{ApiRequest, encode_component};
use crate::http::response::ApiResponse;

/// The scope every accounting app asks for (intuit/oauth-pythonclient `Scopes.ACCOUNTING`).
pub const ACCOUNTING_SCOPE: &str = "com.intuit.quickbooks.accounting";

pub fn authorize(qbo: &Qbo, request: &ApiRequest) -> ApiResponse {
    let param = |name: &str| request.query_param(name).unwrap_or_default();
    if param("client_id") != qbo.client_id {
        // Intuit shows an error page and never redirects to a URI it cannot trust.
        return ApiResponse::text(StatusCode::BAD_REQUEST, "text/plain; charset=utf-8", "Error: invalid_client\nThe client_id is not known.");
    }
    let redirect_uri = param("redirect_uri");
    if !(redirect_uri.starts_with("http://") || redirect_uri.starts_with("https://")) {
        return ApiResponse::text(StatusCode::BAD_REQUEST, "text/plain; charset=utf-8", "Error: invalid_request\nThe redirect_uri is not valid.");
    }
    let state_param = request.query_param("state").map(|s| format!("&state={}", encode_component(s))).unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    if param("response_type") != "code" {
        return redirect(&format!("{redirect_uri}{separator}error=unsupported_response_type{state_param}"));
    }
    if !param("scope").split_whitespace().any(|s| s == ACCOUNTING_SCOPE) {
        return redirect(&format!("{redirect_uri}{separator}error=invalid_scope{state_param}"));
    }
    let code = qbo.lock().tokens.new_code(redirect_uri, qbo.now_ms());
    redirect(&format!("{redirect_uri}{separator}code={}{state_param}&realmId={}", encode_component(&code), qbo.realm))
}

fn redirect(location: &str) -> ApiResponse {
    ApiResponse::empty(StatusCode::FOUND).with_header("Location", location)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> ApiResponse {
    ApiResponse::json(status, &json!({ "error": error, "error_description": description }))
}

pub fn token(qbo: &Qbo, request: &ApiRequest) -> ApiResponse {
    if !client_authenticated(qbo, request.header("authorization")) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    let form = request.form();
    let field = |name: &str| ApiRequest::form_field(&form, name).unwrap_or_default();
    let now_ms = qbo.now_ms();
    let mut state = qbo.lock();
    let grant = match field("grant_type") {
        "authorization_code" => state.tokens.redeem_code(field("code"), field("redirect_uri"), now_ms),
        "refresh_token" => state.tokens.refresh(field("refresh_token"), now_ms),
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "The grant_type is not supported"),
    };
    let Some(grant) = grant else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Incorrect or invalid grant");
    };
    ApiResponse::json(
        StatusCode::OK,
        &json!({
            "token_type": "bearer",
            "expires_in": ACCESS_SECONDS,
            "refresh_token": grant.refresh_token,
            "x_refresh_token_expires_in": REFRESH_SECONDS,
            "access_token": grant.access_token,
        }),
    )
}

/// `Authorization: Basic base64(client_id:client_secret)` (intuit/oauth-pythonclient `get_auth_header`).
fn client_authenticated(qbo: &Qbo, header: Option<&str>) -> bool {
    let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic "))) else {
        return false;
    };
    let Some(decoded) = crate::xero::oauth::base64_decode(encoded.trim()).and_then(|bytes| String::from_utf8(bytes).ok()) else {
        return false;
    };
    decoded.split_once(':').is_some_and(|(id, secret)| id == qbo.client_id && secret == qbo.client_secret)
}

/// The bearer token of an API request; `Err` is the gateway's lower-case 401.
pub fn authenticate(state: &QboState, request: &ApiRequest, now_ms: i64) -> Result<(), ApiResponse> {
    let token = request.header("authorization").and_then(|h| h.strip_prefix("Bearer ")).unwrap_or_default().trim();
    match state.tokens.check(token, now_ms) {
        Access::Valid => Ok(()),
        Access::Expired => Err(envelope::unauthorized(&format!("Token expired: {}", token.chars().take(12).collect::<String>()), now_ms)),
        Access::Unknown => Err(envelope::unauthorized("Token invalid", now_ms)),
    }
}
