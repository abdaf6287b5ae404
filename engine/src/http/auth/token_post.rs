use std::time::Duration;

use super::super::{CallError, ServerClock, redact};
use crate::model::{ClientAuth, TokenBody};

/// What a token endpoint answered: status and JSON body (or the text, wrapped).
pub struct TokenReply {
    pub status: u16,
    pub body: serde_json::Value,
    /// The body and the `Reason` header, for matching error kinds.
    pub text: String,
}

/// POSTs to a token endpoint, outside the rate budget (Exact does not count
/// token calls as API calls). Network failures are retried a few times: a
/// request that never arrived cannot have rotated anything.
pub async fn post_token(
    http: &reqwest::Client,
    clock: &ServerClock,
    url: &str,
    body: TokenBody,
    fields: &[(&str, &str)],
    basic: Option<&str>,
) -> Result<TokenReply, CallError> {
    let mut attempt = 0;
    loop {
        let mut request = http.post(url).header("Accept", "application/json").timeout(Duration::from_secs(30));
        if let Some(credentials) = basic {
            request = request.header("Authorization", credentials);
        }
        let request = match body {
            TokenBody::Form => request.form(fields),
            TokenBody::Json => {
                let map: serde_json::Map<String, serde_json::Value> =
                    fields.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(*v))).collect();
                request.header("Content-Type", "application/json").body(serde_json::Value::Object(map).to_string())
            }
        };
        match request.send().await {
            Ok(answer) => {
                if let Some(date) = answer.headers().get("date").and_then(|d| d.to_str().ok()) {
                    clock.observe_date(date);
                }
                let status = answer.status().as_u16();
                let reason = answer.headers().get("reason").and_then(|r| r.to_str().ok()).unwrap_or("").to_string();
                let raw = answer.text().await.unwrap_or_default();
                let body = serde_json::from_str(&raw).unwrap_or_else(|_| serde_json::Value::String(raw.clone()));
                if status >= 500 && attempt < 3 {
                    attempt += 1;
                    tokio::time::sleep(super::super::retry::backoff(attempt)).await;
                    continue;
                }
                return Ok(TokenReply { status, body, text: format!("{reason} {raw}") });
            }
            Err(e) if e.is_connect() && attempt < 3 => {
                attempt += 1;
                tokio::time::sleep(super::super::retry::backoff(attempt)).await;
            }
            Err(e) => {
                return Err(CallError::Unavailable { message: redact(&format!("the token endpoint did not answer: {e}")) });
            }
        }
    }
}

/// The client's fields of a token request and, for `basic`, its `Authorization` header
/// (the id and secret then stay out of the body, RFC 6749 §2.3.1).
pub fn client_fields<'a>(auth: ClientAuth, id: &'a str, secret: &'a str) -> (Vec<(&'static str, &'a str)>, Option<String>) {
    match auth {
        ClientAuth::Body => (vec![("client_id", id), ("client_secret", secret)], None),
        ClientAuth::Basic => {
            let encoded = super::super::base64::encode(format!("{id}:{secret}").as_bytes());
            super::super::register_secret(&encoded);
            (Vec::new(), Some(format!("Basic {encoded}")))
        }
    }
}

/// The error text of a token answer, for messages: `error_description`, else `error`, else the body.
pub fn token_error(reply: &TokenReply) -> String {
    let b = &reply.body;
    let text = b
        .get("error_description")
        .or_else(|| b.get("message"))
        .or_else(|| b.get("error"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| reply.text.trim().chars().take(200).collect());
    redact(&text)
}
