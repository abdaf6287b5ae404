//! Runs a parsed statement over the company's records (notes §2). Answers as QBO's query endpoint:
//! `{"QueryResponse":{"<Entity>":[…],"startPosition":s,"maxResults":<rows returned>},"time"}`,
//! `{"QueryResponse":{},"time"}` when nothing matches, `{"QueryResponse":{"totalCount":n}}` for
//! count(*). A page is 100 rows unless MAXRESULTS says otherwise, at most 1000 (a larger
//! MAXRESULTS is read as 1000 ⚠). Comparisons follow the property's catalogue type: times
//! (MetaData.LastUpdatedTime, TxnDate) as instants, numbers as numbers, text exactly (LIKE's `%`
//! is the only wildcard). Inactive name-list records are left out unless the statement filters on
//! `Active`.

use std::cmp::Ordering;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::company::Company;
use super::envelope::{FaultError, answer_time, parse_time, validation_fault};
use super::query::{Condition, Literal, Op, Statement, parse};
use super::{catalogue::catalogue, entities};
use crate::http::response::ApiResponse;
use crate::xero::catalogue::{FieldSpec, FieldType};

const DEFAULT_PAGE: i64 = 100;
pub const MAX_PAGE: i64 = 1000;

pub fn run(company: &Company, text: &str, now_ms: i64) -> ApiResponse {
    let statement = match parse(text) {
        Ok(statement) => statement,
        Err(detail) => return parser_error(&format!("QueryParserError: {detail}"), now_ms),
    };
    let Some(entity) = entities::by_name(&statement.entity) else {
        // The entity is case-sensitive: `item` is no entity (⚠ the exact wording is Intuit's guess).
        return parser_error(&format!("QueryParserError: Invalid entity name: {}", statement.entity), now_ms);
    };
    let fields = catalogue().get(entity.name).map(|e| &e.fields);
    for name in statement.conditions.iter().map(|c| &c.field).chain(statement.order.iter().map(|(f, _)| f)) {
        if let Some(fields) = fields
            && spec_of(fields, name).is_none()
        {
            return validation_fault(
                vec![FaultError::new("4001", "Invalid query", format!("QueryValidationError: property '{name}' is not queryable"))],
                now_ms,
            );
        }
    }
    let asks_active = statement.conditions.iter().any(|c| c.field == "Active");
    let mut rows: Vec<&Map<String, Value>> = company
        .of(entity.name)
        .iter()
        .filter(|r| !entity.name_list || asks_active || r.get("Active") != Some(&Value::Bool(false)))
        .filter(|r| statement.conditions.iter().all(|c| matches(r, c, fields.and_then(|f| spec_of(f, &c.field)))))
        .collect();
    if statement.count {
        return ApiResponse::json(StatusCode::OK, &json!({ "QueryResponse": { "totalCount": rows.len() }, "time": answer_time(now_ms) }));
    }
    sort(&mut rows, &statement, fields);
    let start = statement.start.unwrap_or(1).max(1);
    let max = statement.max.unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE);
    let page: Vec<Value> = rows.into_iter().skip((start - 1) as usize).take(max as usize).cloned().map(Value::Object).collect();
    if page.is_empty() {
        return ApiResponse::json(StatusCode::OK, &json!({ "QueryResponse": {}, "time": answer_time(now_ms) }));
    }
    let count = page.len();
    ApiResponse::json(
        StatusCode::OK,
        &json!({ "QueryResponse": { entity.name: page, "startPosition": start, "maxResults": count }, "time": answer_time(now_ms) }),
    )
}

/// 400 Fault 4000 "Error parsing query", Detail `QueryParserError: Encountered …` (Intuit's answers
/// quoted in mcohen01/node-quickbooks #56, consolibyte/quickbooks-php #129).
fn parser_error(detail: &str, now_ms: i64) -> ApiResponse {
    validation_fault(vec![FaultError::new("4000", "Error parsing query", detail)], now_ms)
}

/// The catalogue entry of a dotted property (`MetaData.LastUpdatedTime`, `CustomerRef`).
fn spec_of<'c>(fields: &'c std::collections::BTreeMap<String, FieldSpec>, path: &str) -> Option<&'c FieldSpec> {
    let mut parts = path.split('.');
    let mut spec = fields.get(parts.next()?)?;
    for part in parts {
        spec = spec.fields.get(part)?;
    }
    Some(spec)
}

fn value_at<'r>(record: &'r Map<String, Value>, path: &str) -> Option<&'r Value> {
    let mut parts = path.split('.');
    let mut value = record.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    // A reference compares by its Id (`CustomerRef = '58'`).
    match value {
        Value::Object(object) => object.get("value"),
        other => Some(other),
    }
}

fn is_time(spec: Option<&FieldSpec>) -> bool {
    spec.is_some_and(|s| matches!(s.kind, FieldType::Date | FieldType::DateTime))
}

fn compare(value: &Value, literal: &Literal, time: bool) -> Option<Ordering> {
    match (value, literal) {
        (Value::String(have), Literal::Text(want)) if time => parse_time(have)?.partial_cmp(&parse_time(want)?),
        (Value::String(have), Literal::Text(want)) => Some(have.as_str().cmp(want.as_str())),
        (Value::String(have), Literal::Number(want)) => have.parse::<f64>().ok()?.partial_cmp(want),
        (Value::Number(have), Literal::Number(want)) => have.as_f64()?.partial_cmp(want),
        (Value::Number(have), Literal::Text(want)) => have.as_f64()?.partial_cmp(&want.trim().parse::<f64>().ok()?),
        (Value::Bool(have), Literal::Bool(want)) => Some(have.cmp(want)),
        (Value::Bool(have), Literal::Text(want)) => Some(have.cmp(&want.parse::<bool>().ok()?)),
        _ => None,
    }
}

fn like(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn matches(record: &Map<String, Value>, condition: &Condition, spec: Option<&FieldSpec>) -> bool {
    let Some(value) = value_at(record, &condition.field) else {
        return false;
    };
    let time = is_time(spec);
    let ordering = |literal: &Literal| compare(value, literal, time);
    match condition.op {
        Op::Eq => ordering(&condition.values[0]) == Some(Ordering::Equal),
        Op::Lt => ordering(&condition.values[0]) == Some(Ordering::Less),
        Op::Gt => ordering(&condition.values[0]) == Some(Ordering::Greater),
        Op::Le => matches!(ordering(&condition.values[0]), Some(Ordering::Less | Ordering::Equal)),
        Op::Ge => matches!(ordering(&condition.values[0]), Some(Ordering::Greater | Ordering::Equal)),
        Op::In => condition.values.iter().any(|v| ordering(v) == Some(Ordering::Equal)),
        Op::Like => match (value, &condition.values[0]) {
            (Value::String(text), Literal::Text(pattern)) => like(text, pattern),
            _ => false,
        },
    }
}

fn sort(rows: &mut [&Map<String, Value>], statement: &Statement, fields: Option<&std::collections::BTreeMap<String, FieldSpec>>) {
    if statement.order.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        for (field, descending) in &statement.order {
            let time = is_time(fields.and_then(|f| spec_of(f, field)));
            let ordering = match (value_at(a, field), value_at(b, field)) {
                (Some(x), Some(y)) => sort_key(x, time).partial_cmp(&sort_key(y, time)).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => Ordering::Equal,
            };
            let ordering = if *descending { ordering.reverse() } else { ordering };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
}

#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Number(f64),
    Text(String),
}

fn sort_key(value: &Value, time: bool) -> SortKey {
    match value {
        Value::Number(n) => SortKey::Number(n.as_f64().unwrap_or_default()),
        Value::String(s) if time => SortKey::Number(parse_time(s).unwrap_or_default() as f64),
        Value::String(s) => SortKey::Text(s.clone()),
        Value::Bool(b) => SortKey::Number(f64::from(u8::from(*b))),
        other => SortKey::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_has_percent_as_its_only_wildcard() {
        assert!(like("TSH-WHT-M", "TSH%"));
        assert!(like("TSH-WHT-M", "%WHT%"));
        assert!(like("TSH-WHT-M", "%-M"));
        assert!(!like("TSH-WHT-M", "TSH_WHT%"));
        assert!(!like("TSH", "TSH%H"));
    }
}
