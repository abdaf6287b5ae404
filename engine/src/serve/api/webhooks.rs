//! `POST /webhooks/{system}`: Exact Online's event callback. The empty POST
//! Exact sends when a subscription is created is answered 200; any other body
//! must carry a correct `HashCode`, else 401 with no detail. A correct event
//! is kept in the inbox (state file) before it is acknowledged, then starts
//! every flow bound to its topic for the one record it names (the payload has
//! only the key, so the run fetches the record). A flow that is busy, or
//! cannot run now, takes the record from the inbox later: once Exact has its
//! 202, the event is never lost.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Api, problem};
use crate::run::Records;
use crate::serve::signature::verify;
use crate::serve::trigger::begin;

/// How long the answer to an event waits for its runs to get going (all of them together).
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn exact(State(api): State<Api>, Path(system): Path<String>, body: Bytes) -> Response {
    let engine = &api.engine;
    if engine.flows().project.systems.get(&system).is_none_or(|s| s.def.http.webhooks.is_none()) {
        return problem(StatusCode::NOT_FOUND, format!("system `{system}` takes no webhooks"));
    }
    let count = |result: &str| engine.metrics.add("flowmap_webhooks_total", &[("system", &system), ("result", result)], 1.0);
    if body.iter().all(u8::is_ascii_whitespace) {
        count("validation");
        tracing::info!(system = %system, "webhook subscription check answered");
        return StatusCode::OK.into_response();
    }
    let Some(secret) = engine.webhook_secret.as_deref() else {
        count("refused");
        tracing::warn!(system = %system, "webhook refused: no webhook secret is configured (FLOWMAP_WEBHOOK_SECRET)");
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let content = match verify(&body, secret.as_bytes()) {
        Ok(c) => c,
        Err(why) => {
            count("refused");
            tracing::warn!(system = %system, why = ?why, bytes = body.len(), "webhook refused");
            return StatusCode::UNAUTHORIZED.into_response();
        }
    };
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(content) else {
        count("malformed");
        return problem(StatusCode::BAD_REQUEST, "the signed Content is not JSON");
    };
    let (Some(topic), Some(key)) = (event["Topic"].as_str(), event["Key"].as_str()) else {
        count("malformed");
        return problem(StatusCode::BAD_REQUEST, "the event has no Topic or Key");
    };
    if event["Action"].as_str() == Some("Delete") {
        count("ignored");
        tracing::info!(system = %system, topic, key, "webhook for a deleted record: nothing to fetch");
        return (StatusCode::OK, axum::Json(json!({"ignored": "Delete"}))).into_response();
    }
    let set = engine.flows();
    let bound: Vec<String> = set
        .flows
        .values()
        .filter(|f| f.webhook.as_ref().is_some_and(|w| w.system == system && w.topic.eq_ignore_ascii_case(topic)))
        .map(|f| f.name.clone())
        .collect();
    if bound.is_empty() {
        count("unknown_topic");
        tracing::warn!(system = %system, topic, key, "webhook for a topic no flow takes");
        return problem(StatusCode::UNPROCESSABLE_ENTITY, format!("no flow takes {system} topic `{topic}`"));
    }
    let origin = format!("{system} {topic} {}", event["Action"].as_str().unwrap_or("event"));
    for flow in &bound {
        if let Err(e) = engine.state.put_inbox(flow, key, &origin) {
            // Not kept, so not acknowledged: Exact sends it again.
            count("failed");
            tracing::error!(flow = %flow, topic, key, error = %e, "webhook not kept");
            return problem(StatusCode::SERVICE_UNAVAILABLE, "the event could not be kept; send it again");
        }
    }
    // Every bound flow is started first, then each is given a moment to get going:
    // the answer says what became of the event without holding Exact's call open
    // (a slow answer makes Exact send the event again).
    let pending: Vec<_> = bound.into_iter().map(|flow| (begin(engine, &flow, Records::Chosen(vec![key.to_string()]), "webhook"), flow)).collect();
    let deadline = tokio::time::Instant::now() + START_WAIT;
    let mut started = Vec::new();
    for (begun, flow) in pending {
        // `None`: still getting going when the answer could wait no longer.
        let answer = match begun {
            Ok(pending) => tokio::time::timeout_at(deadline, pending.started()).await.map_or(Ok(None), |r| r.map(Some)),
            Err(e) => Err(e),
        };
        match answer {
            Ok(None) => started.push(json!({"flow": flow, "starting": true})),
            Ok(Some(run)) => started.push(json!({"flow": flow, "run": run})),
            Err(e) => {
                tracing::info!(flow = %flow, topic, key, why = %e, "webhook record waits in the inbox");
                started.push(json!({"flow": flow, "waiting": e.to_string()}));
            }
        }
    }
    count("accepted");
    tracing::info!(system = %system, topic, key, "webhook accepted");
    (StatusCode::ACCEPTED, axum::Json(json!({ "started": started }))).into_response()
}
