//! Flows, their runs and their records: list, trigger, replay, history.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Api, problem};
use crate::compile::CompiledFlow;
use crate::diagnostic::render_json;
use crate::keys::shown;
use crate::run::Records;
use crate::serve::engine::{Engine, plain_text};
use crate::serve::trigger::{TriggerError, trigger};
use flowmap_state::{InboxRow, InboxStatus};

pub async fn list(State(api): State<Api>) -> Response {
    let engine = &api.engine;
    let set = engine.flows();
    let inbox = read_inbox(engine);
    let flows: Vec<Value> = set.flows.values().map(|f| describe(engine, f, &inbox)).collect();
    let failure = engine.failure().map(|f| {
        json!({
            "at": f.at,
            "problems": f.problems.iter().map(render_json).collect::<Vec<_>>(),
            "text": f.problems.iter().map(plain_text).collect::<String>(),
        })
    });
    axum::Json(json!({ "flows": flows, "loaded_at": set.loaded_at, "last_reload_error": failure })).into_response()
}

pub async fn one(State(api): State<Api>, Path(name): Path<String>) -> Response {
    let set = api.engine.flows();
    match set.flows.get(&name) {
        Some(f) => axum::Json(describe(&api.engine, f, &read_inbox(&api.engine))).into_response(),
        None => unknown(&api.engine, &name),
    }
}

/// Records of one flow listed under `waiting` (`GET /inbox` pages through all).
const WAITING_SHOWN: usize = 100;

fn read_inbox(engine: &Engine) -> Vec<InboxRow> {
    engine.state.inbox().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot read the inbox");
        Vec::new()
    })
}

/// A flow as the API shows it: version, schedule, what runs it now, its last
/// run, the records waiting in the inbox (the first hundred) and how many it
/// gave up (dead letters), and the problems of its file in the last reload
/// that was refused.
fn describe(engine: &Engine, f: &CompiledFlow, inbox: &[InboxRow]) -> Value {
    let file = crate::diagnostic::display_path(&f.path);
    let running = engine.running().get(&f.name).cloned();
    let last_run = engine.state.runs(Some(&f.name), 1).ok().and_then(|r| r.into_iter().next());
    let mine = || inbox.iter().filter(|r| r.flow == f.name);
    let waiting: Vec<Value> = mine()
        .filter(|r| r.status == InboxStatus::Waiting)
        .take(WAITING_SHOWN)
        .map(|r| {
            json!({"key": shown(&r.key), "origin": r.origin, "received_at_ms": r.received_at_ms, "attempts": r.attempts, "last_error": r.last_error})
        })
        .collect();
    let dead_letters = mine().filter(|r| r.status == InboxStatus::Dead).count();
    let errors: Vec<Value> = engine
        .failure()
        .map(|fail| fail.problems.iter().filter(|d| d.location.as_ref().is_some_and(|l| l.file.path == f.path)).map(render_json).collect())
        .unwrap_or_default();
    json!({
        "name": f.name,
        "file": file,
        "version": f.version,
        "schedule": f.schedule.as_ref().map(|s| json!({
            "cron": s.cron,
            "timezone": s.timezone.name(),
            "next": s.next_after(engine.clock.now()),
        })),
        "webhook": f.webhook.as_ref().map(|w| json!({"system": w.system, "topic": w.topic})),
        "running": running,
        "last_run": last_run,
        "waiting": waiting,
        "dead_letters": dead_letters,
        "errors": errors,
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// Only these records, fetched from the source by key.
    #[serde(default)]
    keys: Vec<String>,
}

/// A JSON body, or the default when there is none; a bad one is named in a 400.
fn body_or_default<T: serde::de::DeserializeOwned + Default>(body: &[u8], shape: &str) -> Result<T, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| Box::new(problem(StatusCode::BAD_REQUEST, format!("the body must be {shape}: {e}"))))
}

/// `POST /flows/{name}/runs`: 202 with the run's number once it is recorded.
pub async fn start(State(api): State<Api>, Path(name): Path<String>, body: axum::body::Bytes) -> Response {
    let keys = match body_or_default::<StartBody>(&body, r#"empty or {"keys": ["…"]}"#) {
        Ok(b) => b.keys,
        Err(refused) => return *refused,
    };
    let records = if keys.is_empty() { Records::Fetch } else { Records::Chosen(keys) };
    started(&api, &name, trigger(&api.engine, &name, records, "manual").await)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    failed: bool,
}

/// `POST /flows/{name}/replay`: chosen keys, or every failed, blocked or unknown record.
pub async fn replay(State(api): State<Api>, Path(name): Path<String>, body: axum::body::Bytes) -> Response {
    let body = match body_or_default::<ReplayBody>(&body, r#"{"keys": ["…"]} or {"failed": true}"#) {
        Ok(b) => b,
        Err(refused) => return *refused,
    };
    if !api.engine.flows().flows.contains_key(&name) {
        return unknown(&api.engine, &name);
    }
    if body.failed && !body.keys.is_empty() {
        return problem(StatusCode::BAD_REQUEST, "name `keys` or set `failed`, not both");
    }
    let keys = if body.failed {
        match api.engine.state.records(&name, &["failed", "blocked", "unknown"]) {
            Ok(rows) => rows.into_iter().map(|r| r.key).collect(),
            Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    } else {
        body.keys.clone()
    };
    if keys.is_empty() {
        return problem(StatusCode::BAD_REQUEST, if body.failed { "no failed, blocked or unknown records" } else { "name `keys` or set `failed`" });
    }
    started(&api, &name, trigger(&api.engine, &name, Records::Stored(keys), "replay").await)
}

fn started(api: &Api, name: &str, result: Result<i64, TriggerError>) -> Response {
    match result {
        Ok(run) => (StatusCode::ACCEPTED, axum::Json(json!({"flow": name, "run": run}))).into_response(),
        Err(e @ TriggerError::UnknownFlow { .. }) => problem(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ TriggerError::Running(_)) => problem(StatusCode::CONFLICT, e.to_string()),
        Err(e @ TriggerError::ShuttingDown) => problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e @ TriggerError::Keys(_)) => problem(StatusCode::BAD_REQUEST, e.to_string()),
        Err(TriggerError::NotStarted(why)) => {
            tracing::warn!(flow = %name, error = %why, "run not started");
            let _ = api;
            problem(StatusCode::UNPROCESSABLE_ENTITY, why)
        }
    }
}

/// `POST /flows/{name}/preview`: what a run would send now (live source and
/// look-ups, nothing delivered or written): every payload and block reason.
pub async fn preview(State(api): State<Api>, Path(name): Path<String>, body: axum::body::Bytes) -> Response {
    let keys = match body_or_default::<StartBody>(&body, r#"empty or {"keys": ["…"]}"#) {
        Ok(b) => b.keys,
        Err(refused) => return *refused,
    };
    let set = api.engine.flows();
    let Some(flow) = set.flows.get(&name).cloned() else { return unknown(&api.engine, &name) };
    let records = if keys.is_empty() { Records::Fetch } else { Records::Chosen(keys) };
    if let Err(e) = records.check_keys(&flow) {
        return problem(StatusCode::BAD_REQUEST, e.to_string());
    }
    let engine = api.engine.clone();
    let done = tokio::task::spawn_blocking(move || {
        let live = crate::run::Live {
            project: &set.project,
            flow: &flow,
            registry: engine.registry(),
            state: engine.state.clone(),
            rt: engine.rt.clone(),
            cancel: None,
        };
        live.preview(records)
    })
    .await;
    match done {
        Ok(Ok((outcomes, missing))) => {
            let mut summary = crate::run::Summary::default();
            for o in &outcomes {
                summary.add(o.status);
            }
            let summary = json!({"ready": summary.ready, "blocked": summary.blocked, "skipped": summary.skipped, "ignored": summary.ignored});
            let missing: Vec<Value> = missing.into_iter().map(|(key, why)| json!({"key": key, "why": why})).collect();
            axum::Json(json!({ "flow": name, "summary": summary, "records": outcomes, "missing": missing })).into_response()
        }
        Ok(Err(e)) => problem(StatusCode::BAD_GATEWAY, crate::http::redact(&e)),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
pub struct Limit {
    limit: Option<usize>,
}

pub async fn runs(State(api): State<Api>, Path(name): Path<String>, Query(q): Query<Limit>) -> Response {
    if !api.engine.flows().flows.contains_key(&name) {
        return unknown(&api.engine, &name);
    }
    match api.engine.state.runs(Some(&name), q.limit.unwrap_or(20)) {
        Ok(rows) => axum::Json(json!({ "runs": rows })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

pub async fn all_runs(State(api): State<Api>, Query(q): Query<Limit>) -> Response {
    match api.engine.state.runs(None, q.limit.unwrap_or(20)) {
        Ok(rows) => axum::Json(json!({ "runs": rows })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// A record's whole history (the audit trail).
pub async fn history(State(api): State<Api>, Path((name, key)): Path<(String, String)>) -> Response {
    let state = &api.engine.state;
    match (state.history(&name, &key), state.record_state(&name, &key)) {
        (Ok(events), Ok(now)) if !events.is_empty() => axum::Json(json!({ "flow": name, "key": key, "now": now, "events": events })).into_response(),
        (Ok(_), Ok(_)) => problem(StatusCode::NOT_FOUND, format!("the journal has no record `{}` of flow {name}", shown(&key))),
        (Err(e), _) | (_, Err(e)) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn unknown(engine: &Engine, name: &str) -> Response {
    let set = engine.flows();
    let e = TriggerError::UnknownFlow {
        name: name.to_string(),
        near: crate::diagnostic::did_you_mean(name, set.flows.keys().map(String::as_str)).map(str::to_string),
    };
    problem(StatusCode::NOT_FOUND, e.to_string())
}
