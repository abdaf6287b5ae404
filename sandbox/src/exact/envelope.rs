//! Exact's answer envelopes: `{"d":…}` for data and the OData error envelope for every error.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::http::response::ApiResponse;

pub const SYNTAX_ERROR: &str = "Bad Request - Error in query syntax.";
pub const SELECT_REQUIRED: &str = "Please add a $select or a $top=1 statement to the query string.";
pub const RATE_LIMIT_EXCEEDED: &str = "API rate limit exceeded.";

/// `{"error":{"code":"","message":{"lang":"","value":"…"}}}`; several messages are joined with CRLF.
pub fn error(status: StatusCode, message: &str) -> ApiResponse {
    ApiResponse::json(status, &json!({ "error": { "code": "", "message": { "lang": "", "value": message } } }))
}

pub fn data(status: StatusCode, d: Value) -> ApiResponse {
    ApiResponse::json(status, &json!({ "d": d }))
}

pub fn not_found() -> ApiResponse {
    error(StatusCode::NOT_FOUND, "Not found")
}

/// The message WCF Data Services gives for a field the type does not have.
pub fn unknown_property(name: &str, type_name: &str) -> ApiResponse {
    error(StatusCode::BAD_REQUEST, &format!("Could not find a property named '{name}' on type '{type_name}'."))
}

/// Exact answers XML when the client does not ask for JSON; the emulator only speaks JSON, so it
/// refuses, loudly enough that a client forgetting `Accept: application/json` notices.
pub fn not_acceptable() -> ApiResponse {
    let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><error xmlns=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\">\
<code></code><message xml:lang=\"\">This sandbox answers JSON only: send Accept: application/json (Exact Online answers XML without it).</message></error>";
    ApiResponse::text(StatusCode::NOT_ACCEPTABLE, "application/xml; charset=utf-8", body)
}
