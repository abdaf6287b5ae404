//! `POST upload` (notes §10; Intuit's attach-images-and-notes guide, VCR
//! attachment/create_for_invoice.yml, ej2/python-quickbooks `client.py`): a multipart/form-data
//! body of numbered pairs, `file_metadata_NN` (JSON: AttachableRef, FileName, ContentType) and
//! `file_content_NN` (the bytes; base64 when the part says `Content-Transfer-Encoding: base64`).
//! Each file becomes an Attachable; the answer is HTTP 200
//! `{"AttachableResponse":[{"Attachable":{…}} or {"Fault":{…}}],"time"}` — a failed file is a Fault
//! inside the 200, as Intuit answers it.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::catalogue::catalogue;
use super::company::Company;
use super::entities;
use super::envelope::{FaultError, answer_time, meta_time, validation_fault};
use super::{lists, validate};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

struct Part {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    base64: bool,
    body: Vec<u8>,
}

pub fn upload(company: &mut Company, realm: &str, request: &ApiRequest, now_ms: i64) -> ApiResponse {
    let content_type = request.header("content-type").unwrap_or_default();
    let boundary = content_type.split(';').map(str::trim).find_map(|p| p.strip_prefix("boundary=")).map(|b| b.trim_matches('"').to_string());
    let Some(parts) = boundary.and_then(|b| parts(&request.body, &b)) else {
        return validation_fault(
            vec![FaultError::new("2010", "Request has invalid or unsupported property", "Content-Type must be multipart/form-data with a boundary")],
            now_ms,
        );
    };
    let mut answers = Vec::new();
    for content in parts.iter().filter(|p| p.name.starts_with("file_content_")) {
        let number = &content.name["file_content_".len()..];
        let metadata = parts.iter().find(|p| p.name == format!("file_metadata_{number}"));
        let answer = match attach(company, realm, content, metadata, now_ms) {
            Ok(record) => json!({ "Attachable": record }),
            Err(error) => {
                json!({ "Fault": { "Error": [{ "Message": error.message, "Detail": error.detail, "code": error.code, "element": error.element }], "type": "ValidationFault" } })
            }
        };
        answers.push(answer);
    }
    ApiResponse::json(StatusCode::OK, &json!({ "AttachableResponse": answers, "time": answer_time(now_ms) }))
}

fn attach(company: &mut Company, realm: &str, content: &Part, metadata: Option<&Part>, now_ms: i64) -> Result<Map<String, Value>, FaultError> {
    // Without metadata QBO makes it from the file part (python-quickbooks, quoting Intuit).
    let mut record = match metadata.map(|m| serde_json::from_slice::<Value>(&m.body)) {
        Some(Ok(Value::Object(object))) => object,
        Some(_) => return Err(FaultError::new("2010", "Request has invalid or unsupported property", "file_metadata is not a JSON object")),
        None => Map::new(),
    };
    if let Some(fields) = catalogue().get("Attachable").map(|e| &e.fields) {
        validate::shape(fields, &mut record, "Attachable", "")?;
        validate::drop_read_only(fields, &mut record, false);
        if let Some(error) = validate::field_error(fields, &record, true, "") {
            return Err(error);
        }
    }
    let size = if content.base64 {
        let text: String = String::from_utf8_lossy(&content.body).chars().filter(|c| !c.is_whitespace()).collect();
        crate::xero::oauth::base64_decode(&text).map(|b| b.len()).unwrap_or(content.body.len())
    } else {
        content.body.len()
    };
    if !record.contains_key("FileName") {
        record.insert("FileName".into(), json!(content.filename.clone().unwrap_or_else(|| "attachment".into())));
    }
    if let Some(kind) = &content.content_type {
        record.entry("ContentType").or_insert(json!(kind));
    }
    if let Some(entity) = entities::by_name("Attachable") {
        lists::apply(company, entity, &mut record)?;
    }
    let id = company.next_id();
    record.insert("Id".into(), json!(id));
    record.insert("SyncToken".into(), json!("0"));
    record.insert("domain".into(), json!("QBO"));
    record.insert("sparse".into(), json!(false));
    record.insert("Size".into(), json!(size));
    record.insert("FileAccessUri".into(), json!(format!("/v3/company/{realm}/download/{id}")));
    record.insert("MetaData".into(), json!({ "CreateTime": meta_time(now_ms), "LastUpdatedTime": meta_time(now_ms) }));
    for reference in record.get_mut("AttachableRef").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(reference) = reference.as_object_mut() {
            reference.entry("IncludeOnSend").or_insert(json!(false));
        }
    }
    company.of_mut("Attachable").push(record.clone());
    Ok(record)
}

/// The parts of a multipart body; `None` when it is not one.
fn parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut out = Vec::new();
    let mut chunks = split(body, &delimiter).into_iter().skip(1);
    for chunk in chunks.by_ref() {
        if chunk.starts_with(b"--") {
            break;
        }
        let chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
        let at = find(chunk, b"\r\n\r\n")?;
        let headers = String::from_utf8_lossy(&chunk[..at]).to_string();
        let mut content = &chunk[at + 4..];
        content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let header = |name: &str| {
            headers.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()))
        };
        let disposition = header("content-disposition").unwrap_or_default();
        let param = |key: &str| {
            disposition.split(';').map(str::trim).find_map(|p| p.strip_prefix(&format!("{key}="))).map(|v| v.trim_matches('"').to_string())
        };
        out.push(Part {
            name: param("name").unwrap_or_default(),
            filename: param("filename"),
            content_type: header("content-type"),
            base64: header("content-transfer-encoding").is_some_and(|e| e.eq_ignore_ascii_case("base64")),
            body: content.to_vec(),
        });
    }
    (!out.is_empty()).then_some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'b>(mut body: &'b [u8], delimiter: &[u8]) -> Vec<&'b [u8]> {
    let mut out = Vec::new();
    while let Some(at) = find(body, delimiter) {
        out.push(&body[..at]);
        body = &body[at + delimiter.len()..];
    }
    out.push(body);
    out
}
