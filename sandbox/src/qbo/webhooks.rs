//! Webhook notifications in the CloudEvents format Intuit made mandatory for QuickBooks apps
//! (notes §7: developer.intuit.com managing-webhooks-notifications; blogs.a.intuit.com 2025-11-12;
//! IntuitDeveloper/SampleApp-Webhooks-Java-Cloudevents): a JSON array of events, each one change,
//! `type` `qbo.<entity lower case>.<created|updated|deleted|merged|voided>.v1`, `intuitentityid`
//! the record's Id, `intuitaccountid` the realm. The raw body is signed in `intuit-signature`:
//! base64(HMAC-SHA256(verifier token, body)) (QuickBooks-V3-Java-SDK `WebhooksService.verifyPayload`).
//! The sandbox sends one event per delivery, at once (Intuit aggregates over minutes).

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::http::client;

/// Intuit expects the endpoint to answer within seconds (⚠ 3 s per third parties); the sandbox waits 5.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The past-tense verb of an operation (`Create` → `created`); `None` for one Intuit does not send.
pub fn verb(operation: &str) -> Option<&'static str> {
    Some(match operation.to_ascii_lowercase().as_str() {
        "create" | "created" => "created",
        "update" | "updated" => "updated",
        "delete" | "deleted" => "deleted",
        "merge" | "merged" => "merged",
        "void" | "voided" => "voided",
        _ => return None,
    })
}

/// The delivery body: an array of one CloudEvent.
pub fn body(realm: &str, entity: &str, id: &str, verb: &str, at_ms: i64) -> String {
    let time =
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at_ms).map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).unwrap_or_default();
    let event = json!({
        "specversion": "1.0",
        "id": crate::random::new_guid(),
        "source": "intuit.flowmap-sandbox",
        "type": format!("qbo.{}.{verb}.v1", entity.to_ascii_lowercase()),
        "datacontenttype": "application/json",
        "time": time,
        "intuitentityid": id,
        "intuitaccountid": realm,
        "data": {}
    });
    Value::Array(vec![event]).to_string()
}

/// base64(HMAC-SHA256(key = verifier token, data = the body bytes)).
pub fn signature(verifier_token: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(verifier_token.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    base64(&mac.finalize().into_bytes())
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let bits = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((bits >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// POSTs the signed body; the endpoint's status, or why there is none.
pub async fn deliver(url: String, verifier_token: String, body: String) -> Result<u16, String> {
    let headers = [("intuit-signature".to_string(), signature(&verifier_token, body.as_bytes()))];
    client::post_with_headers(&url, Some("application/json"), &headers, body.as_bytes(), CALLBACK_TIMEOUT).await.map(|a| a.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_as_rfc_4648() {
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"sandbox-client:sandbox-secret"), "c2FuZGJveC1jbGllbnQ6c2FuZGJveC1zZWNyZXQ=");
    }

    #[test]
    fn the_signature_is_base64_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2 (key "Jefe", data "what do ya want for nothing?"): 5bdcc146…3843, in base64.
        assert_eq!(signature("Jefe", b"what do ya want for nothing?"), "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    }

    #[test]
    fn events_name_entity_operation_record_and_realm() {
        let body: Value = serde_json::from_str(&body("9341453050298765", "Invoice", "130", "updated", 0)).unwrap();
        assert_eq!(
            (&body[0]["type"], &body[0]["intuitentityid"], &body[0]["intuitaccountid"]),
            (&json!("qbo.invoice.updated.v1"), &json!("130"), &json!("9341453050298765"))
        );
        assert_eq!(body[0]["time"], "1970-01-01T00:00:00.000Z");
    }
}
