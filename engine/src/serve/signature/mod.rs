//! Webhook signatures, one file per scheme a system's YAML can name
//! (`http.webhooks.signature.scheme`). Each gives the signed bytes of a
//! correctly signed delivery — the JSON its events are read from — and
//! compares in constant time; why a delivery was refused is logged, never
//! told to the sender (it gets a bare 401).

mod exact_hash_code;
mod hmac_header;

use axum::http::HeaderMap;

use crate::model::SignatureDef;

/// Why a webhook body was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not the body shape the scheme signs (Exact's `{"Content":…,"HashCode":…}`).
    NotAnEnvelope,
    /// No signature where the scheme carries it.
    NoSignature,
    /// A signature, but not this secret's signature of these bytes.
    BadSignature,
}

/// The signed JSON bytes of a delivery signed with `secret` under `scheme`.
pub fn verify<'a>(scheme: &SignatureDef, headers: &HeaderMap, body: &'a [u8], secret: &[u8]) -> Result<&'a [u8], Refused> {
    match scheme {
        SignatureDef::ExactHashCode {} => exact_hash_code::verify(body, secret),
        SignatureDef::HmacSha256 { header, encoding } => {
            hmac_header::verify(headers.get(header.as_str()).map(|v| v.as_bytes()), *encoding, body, secret)?;
            Ok(body)
        }
    }
}
