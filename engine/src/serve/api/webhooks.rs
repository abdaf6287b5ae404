//! `POST /webhooks/{system}`: Exact Online's event callback. The empty POST
//! Exact sends when a subscription is created is answered 200; any other body
//! must carry a correct `HashCode`, else 401 with no detail. A correct event
//! must name a key the system and every flow bound to its topic take (400
//! with why otherwise), and is kept in the inbox (state file) before it is
//! acknowledged, then starts every flow bound to its topic for the one record
//! it names (the payload has only the key, so the run fetches the record). A
//! flow that is busy, or cannot run now, takes the record from the inbox
//! later: once Exact has its 202, the event is never lost. The same event
//! received again within [`REPEAT_WINDOW`] (Exact retrying, or a captured
//! body replayed) is acknowledged with 200 and starts nothing.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Api, problem};
use crate::keys::{check, shown};
use crate::run::Records;
use crate::serve::signature::verify;
use crate::serve::trigger::begin;
use flowmap_state::Received;

/// How long the answer to an event waits for its runs to get going (all of them together).
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long an event is remembered, so that receiving it again starts nothing.
/// Exact is said to retry an event about 10 times over some 34 hours; two days
/// cover that with room, at a few hundred bytes per event in the state file.
pub const REPEAT_WINDOW: std::time::Duration = std::time::Duration::from_secs(48 * 3600);

/// The answer to an event received before.
#[derive(serde::Serialize)]
struct Repeated {
    duplicate: bool,
    first_received_at_ms: i64,
}

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
        tracing::info!(system = %system, topic, key = %shown(key), "webhook for a deleted record: nothing to fetch");
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
        tracing::warn!(system = %system, topic, key = %shown(key), "webhook for a topic no flow takes");
        return problem(StatusCode::UNPROCESSABLE_ENTITY, format!("no flow takes {system} topic `{topic}`"));
    }
    // The key goes into URLs, the inbox, the journal and logs: only one the system and
    // every bound flow take (the shapes their YAML declares) is kept.
    let system_shape = set
        .project
        .systems
        .get(&system)
        .and_then(|s| s.def.http.webhooks.as_ref().and_then(|w| w.key_shape.as_ref()).and_then(|name| s.key_shapes.get(name)).cloned());
    let refusal = check(key, system_shape.as_deref()).err().map(|bad| bad.to_string()).or_else(|| {
        bound.iter().find_map(|name| {
            let flow = set.flows.get(name)?;
            check(key, flow.source.key_shape.as_deref()).err().map(|bad| format!("flow {name}: {bad}"))
        })
    });
    if let Some(why) = refusal {
        count("bad_key");
        tracing::warn!(system = %system, topic, why = %why, "webhook refused: not a key its flows take");
        return problem(StatusCode::BAD_REQUEST, why);
    }
    let origin = format!("{system} {topic} {}", event["Action"].as_str().unwrap_or("event"));
    let id = event_id(&system, &event, content);
    let window_ms = i64::try_from(REPEAT_WINDOW.as_millis()).unwrap_or(i64::MAX);
    match engine.state.receive_event(&id, window_ms, &bound, key, &origin) {
        Ok(Received::New) => {}
        Ok(Received::Again { first_at_ms }) => {
            count("duplicate");
            tracing::info!(system = %system, topic, key, "webhook received again: acknowledged, nothing started");
            return (StatusCode::OK, axum::Json(Repeated { duplicate: true, first_received_at_ms: first_at_ms })).into_response();
        }
        Err(e) => {
            // Not kept, so not acknowledged: Exact sends it again.
            count("failed");
            tracing::error!(system = %system, topic, key, error = %e, "webhook not kept");
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

/// What makes an event the same event: its system, topic, key, action and the
/// moment Exact raised it (`EventCreatedOn`). Without that moment, the exact
/// signed bytes: a body sent again is still recognised.
fn event_id(system: &str, event: &serde_json::Value, content: &[u8]) -> String {
    use sha2::Digest;
    let text = |field: &str| event[field].as_str().unwrap_or_default().to_string();
    let identity = match event["EventCreatedOn"].as_str() {
        Some(at) => format!("{system}\n{}\n{}\n{}\n{at}", text("Topic").to_lowercase(), text("Key"), text("Action").to_lowercase()),
        None => format!("{system}\nbytes\n{}", String::from_utf8_lossy(content)),
    };
    sha2::Sha256::digest(identity.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
