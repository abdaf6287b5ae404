//! The Exact Online emulator: OAuth, the REST API of one division, rate limits.

mod api;
pub mod catalogue;
mod envelope;
mod oauth;
pub mod odata;
mod path;
mod rate_limit;
mod read;
pub mod store;
mod tokens;
mod validate;
mod write;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use serde_json::Value;

use crate::core::{Emulator, Shared};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
use rate_limit::RateLimiter;
use store::Store;
use tokens::Tokens;

pub struct Exact {
    shared: Arc<Shared>,
    client_id: String,
    client_secret: String,
    division: i64,
    /// `http://127.0.0.1:PORT`, for `__next` links and `__metadata.uri`.
    base_url: String,
    user_id: String,
    state: Mutex<ExactState>,
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
}

impl Exact {
    pub fn new(shared: Arc<Shared>, settings: ExactSettings, store: Store) -> Exact {
        Exact {
            shared,
            client_id: settings.client_id,
            client_secret: settings.client_secret,
            division: settings.division,
            base_url: settings.base_url,
            user_id: crate::random::new_guid(),
            state: Mutex::new(ExactState { store, tokens: Tokens::default(), limiter: RateLimiter::default() }),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, ExactState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// `http://127.0.0.1:PORT/api/v1/DIVISION`
    fn api_base(&self) -> String {
        format!("{}/api/v1/{}", self.base_url, self.division)
    }

    /// Every record of `service/Entity`, as the API serves them; `None` for an unknown entity.
    pub fn records(&self, path: &str) -> Option<Vec<Value>> {
        let state = self.lock();
        let entity = state.store.by_path(path)?;
        let base = self.api_base();
        Some(entity.records.iter().map(|r| Value::Object(entity.served(r, &base))).collect())
    }
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
}
