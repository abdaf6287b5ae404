//! Xero's answer shapes: the list envelope, `/Date(ms+0000)/` dates, and its three error bodies —
//! the identity layer's problem+json (401/403), the API's `{ErrorNumber, Type, Message}` and the
//! validation exception that echoes each refused element.

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

use crate::http::response::ApiResponse;

/// `/Date(1741046400000+0000)/`, as Xero writes dates in records.
pub fn xero_date(ms: i64) -> String {
    format!("/Date({ms}+0000)/")
}

/// `2025-03-04T00:00:00`, Xero's `DateString` beside a date.
pub fn date_string(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string()).unwrap_or_default()
}

/// A date as Xero takes it in a body or `If-Modified-Since`: `2025-03-04`, `2025-03-04T10:00:00`
/// (UTC when no offset is given), with `Z` or an offset, `/Date(ms)/`, `/Date(ms+0000)/`, or an
/// HTTP date. Epoch milliseconds.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix("/Date(").and_then(|t| t.strip_suffix(")/")) {
        let digits = inner.split(['+', '-']).find(|p| !p.is_empty()).unwrap_or_default();
        let ms: i64 = digits.parse().ok()?;
        return Some(if inner.starts_with('-') { -ms } else { ms });
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|d| d.and_utc().timestamp_millis());
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp_millis());
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(at.and_utc().timestamp_millis());
    }
    httpdate::parse_http_date(text).ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64)
}

/// `{"Id","Status":"OK","ProviderName","DateTimeUTC":"/Date(ms)/", entity: records}`; paged lists
/// carry `pagination` as in the OpenAPI examples (xero_accounting.yaml, getContacts 200).
pub fn list(entity: &str, records: Vec<Value>, now_ms: i64, pagination: Option<Value>) -> Value {
    let mut body = Map::new();
    body.insert("Id".into(), Value::String(crate::random::new_guid()));
    body.insert("Status".into(), Value::String("OK".into()));
    body.insert("ProviderName".into(), Value::String("flowmap sandbox".into()));
    body.insert("DateTimeUTC".into(), Value::String(format!("/Date({now_ms})/")));
    if let Some(pagination) = pagination {
        body.insert("pagination".into(), pagination);
    }
    body.insert(entity.into(), Value::Array(records));
    Value::Object(body)
}

pub fn ok(value: &Value) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, value)
}

/// The identity layer's problem+json, as Xero answers 401 and 403 (pyxero PR #337, xero-node #432:
/// `{"Type":null,"Title":"Unauthorized","Status":401,"Detail":"TokenExpired: token expired at …",…}`).
pub fn problem(status: StatusCode, detail: &str) -> ApiResponse {
    let title = status.canonical_reason().unwrap_or_default();
    let body = json!({
        "Type": null,
        "Title": title,
        "Status": status.as_u16(),
        "Detail": detail,
        "Instance": crate::random::new_guid(),
        "Extensions": {}
    });
    ApiResponse::json(status, &body)
}

/// `{"ErrorNumber","Type","Message"}` (schema `Error` of xero_accounting.yaml).
pub fn api_error(status: StatusCode, number: u32, kind: &str, message: &str) -> ApiResponse {
    ApiResponse::json(status, &json!({ "ErrorNumber": number, "Type": kind, "Message": message }))
}

/// A body Xero cannot read into its model (wrong type, unknown enum value, unknown element):
/// ErrorNumber 14 `PostDataInvalidException`, for the whole request (xero-php-oauth2 #205, pyxero #105).
pub fn post_data_invalid(message: &str) -> ApiResponse {
    api_error(StatusCode::BAD_REQUEST, 14, "PostDataInvalidException", message)
}

/// A `where` or `order` Xero cannot parse: `QueryParseException`. The ErrorNumber (16) is from
/// answers seen in the wild, not from the OpenAPI definition, which lists no query errors.
pub fn query_parse(message: &str) -> ApiResponse {
    api_error(StatusCode::BAD_REQUEST, 16, "QueryParseException", message)
}

/// 400 ErrorNumber 10 `ValidationException`, each refused element echoed with its `ValidationErrors`
/// (the OpenAPI example of createInvoices 400).
pub fn validation_exception(elements: Vec<Value>) -> ApiResponse {
    let body = json!({ "ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred", "Elements": elements });
    ApiResponse::json(StatusCode::BAD_REQUEST, &body)
}

/// A GET of a record that does not exist. Xero answers 404 with this sentence as plain text
/// (developer.xero.com, HTTP response codes; not in the OpenAPI definition).
pub fn not_found() -> ApiResponse {
    ApiResponse::text(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "The resource you're looking for cannot be found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_every_form_xero_takes() {
        assert_eq!(parse_date("2025-03-04"), Some(1_741_046_400_000));
        assert_eq!(parse_date("/Date(1741046400000+0000)/"), Some(1_741_046_400_000));
        assert_eq!(parse_date("2025-03-04T00:00:00"), Some(1_741_046_400_000));
        assert_eq!(parse_date("2025-03-04T01:00:00+01:00"), Some(1_741_046_400_000));
        assert_eq!(parse_date("Tue, 04 Mar 2025 00:00:00 GMT"), Some(1_741_046_400_000));
        assert_eq!(parse_date("4 March"), None);
        assert_eq!(date_string(1_741_046_400_000), "2025-03-04T00:00:00");
    }
}
