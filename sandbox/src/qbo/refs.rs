//! References to other records (`{"value": <Id>, "name": …}`): QBO reads only `value` and
//! answers with the referenced record's name. An Id that does not exist is 2500 Invalid Reference
//! Id; one that exists but was made inactive is 610 Object Not Found (notes §3).

use serde_json::{Map, Value, json};

use super::company::Company;
use super::envelope::FaultError;

/// The record a reference at `path` (`CustomerRef`, `Line[0].SalesItemLineDetail.ItemRef`) names.
pub fn resolve<'c>(company: &'c Company, entity: &str, reference: &Value, path: &str) -> Result<&'c Map<String, Value>, FaultError> {
    let id = reference.get("value").and_then(Value::as_str).unwrap_or_default();
    let Some(record) = company.find(entity, id) else {
        return Err(FaultError::new("2500", "Invalid Reference Id", format!("Invalid Reference Id : {path}")).on(path.to_string()));
    };
    if record.get("Active") == Some(&Value::Bool(false)) {
        return Err(FaultError::new(
            "610",
            "Object Not Found",
            "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
        )
        .on(path.to_string()));
    }
    Ok(record)
}

/// Resolves the reference at `field` of `object`, when present, and writes the name QBO answers
/// with (from the record's `name_field`; `None`: the answer carries `value` alone).
pub fn fill(
    company: &Company,
    object: &mut Map<String, Value>,
    field: &str,
    entity: &str,
    name_field: Option<&str>,
    path: &str,
) -> Result<Option<Map<String, Value>>, FaultError> {
    let Some(reference) = object.get(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let record = resolve(company, entity, reference, path)?.clone();
    let id = reference.get("value").cloned().unwrap_or(Value::Null);
    let answer = match name_field.and_then(|n| record.get(n)) {
        Some(name) => json!({ "value": id, "name": name }),
        None => json!({ "value": id }),
    };
    object.insert(field.to_string(), answer);
    Ok(Some(record))
}
