//! The answer to a signed delivery, in the form its system expects
//! (`http.webhooks.answer`): Exact is told what became of its one event (202
//! with the runs, 200 for a repeat, 422, 400); QuickBooks gets 200 with what
//! became of each event; Xero gets 200 with no body, whatever became of them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::keep::Outcome;
use crate::model::AnswerDef;
use crate::serve::api::problem;

/// The answer once every event is kept or set aside; `started` holds, per flow,
/// what became of its run.
pub fn answer(how: AnswerDef, system: &str, outcomes: &[Outcome], started: &[(String, Value)]) -> Response {
    match (how, outcomes) {
        (AnswerDef::OkEmpty, _) => StatusCode::OK.into_response(),
        (AnswerDef::PerEvent, [one]) => one_event(system, one, started),
        _ => (StatusCode::OK, axum::Json(json!({ "events": outcomes.iter().map(|o| told(system, o, started)).collect::<Vec<_>>() }))).into_response(),
    }
}

/// A signed delivery with no events in it: a check of the endpoint (Xero's intent to receive).
pub fn nothing(how: AnswerDef) -> Response {
    match how {
        AnswerDef::OkWithEvents => (StatusCode::OK, axum::Json(json!({ "events": [] }))).into_response(),
        AnswerDef::PerEvent | AnswerDef::OkEmpty => StatusCode::OK.into_response(),
    }
}

/// A signed delivery whose events cannot be read at all.
pub fn malformed(how: AnswerDef, why: &str) -> Response {
    match how {
        AnswerDef::OkEmpty => StatusCode::BAD_REQUEST.into_response(),
        AnswerDef::PerEvent | AnswerDef::OkWithEvents => problem(StatusCode::BAD_REQUEST, why),
    }
}

/// Some event could not be kept: not acknowledged, so the system sends the delivery again
/// (the events that were kept are then recognised as repeats).
pub fn not_kept(how: AnswerDef) -> Response {
    match how {
        AnswerDef::OkEmpty => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        AnswerDef::PerEvent | AnswerDef::OkWithEvents => problem(StatusCode::SERVICE_UNAVAILABLE, "the event could not be kept; send it again"),
    }
}

fn one_event(system: &str, outcome: &Outcome, started: &[(String, Value)]) -> Response {
    match outcome {
        Outcome::Kept { flows, .. } => (StatusCode::ACCEPTED, axum::Json(json!({ "started": runs_of(flows, started) }))).into_response(),
        Outcome::Repeated { first_at_ms, .. } => {
            (StatusCode::OK, axum::Json(json!({ "duplicate": true, "first_received_at_ms": first_at_ms }))).into_response()
        }
        Outcome::Deleted { action, .. } => (StatusCode::OK, axum::Json(json!({ "ignored": action }))).into_response(),
        Outcome::OtherAccount { .. } => (StatusCode::OK, axum::Json(json!({ "ignored": "another account" }))).into_response(),
        Outcome::UnknownTopic { event } => problem(StatusCode::UNPROCESSABLE_ENTITY, format!("no flow takes {system} topic `{}`", event.topic)),
        Outcome::BadKey { why, .. } | Outcome::Malformed { why } => problem(StatusCode::BAD_REQUEST, why.clone()),
        Outcome::NotKept { .. } => not_kept(AnswerDef::PerEvent),
    }
}

/// One event in a delivery of several.
fn told(system: &str, outcome: &Outcome, started: &[(String, Value)]) -> Value {
    let about = |event: &super::events::Event, what: Value| {
        let mut told = json!({ "topic": event.topic, "key": event.key });
        if let (Some(told), Value::Object(what)) = (told.as_object_mut(), what) {
            told.extend(what);
        }
        told
    };
    match outcome {
        Outcome::Kept { event, flows } => about(event, json!({ "started": runs_of(flows, started) })),
        Outcome::Repeated { event, first_at_ms } => about(event, json!({ "duplicate": true, "first_received_at_ms": first_at_ms })),
        Outcome::Deleted { event, action } => about(event, json!({ "ignored": action })),
        Outcome::OtherAccount { event } => about(event, json!({ "ignored": "another account" })),
        Outcome::UnknownTopic { event } => about(event, json!({ "error": format!("no flow takes {system} topic `{}`", event.topic) })),
        Outcome::BadKey { event, why } => about(event, json!({ "error": why })),
        Outcome::Malformed { why } => json!({ "error": why }),
        Outcome::NotKept { event } => about(event, json!({ "error": "the event could not be kept" })),
    }
}

/// What became of the runs of these flows.
fn runs_of(flows: &[String], started: &[(String, Value)]) -> Vec<Value> {
    flows.iter().filter_map(|f| started.iter().find(|(flow, _)| flow == f).map(|(_, run)| run.clone())).collect()
}
