//! Exact Online's webhook signature: `HashCode` in the body is the uppercase
//! hex HMAC-SHA256 of the raw bytes of the `Content` JSON, keyed with the
//! app's webhook secret. The bytes are taken as sent (between `{"Content":`
//! and `,"HashCode":`), never re-serialized, and compared in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Refused;

/// The `Content` bytes of a correctly signed body.
pub fn verify<'a>(body: &'a [u8], secret: &[u8]) -> Result<&'a [u8], Refused> {
    let (content, hash) = split(body)?;
    let given = decode_upper_hex(hash).ok_or(Refused::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| Refused::BadSignature)?;
    mac.update(content);
    mac.verify_slice(&given).map_err(|_| Refused::BadSignature)?;
    Ok(content)
}

/// `{"Content":<content>,"HashCode":"<hash>"}` → (content, hash).
fn split(body: &[u8]) -> Result<(&[u8], &[u8]), Refused> {
    const HEAD: &[u8] = b"{\"Content\":";
    const HASH: &[u8] = b",\"HashCode\":\"";
    let rest = body.strip_prefix(HEAD).ok_or(Refused::NotAnEnvelope)?;
    let at = rest.windows(HASH.len()).rposition(|w| w == HASH).ok_or(Refused::NoSignature)?;
    let content = &rest[..at];
    let hash = rest[at + HASH.len()..].strip_suffix(b"\"}").ok_or(Refused::NoSignature)?;
    Ok((content, hash))
}

/// 32 bytes from 64 uppercase hex digits (Exact sends uppercase; anything else is not its signature).
fn decode_upper_hex(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    text.chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231-style vector.
    const FOX: &str = "F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8";

    fn body(content: &str, hash: &str) -> Vec<u8> {
        format!("{{\"Content\":{content},\"HashCode\":\"{hash}\"}}").into_bytes()
    }

    #[test]
    fn the_raw_content_bytes_are_what_is_signed() {
        let content = "The quick brown fox jumps over the lazy dog";
        assert_eq!(verify(&body(content, FOX), b"key"), Ok(content.as_bytes()));
    }

    #[test]
    fn anything_else_is_refused() {
        let content = "The quick brown fox jumps over the lazy dog";
        assert_eq!(verify(&body(content, &FOX.to_lowercase()), b"key"), Err(Refused::BadSignature));
        assert_eq!(verify(&body("The quick brown fox jumps over the lazy cog", FOX), b"key"), Err(Refused::BadSignature));
        assert_eq!(verify(&body(content, FOX), b"other"), Err(Refused::BadSignature));
        assert_eq!(verify(format!("{{\"Content\":{content}}}").as_bytes(), b"key"), Err(Refused::NoSignature));
        assert_eq!(verify(b"", b"key"), Err(Refused::NotAnEnvelope));
    }
}
