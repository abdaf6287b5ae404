//! `GET /api.xro/2.0/{Entity}` and `GET /{Entity}/{id}` (xero_accounting.yaml getInvoices & co):
//! `IDs`, `InvoiceNumbers`/`CreditNoteNumbers`, `ContactIDs`, `Statuses`, `where`, `order`,
//! `If-Modified-Since` on UpdatedDateUTC, `page` (100 a page, or `pageSize` up to 1000) with
//! `pagination` in the answer, `summaryOnly`. Invoices listed without `page` come without their
//! line items, as Xero documents for getInvoices ("line items are returned when paging").

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::entities::Entity;
use super::envelope::{self, parse_date};
use super::filter;
use super::tenants::Books;
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

const PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

pub fn list(entity: &Entity, books: &Books, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    let records = books.of(entity.name);
    let mut chosen: Vec<&Map<String, Value>> = records.iter().collect();
    let param =
        |name: &str| request.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty());
    let listed = |value: &str| value.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect::<Vec<_>>();
    let field = |record: &Map<String, Value>, name: &str| record.get(name).and_then(Value::as_str).unwrap_or_default().to_string();

    if let Some(ids) = param("IDs").map(listed) {
        chosen.retain(|r| ids.iter().any(|id| id.eq_ignore_ascii_case(&field(r, entity.key))));
    }
    if let (Some(name), Some(alternate)) = (entity.alternates_param, entity.alternate)
        && let Some(numbers) = param(name).map(listed)
    {
        chosen.retain(|r| numbers.contains(&field(r, alternate)));
    }
    if let Some(ids) = param("ContactIDs").map(listed) {
        chosen.retain(|r| {
            r.get("Contact").and_then(|c| c.get("ContactID")).and_then(Value::as_str).is_some_and(|c| ids.iter().any(|id| id.eq_ignore_ascii_case(c)))
        });
    }
    if let Some(statuses) = param("Statuses").map(listed) {
        chosen.retain(|r| statuses.contains(&field(r, "Status")));
    }
    if let Some(since) = request.header("if-modified-since").and_then(parse_date) {
        chosen.retain(|r| r.get("UpdatedDateUTC").and_then(Value::as_str).and_then(parse_date).is_some_and(|at| at > since));
    }
    if let Some(text) = param("where") {
        let expr = match filter::parse(text) {
            Ok(expr) => expr,
            Err(e) => return envelope::query_parse(&e),
        };
        let known = |name: &str| {
            name == entity.key
                || super::catalogue::catalogue().get(entity.name).is_some_and(|spec| spec.fields.contains_key(name))
                || records.iter().any(|r| r.contains_key(name))
        };
        if let Some(unknown) = expr.fields().into_iter().find(|name| !known(name)) {
            return envelope::query_parse(&format!("No property or field '{unknown}' exists in type '{}'", entity.singular));
        }
        chosen.retain(|r| expr.matches(r));
    }
    if let Some(order) = param("order") {
        match parse_order(order) {
            Ok(keys) => chosen.sort_by(|a, b| {
                keys.iter().map(|(name, descending)| compare(a.get(name), b.get(name), *descending)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
            }),
            Err(e) => return envelope::query_parse(&e),
        }
    }

    let page = param("page").map(|p| p.trim().parse::<usize>().unwrap_or(1).max(1));
    let summary_only = param("summaryOnly").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let (served, pagination) = match page {
        Some(page) => {
            let size = param("pageSize").and_then(|s| s.trim().parse::<usize>().ok()).unwrap_or(PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
            let count = chosen.len();
            let pages = count.div_ceil(size);
            let slice: Vec<&Map<String, Value>> = chosen.into_iter().skip((page - 1).saturating_mul(size)).take(size).collect();
            (slice, Some(json!({ "page": page, "pageSize": size, "pageCount": pages, "itemCount": count })))
        }
        None => (chosen, None),
    };
    let without_lines = summary_only || (page.is_none() && entity.name == "Invoices");
    let served: Vec<Value> = served
        .into_iter()
        .map(|r| {
            let mut record = r.clone();
            if without_lines {
                record.remove("LineItems");
            }
            Value::Object(record)
        })
        .collect();
    envelope::ok(&envelope::list(entity.name, served, now_ms, pagination))
}

/// `GET /{Entity}/{id}`: by the key, or by the alternate (`/Invoices/INV-0001`, `/Items/TSH-WHT-M`).
pub fn single(entity: &Entity, books: &Books, id: &str, now_ms: i64) -> ApiResponse {
    let matches = |record: &&Map<String, Value>| {
        let value = |name: &str| record.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
        value(entity.key).eq_ignore_ascii_case(id) || entity.alternate.is_some_and(|alternate| value(alternate) == id)
    };
    match books.of(entity.name).iter().find(matches) {
        Some(record) => envelope::ok(&envelope::list(entity.name, vec![Value::Object(record.clone())], now_ms, None)),
        None => envelope::not_found(),
    }
}

/// `Date DESC, InvoiceNumber` → [(field, descending)].
fn parse_order(text: &str) -> Result<Vec<(String, bool)>, String> {
    text.split(',')
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            match words.as_slice() {
                [field] => Ok((field.to_string(), false)),
                [field, direction] if direction.eq_ignore_ascii_case("ASC") => Ok((field.to_string(), false)),
                [field, direction] if direction.eq_ignore_ascii_case("DESC") => Ok((field.to_string(), true)),
                _ => Err(format!("Cannot parse order '{}'", part.trim())),
            }
        })
        .collect()
}

fn compare(a: Option<&Value>, b: Option<&Value>, descending: bool) -> Ordering {
    let key = |v: Option<&Value>| -> (Option<f64>, String) {
        match v {
            Some(Value::Number(n)) => (n.as_f64(), String::new()),
            Some(Value::String(s)) => (parse_date(s).filter(|_| s.starts_with("/Date(")).map(|ms| ms as f64), s.clone()),
            _ => (None, String::new()),
        }
    };
    let (ka, kb) = (key(a), key(b));
    let ordering = match (ka.0, kb.0) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => ka.1.cmp(&kb.1),
    };
    if descending { ordering.reverse() } else { ordering }
}
