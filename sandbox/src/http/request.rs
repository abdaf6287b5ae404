//! An HTTP request read in full, with the decoding both emulators need (query, forms, JSON).

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};

/// A request whose body has been read, so handlers can stay synchronous.
pub struct ApiRequest {
    pub method: Method,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// The query string as sent, without `?`.
    pub raw_query: String,
    /// Query parameters, decoded, in the order sent.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiRequest {
    pub fn new(method: Method, path: &str, raw_query: Option<&str>, headers: HeaderMap, body: Bytes) -> ApiRequest {
        let raw_query = raw_query.unwrap_or_default().to_string();
        let query = decode_form(&raw_query);
        ApiRequest { method, path: path.to_string(), raw_query, query, headers, body }
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as a form, when it was sent as one.
    pub fn form(&self) -> Vec<(String, String)> {
        let is_form = self.header("content-type").is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        if is_form { decode_form(&String::from_utf8_lossy(&self.body)) } else { Vec::new() }
    }

    pub fn form_field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
        form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON; `None` when empty or not JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.body.is_empty() { None } else { serde_json::from_slice(&self.body).ok() }
    }

    /// What the request log keeps of the body: JSON as JSON, other text as a string.
    pub fn body_for_log(&self) -> Option<serde_json::Value> {
        if self.body.is_empty() || !self.form().is_empty() {
            return None;
        }
        Some(self.json().unwrap_or_else(|| serde_json::Value::String(String::from_utf8_lossy(&self.body).into_owned())))
    }

    pub fn headers_for_log(&self) -> Vec<(String, String)> {
        self.headers.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
    }

    pub fn is_write(&self) -> bool {
        matches!(self.method, Method::POST | Method::PUT | Method::PATCH)
    }
}

/// Decodes `a=1&b=x+y` (the form and query encoding): `+` is a space, `%XX` a byte.
pub fn decode_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect()
}

/// Percent-decodes one query component, reading `+` as a space; bad UTF-8 is replaced, not refused.
pub fn decode_component(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Percent-decodes a path segment (`+` stays a plus there).
pub fn decode_path(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Everything but unreserved characters is escaped: safe inside any query value.
pub const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub fn encode_component(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_plus_and_percent() {
        let pairs = decode_form("%24filter=Code+eq+%27x%27%27y%27&empty=&flag");
        assert_eq!(pairs, vec![("$filter".into(), "Code eq 'x''y'".into()), ("empty".into(), "".into()), ("flag".into(), "".into())]);
    }

    #[test]
    fn bad_utf8_does_not_fail() {
        assert_eq!(decode_component("%FF"), "\u{FFFD}");
    }
}
