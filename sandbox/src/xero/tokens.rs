//! Xero's OAuth 2.0 grants (developer.xero.com/faq/oauth2, shared/reference/partner-systems.md §2):
//! authorization codes used once within 5 minutes; access tokens for 30 minutes; refresh tokens
//! (only with the `offline_access` scope) that rotate on every refresh, expire after 60 days
//! unused, and stay usable for 30 minutes after they were rotated, so a client that lost the
//! refresh answer can retry. Tokens are opaque here; Xero's are JWTs (nothing reads inside them).

use std::collections::HashMap;

pub const ACCESS_SECONDS: i64 = 1800;
const CODE_MS: i64 = 5 * 60_000;
const REFRESH_UNUSED_MS: i64 = 60 * 86_400_000;
const ROTATION_GRACE_MS: i64 = 30 * 60_000;

struct Code {
    redirect_uri: String,
    scope: String,
    issued_ms: i64,
}

struct Refresh {
    scope: String,
    issued_ms: i64,
    rotated_ms: Option<i64>,
}

#[derive(Default)]
pub struct Tokens {
    codes: HashMap<String, Code>,
    /// Access token → expiry (sandbox clock, epoch ms).
    access: HashMap<String, i64>,
    refresh: HashMap<String, Refresh>,
}

/// What the token endpoint hands out.
pub struct Grant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scope: String,
}

pub enum Access {
    Valid,
    Expired(i64),
    Unknown,
}

impl Tokens {
    pub fn new_code(&mut self, redirect_uri: &str, scope: &str, now_ms: i64) -> String {
        let code = crate::random::new_token("xero-code-");
        self.codes.insert(code.clone(), Code { redirect_uri: redirect_uri.to_string(), scope: scope.to_string(), issued_ms: now_ms });
        code
    }

    /// `None`: unknown, used, expired or for another redirect URI (all `invalid_grant`).
    pub fn redeem_code(&mut self, code: &str, redirect_uri: &str, now_ms: i64) -> Option<Grant> {
        let issued = self.codes.remove(code)?;
        if issued.redirect_uri != redirect_uri || now_ms - issued.issued_ms > CODE_MS {
            return None;
        }
        Some(self.grant(&issued.scope, now_ms))
    }

    /// `None`: unknown, unused for 60 days, or rotated more than 30 minutes ago.
    pub fn refresh(&mut self, token: &str, now_ms: i64) -> Option<Grant> {
        let refresh = self.refresh.get_mut(token)?;
        if now_ms - refresh.issued_ms > REFRESH_UNUSED_MS || refresh.rotated_ms.is_some_and(|at| now_ms - at > ROTATION_GRACE_MS) {
            return None;
        }
        refresh.rotated_ms.get_or_insert(now_ms);
        let scope = refresh.scope.clone();
        Some(self.grant(&scope, now_ms))
    }

    /// Every token issued so far stops working (a user who disconnected the app, a revoked
    /// grant): only a new consent helps.
    pub fn revoke_all(&mut self) {
        self.codes.clear();
        self.access.clear();
        self.refresh.clear();
    }

    pub fn check(&self, access_token: &str, now_ms: i64) -> Access {
        match self.access.get(access_token) {
            Some(expiry) if *expiry > now_ms => Access::Valid,
            Some(expiry) => Access::Expired(*expiry),
            None => Access::Unknown,
        }
    }

    fn grant(&mut self, scope: &str, now_ms: i64) -> Grant {
        let access_token = crate::random::new_token("xero-access-");
        self.access.insert(access_token.clone(), now_ms + ACCESS_SECONDS * 1000);
        let refresh_token = scope.split_whitespace().any(|s| s == "offline_access").then(|| {
            let token = crate::random::new_token("xero-refresh-");
            self.refresh.insert(token.clone(), Refresh { scope: scope.to_string(), issued_ms: now_ms, rotated_ms: None });
            token
        });
        Grant { access_token, refresh_token, scope: scope.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_refresh_token_works_for_thirty_minutes_more() {
        let mut tokens = Tokens::default();
        let code = tokens.new_code("http://x/cb", "openid offline_access accounting.transactions", 0);
        let first = tokens.redeem_code(&code, "http://x/cb", 1000).unwrap();
        assert!(tokens.redeem_code(&code, "http://x/cb", 1000).is_none(), "a code is used once");
        let old = first.refresh_token.unwrap();
        let second = tokens.refresh(&old, 10_000).unwrap();
        assert!(tokens.refresh(&old, 10_000 + ROTATION_GRACE_MS).is_some(), "within the grace");
        assert!(tokens.refresh(&old, 10_001 + ROTATION_GRACE_MS).is_none(), "after the grace");
        assert!(tokens.refresh(&second.refresh_token.unwrap(), 20_000).is_some());
    }

    #[test]
    fn no_refresh_token_without_offline_access() {
        let mut tokens = Tokens::default();
        let code = tokens.new_code("http://x/cb", "accounting.transactions", 0);
        assert!(tokens.redeem_code(&code, "http://x/cb", 0).unwrap().refresh_token.is_none());
    }
}
