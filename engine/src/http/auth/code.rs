//! OAuth2 authorization code with rotating refresh tokens (Exact Online).
//!
//! Exact rotates the refresh token on every refresh and refuses an old one
//! for good ("Old refresh token used."): two refreshes racing lock the
//! customer out until someone consents again. So a refresh happens
//!  - one at a time in this process (the async mutex around the cache),
//!  - one at a time across processes (an exclusive SQLite transaction on the
//!    state file, inside which the stored tokens are read again: another
//!    process may have refreshed meanwhile, and then its token is used),
//!  - never within `min_refresh_seconds` of the last issue (Exact: 570 s),
//!  - and the rotated refresh token is committed to the state file before
//!    the new access token is used.
//!
//! An answer saying the refresh token is no longer valid marks the
//! connection as needing consent and stops the run: retrying cannot help.

use std::sync::Arc;

use flowmap_state::{State, TokenLock, TokenSet, Vault};
use tokio::sync::Mutex;

use super::super::{CallError, ServerClock, register_secret, token_answer};
use super::token_post::{TokenReply, post_token, token_error};
use super::{Credential, bearer};
use crate::model::TokenBody;

pub struct AuthorizationCode {
    pub connection: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub lifetime_s: u64,
    pub min_refresh_ms: i64,
    pub consent_lost: Vec<String>,
    pub too_early: Vec<String>,
    pub state: Arc<State>,
    pub vault: Arc<Vault>,
    cached: Mutex<Option<TokenSet>>,
}

/// Refresh this long before expiry (server time), unless the minimum interval forbids it.
const REFRESH_AHEAD_MS: i64 = 20_000;

impl AuthorizationCode {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        connection: &str,
        token_url: String,
        client_id: String,
        client_secret: String,
        lifetime_s: u64,
        min_refresh_s: u64,
        consent_lost: Vec<String>,
        too_early: Vec<String>,
        state: Arc<State>,
        vault: Arc<Vault>,
    ) -> Self {
        register_secret(&client_secret);
        AuthorizationCode {
            connection: connection.to_string(),
            token_url,
            client_id,
            client_secret,
            lifetime_s,
            min_refresh_ms: min_refresh_s as i64 * 1000,
            consent_lost,
            too_early,
            state,
            vault,
            cached: Mutex::new(None),
        }
    }

    /// A valid access token. `rejected`: the generation (issue time) of a token the system just refused.
    pub async fn credential(&self, http: &reqwest::Client, clock: &ServerClock, rejected: Option<u64>) -> Result<Credential, CallError> {
        let mut cached = self.cached.lock().await;
        if cached.is_none() {
            *cached = Some(self.stored()?);
        }
        let current = cached.as_ref().cloned().ok_or_else(|| self.no_tokens())?;
        let now = clock.now_ms();
        let refused = rejected.is_some_and(|g| g == current.issued_at_ms as u64);
        if !refused && now < current.expires_at_ms - REFRESH_AHEAD_MS {
            return Ok(credential(&current));
        }
        let fresh = self.refresh(http, clock, &current).await?;
        *cached = Some(fresh.clone());
        Ok(credential(&fresh))
    }

    fn stored(&self) -> Result<TokenSet, CallError> {
        let tokens = self.state.tokens(&self.vault, &self.connection).map_err(|e| CallError::Stop { message: e.to_string() })?;
        let tokens = tokens.ok_or_else(|| self.no_tokens())?;
        if let Some(reason) = &tokens.needs_consent {
            return Err(self.consent_needed(reason));
        }
        register_secret(&tokens.access_token);
        if let Some(r) = &tokens.refresh_token {
            register_secret(r);
        }
        Ok(tokens)
    }

    async fn refresh(&self, http: &reqwest::Client, clock: &ServerClock, known: &TokenSet) -> Result<TokenSet, CallError> {
        let state = self.state.clone();
        let name = self.connection.clone();
        let lock: TokenLock = tokio::task::spawn_blocking(move || state.lock_tokens(&name))
            .await
            .map_err(|e| CallError::Stop { message: format!("token lock: {e}") })?
            .map_err(|e| CallError::Stop { message: e.to_string() })?;
        let stored = lock.current(&self.vault).map_err(|e| CallError::Stop { message: e.to_string() })?.ok_or_else(|| self.no_tokens())?;
        if let Some(reason) = &stored.needs_consent {
            return Err(self.consent_needed(reason));
        }
        // Another task or process refreshed since we read the tokens: use theirs.
        if stored.issued_at_ms > known.issued_at_ms && clock.now_ms() < stored.expires_at_ms - REFRESH_AHEAD_MS / 2 {
            register_secret(&stored.access_token);
            return Ok(stored);
        }
        // Never within the minimum interval of the last issue: the system would refuse it.
        let earliest = stored.issued_at_ms + self.min_refresh_ms;
        if clock.now_ms() < earliest {
            if clock.now_ms() < stored.expires_at_ms {
                return Ok(stored);
            }
            tokio::time::sleep(clock.real_wait_until(earliest + 1000)).await;
        }
        let Some(refresh_token) = stored.refresh_token.clone() else {
            return Err(self.consent_needed("no refresh token is stored"));
        };
        let fields = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
        ];
        let reply = post_token(http, clock, &self.token_url, TokenBody::Form, &fields).await?;
        if reply.status == 200 {
            let issued = clock.now_ms();
            let answer = token_answer::parse(&reply.body, None, self.lifetime_s, issued)?;
            register_secret(&answer.access_token);
            let fresh = TokenSet {
                access_token: answer.access_token,
                refresh_token: answer.refresh_token.or(Some(refresh_token)),
                issued_at_ms: issued,
                expires_at_ms: issued + answer.lifetime_ms,
                needs_consent: None,
            };
            if let Some(r) = &fresh.refresh_token {
                register_secret(r);
            }
            // Durable before use: a crash after this line loses nothing.
            let store = {
                let vault = self.vault.clone();
                let fresh = fresh.clone();
                tokio::task::spawn_blocking(move || lock.store(&vault, &fresh))
            };
            store
                .await
                .map_err(|e| CallError::Stop { message: format!("token store: {e}") })?
                .map_err(|e| CallError::Stop { message: e.to_string() })?;
            return Ok(fresh);
        }
        self.refresh_refused(reply, lock, stored, clock)
    }

    fn refresh_refused(&self, reply: TokenReply, lock: TokenLock, stored: TokenSet, clock: &ServerClock) -> Result<TokenSet, CallError> {
        let said = token_error(&reply);
        if self.consent_lost.iter().any(|m| reply.text.contains(m.as_str())) {
            let reason = format!("the refresh was refused: {said}");
            lock.needs_consent(&reason).map_err(|e| CallError::Stop { message: e.to_string() })?;
            return Err(self.consent_needed(&reason));
        }
        if self.too_early.iter().any(|m| reply.text.contains(m.as_str())) && clock.now_ms() < stored.expires_at_ms {
            return Ok(stored);
        }
        Err(CallError::Stop { message: format!("connection `{}`: the token refresh failed (HTTP {}): {said}", self.connection, reply.status) })
    }

    fn no_tokens(&self) -> CallError {
        CallError::Stop { message: format!("connection `{}` has no tokens: run `flowmap connect {}`", self.connection, self.connection) }
    }

    fn consent_needed(&self, reason: &str) -> CallError {
        CallError::Stop {
            message: format!(
                "connection `{}` needs consent again ({reason}); run `flowmap connect {}` and sign in",
                self.connection, self.connection
            ),
        }
    }
}

fn credential(t: &TokenSet) -> Credential {
    Credential { header: Some(bearer(&t.access_token)), query: None, generation: t.issued_at_ms as u64 }
}

/// Trades an authorization code for the first tokens and stores them (`flowmap connect`).
#[allow(clippy::too_many_arguments)]
pub async fn exchange_code(
    http: &reqwest::Client,
    clock: &ServerClock,
    token_url: &str,
    code: &str,
    redirect_uri: &str,
    client_id: &str,
    client_secret: &str,
    lifetime_s: u64,
) -> Result<TokenSet, CallError> {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("client_secret", client_secret),
    ];
    let reply = post_token(http, clock, token_url, TokenBody::Form, &fields).await?;
    if reply.status != 200 {
        return Err(CallError::Stop { message: format!("the authorization code was refused (HTTP {}): {}", reply.status, token_error(&reply)) });
    }
    let issued = clock.now_ms();
    let answer = token_answer::parse(&reply.body, None, lifetime_s, issued)?;
    register_secret(&answer.access_token);
    if let Some(r) = &answer.refresh_token {
        register_secret(r);
    }
    Ok(TokenSet {
        access_token: answer.access_token,
        refresh_token: answer.refresh_token,
        issued_at_ms: issued,
        expires_at_ms: issued + answer.lifetime_ms,
        needs_consent: None,
    })
}
