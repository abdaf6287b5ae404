//! The inbox as an operator sees it: what waits, what was given up (dead
//! letters) and why; a record retried (it waits again, its tries counted
//! afresh, and is run at the scheduler's next look) or dropped.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flowmap_state::{InboxRow, InboxStatus};
use serde::{Deserialize, Serialize};

use super::{Api, problem};
use crate::keys::{MAX_KEY_BYTES, shown};

/// Records listed when no `limit` is given, and the most a `limit` may ask for.
const LIST_DEFAULT: usize = 100;
const LIST_MAX: usize = 1000;

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Waiting,
    Dead,
}

impl StatusFilter {
    fn admits(self, status: InboxStatus) -> bool {
        matches!((self, status), (StatusFilter::Waiting, InboxStatus::Waiting) | (StatusFilter::Dead, InboxStatus::Dead))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    flow: Option<String>,
    status: Option<StatusFilter>,
    limit: Option<usize>,
}

/// One record in the inbox. A key longer than any key taken now (kept by an
/// older flowmap) is shown cut, with its length; drop it with the flow's dead letters.
#[derive(Serialize)]
struct Entry {
    flow: String,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_bytes: Option<usize>,
    origin: String,
    received_at_ms: i64,
    events: i64,
    status: InboxStatus,
    attempts: i64,
    last_error: Option<String>,
    last_try_at_ms: Option<i64>,
}

impl From<InboxRow> for Entry {
    fn from(r: InboxRow) -> Entry {
        let key_bytes = (r.key.len() > MAX_KEY_BYTES).then_some(r.key.len());
        Entry {
            flow: r.flow,
            key: if key_bytes.is_some() { shown(&r.key) } else { r.key },
            key_bytes,
            origin: r.origin,
            received_at_ms: r.received_at_ms,
            events: r.events,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            last_try_at_ms: r.last_try_at_ms,
        }
    }
}

#[derive(Serialize)]
struct Listing {
    /// Counts of everything matching the flow filter, whatever `limit` lists.
    waiting: usize,
    dead: usize,
    records: Vec<Entry>,
}

/// `GET /inbox[?flow=…&status=waiting|dead&limit=N]`: oldest first.
pub async fn list(State(api): State<Api>, Query(q): Query<ListQuery>) -> Response {
    let rows = match api.engine.state.inbox() {
        Ok(rows) => rows,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let of_flow: Vec<InboxRow> = rows.into_iter().filter(|r| q.flow.as_ref().is_none_or(|f| *f == r.flow)).collect();
    let count = |s: InboxStatus| of_flow.iter().filter(|r| r.status == s).count();
    let (waiting, dead) = (count(InboxStatus::Waiting), count(InboxStatus::Dead));
    let limit = q.limit.unwrap_or(LIST_DEFAULT).min(LIST_MAX);
    let records = of_flow.into_iter().filter(|r| q.status.is_none_or(|s| s.admits(r.status))).take(limit).map(Entry::from).collect();
    axum::Json(Listing { waiting, dead, records }).into_response()
}

#[derive(Serialize)]
struct Retried {
    flow: String,
    key: String,
    status: InboxStatus,
}

/// `POST /inbox/{flow}/{key}/retry`: the record waits again and is tried at once.
pub async fn retry(State(api): State<Api>, Path((flow, key)): Path<(String, String)>) -> Response {
    match api.engine.state.retry_inbox(&flow, &key) {
        Ok(true) => {
            tracing::info!(flow = %flow, key = %shown(&key), "inbox record retried by an operator");
            api.engine.poke_inbox(&flow);
            (StatusCode::ACCEPTED, axum::Json(Retried { flow, key, status: InboxStatus::Waiting })).into_response()
        }
        Ok(false) => not_there(&flow, &key),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Serialize)]
struct Dropped {
    dropped: usize,
}

/// `DELETE /inbox/{flow}/{key}`: the record leaves the inbox, waiting or dead.
pub async fn drop_one(State(api): State<Api>, Path((flow, key)): Path<(String, String)>) -> Response {
    match api.engine.state.drop_inbox(&flow, &key) {
        Ok(true) => {
            tracing::info!(flow = %flow, key = %shown(&key), "inbox record dropped by an operator");
            axum::Json(Dropped { dropped: 1 }).into_response()
        }
        Ok(false) => not_there(&flow, &key),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropQuery {
    status: Option<StatusFilter>,
}

/// `DELETE /inbox/{flow}?status=dead`: every dead letter of the flow (waiting records stay;
/// the status is asked for so that nobody drops what waits by accident).
pub async fn drop_dead(State(api): State<Api>, Path(flow): Path<String>, Query(q): Query<DropQuery>) -> Response {
    if q.status != Some(StatusFilter::Dead) {
        return problem(StatusCode::BAD_REQUEST, "only dead letters are dropped together: add ?status=dead");
    }
    match api.engine.state.drop_dead_inbox(&flow) {
        Ok(dropped) => {
            tracing::info!(flow = %flow, dropped, "dead letters dropped by an operator");
            axum::Json(Dropped { dropped }).into_response()
        }
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn not_there(flow: &str, key: &str) -> Response {
    problem(StatusCode::NOT_FOUND, format!("the inbox of flow {flow} has no record `{}`", shown(key)))
}
