//! A live run: the compiled flow against the real systems, with every record's
//! journey written to the state file. Per record:
//!
//! - blocked (with every reason) or skipped (already in the target): journal,
//!   then the write-backs (LNB order Blocked / Closed);
//! - ready: journal "sending" with the payload, then deliver, then journal
//!   "sent" with the target's answer and id, then the write-backs planned from
//!   that answer;
//! - a delivery whose answer was lost is never re-sent blind: the existence
//!   check (YourRef) decides first, now or, after a crash, in the next run;
//! - a look-up that could not be asked leaves the record for the next run
//!   ("failed"), without writing anything back.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use flowmap_state::{DeliveryEnd, JournalEntry, State};
use minijinja::Value;

use super::outcome::{Context, Outcome, Status};
use super::runner::Runner;
use crate::access::{Asker, HttpAccess};
use crate::compile::{CompiledFlow, CompiledRequest};
use crate::deliver::PlannedRequest;
use crate::expr::Scope;
use crate::http::{CallError, Registry, Shutdown, redact};
use crate::project::Project;

/// Records per batch: look-ups are asked per batch, and the journal shows progress per record.
const BATCH: usize = 100;
/// Deliveries of one record with lost answers before it is left for the next run.
const MAX_SENDS: u32 = 3;

mod reserve;
mod settle;
mod source;
use settle::Settle;
use source::{Chosen, one_record};
/// Which records a run takes.
pub enum Records {
    /// Fetch them from the source (and first settle any left in doubt by an earlier run).
    Fetch,
    /// The source records stored in the journal for these keys (`flowmap replay`).
    Stored(Vec<String>),
    /// These keys, fetched from the source now (`flowmap run --key`, a trigger for chosen
    /// records, a webhook): one by one through `get_one`, else picked from the listing.
    Chosen(Vec<String>),
}

impl Records {
    /// Chosen keys (from outside: a command, an API call, an event) are bounded
    /// in number and each checked (`keys.rs`); keys of a replay are checked each,
    /// however many the journal gives.
    pub fn check_keys(&self, flow: &CompiledFlow) -> Result<(), crate::keys::KeysError> {
        let shape = flow.source.key_shape.as_deref();
        match self {
            Records::Fetch => Ok(()),
            Records::Chosen(keys) => crate::keys::check_all(keys, shape),
            Records::Stored(keys) => crate::keys::check_each(keys, shape).map_err(crate::keys::KeysError::Bad),
        }
    }
}

/// Why the source gave no record for a chosen key: whoever asked for it (the
/// inbox) decides by this whether to ask again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotHad {
    /// The source has no such record (404).
    Missing,
    /// The source refused the request for this key (400, 414, 422, …, or a URL
    /// that could not be made): the same key gets the same answer.
    Refused,
    /// Refused for now (401, 403, 408, 423, 425): rights or locks may change,
    /// so it is worth asking again later.
    Denied,
}

impl NotHad {
    /// What a refusal with this status means for the key.
    fn of_status(status: u16) -> NotHad {
        match status {
            404 | 410 => NotHad::Missing,
            401 | 403 | 408 | 423 | 425 | 429 => NotHad::Denied,
            _ => NotHad::Refused,
        }
    }
}
/// What a preview finds: the outcomes, and the keys not had (with why).
type Previewed = (Vec<Outcome>, Vec<(String, String)>);

/// How one record ended in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Sent,
    /// Found in the target after a delivery in doubt: sent once, earlier.
    Reconciled,
    Skipped,
    Blocked,
    Ignored,
    /// Not done; the next run (or a replay) tries again.
    Failed,
    /// Delivered or not, nobody can tell (no existence check to ask).
    Unknown,
    /// Not delivered because the engine is shutting down; nothing journaled,
    /// so the next run takes it as if this one had not seen it.
    Left,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LiveReport {
    pub run: i64,
    pub fetched: u64,
    pub sent: u64,
    pub reconciled: u64,
    pub skipped: u64,
    pub blocked: u64,
    pub ignored: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Ready records not delivered because the engine was shutting down.
    pub left: u64,
    pub write_backs_failed: u64,
    /// HTTP requests per connection (retries included).
    pub calls: Vec<(String, u64)>,
    pub waited_on_rate_limits_ms: u64,
    pub elapsed_ms: u64,
    /// Why the run stopped early (consent lost, daily budget spent).
    pub stopped: Option<String>,
    /// It stopped because the engine is shutting down (nothing went wrong).
    #[serde(skip)]
    pub cut_by_shutdown: bool,
    /// Chosen keys the source did not give (counted as failed, not journaled:
    /// there is no record to journal), and why; whoever asked for them decides
    /// whether to ask again. The reasons are in `problems`.
    #[serde(skip)]
    pub not_had: Vec<(String, NotHad)>,
    /// Keys and reasons of records blocked or failed, for the summary.
    pub problems: Vec<(String, String, Vec<String>)>,
    /// Records sent, reconciled or skipped: key, which, and why (a replay names each).
    pub done: Vec<(String, String, Option<String>)>,
}

impl LiveReport {
    /// How the run ended, as the journal and the metrics say it.
    pub fn ending(&self) -> &'static str {
        if self.stopped.is_some() { "stopped" } else { "completed" }
    }

    /// The records by what became of them (fetched not included).
    pub fn by_ending(&self) -> [(&'static str, u64); 8] {
        [
            ("sent", self.sent),
            ("reconciled", self.reconciled),
            ("skipped", self.skipped),
            ("blocked", self.blocked),
            ("failed", self.failed),
            ("unknown", self.unknown),
            ("ignored", self.ignored),
            ("left", self.left),
        ]
    }
}

/// The next batch of records, numbered from where the last one ended.
fn next_batch(rest: &mut impl Iterator<Item = serde_json::Value>, position: &mut usize) -> Vec<(usize, Value)> {
    rest.take(BATCH)
        .map(|r| {
            *position += 1;
            (*position, crate::value::from_json(&r))
        })
        .collect()
}

pub struct Live<'a> {
    pub project: &'a Project,
    pub flow: &'a CompiledFlow,
    pub registry: Arc<Registry>,
    pub state: Arc<State>,
    /// The runtime the HTTP calls run on; the run itself blocks on it from its own thread.
    pub rt: tokio::runtime::Handle,
    /// Set when the engine shuts down: the batch in hand is finished and
    /// journaled, the rest waits for the next run.
    pub cancel: Option<Shutdown>,
}

/// What a run tells whoever watches it.
pub enum Progress {
    /// The run is recorded under this number.
    Started(i64),
    /// Records settled so far, of all the run took.
    Records { done: u64, total: u64 },
}

impl Live<'_> {
    /// Runs the flow, telling `progress` when it is recorded and after each batch.
    /// `origin` is what started it (`command`, `schedule`, `manual`, `replay`, `webhook`), kept with the run.
    pub fn run(&self, mode: &str, origin: &str, records: Records, progress: &mut dyn FnMut(Progress)) -> Result<LiveReport, String> {
        // Keys from outside are checked before anything is locked, called or recorded.
        records.check_keys(self.flow).map_err(|e| e.to_string())?;
        let _lock = self.lock()?;
        // Runs whose process died (SIGKILL, a crash) are closed as crashed, with
        // what the journal shows they did, before this one is recorded.
        for run in self.state.close_dead_runs().map_err(|e| e.to_string())? {
            tracing::warn!(run, "closed run {run} as crashed: its process ended before it finished");
        }
        self.state.prune_deliveries().map_err(|e| e.to_string())?;
        // Keys the journal does not know are a mistake in the command, not a run.
        if let Records::Stored(keys) = &records {
            for key in keys {
                if self.state.last_source(&self.flow.name, key).map_err(|e| e.to_string())?.is_none() {
                    return Err(format!(
                        "the journal has no record `{key}` of flow {}; `flowmap show {} KEY` shows what it has",
                        self.flow.name, self.flow.name
                    ));
                }
            }
        }
        // Credentials that cannot be read (no key, another key) end the
        // command before a run is recorded; nothing is called yet.
        for system in self.flow.systems() {
            self.rt.block_on(self.registry.connection(system)).map_err(|e| e.to_string())?;
        }
        // Connections are shared by every run of a serving engine: this run's
        // share is what they counted while it ran.
        let counted = |opened: &[Arc<crate::http::Connection>]| -> Vec<(String, u64, u64)> {
            opened
                .iter()
                .map(|c| (c.name.clone(), c.calls.load(std::sync::atomic::Ordering::Relaxed), c.budget.waited().as_millis() as u64))
                .collect()
        };
        let before = counted(&self.rt.block_on(self.registry.opened()));
        let started = Instant::now();
        let run = self.state.start_run(&self.flow.name, &self.flow.version, mode, origin).map_err(|e| e.to_string())?;
        progress(Progress::Started(run));
        let mut report = LiveReport { run, ..Default::default() };
        let result = self.run_records(run, records, &mut report, progress);
        if let Err(message) = &result {
            report.stopped.get_or_insert_with(|| message.clone());
        }
        report.cut_by_shutdown = report.stopped.is_some() && self.cancel.as_ref().is_some_and(Shutdown::is_set);
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        for (name, calls, waited) in counted(&self.rt.block_on(self.registry.opened())) {
            let (calls0, waited0) = before.iter().find(|b| b.0 == name).map(|b| (b.1, b.2)).unwrap_or((0, 0));
            report.calls.push((name, calls - calls0));
            report.waited_on_rate_limits_ms += waited - waited0;
        }
        let summary = serde_json::to_value(&report).unwrap_or_default();
        self.state.finish_run(run, report.ending(), &summary).map_err(|e| e.to_string())?;
        Ok(report)
    }

    fn run_records(&self, run: i64, records: Records, report: &mut LiveReport, progress: &mut dyn FnMut(Progress)) -> Result<(), String> {
        let in_doubt: Vec<String> =
            self.state.records(&self.flow.name, &["sending", "unknown"]).map_err(|e| e.to_string())?.into_iter().map(|r| r.key).collect();
        let mut list: Vec<serde_json::Value> = Vec::new();
        // Records left in doubt by an earlier run go first, from the journal:
        // the source may no longer return them, and they must be settled.
        let (keys, fetch, chosen) = match records {
            Records::Fetch => (in_doubt.clone(), true, Vec::new()),
            Records::Stored(keys) => (keys, false, Vec::new()),
            Records::Chosen(keys) => (Vec::new(), false, keys),
        };
        for key in &keys {
            match self.state.last_source(&self.flow.name, key).map_err(|e| e.to_string())? {
                Some(source) => list.push(source),
                None => return Err(format!("the journal has no source record of `{key}` in flow {}", self.flow.name)),
            }
        }
        let stored = list.len();
        if fetch {
            list.extend(self.fetch()?);
        }
        if !chosen.is_empty() {
            let Chosen { found, missing, not_had } = self.fetch_chosen(&chosen)?;
            list.extend(found);
            report.not_had = not_had;
            for (key, why) in missing {
                report.failed += 1;
                report.problems.push((key, "failed".into(), vec![why]));
            }
        }
        report.fetched = (list.len() - stored) as u64;
        let total = list.len() as u64;
        let stop = Arc::new(Mutex::new(None::<String>));
        let asker = Arc::new(Asker::new(self.project, self.registry.clone()));
        let mut access = HttpAccess::new(asker.clone(), self.rt.clone(), stop.clone());
        let mut runner = Runner::new(self.flow, &mut access).keeping_context();
        let settings = runner.settings().clone();
        let doubt: HashSet<String> = in_doubt.into_iter().collect();
        let mut done: HashSet<String> = HashSet::new();
        let mut position = 0usize;
        let mut finished = 0u64;
        let mut rest = list.into_iter();
        loop {
            let batch = next_batch(&mut rest, &mut position);
            if batch.is_empty() {
                return Ok(());
            }
            let outcomes = runner.run_batch(batch);
            if let Some(message) = stop.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                report.stopped = Some(message);
                // Nothing of this batch was journaled or sent: it and the rest are the next run's.
                for o in &outcomes {
                    if o.status == Status::Ignored { report.ignored += 1 } else { report.left += 1 }
                }
                report.left += rest.count() as u64;
                return Ok(());
            }
            // A mistake in the flow stops the run before anything of this batch
            // is settled: no record is blocked, journaled or written back for
            // it, and the batch waits for the next run with the rest.
            if let Some(error) = outcomes.iter().find_map(Outcome::configuration_error) {
                report.stopped = Some(error.stop_message());
                return Ok(());
            }
            // A record in doubt is fetched again too; it is settled once.
            let outcomes: Vec<Outcome> = outcomes.into_iter().filter(|o| o.status == Status::Ignored || done.insert(o.key.clone())).collect();
            let settle = Settle { live: self, run, asker: &asker, settings: &settings, doubt: &doubt };
            let endings = self.rt.block_on(futures_util::future::join_all(outcomes.into_iter().map(|o| settle.record(o))));
            for (ending, key, reasons, write_back_failures, stopped) in endings {
                count(report, ending, key, reasons);
                report.write_backs_failed += write_back_failures;
                if let Some(s) = stopped {
                    report.stopped.get_or_insert(s);
                }
            }
            finished += BATCH.min((total - finished) as usize) as u64;
            progress(Progress::Records { done: finished, total });
            if report.stopped.is_some() {
                report.left += rest.count() as u64;
                return Ok(());
            }
            if self.cancel.as_ref().is_some_and(Shutdown::is_set) && finished < total {
                report.stopped = Some("the engine is shutting down; what is left waits for the next run".into());
                return Ok(());
            }
        }
    }

    /// What a run would do now, without doing it: the live source and look-ups
    /// are asked, nothing is delivered, written back or journaled. Keys the
    /// source does not have come back with why.
    pub fn preview(&self, records: Records) -> Result<Previewed, String> {
        records.check_keys(self.flow).map_err(|e| e.to_string())?;
        let (list, missing) = match records {
            Records::Fetch => (self.fetch()?, Vec::new()),
            Records::Chosen(keys) => {
                let chosen = self.fetch_chosen(&keys)?;
                (chosen.found, chosen.missing)
            }
            Records::Stored(keys) => {
                let mut list = Vec::new();
                let mut missing = Vec::new();
                for key in keys {
                    match self.state.last_source(&self.flow.name, &key).map_err(|e| e.to_string())? {
                        Some(source) => list.push(source),
                        None => missing.push((key.clone(), format!("the journal has no record `{key}`"))),
                    }
                }
                (list, missing)
            }
        };
        let stop = Arc::new(Mutex::new(None::<String>));
        let asker = Arc::new(Asker::new(self.project, self.registry.clone()));
        let mut access = HttpAccess::new(asker, self.rt.clone(), stop.clone());
        let mut runner = Runner::new(self.flow, &mut access);
        let mut outcomes = Vec::with_capacity(list.len());
        let mut position = 0usize;
        let mut rest = list.into_iter();
        loop {
            let batch = next_batch(&mut rest, &mut position);
            if batch.is_empty() {
                return Ok((outcomes, missing));
            }
            let batch = runner.run_batch(batch);
            if let Some(message) = stop.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                return Err(message);
            }
            if let Some(error) = batch.iter().find_map(Outcome::configuration_error) {
                return Err(error.stop_message());
            }
            outcomes.extend(batch);
        }
    }

    /// One run of a flow at a time, across processes: two would fetch the same
    /// records and both deliver them. The operating system drops the lock when
    /// the process ends, even by SIGKILL, so a crash leaves nothing to clean up.
    fn lock(&self) -> Result<std::fs::File, String> {
        let dir = self.state.path().parent().unwrap_or(std::path::Path::new(".")).join("locks");
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(format!("{}.lock", self.flow.name));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!("flow {} is already running in another process", self.flow.name)),
            Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
        }
    }
}

fn count(report: &mut LiveReport, ending: Ending, key: String, reasons: Vec<String>) {
    let done = |report: &mut LiveReport, what: &str| report.done.push((key.clone(), what.to_string(), reasons.first().cloned()));
    match ending {
        Ending::Sent => {
            report.sent += 1;
            done(report, "sent");
        }
        Ending::Reconciled => {
            report.reconciled += 1;
            done(report, "reconciled");
        }
        Ending::Skipped => {
            report.skipped += 1;
            done(report, "skipped");
        }
        Ending::Ignored => report.ignored += 1,
        Ending::Blocked => {
            report.blocked += 1;
            report.problems.push((key, "blocked".into(), reasons));
        }
        Ending::Failed => {
            report.failed += 1;
            report.problems.push((key, "failed".into(), reasons));
        }
        Ending::Left => report.left += 1,
        Ending::Unknown => {
            report.unknown += 1;
            report.problems.push((key, "unknown".into(), reasons));
        }
    }
}
