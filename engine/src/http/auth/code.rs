//! OAuth2 authorization code with rotating refresh tokens (Exact Online).
//!
//! Exact rotates the refresh token on every refresh and refuses an old one
//! for good ("Old refresh token used."): two refreshes racing lock the
//! customer out until someone consents again. So a refresh happens
//!  - one at a time in this process (the async mutex around the cache),
//!  - one at a time across processes (an exclusive SQLite transaction on the
//!    state file, inside which the stored tokens are read again: another
//!    process may have refreshed meanwhile, and then its token is used),
//!  - never within `min_refresh_seconds` of the last issue (Exact: 570 s)
//!    ahead of expiry; only a token the system refused (401) is refreshed
//!    sooner, once,
//!  - and the rotated refresh token is committed to the state file before
//!    the new access token is used.
//!
//! A refused refresh, or a 401 on the token the refresh just gave, marks the
//! connection as needing consent and stops the run: retrying cannot help.

use std::sync::Arc;

use flowmap_state::{State, TokenLock, TokenSet, Vault};
use tokio::sync::Mutex;

use super::super::{CallError, ServerClock, register_secret, token_answer};
use super::token_post::{TokenReply, client_fields, post_token, token_error};
use super::{Credential, bearer};
use crate::model::{ClientAuth, TokenBody};

/// The OAuth client a connection uses, and how it proves itself at the token endpoint.
#[derive(Clone)]
pub struct OauthClient {
    pub id: String,
    pub secret: String,
    pub auth: ClientAuth,
}

pub struct AuthorizationCode {
    pub connection: String,
    pub token_url: String,
    pub client: OauthClient,
    pub lifetime_s: u64,
    /// How long a rotated refresh token still works (Xero: 30 min): a refresh whose answer was
    /// lost is tried again at once with the same token.
    pub grace_ms: i64,
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
        client: OauthClient,
        lifetime_s: u64,
        grace_s: u64,
        min_refresh_s: u64,
        consent_lost: Vec<String>,
        too_early: Vec<String>,
        state: Arc<State>,
        vault: Arc<Vault>,
    ) -> Self {
        register_secret(&client.secret);
        AuthorizationCode {
            connection: connection.to_string(),
            token_url,
            client,
            lifetime_s,
            grace_ms: grace_s as i64 * 1000,
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
        // Known lost in this process: no call can succeed until someone consents again.
        if let Some(reason) = &current.needs_consent {
            return Err(self.consent_needed(reason));
        }
        let now = clock.now_ms();
        let refused = rejected.is_some_and(|g| g == current.issued_at_ms as u64);
        if !refused && now < current.expires_at_ms - REFRESH_AHEAD_MS {
            return Ok(credential(&current));
        }
        match self.refresh(http, clock, &current, refused).await {
            Ok(fresh) => {
                *cached = Some(fresh.clone());
                Ok(credential(&fresh))
            }
            Err(Failed::Consent(reason)) => {
                *cached = Some(TokenSet { needs_consent: Some(reason.clone()), ..current });
                Err(self.consent_needed(&reason))
            }
            Err(Failed::Other(e)) => Err(e),
        }
    }

    /// The system refused a token it had just issued (a 401 after the refresh):
    /// the grant is of no use any more. Marks the connection as needing consent.
    pub async fn refused_again(&self, said: &str) -> CallError {
        let reason = format!("a new access token was refused too: {said} (HTTP 401)");
        let mut cached = self.cached.lock().await;
        if let Err(e) = self.mark_needs_consent(&reason).await {
            return e;
        }
        if let Some(current) = cached.as_mut() {
            current.needs_consent = Some(reason.clone());
        }
        self.consent_needed(&reason)
    }

    async fn mark_needs_consent(&self, reason: &str) -> Result<(), CallError> {
        let state = self.state.clone();
        let (name, reason) = (self.connection.clone(), reason.to_string());
        tokio::task::spawn_blocking(move || state.lock_tokens(&name).and_then(|lock| lock.needs_consent(&reason)))
            .await
            .map_err(|e| CallError::Stop { message: format!("token lock: {e}") })?
            .map_err(|e| CallError::Stop { message: e.to_string() })
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

    /// A new token, one refresh at a time across tasks and processes. `refused`:
    /// the system refused the current access token, so a refresh is tried even
    /// within the minimum interval (the token is of no use, and the answer tells a
    /// lost consent from a token that is only early).
    async fn refresh(&self, http: &reqwest::Client, clock: &ServerClock, known: &TokenSet, refused: bool) -> Result<TokenSet, Failed> {
        let other = |e: String| Failed::Other(CallError::Stop { message: e });
        let state = self.state.clone();
        let name = self.connection.clone();
        let lock: TokenLock = tokio::task::spawn_blocking(move || state.lock_tokens(&name))
            .await
            .map_err(|e| other(format!("token lock: {e}")))?
            .map_err(|e| other(e.to_string()))?;
        let stored = lock.current(&self.vault).map_err(|e| other(e.to_string()))?.ok_or_else(|| Failed::Other(self.no_tokens()))?;
        if let Some(reason) = &stored.needs_consent {
            return Err(Failed::Consent(reason.clone()));
        }
        // Another task or process refreshed since we read the tokens: use theirs.
        if stored.issued_at_ms > known.issued_at_ms && clock.now_ms() < stored.expires_at_ms - REFRESH_AHEAD_MS / 2 {
            register_secret(&stored.access_token);
            return Ok(stored);
        }
        // Never within the minimum interval of the last issue (the system would refuse
        // it), unless the system refused the token we have.
        let earliest = stored.issued_at_ms + self.min_refresh_ms;
        if clock.now_ms() < earliest && !refused {
            if clock.now_ms() < stored.expires_at_ms {
                return Ok(stored);
            }
            tokio::time::sleep(clock.real_wait_until(earliest + 1000)).await;
        }
        let Some(refresh_token) = stored.refresh_token.clone() else {
            let reason = "no refresh token is stored".to_string();
            lock.needs_consent(&reason).map_err(|e| other(e.to_string()))?;
            return Err(Failed::Consent(reason));
        };
        let (mut fields, basic) = client_fields(self.client.auth, &self.client.id, &self.client.secret);
        fields.extend([("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())]);
        let mut reply = post_token(http, clock, &self.token_url, TokenBody::Form, &fields, basic.as_deref()).await;
        // A lost answer may have rotated the token; where the old one keeps working for a
        // while, asking again gets the rotation's tokens instead of a lost consent.
        let mut again = 0;
        while self.grace_ms > 0 && again < 2 && matches!(reply, Err(CallError::Unavailable { .. })) {
            again += 1;
            reply = post_token(http, clock, &self.token_url, TokenBody::Form, &fields, basic.as_deref()).await;
        }
        let reply = reply.map_err(Failed::Other)?;
        if reply.status == 200 {
            let issued = clock.now_ms();
            let answer = token_answer::parse(&reply.body, None, self.lifetime_s, issued).map_err(Failed::Other)?;
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
            store.await.map_err(|e| other(format!("token store: {e}")))?.map_err(|e| other(e.to_string()))?;
            return Ok(fresh);
        }
        self.refresh_refused(reply, lock, stored, clock, refused)
    }

    /// What a refused refresh means. "Too early" with a token still usable: use it.
    /// Any other refusal (4xx: OAuth2's invalid_grant, Exact's "Old refresh token
    /// used.", an expired refresh token, a client no longer allowed) or a text the
    /// system lists under `consent_lost`: only a new consent helps, and asking again
    /// would only spend the system's error budget. A server error: the system is down.
    fn refresh_refused(&self, reply: TokenReply, lock: TokenLock, stored: TokenSet, clock: &ServerClock, refused: bool) -> Result<TokenSet, Failed> {
        let said = token_error(&reply);
        let too_early = self.too_early.iter().any(|m| reply.text.contains(m.as_str()));
        if too_early && !refused && clock.now_ms() < stored.expires_at_ms {
            return Ok(stored);
        }
        if too_early {
            let from = super::super::format_utc(stored.issued_at_ms + self.min_refresh_ms);
            return Err(Failed::Other(CallError::Stop {
                message: format!(
                    "connection `{}`: the access token was refused (HTTP 401) and a new one can only be had from {from} \
                     (the token endpoint said: {said}); what is left waits for the next run",
                    self.connection
                ),
            }));
        }
        let lost = self.consent_lost.iter().any(|m| reply.text.contains(m.as_str()));
        if lost || (400..500).contains(&reply.status) {
            let reason = format!("the refresh was refused: {said}");
            lock.needs_consent(&reason).map_err(|e| Failed::Other(CallError::Stop { message: e.to_string() }))?;
            return Err(Failed::Consent(reason));
        }
        Err(Failed::Other(CallError::Stop {
            message: format!("connection `{}`: the token refresh failed (HTTP {}): {said}", self.connection, reply.status),
        }))
    }

    fn no_tokens(&self) -> CallError {
        CallError::Stop { message: format!("connection `{}` has no tokens: run \"flowmap connect {}\"", self.connection, self.connection) }
    }

    fn consent_needed(&self, reason: &str) -> CallError {
        CallError::Stop {
            message: format!(
                "connection `{}` needs consent again ({reason}); run \"flowmap connect {}\" and sign in",
                self.connection, self.connection
            ),
        }
    }
}

/// Why a refresh gave no token.
enum Failed {
    /// Only a new consent helps; the connection is marked so (the reason is stored).
    Consent(String),
    Other(CallError),
}

fn credential(t: &TokenSet) -> Credential {
    Credential { header: Some(bearer(&t.access_token)), query: None, generation: t.issued_at_ms as u64 }
}

/// Trades an authorization code for the first tokens and stores them (`flowmap connect`).
pub async fn exchange_code(
    http: &reqwest::Client,
    clock: &ServerClock,
    token_url: &str,
    code: &str,
    redirect_uri: &str,
    client: &OauthClient,
    lifetime_s: u64,
) -> Result<TokenSet, CallError> {
    let (mut fields, basic) = client_fields(client.auth, &client.id, &client.secret);
    fields.extend([("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)]);
    let reply = post_token(http, clock, token_url, TokenBody::Form, &fields, basic.as_deref()).await?;
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
