//! Intuit's OAuth 2.0 grants (notes §1: Intuit's OAuth FAQ, intuit/oauth-jsclient README): codes
//! used once (10 minutes here), access tokens for 3600 s, refresh tokens for 100 days
//! (`x_refresh_token_expires_in` 8726400) that rotate: "always keep the latest one, the old one
//! soon stops working". The sandbox chooses no grace at all — a rotated-out refresh token is
//! `invalid_grant` at once — so a client that does not keep the latest token fails here first.

use std::collections::HashMap;

pub const ACCESS_SECONDS: i64 = 3600;
pub const REFRESH_SECONDS: i64 = 8_726_400;
const CODE_MS: i64 = 10 * 60_000;

struct Code {
    redirect_uri: String,
    issued_ms: i64,
}

#[derive(Default)]
pub struct Tokens {
    codes: HashMap<String, Code>,
    /// Access token → expiry (sandbox clock, epoch ms).
    access: HashMap<String, i64>,
    /// Refresh token → expiry; removed when rotated out.
    refresh: HashMap<String, i64>,
}

pub struct Grant {
    pub access_token: String,
    pub refresh_token: String,
}

pub enum Access {
    Valid,
    Expired,
    Unknown,
}

impl Tokens {
    pub fn new_code(&mut self, redirect_uri: &str, now_ms: i64) -> String {
        let code = crate::random::new_token("qbo-code-");
        self.codes.insert(code.clone(), Code { redirect_uri: redirect_uri.to_string(), issued_ms: now_ms });
        code
    }

    /// `None`: unknown, used, expired or for another redirect URI (all `invalid_grant`).
    pub fn redeem_code(&mut self, code: &str, redirect_uri: &str, now_ms: i64) -> Option<Grant> {
        let issued = self.codes.remove(code)?;
        if issued.redirect_uri != redirect_uri || now_ms - issued.issued_ms > CODE_MS {
            return None;
        }
        Some(self.grant(now_ms))
    }

    /// A new pair; the refresh token used is spent. `None`: unknown, expired or already rotated out.
    pub fn refresh(&mut self, token: &str, now_ms: i64) -> Option<Grant> {
        let expiry = self.refresh.remove(token)?;
        if expiry <= now_ms {
            return None;
        }
        Some(self.grant(now_ms))
    }

    pub fn revoke_all(&mut self) {
        self.codes.clear();
        self.access.clear();
        self.refresh.clear();
    }

    pub fn check(&self, access_token: &str, now_ms: i64) -> Access {
        match self.access.get(access_token) {
            Some(expiry) if *expiry > now_ms => Access::Valid,
            Some(_) => Access::Expired,
            None => Access::Unknown,
        }
    }

    fn grant(&mut self, now_ms: i64) -> Grant {
        let access_token = crate::random::new_token("qbo-access-");
        self.access.insert(access_token.clone(), now_ms + ACCESS_SECONDS * 1000);
        let refresh_token = crate::random::new_token("qbo-refresh-");
        self.refresh.insert(refresh_token.clone(), now_ms + REFRESH_SECONDS * 1000);
        Grant { access_token, refresh_token }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_token_works_once_and_its_successor_takes_over() {
        let mut tokens = Tokens::default();
        let code = tokens.new_code("http://x/cb", 0);
        assert!(tokens.redeem_code(&code, "http://y/cb", 0).is_none(), "another redirect URI spends the code");
        let code = tokens.new_code("http://x/cb", 0);
        let first = tokens.redeem_code(&code, "http://x/cb", 1000).unwrap();
        let second = tokens.refresh(&first.refresh_token, 2000).unwrap();
        assert!(tokens.refresh(&first.refresh_token, 2000).is_none(), "rotated out, no grace");
        assert!(tokens.refresh(&second.refresh_token, 3000).is_some());
    }
}
