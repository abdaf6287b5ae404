//! A multipart write-back sent live: the file is fetched on its own connection (that
//! connection's host only, so its token goes nowhere else), bounded in size, then sent with the
//! body as one part and the bytes as another (QuickBooks `upload`, notes §10).

use crate::deliver::{PlannedRequest, UploadFile};
use crate::http::{FileBody, Registry, redact};

/// A picture larger than this is refused, not uploaded (QuickBooks takes attachments up to 100 MB;
/// a product picture far smaller).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

pub async fn send(registry: &Registry, r: &PlannedRequest, file: &UploadFile) -> Result<(), String> {
    let source = registry.connection(&file.from).await.map_err(|e| redact(&e.to_string()))?;
    let bytes = source.fetch_bytes(&file.url, MAX_FILE_BYTES).await.map_err(|e| format!("the file {} could not be fetched: {e}", file.name))?;
    let conn = registry.connection(&r.system).await.map_err(|e| redact(&e.to_string()))?;
    let json = r.body.as_ref().map(crate::value::to_json).unwrap_or(serde_json::Value::Object(Default::default()));
    let body = FileBody {
        json_part: &file.json_part,
        json: &json,
        file_part: &file.file_part,
        name: &file.name,
        content_type: &file.content_type,
        bytes: &bytes,
    };
    let key = idempotency_key(r, &bytes);
    let answer = conn.call_multipart(&conn.url(&r.path), &body, Some(&key)).await.map_err(|e| redact(&e.to_string()))?;
    match fault(&answer.body) {
        Some(message) => Err(format!("{} {} refused {}: {message}", r.system, r.path, file.name)),
        None => Ok(()),
    }
}

/// QuickBooks answers a refused file with HTTP 200 and a `Fault` in `AttachableResponse`.
fn fault(answer: &serde_json::Value) -> Option<String> {
    let faults = answer.get("AttachableResponse")?.as_array()?.iter().filter_map(|a| a.get("Fault"));
    let texts: Vec<String> = faults
        .flat_map(|f| f.get("Error").and_then(|e| e.as_array()).cloned().unwrap_or_default())
        .map(|e| {
            let field = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            format!("{} ({}): {}", field("Message"), field("code"), field("Detail"))
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// The same upload of the same bytes has the same key: a repeat after a lost answer is answered
/// with the first upload's answer, not a second Attachable.
fn idempotency_key(r: &PlannedRequest, bytes: &[u8]) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for part in [r.system.as_str(), r.path.as_str(), &r.body.as_ref().map(|b| crate::value::to_json(b).to_string()).unwrap_or_default()] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(bytes);
    let hex: String = hash.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_fault_inside_a_200_is_a_refusal_and_an_attachable_is_not() {
        // The shape of Intuit's answer to a refused file (VCR attachment/error_estimate.yml).
        let refused = json!({"AttachableResponse": [{"Fault": {"Error": [{"Message": "Object Not Found", "Detail": "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.", "code": "610"}], "type": "ValidationFault"}}], "time": "2026-12-02T04:00:00.000-08:00"});
        assert_eq!(
            super::fault(&refused).as_deref(),
            Some(
                "Object Not Found (610): Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees."
            )
        );
        let attached = json!({"AttachableResponse": [{"Attachable": {"Id": "5000000000000503624", "FileName": "TSH-WHT-M.png"}}], "time": "2026-12-02T04:00:00.000-08:00"});
        assert_eq!(super::fault(&attached), None);
    }
}
