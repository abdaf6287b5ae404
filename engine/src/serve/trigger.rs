//! Starting a run in a serving engine: on a schedule, by hand, or from a
//! webhook. One run per flow at a time; the run keeps the flow version it
//! started with, whatever reloads happen meanwhile.

use std::sync::Arc;

use super::engine::{Engine, Running};
use crate::diagnostic::did_you_mean;
use crate::run::{Live, LiveReport, Progress, Records};

#[derive(Debug)]
pub enum TriggerError {
    UnknownFlow {
        name: String,
        near: Option<String>,
    },
    Running(Box<Running>),
    ShuttingDown,
    /// Keys the flow does not take (too long, too many, not of the source's shape).
    Keys(crate::keys::KeysError),
    /// The run could not start (credentials, another process holds the flow's lock …).
    NotStarted(String),
}

impl std::fmt::Display for TriggerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TriggerError::UnknownFlow { name, near: Some(near) } => write!(f, "no flow named `{name}`; did you mean `{near}`?"),
            TriggerError::UnknownFlow { name, near: None } => write!(f, "no flow named `{name}`"),
            TriggerError::Running(r) => match r.run {
                Some(run) => write!(f, "the flow is already running (run {run}, started by {})", r.origin),
                None => write!(f, "the flow is already starting (by {})", r.origin),
            },
            TriggerError::ShuttingDown => write!(f, "the engine is shutting down"),
            TriggerError::Keys(e) => e.fmt(f),
            TriggerError::NotStarted(why) => write!(f, "{why}"),
        }
    }
}

/// Starts a run in the background; answers with its number once it is recorded.
pub async fn trigger(engine: &Arc<Engine>, flow_name: &str, records: Records, origin: &str) -> Result<i64, TriggerError> {
    begin(engine, flow_name, records, origin)?.started().await
}

/// A run that has its flow and is getting going (the flow's lock, credentials,
/// perhaps a token), which can take a while when a system is slow.
pub struct Pending {
    started: tokio::sync::oneshot::Receiver<Result<i64, String>>,
}

impl Pending {
    /// The run's number once it is recorded, or why it did not start.
    pub async fn started(self) -> Result<i64, TriggerError> {
        match self.started.await {
            Ok(Ok(run)) => Ok(run),
            Ok(Err(e)) => Err(TriggerError::NotStarted(crate::http::redact(&e))),
            Err(_) => Err(TriggerError::NotStarted("the run ended before it was recorded".into())),
        }
    }
}

/// Claims the flow and starts its run in the background, without waiting for it
/// to get going: a busy or unknown flow is answered at once, and whoever starts
/// many runs (the scheduler) is not held up by one slow start.
pub fn begin(engine: &Arc<Engine>, flow_name: &str, records: Records, origin: &str) -> Result<Pending, TriggerError> {
    if engine.shutting_down() {
        return Err(TriggerError::ShuttingDown);
    }
    let set = engine.flows();
    let Some(flow) = set.flows.get(flow_name).cloned() else {
        let near = did_you_mean(flow_name, set.flows.keys().map(String::as_str)).map(str::to_string);
        return Err(TriggerError::UnknownFlow { name: flow_name.to_string(), near });
    };
    records.check_keys(&flow).map_err(TriggerError::Keys)?;
    engine.claim(flow_name, origin, &flow.version).map_err(|r| TriggerError::Running(Box::new(r)))?;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Result<i64, String>>();
    let engine2 = engine.clone();
    let origin = origin.to_string();
    let mode = if matches!(records, Records::Stored(_)) { "replay" } else { "run" };
    // Chosen records leave the inbox once a run has finished with them, as far as
    // the events this run saw (noted before it fetches them).
    let seen = match &records {
        Records::Chosen(keys) => engine.state.inbox_seen(flow_name, keys).unwrap_or_else(|e| {
            tracing::error!(flow = %flow_name, error = %e, "cannot read the inbox; its records stay and run again");
            Vec::new()
        }),
        _ => Vec::new(),
    };
    tokio::task::spawn_blocking(move || {
        // Whatever happens in the run, even a panic, the flow is free again afterwards.
        let _release = Release { engine: &engine2, flow: &flow.name };
        let live = Live {
            project: &set.project,
            flow: &flow,
            registry: engine2.registry(),
            state: engine2.state.clone(),
            rt: engine2.rt.clone(),
            cancel: Some(engine2.shutdown.clone()),
        };
        let mut started_tx = Some(started_tx);
        let mut started_run = None;
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            live.run(mode, &origin, records, &mut |p| {
                if let Progress::Started(run) = p {
                    engine2.set_run(&flow.name, run);
                    started_run = Some(run);
                    tracing::info!(flow = %flow.name, run, origin = %origin, version = %flow.version, "run started");
                    if let Some(tx) = started_tx.take() {
                        let _ = tx.send(Ok(run));
                    }
                }
            })
        }));
        // A bug must not take the engine down with it: the run ends as failed, the
        // records it had not settled are settled by the next run (the journal says
        // which were being sent).
        let result = ran.unwrap_or_else(|panic| {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            let why = crate::http::redact(&format!("the run stopped on an internal error: {what}"));
            tracing::error!(flow = %flow.name, origin = %origin, error = %why, "run crashed");
            if let Some(run) = started_run
                && let Err(e) = engine2.state.finish_run(run, "crashed", &serde_json::json!({ "stopped": why }))
            {
                tracing::error!(flow = %flow.name, run, error = %e, "cannot record the end of the run");
            }
            Err(why)
        });
        super::inbox::after_run(&engine2, &flow.name, seen, &result);
        match &result {
            Ok(report) => finished(&engine2, &flow.name, &origin, report),
            Err(e) if started_tx.is_some() => {
                tracing::error!(flow = %flow.name, origin = %origin, error = %crate::http::redact(e), "run did not start");
                engine2.metrics.add("flowmap_runs_total", &[("flow", &flow.name), ("origin", &origin), ("status", "not_started")], 1.0);
            }
            Err(e) => {
                tracing::error!(flow = %flow.name, origin = %origin, error = %crate::http::redact(e), "run failed");
                engine2.metrics.add("flowmap_runs_total", &[("flow", &flow.name), ("origin", &origin), ("status", "failed")], 1.0);
            }
        }
        if let (Some(tx), Err(e)) = (started_tx.take(), &result) {
            let _ = tx.send(Err(e.clone()));
        }
    });
    Ok(Pending { started: started_rx })
}

/// Frees the flow for the next run when dropped (the run ended, or panicked).
struct Release<'a> {
    engine: &'a Engine,
    flow: &'a str,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.engine.release(self.flow);
    }
}

/// Metrics and a log line for a finished run.
fn finished(engine: &Engine, flow: &str, origin: &str, r: &LiveReport) {
    let status = r.ending();
    let m = &engine.metrics;
    m.add("flowmap_runs_total", &[("flow", flow), ("origin", origin), ("status", status)], 1.0);
    m.add("flowmap_run_duration_seconds_sum", &[("flow", flow)], r.elapsed_ms as f64 / 1000.0);
    m.add("flowmap_run_duration_seconds_count", &[("flow", flow)], 1.0);
    for (ending, n) in r.by_ending() {
        if n > 0 {
            m.add("flowmap_records_total", &[("flow", flow), ("status", ending)], n as f64);
        }
    }
    tracing::info!(
        flow = %flow, run = r.run, origin = %origin, status, sent = r.sent, skipped = r.skipped, blocked = r.blocked,
        failed = r.failed, unknown = r.unknown, elapsed_ms = r.elapsed_ms,
        stopped = %r.stopped.as_deref().map(crate::http::redact).unwrap_or_default(),
        "run finished"
    );
}
