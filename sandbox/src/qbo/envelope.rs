//! QuickBooks Online's answer shapes (facts: /work/notes/qbo-facts.md §1–§3, from answers recorded
//! off Intuit's sandbox in github minimul/qbo_api `spec/vcr/**`): the `time` stamp, the Fault
//! envelope of the API (`{"Fault":{"Error":[{Message,Detail,code,element}],"type"},"time"}`, HTTP
//! 400) and the lower-case envelope of the gateway's 401/403/429 (`{"fault":{"error":[…],"type"}}`).

use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};
use serde_json::{Value, json};

use crate::http::response::ApiResponse;

/// The sandbox company keeps Pacific standard time, as Intuit's sandbox companies (and the
/// fixtures' `-08:00` stamps) do; daylight saving is left out so that stamps compare plainly.
fn company_zone() -> FixedOffset {
    FixedOffset::west_opt(8 * 3600).unwrap_or(Utc.fix())
}

/// `2025-03-01T08:10:44-08:00`, as MetaData times are written.
pub fn meta_time(ms: i64) -> String {
    local(ms).map(|d| d.format("%Y-%m-%dT%H:%M:%S%:z").to_string()).unwrap_or_default()
}

/// `2020-09-29T05:58:07.123-08:00`, the `time` of every answer.
pub fn answer_time(ms: i64) -> String {
    local(ms).map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()).unwrap_or_default()
}

/// The company's date of an instant (a transaction's default `TxnDate`).
pub fn company_date(ms: i64) -> String {
    local(ms).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn local(ms: i64) -> Option<DateTime<FixedOffset>> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|d| d.with_timezone(&company_zone()))
}

/// A date or date-time as QBO takes them in queries and `changedSince`: `2025-03-01`,
/// `2025-03-01T08:10:44-08:00`, `…Z`; a date without offset is the company's midnight. Epoch ms.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp_millis());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    date.and_hms_opt(0, 0, 0)?.and_local_timezone(company_zone()).single().map(|d| d.timestamp_millis())
}

/// `{"<Entity>":{…},"time":…}`, HTTP 200.
pub fn entity(name: &str, record: Value, now_ms: i64) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, &json!({ name: record, "time": answer_time(now_ms) }))
}

/// One error of a Fault.
pub struct FaultError {
    pub code: &'static str,
    pub message: &'static str,
    pub detail: String,
    /// The field the error is about; Intuit sends `""` when none.
    pub element: String,
}

impl FaultError {
    pub fn new(code: &'static str, message: &'static str, detail: impl Into<String>) -> FaultError {
        FaultError { code, message, detail: detail.into(), element: String::new() }
    }

    pub fn on(mut self, element: impl Into<String>) -> FaultError {
        self.element = element.into();
        self
    }
}

/// HTTP 400 `{"Fault":{"Error":[…],"type":"ValidationFault"},"time":…}`.
pub fn validation_fault(errors: Vec<FaultError>, now_ms: i64) -> ApiResponse {
    fault(StatusCode::BAD_REQUEST, "ValidationFault", errors, now_ms)
}

pub fn fault(status: StatusCode, kind: &str, errors: Vec<FaultError>, now_ms: i64) -> ApiResponse {
    let errors: Vec<Value> =
        errors.into_iter().map(|e| json!({ "Message": e.message, "Detail": e.detail, "code": e.code, "element": e.element })).collect();
    ApiResponse::json(status, &json!({ "Fault": { "Error": errors, "type": kind }, "time": answer_time(now_ms) }))
}

/// The gateway's own lower-case body (VCR `error/401.yml`): 401 with `WWW-Authenticate`, and,
/// in the same shape, 403 for a company the token is not for and 429 when throttled.
pub fn gateway(status: StatusCode, name: &str, code: &str, detail: &str, kind: &str, now_ms: i64) -> ApiResponse {
    let message = format!("message={name}; errorCode={code:0>6}; statusCode={}", status.as_u16());
    let body = json!({
        "warnings": null, "intuitObject": null,
        "fault": { "error": [{ "message": message, "detail": detail, "code": code, "element": null }], "type": kind },
        "report": null, "queryResponse": null, "batchItemResponse": [], "attachableResponse": [], "syncErrorResponse": null,
        "requestId": null, "time": now_ms, "status": null, "cdcresponse": []
    });
    let answer = ApiResponse::json(status, &body);
    if status == StatusCode::UNAUTHORIZED {
        answer.with_header("WWW-Authenticate", "Bearer realm=\"Intuit\", error=\"invalid_token\"")
    } else {
        answer
    }
}

/// 401 AuthenticationFailed (code 3200).
pub fn unauthorized(detail: &str, now_ms: i64) -> ApiResponse {
    gateway(StatusCode::UNAUTHORIZED, "AuthenticationFailed", "3200", detail, "AUTHENTICATION", now_ms)
}

/// 429 ThrottleExceeded (code 3001; body as integrators quote it, ⚠ notes §5). Intuit sends no
/// `Retry-After` and says to wait 60 seconds.
pub fn throttled(now_ms: i64) -> ApiResponse {
    gateway(StatusCode::TOO_MANY_REQUESTS, "ThrottleExceeded", "3001", "The request limit was reached.", "SERVICE", now_ms)
}
