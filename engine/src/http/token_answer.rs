//! Reading a token endpoint's answer, which systems word differently:
//! Exact's `expires_in` is a string ("600"), LNB gives `expire_on` as an ISO date.

use super::CallError;

pub struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Lifetime in server milliseconds from now.
    pub lifetime_ms: i64,
}

pub fn parse(body: &serde_json::Value, expiry_field: Option<&str>, default_lifetime_s: u64, server_now_ms: i64) -> Result<TokenAnswer, CallError> {
    let access_token = body
        .get("access_token")
        .and_then(|v| v.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CallError::Stop { message: "the token endpoint answered without an access_token".into() })?
        .to_string();
    let refresh_token = body.get("refresh_token").and_then(|v| v.as_str()).map(str::to_string);
    let from_field = expiry_field.and_then(|f| body.get(f)).and_then(|v| v.as_str()).and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
    let lifetime_ms = match (from_field, body.get("expires_in")) {
        (Some(at), _) => at.timestamp_millis() - server_now_ms,
        (None, Some(serde_json::Value::String(s))) => s.trim().parse::<i64>().map(|s| s * 1000).unwrap_or(default_lifetime_s as i64 * 1000),
        (None, Some(serde_json::Value::Number(n))) => n.as_i64().map(|s| s * 1000).unwrap_or(default_lifetime_s as i64 * 1000),
        _ => default_lifetime_s as i64 * 1000,
    };
    Ok(TokenAnswer { access_token, refresh_token, lifetime_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_as_text_or_expire_on_as_a_date() {
        let exact = serde_json::json!({"access_token":"a","token_type":"bearer","expires_in":"600","refresh_token":"r"});
        let t = parse(&exact, None, 3600, 0).unwrap();
        assert_eq!((t.lifetime_ms, t.refresh_token.as_deref()), (600_000, Some("r")));
        let lnb = serde_json::json!({"access_token":"a","expire_on":"2026-01-01T01:00:00Z"});
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().timestamp_millis();
        assert_eq!(parse(&lnb, Some("expire_on"), 3600, now).unwrap().lifetime_ms, 3_600_000);
    }
}
