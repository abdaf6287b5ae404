use tokio::sync::Mutex;

use super::super::{CallError, ServerClock, redact, register_secret, token_answer};
use super::token_post::{post_token, token_error};
use super::{Credential, bearer};
use crate::model::TokenBody;

/// OAuth2 client credentials (Le New Black): the token is bought when first
/// needed and again shortly before it expires, kept in memory only.
pub struct ClientCredentials {
    pub connection: String,
    pub token_url: String,
    pub body: TokenBody,
    pub client_id: String,
    pub client_secret: String,
    pub token_query: Option<String>,
    pub expiry_field: Option<String>,
    pub lifetime_s: u64,
    cached: Mutex<Option<(Credential, i64)>>,
    generation: std::sync::atomic::AtomicU64,
}

impl ClientCredentials {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        connection: &str,
        token_url: String,
        body: TokenBody,
        client_id: String,
        client_secret: String,
        token_query: Option<String>,
        expiry_field: Option<String>,
        lifetime_s: u64,
    ) -> Self {
        register_secret(&client_secret);
        ClientCredentials {
            connection: connection.to_string(),
            token_url,
            body,
            client_id,
            client_secret,
            token_query,
            expiry_field,
            lifetime_s,
            cached: Mutex::new(None),
            generation: Default::default(),
        }
    }

    pub async fn credential(&self, http: &reqwest::Client, clock: &ServerClock) -> Result<Credential, CallError> {
        let mut cached = self.cached.lock().await;
        if let Some((c, expires)) = cached.as_ref()
            && clock.now_ms() < expires - 60_000
        {
            return Ok(c.clone());
        }
        let fields = [("grant_type", "client_credentials"), ("client_id", self.client_id.as_str()), ("client_secret", self.client_secret.as_str())];
        let reply = post_token(http, clock, &self.token_url, self.body, &fields, None).await?;
        if reply.status != 200 {
            return Err(CallError::Stop {
                message: format!(
                    "connection `{}`: the token endpoint refused the client credentials: {} (HTTP {}); \
                     run \"flowmap connect {}\" with the current client id and secret",
                    self.connection,
                    token_error(&reply),
                    reply.status,
                    self.connection
                ),
            });
        }
        let now = clock.now_ms();
        let answer = token_answer::parse(&reply.body, self.expiry_field.as_deref(), self.lifetime_s, now)?;
        register_secret(&answer.access_token);
        let generation = self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let credential = match &self.token_query {
            Some(param) => Credential { header: None, query: Some((param.clone(), answer.access_token.clone())), generation },
            None => Credential { header: Some(bearer(&answer.access_token)), query: None, generation },
        };
        *cached = Some((credential.clone(), now + answer.lifetime_ms));
        Ok(credential)
    }

    /// Drops the cached token if it is the one that was refused.
    pub async fn forget(&self, generation: u64) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|(c, _)| c.generation == generation) {
            *cached = None;
        }
    }
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientCredentials({}, {})", self.connection, redact(&self.token_url))
    }
}
