//! `PUT /{Entity}` (create) and `POST /{Entity}` (create or update), bodies `{"Invoices":[…]}` or a
//! single element. Each element is checked (validate.rs, then the entity's own rules) and built
//! in a draft of the books, in order, so an element sees the ones before it (two invoices of one
//! request with the same number). With `summarizeErrors=false` the good elements are kept and the
//! answer is 200 with every element, the failed ones carrying `HasErrors`,
//! `StatusAttributeString: ERROR` and `ValidationErrors`. Without it any failure refuses the whole
//! request: 400 ValidationException echoing the failed elements. (xero_accounting.yaml gives the
//! parameter `default: false`, the SDKs' default; the API itself summarises unless told not to.)

use serde_json::{Map, Value, json};

use super::catalogue::catalogue;
use super::documents::{self, CREDIT_NOTES, INVOICES};
use super::entities::Entity;
use super::envelope::{self, xero_date};
use super::tenants::Books;
use super::validate;
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

pub fn write(entity: &Entity, books: &mut Books, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    let Some(body) = request.json() else {
        return envelope::post_data_invalid("JSON for post data was invalid,The request body could not be read as JSON.");
    };
    let elements: Vec<Value> = match body {
        Value::Object(mut object) => match object.remove(entity.name) {
            Some(Value::Array(elements)) => elements,
            Some(_) => return envelope::post_data_invalid(&format!("JSON for post data was invalid,'{}' must be an array.", entity.name)),
            None => vec![Value::Object(object)],
        },
        _ => return envelope::post_data_invalid("JSON for post data was invalid,The body must be a JSON object."),
    };
    let spec = catalogue().get(entity.name);
    let mut checked = Vec::with_capacity(elements.len());
    for (index, element) in elements.into_iter().enumerate() {
        let Value::Object(mut element) = element else {
            return envelope::post_data_invalid(&format!("JSON for post data was invalid,Path '{}[{index}]' is not an object.", entity.name));
        };
        if let Some(spec) = spec
            && let Err(e) = validate::shape(&spec.fields, &mut element, &format!("{}[{index}]", entity.name))
        {
            return envelope::post_data_invalid(&e);
        }
        checked.push(element);
    }

    let updating_allowed = request.method == axum::http::Method::POST;
    let summarize = !request.query.iter().any(|(k, v)| k.eq_ignore_ascii_case("summarizeErrors") && v.eq_ignore_ascii_case("false"));
    let mut draft = books.clone();
    let mut answers = Vec::with_capacity(checked.len());
    let mut failed = false;
    for element in checked {
        match one(entity, &mut draft, &element, updating_allowed, now_ms) {
            Ok(mut record) => {
                record.insert("StatusAttributeString".into(), json!("OK"));
                answers.push(Value::Object(record));
            }
            Err(errors) => {
                failed = true;
                let mut echo = element;
                echo.insert("HasErrors".into(), json!(true));
                echo.insert("StatusAttributeString".into(), json!("ERROR"));
                echo.insert("ValidationErrors".into(), Value::Array(errors.into_iter().map(|m| json!({ "Message": m })).collect()));
                answers.push(Value::Object(echo));
            }
        }
    }
    if failed && summarize {
        let refused = answers.into_iter().filter(|a| a.get("HasErrors") == Some(&json!(true))).collect();
        return envelope::validation_exception(refused);
    }
    *books = draft;
    envelope::ok(&envelope::list(entity.name, answers, now_ms, None))
}

/// One element into the draft: the stored record, or its ValidationErrors.
fn one(
    entity: &Entity,
    books: &mut Books,
    element: &Map<String, Value>,
    updating_allowed: bool,
    now_ms: i64,
) -> Result<Map<String, Value>, Vec<String>> {
    let text = |name: &str| element.get(name).and_then(Value::as_str).map(str::to_string);
    // A POST naming an id updates that record (which must exist); documents are also updated by
    // their number; contacts and items only by their id.
    let existing = match text(entity.key) {
        Some(id) if updating_allowed => match position(books, entity.name, entity.key, &id, true) {
            Some(index) => Some(index),
            None => return Err(vec![format!("{} {id} could not be found.", entity.key)]),
        },
        _ if updating_allowed && (entity.name == INVOICES.entity || entity.name == CREDIT_NOTES.entity) => {
            entity.alternate.and_then(|alternate| position(books, entity.name, alternate, &text(alternate)?, false))
        }
        _ => None,
    };
    let creating = existing.is_none();
    if let Some(spec) = catalogue().get(entity.name) {
        let key = (!creating).then_some(entity.key);
        let errors = validate::field_errors(&spec.fields, element, creating, key);
        if !errors.is_empty() {
            return Err(errors);
        }
    }
    let previous = existing.map(|i| books.of(entity.name)[i].clone());
    let record = match entity.name {
        "Invoices" => documents::build(&INVOICES, books, element, previous.as_ref(), now_ms)?,
        "CreditNotes" => documents::build(&CREDIT_NOTES, books, element, previous.as_ref(), now_ms)?,
        _ => plain(entity, books, element, previous.as_ref(), now_ms)?,
    };
    let stored = books.of_mut(entity.name);
    match existing {
        Some(index) => stored[index] = record.clone(),
        None => stored.push(record.clone()),
    }
    Ok(record)
}

fn position(books: &Books, entity: &str, field: &str, value: &str, ignore_case: bool) -> Option<usize> {
    books
        .of(entity)
        .iter()
        .position(|r| r.get(field).and_then(Value::as_str).is_some_and(|v| if ignore_case { v.eq_ignore_ascii_case(value) } else { v == value }))
}

/// Contacts and items: the fields as sent over what was there, an id, `UpdatedDateUTC`; names
/// (contacts) and codes (items) unique.
fn plain(
    entity: &Entity,
    books: &Books,
    element: &Map<String, Value>,
    previous: Option<&Map<String, Value>>,
    now_ms: i64,
) -> Result<Map<String, Value>, Vec<String>> {
    let mut record = previous.cloned().unwrap_or_default();
    for (name, value) in element {
        record.insert(name.clone(), value.clone());
    }
    let id = record.get(entity.key).and_then(Value::as_str).map(str::to_string).unwrap_or_else(crate::random::new_guid);
    let others =
        || books.of(entity.name).iter().filter(|r| r.get(entity.key).and_then(Value::as_str).is_none_or(|other| !other.eq_ignore_ascii_case(&id)));
    let text = |r: &Map<String, Value>, name: &str| r.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    if entity.name == "Contacts" {
        let name = text(&record, "Name");
        // xero_accounting.yaml, createContacts 400 example.
        if others().any(|c| text(c, "ContactStatus") != "ARCHIVED" && text(c, "Name").eq_ignore_ascii_case(&name)) {
            return Err(vec![format!(
                "The contact name {name} is already assigned to another contact. The contact name must be unique across all active contacts."
            )]);
        }
        for (field, default) in [
            ("ContactStatus", json!("ACTIVE")),
            ("IsSupplier", json!(false)),
            ("IsCustomer", json!(false)),
            ("ContactGroups", json!([])),
            ("HasAttachments", json!(false)),
            ("HasValidationErrors", json!(false)),
        ] {
            record.entry(field).or_insert(default);
        }
    }
    if entity.name == "Items" {
        let code = text(&record, "Code");
        if others().any(|i| text(i, "Code") == code) {
            return Err(vec![format!("Item code '{code}' already exists.")]);
        }
    }
    record.insert(entity.key.into(), Value::String(id));
    record.insert("UpdatedDateUTC".into(), Value::String(xero_date(now_ms)));
    Ok(record)
}
