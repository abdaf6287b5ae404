//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Api;
use crate::serve::metrics::Series;

pub async fn live() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// Ready while flows are loaded and the engine is not shutting down.
pub async fn ready(State(api): State<Api>) -> Response {
    let flows = api.engine.flows().flows.len();
    if api.engine.shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"ready": false, "why": "shutting down"}))).into_response();
    }
    axum::Json(json!({"ready": true, "flows": flows})).into_response()
}

/// Prometheus text; API calls and rate-limit waits are read from the connections now.
pub async fn metrics(State(api): State<Api>) -> Response {
    let mut extra = Vec::new();
    // Summed over every registry the engine has had (a reload that changed the
    // connections keeps the old one's counts): counters never go back.
    for registry in api.engine.registries() {
        for c in registry.opened().await {
            for (code, n) in c.status_counts() {
                add(&mut extra, ("flowmap_api_calls_total", vec![("connection", c.name.clone()), ("code", code)]), n as f64);
            }
            add(&mut extra, ("flowmap_rate_limit_wait_seconds_total", vec![("connection", c.name.clone())]), c.budget.waited().as_secs_f64());
        }
    }
    // What waits in the inbox and what was given up, by flow (read now: the state file is the truth).
    for (flow, status, n) in api.engine.state.inbox_counts().unwrap_or_default() {
        let status = match status {
            flowmap_state::InboxStatus::Waiting => "waiting",
            flowmap_state::InboxStatus::Dead => "dead",
        };
        add(&mut extra, ("flowmap_inbox_records", vec![("flow", flow), ("status", status.to_string())]), n as f64);
    }
    let text = api.engine.metrics.render(&extra);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Adds to a series, one line per series however many registries counted it.
fn add(samples: &mut Vec<(Series, f64)>, series: Series, n: f64) {
    match samples.iter_mut().find(|(s, _)| *s == series) {
        Some((_, total)) => *total += n,
        None => samples.push((series, n)),
    }
}
