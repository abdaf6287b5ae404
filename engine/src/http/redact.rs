//! Secrets never reach a log line, an error or the audit trail. Every secret
//! the process learns (client secrets, access and refresh tokens, API keys) is
//! registered here, and every text that leaves the HTTP layer is passed
//! through `redact`, which also masks secret-looking query parameters.

use std::sync::{Mutex, OnceLock};

const MASK: &str = "<redacted>";

/// Query parameters whose values are always masked, whatever they are.
const SECRET_PARAMS: [&str; 6] = ["access_token", "refresh_token", "client_secret", "code", "api_key", "password"];

fn registry() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remembers a secret so that it is masked wherever it would appear.
pub fn register_secret(secret: &str) {
    // Short values would mask ordinary words; real secrets are long.
    if secret.len() < 6 {
        return;
    }
    let mut list = registry().lock().unwrap_or_else(|e| e.into_inner());
    if !list.iter().any(|s| s == secret) {
        list.push(secret.to_string());
    }
}

/// The text with every registered secret and secret query parameter masked.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    for s in registry().lock().unwrap_or_else(|e| e.into_inner()).iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    for p in SECRET_PARAMS {
        out = mask_param(&out, p);
    }
    out
}

/// `…?access_token=abc&page=2` → `…?access_token=<redacted>&page=2`.
fn mask_param(text: &str, param: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let needle = format!("{param}=");
    while let Some(i) = rest.find(&needle) {
        let before = &rest[..i];
        let boundary = before.is_empty() || before.ends_with(['?', '&', ' ', '"', '\'']);
        out.push_str(before);
        out.push_str(&needle);
        rest = &rest[i + needle.len()..];
        if boundary {
            let end = rest.find(['&', ' ', '"', '\'', '\n', '#']).unwrap_or(rest.len());
            if end > 0 && &rest[..end] != MASK {
                out.push_str(MASK);
            } else {
                out.push_str(&rest[..end]);
            }
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_tokens_and_registered_secrets_are_masked() {
        register_secret("s3cr3t-value-123");
        assert_eq!(
            redact("GET http://h/orders?status=Invoicing&access_token=abc123&page=2 failed: s3cr3t-value-123"),
            "GET http://h/orders?status=Invoicing&access_token=<redacted>&page=2 failed: <redacted>"
        );
        assert_eq!(redact("my_code=1"), "my_code=1");
    }
}
