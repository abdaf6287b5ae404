//! The engine's HTTP API. Everything but `/health` asks for the bearer token
//! from configuration; a system's webhook callback is proven by its signature
//! instead (no system can send our token), a consent's callback by its `state`.

mod body;
mod consent;
mod flows;
mod health;
mod inbox;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::json;

use super::engine::Engine;
pub use webhooks::check_definition as check_webhooks;

#[derive(Clone)]
pub struct Api {
    pub engine: Arc<Engine>,
    /// The bearer token every caller but health checks and webhooks presents.
    pub token: Arc<str>,
}

pub fn router(api: Api) -> Router {
    let guarded = Router::new()
        .route("/flows", get(flows::list))
        .route("/flows/{name}", get(flows::one))
        .route("/flows/{name}/runs", post(flows::start).get(flows::runs))
        .route("/flows/{name}/replay", post(flows::replay))
        .route("/flows/{name}/preview", post(flows::preview))
        .route("/flows/{name}/records/{key}", get(flows::history))
        .route("/runs", get(flows::all_runs))
        .route("/inbox", get(inbox::list))
        .route("/inbox/{flow}", delete(inbox::drop_dead))
        .route("/inbox/{flow}/{key}", delete(inbox::drop_one))
        .route("/inbox/{flow}/{key}/retry", post(inbox::retry))
        .route("/metrics", get(health::metrics))
        .route("/connections/{name}/consent", post(consent::start))
        // Layers run last-added first: the token is checked before a body is read.
        .route_layer(axum::middleware::from_fn_with_state(api.clone(), body::api))
        .route_layer(axum::middleware::from_fn_with_state(api.clone(), authenticate));
    Router::new()
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        // The vendor sends the operator's browser here: it cannot carry the token (its `state` is checked instead).
        .route("/connections/{name}/callback", get(consent::callback))
        .route("/webhooks/{system}", post(webhooks::receive).layer(axum::middleware::from_fn_with_state(api.clone(), body::webhook)))
        .merge(guarded)
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "no such endpoint") })
        .with_state(api)
}

/// `Authorization: Bearer <token>`, compared in constant time; a refusal says no more than that.
async fn authenticate(State(api): State<Api>, request: Request, next: Next) -> Response {
    let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) if same(token.trim().as_bytes(), api.token.as_bytes()) => next.run(request).await,
        _ => (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], axum::Json(json!({"error": "unauthorized"}))).into_response(),
    }
}

/// Equal bytes, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON error answer: `{"error": …}`.
pub fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}
