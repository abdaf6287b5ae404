//! Xero's identity endpoints on the emulator's one port: `GET /identity/connect/authorize` (the
//! sandbox user consents at once and every tenant is connected), `POST /connect/token` with the
//! client in `Authorization: Basic` (Xero's documented client authentication), and the
//! connections of `xero-identity.yaml`: `GET /connections`, `DELETE /connections/{id}`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::envelope::{self, date_string};
use super::tokens::{ACCESS_SECONDS, Access};
use super::{Xero, XeroState};
use crate::http::request::{ApiRequest, encode_component};
use crate::http::response::ApiResponse;

pub fn authorize(xero: &Xero, request: &ApiRequest) -> ApiResponse {
    let param = |name: &str| request.query_param(name).unwrap_or_default();
    if param("client_id") != xero.client_id {
        // Xero shows an error page, never redirecting to a URI it cannot trust.
        return ApiResponse::text(StatusCode::BAD_REQUEST, "text/plain; charset=utf-8", "Error: unauthorized_client\nInvalid client_id");
    }
    let redirect_uri = param("redirect_uri");
    if !(redirect_uri.starts_with("http://") || redirect_uri.starts_with("https://")) {
        return ApiResponse::text(StatusCode::BAD_REQUEST, "text/plain; charset=utf-8", "Error: invalid_request\nInvalid redirect_uri");
    }
    let state_param = request.query_param("state").map(|s| format!("&state={}", encode_component(s))).unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    if param("response_type") != "code" {
        return redirect(&format!("{redirect_uri}{separator}error=unsupported_response_type{state_param}"));
    }
    if param("scope").trim().is_empty() {
        return redirect(&format!("{redirect_uri}{separator}error=invalid_scope{state_param}"));
    }
    let now_ms = xero.now_ms();
    let mut state = xero.lock();
    let auth_event_id = crate::random::new_guid();
    for tenant in &mut state.tenants {
        tenant.auth_event_id = auth_event_id.clone();
        tenant.updated_ms = now_ms;
        tenant.connected = true;
    }
    let code = state.tokens.new_code(redirect_uri, param("scope"), now_ms);
    redirect(&format!("{redirect_uri}{separator}code={}{state_param}", encode_component(&code)))
}

fn redirect(location: &str) -> ApiResponse {
    ApiResponse::empty(StatusCode::FOUND).with_header("Location", location)
}

fn oauth_error(error: &str) -> ApiResponse {
    ApiResponse::json(StatusCode::BAD_REQUEST, &json!({ "error": error }))
}

pub fn token(xero: &Xero, request: &ApiRequest) -> ApiResponse {
    if !client_authenticated(xero, request.header("authorization")) {
        return oauth_error("invalid_client");
    }
    let form = request.form();
    let field = |name: &str| ApiRequest::form_field(&form, name).unwrap_or_default();
    let now_ms = xero.now_ms();
    let mut state = xero.lock();
    let grant = match field("grant_type") {
        "authorization_code" => state.tokens.redeem_code(field("code"), field("redirect_uri"), now_ms),
        "refresh_token" => state.tokens.refresh(field("refresh_token"), now_ms),
        _ => return oauth_error("unsupported_grant_type"),
    };
    let Some(grant) = grant else {
        return oauth_error("invalid_grant");
    };
    let mut body = json!({ "access_token": grant.access_token, "expires_in": ACCESS_SECONDS, "token_type": "Bearer", "scope": grant.scope });
    if let Some(refresh_token) = grant.refresh_token {
        body["refresh_token"] = Value::String(refresh_token);
    }
    ApiResponse::json(StatusCode::OK, &body)
}

/// `Authorization: Basic base64(client_id:client_secret)`.
fn client_authenticated(xero: &Xero, header: Option<&str>) -> bool {
    let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic "))) else {
        return false;
    };
    let Some(decoded) = base64_decode(encoded.trim()).and_then(|bytes| String::from_utf8(bytes).ok()) else {
        return false;
    };
    decoded.split_once(':').is_some_and(|(id, secret)| id == xero.client_id && secret == xero.client_secret)
}

/// Standard base64 with padding (RFC 4648 §4); `None` for anything else.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.as_bytes().chunks(4) {
        let padding = chunk.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 {
            return None;
        }
        let mut bits: u32 = 0;
        for &byte in &chunk[..4 - padding] {
            bits = (bits << 6) | ALPHABET.iter().position(|&a| a == byte)? as u32;
        }
        bits <<= 6 * padding as u32;
        out.extend_from_slice(&bits.to_be_bytes()[1..4 - padding]);
    }
    Some(out)
}

/// The bearer token of a request, checked: `Err` is Xero's 401.
pub fn authenticate(state: &XeroState, request: &ApiRequest, now_ms: i64) -> Result<(), ApiResponse> {
    let token = request.header("authorization").and_then(|h| h.strip_prefix("Bearer ")).unwrap_or_default().trim();
    match state.tokens.check(token, now_ms) {
        Access::Valid => Ok(()),
        Access::Expired(at) => {
            let at =
                chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at).map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string()).unwrap_or_default();
            Err(envelope::problem(StatusCode::UNAUTHORIZED, &format!("TokenExpired: token expired at {at}")))
        }
        Access::Unknown => Err(envelope::problem(StatusCode::UNAUTHORIZED, "AuthenticationUnsuccessful")),
    }
}

/// `GET /connections` and `DELETE /connections/{id}` (xero-identity.yaml).
pub fn connections(xero: &Xero, request: &ApiRequest, id: Option<&str>) -> ApiResponse {
    let now_ms = xero.now_ms();
    let mut state = xero.lock();
    if let Err(refused) = authenticate(&state, request, now_ms) {
        return refused;
    }
    match (&request.method, id) {
        (&axum::http::Method::GET, None) => {
            let list: Vec<Value> = state
                .tenants
                .iter()
                .filter(|t| t.connected)
                // `authEventId`: only the tenants connected by that consent (xero-identity.yaml).
                .filter(|t| request.query_param("authEventId").is_none_or(|id| id.eq_ignore_ascii_case(&t.auth_event_id)))
                .map(|t| {
                    json!({
                        "id": t.connection_id,
                        "authEventId": t.auth_event_id,
                        "tenantId": t.id,
                        "tenantType": "ORGANISATION",
                        "tenantName": t.name,
                        "createdDateUtc": date_string(t.created_ms),
                        "updatedDateUtc": date_string(t.updated_ms),
                    })
                })
                .collect();
            ApiResponse::json(StatusCode::OK, &Value::Array(list))
        }
        (&axum::http::Method::DELETE, Some(id)) => match state.tenants.iter_mut().find(|t| t.connected && t.connection_id.eq_ignore_ascii_case(id)) {
            Some(tenant) => {
                tenant.connected = false;
                ApiResponse::empty(StatusCode::NO_CONTENT)
            }
            None => ApiResponse::empty(StatusCode::NOT_FOUND),
        },
        _ => ApiResponse::empty(StatusCode::METHOD_NOT_ALLOWED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_reads_padded_text_only() {
        assert_eq!(base64_decode("c2FuZGJveC1jbGllbnQ6c2FuZGJveC1zZWNyZXQ=").as_deref(), Some(&b"sandbox-client:sandbox-secret"[..]));
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("YWI=").as_deref(), Some(&b"ab"[..]));
        assert!(base64_decode("YQ").is_none() && base64_decode("Y!==").is_none());
    }
}
