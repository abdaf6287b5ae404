//! The Exact Online emulator: OAuth, the REST API of one division, rate limits.

mod api;
pub mod catalogue;
mod control;
mod defaults;
mod envelope;
pub(crate) mod oauth;
pub mod odata;
mod path;
pub mod picture;
mod projection;
mod rate_limit;
mod read;
pub mod store;
mod tokens;
mod validate;
pub mod webhooks;
mod write;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use serde_json::Value;

use crate::core::{Emulator, Settings, Shared};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
use rate_limit::RateLimiter;
use store::Store;
use tokens::Tokens;
use webhooks::{WebhookDelivery, Webhooks};

pub struct Exact {
    shared: Arc<Shared>,
    /// Its own limits (the registry's entry for `exact`).
    own: Arc<Settings>,
    client_id: String,
    client_secret: String,
    division: i64,
    /// `http://127.0.0.1:PORT`, for `__next` links and `__metadata.uri`.
    base_url: String,
    user_id: String,
    /// Shared so that an answer worked out after a callback check can still write.
    state: Arc<Mutex<ExactState>>,
    webhooks: Arc<Webhooks>,
}

pub struct ExactState {
    pub store: Store,
    tokens: Tokens,
    limiter: RateLimiter,
}

pub struct ExactSettings {
    pub client_id: String,
    pub client_secret: String,
    pub division: i64,
    pub base_url: String,
    pub webhook_secret: String,
}

impl Exact {
    pub fn new(shared: Arc<Shared>, own: Arc<Settings>, settings: ExactSettings, store: Store) -> Exact {
        let api_base = format!("{}/api/v1/{}", settings.base_url, settings.division);
        let webhooks = Arc::new(Webhooks::new(settings.webhook_secret, settings.client_id.clone(), settings.division, api_base));
        Exact {
            shared,
            own,
            client_id: settings.client_id,
            client_secret: settings.client_secret,
            division: settings.division,
            base_url: settings.base_url,
            user_id: crate::random::new_guid(),
            state: Arc::new(Mutex::new(ExactState { store, tokens: Tokens::default(), limiter: RateLimiter::default() })),
            webhooks,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, ExactState> {
        lock(&self.state)
    }

    fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// `http://127.0.0.1:PORT/api/v1/DIVISION`
    fn api_base(&self) -> String {
        format!("{}/api/v1/{}", self.base_url, self.division)
    }

    /// Every record of `service/Entity`, as the API serves them with their lines expanded; `None` for an unknown entity.
    pub fn records(&self, path: &str) -> Option<Vec<Value>> {
        let state = self.lock();
        let entity = state.store.by_path(path)?;
        let base = self.api_base();
        Some(entity.records.iter().map(|r| Value::Object(entity.served_whole(r, &base))).collect())
    }

    /// Changes fields of record `key` of `service/Entity` as someone working in Exact would:
    /// the values are stored as given (top-level fields only) and `Modified` moves to now.
    pub fn edit(&self, path: &str, key: &str, fields: serde_json::Map<String, Value>) -> Result<(), String> {
        let now = self.now_ms();
        let mut state = self.lock();
        let (service, name) = path.split_once('/').ok_or_else(|| format!("`{path}` is not service/Entity"))?;
        let entity = state.store.entity_for_seed(service, name);
        let record = entity.get_mut(key).ok_or_else(|| format!("{path} has no record `{key}`"))?;
        for (field, value) in fields {
            record.insert(field, value);
        }
        record.insert("Modified".into(), Value::String(format!("/Date({now})/")));
        Ok(())
    }

    /// Every webhook event sent so far, in the order their deliveries finished.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.webhooks.deliveries()
    }

    /// An event for `key` to every subscriber of `topic`; the future sends them all and yields
    /// their deliveries. Refused for an unknown topic or action.
    pub fn fire_webhook(&self, topic: &str, key: &str, action: &str) -> Result<impl Future<Output = Vec<WebhookDelivery>> + Send + 'static, String> {
        let topic = webhooks::topic(topic).ok_or_else(|| format!("unknown webhook topic `{topic}` (use {})", webhooks::topic_names()))?;
        let action = webhooks::action(action).ok_or_else(|| format!("unknown webhook action `{action}` (use Update or Delete)"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err("a webhook event needs the key of a record".into());
        }
        let urls = webhooks::subscribers(&self.lock().store, topic);
        Ok(self.webhooks.send(urls, topic, key.to_string(), action, self.now_ms()))
    }
}

fn lock(state: &Mutex<ExactState>) -> MutexGuard<'_, ExactState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Emulator for Exact {
    fn name(&self) -> &'static str {
        "exact"
    }

    fn handle(&self, request: &ApiRequest) -> ApiResponse {
        match request.path.as_str() {
            "/api/oauth2/auth" => oauth::authorize(self, request),
            "/api/oauth2/token" if request.method == axum::http::Method::POST => oauth::token(self, request),
            "/api/oauth2/token" => envelope::error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed."),
            picture::PATH if request.method == axum::http::Method::GET => picture::serve(self, request),
            path => match path.strip_prefix("/api/v1/") {
                Some(rest) => api::handle(self, request, rest),
                None => envelope::not_found(),
            },
        }
    }

    fn fault_eligible(&self, request: &ApiRequest) -> bool {
        request.path.starts_with("/api/v1/")
    }

    fn error(&self, status: StatusCode, message: &str) -> ApiResponse {
        envelope::error(status, message)
    }

    fn too_many_requests_message(&self) -> &'static str {
        envelope::RATE_LIMIT_EXCEEDED
    }

    fn control(&self, request: &ApiRequest, path: &str) -> Option<ApiResponse> {
        control::handle(self, request, path)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
