//! `POST /webhooks/{system}`: a system's event callback, read as its YAML says
//! (`http.webhooks`). A delivery must carry a correct signature under the
//! system's scheme, keyed with the webhook secret of the connection named like
//! the system; anything else is answered 401 with nothing said. The one
//! exception is Exact's empty POST when a subscription is created
//! (`empty_body_check`), answered 200. A signed delivery with no events is a
//! check of the endpoint (Xero's intent to receive), answered 200.
//!
//! Each event of a delivery is handled on its own (events.rs, keep.rs): kept
//! in the inbox of every flow bound to its topic before the delivery is
//! acknowledged, then every such flow is started for the records its events
//! name (the payloads hold only keys, so the run fetches the records). A flow
//! that is busy, or cannot run now, takes the records from the inbox later:
//! once the system has its answer, no event is lost. The answer takes the form
//! the system expects (answer.rs).

mod account;
mod answer;
mod events;
mod keep;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Api, problem};
use crate::model::AnswerDef;
use crate::run::Records;
use crate::serve::engine::Engine;
use crate::serve::signature::verify;
use crate::serve::trigger::begin;
pub use events::Misdefined;
use events::Reader;
use keep::Outcome;

/// Whether a system's webhooks definition reads events (its JMESPaths and patterns compile);
/// the error names the field at fault.
pub fn check_definition(def: &crate::model::WebhooksDef) -> Result<(), Misdefined> {
    Reader::compile(def).map(|_| ())
}

/// How long an answer that tells of the runs waits for them to get going (all of them
/// together): long enough to say what became of them, well within Exact's patience.
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn receive(State(api): State<Api>, Path(system): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let engine = &api.engine;
    let set = engine.flows();
    let Some(hooks) = set.project.systems.get(&system).and_then(|s| s.def.http.webhooks.clone()) else {
        return problem(StatusCode::NOT_FOUND, format!("system `{system}` takes no webhooks"));
    };
    let count = |result: &str| engine.metrics.add("flowmap_webhooks_total", &[("system", &system), ("result", result)], 1.0);
    if hooks.empty_body_check && body.iter().all(u8::is_ascii_whitespace) {
        count("validation");
        tracing::info!(system = %system, "webhook subscription check answered");
        return StatusCode::OK.into_response();
    }
    let Some(secret) = engine.webhook_secrets.get(&system) else {
        count("refused");
        let also = if system == "exact" { " (or set FLOWMAP_WEBHOOK_SECRET)" } else { "" };
        tracing::warn!(system = %system, "webhook refused: no webhook secret for this system; run \"flowmap connect {system} --webhook-secret\"{also}");
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let signed = match verify(&hooks.signature, &headers, &body, secret.as_bytes()) {
        Ok(signed) => signed,
        Err(why) => {
            count("refused");
            tracing::warn!(system = %system, why = ?why, bytes = body.len(), "webhook refused");
            return StatusCode::UNAUTHORIZED.into_response();
        }
    };
    let reader = match Reader::compile(&hooks) {
        Ok(reader) => reader,
        Err(e) => {
            count("misconfigured");
            tracing::error!(system = %system, error = %e, "the system's webhooks definition does not compile");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, format!("the webhooks of `{system}` are misdefined: {e}"));
        }
    };
    let read = serde_json::from_slice::<Value>(signed).map_err(|_| "the signed body is not JSON".to_string()).and_then(|json| reader.read(&json));
    let events = match read {
        Ok(events) => events,
        Err(why) => {
            count("malformed");
            return answer::malformed(hooks.answer, &why);
        }
    };
    if events.is_empty() {
        count(if hooks.intent_to_receive { "validation" } else { "empty" });
        tracing::info!(system = %system, "signed webhook delivery without events answered");
        return answer::nothing(hooks.answer);
    }
    let own = account::own(engine, &set, &system, hooks.account.as_ref());
    let outcomes: Vec<Outcome> = events.into_iter().map(|event| keep::keep(engine, &set, &system, &hooks, &own, event)).collect();
    for outcome in &outcomes {
        count(outcome.result());
    }
    if outcomes.iter().any(|o| matches!(o, Outcome::NotKept { .. })) {
        return answer::not_kept(hooks.answer);
    }
    let started = start(engine, &outcomes, hooks.answer == AnswerDef::PerEvent).await;
    let kept = outcomes.iter().filter(|o| matches!(o, Outcome::Kept { .. })).count();
    if kept > 0 {
        tracing::info!(system = %system, events = outcomes.len(), kept, topic = %first_topic(&outcomes), "webhook accepted");
    }
    answer::answer(hooks.answer, &system, &outcomes, &started)
}

/// Every flow that kept records is started once for all of them. With `wait`, each is
/// given a moment to get going, so the answer can say what became of it without holding
/// the call open long (a slow answer makes the system send the delivery again).
async fn start(engine: &std::sync::Arc<Engine>, outcomes: &[Outcome], wait: bool) -> Vec<(String, Value)> {
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for (flow, key) in outcomes.iter().flat_map(|o| match o {
        Outcome::Kept { event, flows } => flows.iter().map(|f| (f.clone(), event.key.clone())).collect(),
        _ => Vec::new(),
    }) {
        match keys.iter_mut().find(|(f, _)| *f == flow) {
            Some((_, list)) if !list.contains(&key) => list.push(key),
            Some(_) => {}
            None => keys.push((flow, vec![key])),
        }
    }
    let pending: Vec<_> = keys.into_iter().map(|(flow, keys)| (begin(engine, &flow, Records::Chosen(keys), "webhook"), flow)).collect();
    let deadline = tokio::time::Instant::now() + START_WAIT;
    let mut started = Vec::new();
    for (begun, flow) in pending {
        // `None`: still getting going when the answer could wait no longer (or was not to wait).
        let answer = match begun {
            Ok(pending) if wait => tokio::time::timeout_at(deadline, pending.started()).await.map_or(Ok(None), |r| r.map(Some)),
            Ok(_) => Ok(None),
            Err(e) => Err(e),
        };
        let told = match answer {
            Ok(None) => json!({"flow": flow, "starting": true}),
            Ok(Some(run)) => json!({"flow": flow, "run": run}),
            Err(e) => {
                tracing::info!(flow = %flow, why = %e, "webhook records wait in the inbox");
                json!({"flow": flow, "waiting": e.to_string()})
            }
        };
        started.push((flow, told));
    }
    started
}

/// The topic of the first event kept, for the log.
fn first_topic(outcomes: &[Outcome]) -> String {
    outcomes.iter().find_map(|o| if let Outcome::Kept { event, .. } = o { Some(event.topic.clone()) } else { None }).unwrap_or_default()
}
