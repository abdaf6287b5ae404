//! The HMAC-SHA256 of the raw body bytes, keyed with the webhook secret, in a
//! header: Xero's `x-xero-signature` (XeroAPI/Xero-OpenAPI `xero-webhooks.yaml`,
//! "Base_64_HMAC_SHA_256"; developer.xero.com webhooks "Intent to receive") and
//! QuickBooks' `intuit-signature` (intuit/QuickBooks-V3-Java-SDK
//! `WebhooksService.verifyPayload`). The bytes are the body as received: a body
//! parsed and written again would not be what was signed.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Refused;
use crate::model::SignatureEncoding;

pub fn verify(given: Option<&[u8]>, encoding: SignatureEncoding, body: &[u8], secret: &[u8]) -> Result<(), Refused> {
    let given = given.map(<[u8]>::trim_ascii).filter(|g| !g.is_empty()).ok_or(Refused::NoSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| Refused::BadSignature)?;
    mac.update(body);
    let expected = match encoding {
        SignatureEncoding::Base64 => crate::http::base64::encode(&mac.finalize().into_bytes()),
    };
    if same(given, expected.as_bytes()) { Ok(()) } else { Err(Refused::BadSignature) }
}

/// Equal bytes, in time that does not depend on where they differ (the length of a
/// signature is no secret: it is fixed by the scheme).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog") = f7bc83f4…3cd8 (Wikipedia's
    // HMAC example), in base64.
    const FOX: &str = "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";
    const BODY: &[u8] = b"The quick brown fox jumps over the lazy dog";

    #[test]
    fn the_base64_hmac_of_the_raw_body_is_accepted() {
        assert_eq!(verify(Some(FOX.as_bytes()), SignatureEncoding::Base64, BODY, b"key"), Ok(()));
    }

    #[test]
    fn anything_else_is_refused() {
        let bad = |given: Option<&[u8]>, body: &[u8], key: &[u8]| verify(given, SignatureEncoding::Base64, body, key);
        assert_eq!(bad(None, BODY, b"key"), Err(Refused::NoSignature));
        assert_eq!(bad(Some(b" "), BODY, b"key"), Err(Refused::NoSignature));
        assert_eq!(bad(Some(FOX.as_bytes()), b"The quick brown fox jumps over the lazy cog", b"key"), Err(Refused::BadSignature));
        assert_eq!(bad(Some(FOX.as_bytes()), BODY, b"other"), Err(Refused::BadSignature));
        // Hex of the same MAC, and base64 without its padding: not this scheme's writing.
        assert_eq!(bad(Some(b"f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"), BODY, b"key"), Err(Refused::BadSignature));
        assert_eq!(bad(Some(FOX.trim_end_matches('=').as_bytes()), BODY, b"key"), Err(Refused::BadSignature));
    }
}
