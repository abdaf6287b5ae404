//! Authentication of requests, per the system's `auth` kind. Tokens are
//! fetched lazily, cached, and refreshed one at a time.

mod client_credentials;
mod code;
pub mod consent;
mod token_post;

pub use client_credentials::ClientCredentials;
pub use code::{AuthorizationCode, OauthClient, exchange_code};
pub use token_post::post_token;

use super::{CallError, ServerClock};

/// What a request carries to prove who sends it.
#[derive(Clone, Debug, Default)]
pub struct Credential {
    pub header: Option<(String, String)>,
    pub query: Option<(String, String)>,
    /// Which token this is, so a 401 only discards the token it was given with.
    pub generation: u64,
}

pub enum Auth {
    Static(Credential),
    ClientCredentials(ClientCredentials),
    AuthorizationCode(AuthorizationCode),
}

impl Auth {
    pub async fn credential(&self, http: &reqwest::Client, clock: &ServerClock) -> Result<Credential, CallError> {
        match self {
            Auth::Static(c) => Ok(c.clone()),
            Auth::ClientCredentials(c) => c.credential(http, clock).await,
            Auth::AuthorizationCode(c) => c.credential(http, clock, None).await,
        }
    }

    /// The system refused `rejected` (401): a new token, if one can be had.
    pub async fn renew(
        &self,
        connection: &str,
        said: &str,
        rejected: &Credential,
        http: &reqwest::Client,
        clock: &ServerClock,
    ) -> Result<Credential, CallError> {
        match self {
            Auth::Static(_) => Err(CallError::Stop {
                message: format!(
                    "connection `{connection}`: the system refused the stored credentials: {said} (HTTP 401); \
                     run \"flowmap connect {connection}\" with working ones"
                ),
            }),
            Auth::ClientCredentials(c) => {
                c.forget(rejected.generation).await;
                c.credential(http, clock).await
            }
            Auth::AuthorizationCode(c) => c.credential(http, clock, Some(rejected.generation)).await,
        }
    }

    /// The system refused the token `renew` just gave (a second 401): the run stops
    /// with what to do (and an OAuth consent is marked as lost).
    pub async fn refused_again(&self, connection: &str, said: &str) -> CallError {
        match self {
            Auth::AuthorizationCode(c) => c.refused_again(said).await,
            _ => CallError::Stop {
                message: format!(
                    "connection `{connection}`: a new token was refused too: {said} (HTTP 401); \
                     check the account's rights, then run \"flowmap connect {connection}\""
                ),
            },
        }
    }
}

/// `Authorization: Bearer …`.
pub fn bearer(token: &str) -> (String, String) {
    ("Authorization".to_string(), format!("Bearer {token}"))
}
