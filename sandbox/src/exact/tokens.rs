//! Exact's OAuth rules, without HTTP: authorization codes (single use, 3 minutes), access tokens
//! (600 s), rotating refresh tokens (an old one is refused, an unused one expires after 30 days)
//! and the 570-second minimum between two token issues of one grant.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::random::new_token;

pub const ACCESS_TOKEN_MS: i64 = 600_000;
pub const CODE_MS: i64 = 180_000;
pub const MIN_REFRESH_MS: i64 = 570_000;
pub const REFRESH_UNUSED_MS: i64 = 30 * 86_400_000;
/// Expired access tokens are remembered this long, to answer "expired" rather than "unknown".
const FORGET_EXPIRED_MS: i64 = 86_400_000;

#[derive(Default)]
pub struct Tokens {
    codes: HashMap<String, Code>,
    refresh: HashMap<String, Refresh>,
    /// Access token → expiry (epoch ms) and serial number.
    access: HashMap<String, (i64, u64)>,
    /// One per consent: when it last issued tokens.
    grants: Vec<i64>,
    /// Tokens are numbered as issued; revocations refuse those below a number.
    next_serial: u64,
    revoked: Revoked,
}

/// What the control API revoked: access tokens, or refresh tokens too, numbered
/// below a mark (`u64::MAX`: also those issued later, until the next consent).
/// Atomics, because a revocation due "after N requests" happens while a request
/// is checked, which only reads the tokens.
#[derive(Default)]
struct Revoked {
    access_below: AtomicU64,
    refresh_below: AtomicU64,
    /// API requests still to pass before `due` takes effect (0: nothing due).
    countdown: AtomicU64,
    due: std::sync::Mutex<Option<Revoke>>,
}

/// A revocation, as the control API asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revoke {
    /// Refresh tokens too: as after a restart of the token store, or the user removing the app.
    pub refresh_tokens: bool,
    /// Access tokens issued later are refused too, until the next consent.
    pub until_consent: bool,
}

struct Code {
    redirect_uri: String,
    issued_ms: i64,
}

struct Refresh {
    grant: usize,
    serial: u64,
    issued_ms: i64,
    rotated: bool,
}

pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Unknown, used or expired code; unknown refresh token; redirect URI mismatch.
    InvalidGrant,
    /// A refresh token that was already exchanged.
    OldRefreshToken,
    /// Unused for 30 days.
    RefreshExpired { expired_ms: i64 },
    /// Within 570 s of the grant's last token issue.
    TooEarly { last_issue_ms: i64 },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Access {
    Valid,
    Expired,
    Unknown,
}

impl Tokens {
    pub fn issue_code(&mut self, redirect_uri: &str, now_ms: i64) -> String {
        self.codes.retain(|_, c| now_ms - c.issued_ms <= CODE_MS);
        let code = new_token("");
        self.codes.insert(code.clone(), Code { redirect_uri: redirect_uri.to_string(), issued_ms: now_ms });
        code
    }

    /// Exchanges a code once; a new grant (consent) starts here.
    pub fn exchange_code(&mut self, code: &str, redirect_uri: &str, now_ms: i64) -> Result<Issued, TokenError> {
        let found = self.codes.remove(code).ok_or(TokenError::InvalidGrant)?;
        if now_ms - found.issued_ms > CODE_MS || found.redirect_uri != redirect_uri {
            return Err(TokenError::InvalidGrant);
        }
        self.grants.push(now_ms);
        // A new consent ends a refusal of tokens issued later.
        let _ = self.revoked.access_below.compare_exchange(u64::MAX, self.next_serial, Ordering::SeqCst, Ordering::SeqCst);
        Ok(self.issue(self.grants.len() - 1, now_ms))
    }

    pub fn refresh(&mut self, refresh_token: &str, now_ms: i64) -> Result<Issued, TokenError> {
        let found = self.refresh.get(refresh_token).ok_or(TokenError::InvalidGrant)?;
        if found.serial < self.revoked.refresh_below.load(Ordering::SeqCst) {
            return Err(TokenError::InvalidGrant);
        }
        if found.rotated {
            return Err(TokenError::OldRefreshToken);
        }
        let expired_ms = found.issued_ms + REFRESH_UNUSED_MS;
        if now_ms > expired_ms {
            return Err(TokenError::RefreshExpired { expired_ms });
        }
        let grant = found.grant;
        let last_issue_ms = self.grants[grant];
        if now_ms - last_issue_ms < MIN_REFRESH_MS {
            return Err(TokenError::TooEarly { last_issue_ms });
        }
        if let Some(old) = self.refresh.get_mut(refresh_token) {
            old.rotated = true;
        }
        self.grants[grant] = now_ms;
        Ok(self.issue(grant, now_ms))
    }

    /// Whether an access token is good now. Each call counts as one API request
    /// towards a revocation due after some.
    pub fn access(&self, token: &str, now_ms: i64) -> Access {
        let answer = match self.access.get(token) {
            None => Access::Unknown,
            Some(&(_, serial)) if serial < self.revoked.access_below.load(Ordering::SeqCst) => Access::Unknown,
            Some(&(expires, _)) if now_ms >= expires => Access::Expired,
            Some(_) => Access::Valid,
        };
        let left = self.revoked.countdown.load(Ordering::SeqCst);
        if left > 0 && self.revoked.countdown.compare_exchange(left, left - 1, Ordering::SeqCst, Ordering::SeqCst) == Ok(1) {
            let due = self.revoked.due.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(revoke) = due {
                self.apply(revoke);
            }
        }
        answer
    }

    /// Revokes the tokens issued so far, now or once `after_requests` more API requests were checked.
    pub fn revoke(&mut self, revoke: Revoke, after_requests: u64) {
        if after_requests == 0 {
            self.apply(revoke);
        } else {
            *self.revoked.due.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(revoke);
            self.revoked.countdown.store(after_requests, Ordering::SeqCst);
        }
    }

    fn apply(&self, revoke: Revoke) {
        let mark = if revoke.until_consent { u64::MAX } else { self.next_serial };
        self.revoked.access_below.store(mark, Ordering::SeqCst);
        if revoke.refresh_tokens {
            self.revoked.refresh_below.store(self.next_serial, Ordering::SeqCst);
        }
    }

    fn issue(&mut self, grant: usize, now_ms: i64) -> Issued {
        self.access.retain(|_, (expires, _)| now_ms - *expires < FORGET_EXPIRED_MS);
        let issued = Issued { access_token: new_token("sbx."), refresh_token: new_token("") };
        let serial = self.next_serial;
        self.next_serial += 1;
        self.access.insert(issued.access_token.clone(), (now_ms + ACCESS_TOKEN_MS, serial));
        self.refresh.insert(issued.refresh_token.clone(), Refresh { grant, serial, issued_ms: now_ms, rotated: false });
        issued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn consented(tokens: &mut Tokens) -> Issued {
        let code = tokens.issue_code("http://localhost/cb", T0);
        tokens.exchange_code(&code, "http://localhost/cb", T0).expect("exchange")
    }

    #[test]
    fn codes_are_single_use_short_lived_and_bound_to_the_redirect() {
        let mut tokens = Tokens::default();
        let code = tokens.issue_code("http://localhost/cb", T0);
        assert_eq!(tokens.exchange_code(&code, "http://other/cb", T0).err(), Some(TokenError::InvalidGrant));
        let code = tokens.issue_code("http://localhost/cb", T0);
        assert!(tokens.exchange_code(&code, "http://localhost/cb", T0).is_ok());
        assert_eq!(tokens.exchange_code(&code, "http://localhost/cb", T0).err(), Some(TokenError::InvalidGrant));
        let late = tokens.issue_code("http://localhost/cb", T0);
        assert_eq!(tokens.exchange_code(&late, "http://localhost/cb", T0 + CODE_MS + 1).err(), Some(TokenError::InvalidGrant));
    }

    #[test]
    fn refresh_rotates_and_refuses_early_old_and_stale_tokens() {
        let mut tokens = Tokens::default();
        let first = consented(&mut tokens);
        assert_eq!(tokens.refresh(&first.refresh_token, T0 + 569_000).err(), Some(TokenError::TooEarly { last_issue_ms: T0 }));
        let second = tokens.refresh(&first.refresh_token, T0 + 570_000).expect("refresh");
        assert_eq!(tokens.refresh(&first.refresh_token, T0 + 2_000_000).err(), Some(TokenError::OldRefreshToken));
        assert_eq!(tokens.access(&first.access_token, T0 + 599_000), Access::Valid, "older access tokens live out their time");
        assert_eq!(tokens.access(&first.access_token, T0 + 600_000), Access::Expired);
        assert_eq!(tokens.access("nope", T0), Access::Unknown);
        let stale = T0 + 570_000 + REFRESH_UNUSED_MS + 1;
        assert!(matches!(tokens.refresh(&second.refresh_token, stale), Err(TokenError::RefreshExpired { .. })));
        assert_eq!(tokens.refresh("unknown", T0).err(), Some(TokenError::InvalidGrant));
    }
}
