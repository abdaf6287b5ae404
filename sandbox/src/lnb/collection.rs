//! Orders and invoices behave alike: a paged list, one record by reference, a status write-back.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{invalid, message};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

/// Query parameters that steer the request rather than filter records.
const NOT_FILTERS: &[&str] = &["page", "access_token", "per_page"];

pub struct Collection {
    /// The reference field (`reference`, `reference_number`).
    pub key: &'static str,
    pub not_found: &'static str,
    /// The field a write-back sets (`status`, `integration_status`).
    pub status_field: &'static str,
    /// Where the write-back's `reason` is kept.
    pub reason_field: &'static str,
}

impl Collection {
    /// `?page=N` (1-based) of the records matching the filters. A query parameter that names a
    /// field of the records (`status=Invoicing`) filters on it; the others (date ranges) are ignored.
    pub fn list(&self, records: &[Value], request: &ApiRequest, page_size: usize) -> ApiResponse {
        let page = match request.query_param("page").map(|p| p.trim().parse::<usize>()) {
            None => 1,
            Some(Ok(page)) if page >= 1 => page,
            Some(_) => return invalid(vec![("page".into(), "The page field must be at least 1.".into())]),
        };
        let filters: Vec<(&str, &str)> = request
            .query
            .iter()
            .filter(|(k, _)| !NOT_FILTERS.contains(&k.as_str()))
            .filter(|(k, _)| records.iter().any(|r| r.get(k).is_some()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let matching: Vec<&Value> =
            records.iter().filter(|r| filters.iter().all(|(field, wanted)| r.get(*field).is_some_and(|v| same_text(v, wanted)))).collect();
        let total = matching.len();
        let total_pages = total.div_ceil(page_size).max(1);
        let rows: Vec<Value> = matching.iter().skip((page - 1).saturating_mul(page_size)).take(page_size).map(|r| (*r).clone()).collect();
        ApiResponse::json(StatusCode::OK, &Value::Array(rows))
            .with_header("X-Pagination-Current-Page", page.to_string())
            .with_header("X-Pagination-Page-Size", page_size.to_string())
            .with_header("X-Pagination-Has-More", (page < total_pages && total > 0).to_string())
            .with_header("X-Pagination-Total-Pages", total_pages.to_string())
            .with_header("X-Pagination-Total-Items", total.to_string())
    }

    pub fn get(&self, records: &[Value], reference: &str) -> ApiResponse {
        match records.iter().find(|r| r.get(self.key).is_some_and(|v| same_text(v, reference))) {
            Some(record) => ApiResponse::json(StatusCode::OK, record),
            None => message(StatusCode::NOT_FOUND, self.not_found),
        }
    }

    /// `{"<key>": …, "<status_field>": …, "reason": …}` → the updated record.
    pub fn set_status(&self, records: &mut [Value], request: &ApiRequest) -> ApiResponse {
        let body = request.json().unwrap_or(Value::Null);
        let reference = body.get(self.key).filter(|v| !v.is_null() && v.as_str() != Some(""));
        let status = body.get(self.status_field).filter(|v| !v.is_null() && v.as_str() != Some(""));
        let mut errors = Vec::new();
        for (field, value) in [(self.key, reference), (self.status_field, status)] {
            match value {
                None => errors.push((field.to_string(), format!("The {} field is required.", field.replace('_', " ")))),
                Some(v) if !(v.is_string() || v.is_number()) => {
                    errors.push((field.to_string(), format!("The {} field must be a string.", field.replace('_', " "))))
                }
                Some(_) => {}
            }
        }
        let reason = body.get("reason").filter(|v| !v.is_null());
        if reason.is_some_and(|r| !r.is_string()) {
            errors.push(("reason".into(), "The reason field must be a string.".into()));
        }
        let (Some(reference), Some(status), true) = (reference, status, errors.is_empty()) else {
            return invalid(errors);
        };
        let reference = text(reference);
        let Some(record) = records.iter_mut().find(|r| r.get(self.key).is_some_and(|v| same_text(v, &reference))) else {
            return message(StatusCode::NOT_FOUND, self.not_found);
        };
        if let Value::Object(fields) = record {
            fields.insert(self.status_field.into(), json!(text(status)));
            if let Some(reason) = reason {
                fields.insert(self.reason_field.into(), reason.clone());
            }
        }
        ApiResponse::json(StatusCode::OK, record)
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reference and status values compare as text (`50001` finds `"50001"`), statuses in any case.
fn same_text(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s.eq_ignore_ascii_case(wanted),
        Value::Number(n) => n.to_string() == wanted,
        Value::Bool(b) => b.to_string() == wanted,
        _ => false,
    }
}
