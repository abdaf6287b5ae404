//! A live run: the compiled flow against the real systems, with every record's
//! journey written to the state file. The pipeline is the dry-run's (the
//! driver, the stages); the ports are the real ones (HTTP source, look-ups,
//! target and write-backs), and each record is settled by `settle.rs`:
//!
//! - blocked (with every reason) or skipped (already in the target): journal,
//!   then the write-backs (LNB order Blocked / Closed);
//! - ready: journal "sending" with the payload, then deliver, then journal
//!   "sent" with the target's answer and id, then the write-backs planned from
//!   that answer;
//! - a delivery whose answer was lost is never re-sent blind: the existence
//!   check (YourRef) decides first, now or, after a crash, in the next run;
//! - a file target gathers a batch's records into files (`files.rs`: one per
//!   record, or per `target.group`), and answers for a delivery in doubt by
//!   the file journaled at "sending" (`doubt.rs`);
//! - a look-up that could not be asked leaves the record for the next run
//!   ("failed"), without writing anything back.
//!
//! Records are taken page by page as the source gives them (`choose.rs`), so a
//! first sync of many records holds one page, and a source failing at its
//! last page has had every earlier page settled.

mod acknowledgements;
mod choose;
mod doubt;
mod files;
mod lifecycle;
mod ports;
mod report;
mod reserve;
mod settle;
mod watermark;

pub use choose::Records;
pub use report::{Ending, LiveReport, Settled};

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use flowmap_state::State;

use super::CallLog;
use super::driver::{Batch, Driven, Driver, Go, Settler};
use super::dry::DrySettle;
use super::history::JournalHistory;
use super::outcome::{Outcome, Status};
use super::runner::Runner;
use crate::access::{Asker, HttpAccess};
use crate::compile::CompiledFlow;
use crate::deliver::{Recorded, RecordingTarget, RecordingWriteBack, Target};
use crate::fetch::{Pages, StoredPages};
use crate::http::{Registry, Shutdown};
use crate::project::Project;
use crate::write_back::HttpWriteBack;
use choose::{InHand, Missing, Picked, fetch_each};
use settle::Settle;

/// Records per batch: look-ups are asked per batch, and the journal shows progress per record.
const BATCH: usize = 100;
/// Deliveries of one record with lost answers before it is left for the next run.
const MAX_SENDS: u32 = 3;

/// What a preview finds: the outcomes, and the keys not had (with why).
type Previewed = (Vec<Outcome>, Vec<(String, String)>);

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
    /// Records settled so far, of those taken so far (the total grows as pages arrive).
    Records { done: u64, total: u64 },
}

/// Set by a look-up that says the run cannot go on (consent lost, daily budget spent).
type StopSignal = Arc<Mutex<Option<String>>>;

fn stop_message(stop: &StopSignal) -> Option<String> {
    stop.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

impl Live<'_> {
    fn run_records(&self, run: i64, records: Records, report: &mut LiveReport, progress: &mut dyn FnMut(Progress)) -> Result<(), String> {
        let in_doubt: Vec<String> =
            self.state.records(&self.flow.name, &["sending", "unknown"]).map_err(|e| e.to_string())?.into_iter().map(|r| r.key).collect();
        let stop: StopSignal = Arc::new(Mutex::new(None));
        let asker = Arc::new(Asker::new(self.project, self.registry.clone()));
        let mut access = HttpAccess::new(asker.clone(), self.rt.clone(), stop.clone());
        let history = JournalHistory(&self.state);
        let mut runner = Runner::new(self.flow, &mut access).with_history(&history);
        let settings = runner.settings().clone();
        let source = self.source(Some(run)).map_err(|e| e.0)?;
        let newest = Arc::new(Mutex::new(crate::fetch::Newest::default()));
        let files = self.file_target()?;
        let http;
        let target: &dyn Target = match &files {
            Some(files) => files,
            None => {
                http = self.target()?;
                &*http
            }
        };
        let write_back = HttpWriteBack { registry: self.registry.clone() };
        let doubt: HashSet<String> = in_doubt.iter().cloned().collect();
        let settle =
            Settle { live: self, run, asker: &asker, settings: &settings, doubt: &doubt, target, files: files.as_ref(), write_back: &write_back };
        let mut settler = LiveSettler { live: self, settle, report, progress, stop: &stop, done: HashSet::new(), finished: 0 };
        let mut driver = Driver { runner: &mut runner, rt: &self.rt, batch: BATCH, position: 0, fetched: 0 };
        // Records left in doubt by an earlier run go first, from the journal:
        // the source may no longer return them, and they must be settled.
        let mut parts: Vec<(Box<dyn Pages + '_>, bool)> = Vec::new();
        let mut picked_keys = None;
        match records {
            Records::Fetch => {
                parts.push((Box::new(StoredPages::new(&self.state, &self.flow.name, in_doubt, BATCH)), false));
                let pages = source.list();
                let pages: Box<dyn Pages + '_> = match &self.flow.source.since {
                    Some(since) => Box::new(watermark::Watched { inner: pages, field: since.field.clone(), newest: newest.clone() }),
                    None => pages,
                };
                parts.push((pages, true));
            }
            Records::Stored(keys) => parts.push((Box::new(StoredPages::new(&self.state, &self.flow.name, keys, BATCH)), false)),
            Records::Chosen(_) if self.source_is_files() => {
                return Err(format!(
                    "the records of {} come in files, not one by one: run the flow to take the new files, or replay keys from the journal",
                    self.flow.source.system
                ));
            }
            Records::Chosen(keys) => match self.rt.block_on(fetch_each(&*source, &keys)) {
                Some(Ok((found, missing))) => {
                    settler.missing(missing);
                    parts.push((Box::new(InHand(Some(found))), true));
                }
                Some(Err(e)) => return Err(e.0),
                None => picked_keys = Some(keys),
            },
        }
        for (mut pages, from_source) in parts {
            if settler.drive(&mut driver, &mut *pages, from_source)? == Go::Stop {
                return Ok(());
            }
        }
        self.advance_watermark(settler.report, &newest)?;
        if let Some(keys) = picked_keys {
            // No endpoint for one record: the listing, kept to the chosen keys.
            let mut picked = Picked { inner: source.list(), flow: self.flow, keys: keys.iter().cloned().collect(), seen: HashSet::new() };
            let go = settler.drive(&mut driver, &mut picked, true)?;
            if go == Go::On {
                settler.missing(picked.missing(&keys));
            }
        }
        Ok(())
    }

    /// What a run would do now, without doing it: the live source and look-ups
    /// are asked, nothing is delivered, written back or journaled (the
    /// recording ports of a dry-run take the writes). Keys the source does
    /// not have come back with why.
    pub fn preview(&self, records: Records) -> Result<Previewed, String> {
        records.check_keys(self.flow).map_err(|e| e.to_string())?;
        let stop: StopSignal = Arc::new(Mutex::new(None));
        let asker = Arc::new(Asker::new(self.project, self.registry.clone()));
        let mut access = HttpAccess::new(asker, self.rt.clone(), stop.clone());
        let history = JournalHistory(&self.state);
        let mut runner = Runner::new(self.flow, &mut access).with_history(&history);
        let source = self.source(None).map_err(|e| e.0)?;
        let recorded = Recorded::default();
        let envelope = self.registry.definition(&self.flow.target.system).and_then(|c| c.x12.clone());
        let target = RecordingTarget::of(self.project, self.flow, &recorded, envelope.as_ref());
        let write_back = RecordingWriteBack { recorded: &recorded };
        let settings = runner.settings().clone();
        let dry = DrySettle { flow: self.flow, settings, target: &target, write_back: &write_back, recorded: &recorded, rt: &self.rt };
        let mut collect = Collect { dry, outcomes: Vec::new(), stop: &stop, error: None };
        let mut driver = Driver { runner: &mut runner, rt: &self.rt, batch: BATCH, position: 0, fetched: 0 };
        let mut missing = Vec::new();
        let driven = match records {
            Records::Fetch => driver.drive(&mut *source.list(), &mut collect),
            Records::Chosen(keys) => match self.rt.block_on(fetch_each(&*source, &keys)) {
                Some(found) => {
                    let (found, not_had) = found.map_err(|e| e.0)?;
                    missing.extend(not_had.into_iter().map(|m| (m.key, m.why)));
                    driver.drive(&mut InHand(Some(found)), &mut collect)
                }
                None => {
                    let mut picked = Picked { inner: source.list(), flow: self.flow, keys: keys.iter().cloned().collect(), seen: HashSet::new() };
                    let driven = driver.drive(&mut picked, &mut collect);
                    missing.extend(picked.missing(&keys).into_iter().map(|m| (m.key, m.why)));
                    driven
                }
            },
            Records::Stored(keys) => {
                let mut list = Vec::new();
                for key in keys {
                    match self.state.last_source(&self.flow.name, &key).map_err(|e| e.to_string())? {
                        Some(source) => list.push(crate::value::from_json(&source)),
                        None => missing.push((key.clone(), format!("the journal has no record `{key}`"))),
                    }
                }
                driver.drive(&mut InHand(Some(list)), &mut collect)
            }
        };
        match (driven, collect.error) {
            (_, Some(message)) => Err(message),
            (Ok(Driven::SourceFailed(e)), None) => Err(e.0),
            _ => Ok((collect.outcomes, missing)),
        }
    }
}

/// The live run's settler: each batch settled concurrently, journaled, counted.
struct LiveSettler<'a, 's> {
    live: &'a Live<'a>,
    settle: Settle<'a>,
    report: &'s mut LiveReport,
    progress: &'s mut dyn FnMut(Progress),
    stop: &'a StopSignal,
    /// Keys settled in this run: a record in doubt is fetched again too, and settled once.
    done: HashSet<String>,
    finished: u64,
}

impl LiveSettler<'_, '_> {
    /// Drives one part of the run's records; `from_source` counts them as fetched.
    fn drive(&mut self, driver: &mut Driver, pages: &mut dyn Pages, from_source: bool) -> Result<Go, String> {
        let before = driver.fetched;
        let driven = driver.drive(pages, self);
        if from_source {
            self.report.fetched += driver.fetched - before;
        }
        match driven {
            Ok(Driven::Done) => Ok(Go::On),
            Ok(Driven::Stopped { unsettled }) => {
                self.report.left += unsettled as u64;
                Ok(Go::Stop)
            }
            Ok(Driven::SourceFailed(e)) | Err(e) => Err(e.0),
        }
    }

    /// Chosen keys the source did not give: counted as failed, not journaled
    /// (there is no record to journal); whoever asked for them decides whether to ask again.
    fn missing(&mut self, missing: Vec<Missing>) {
        for m in missing {
            self.report.not_had.push((m.key.clone(), m.not_had));
            self.report.failed += 1;
            self.report.problems.push((m.key, Ending::Failed, vec![m.why]));
        }
    }
}

impl Settler for LiveSettler<'_, '_> {
    type Error = crate::fetch::FetchError;

    fn settle(&mut self, batch: Batch, _calls: &mut CallLog) -> Result<Go, Self::Error> {
        let report = &mut *self.report;
        let taken = (batch.outcomes.len() + batch.unreadable.len()) as u64;
        // An item of a file that cannot be read has no key to journal it by: it is reported.
        for (position, e) in batch.unreadable {
            report.failed += 1;
            report.problems.push((format!("#{position}"), Ending::Failed, vec![e.0]));
        }
        if let Some(message) = stop_message(self.stop) {
            report.stopped = Some(message);
            // Nothing of this batch was journaled or sent: it and the rest are the next run's.
            for o in &batch.outcomes {
                if o.status == Status::Ignored { report.ignored += 1 } else { report.left += 1 }
            }
            return Ok(Go::Stop);
        }
        // A mistake in the flow stops the run before anything of this batch
        // is settled: no record is blocked, journaled or written back for
        // it, and the batch waits for the next run with the rest.
        if let Some(error) = batch.outcomes.iter().find_map(Outcome::configuration_error) {
            report.stopped = Some(error.stop_message());
            return Ok(Go::Stop);
        }
        let outcomes: Vec<Outcome> = batch.outcomes.into_iter().filter(|o| o.status == Status::Ignored || self.done.insert(o.key.clone())).collect();
        // Which document each record is about (`source.document`), noted once the batch is journaled.
        let documents: Vec<(String, String)> = outcomes.iter().filter_map(|o| Some((o.key.clone(), o.context.as_ref()?.document.clone()?))).collect();
        let settle = &self.settle;
        // Records to a file target are gathered into files first; the others settle one by one, concurrently.
        let (from_files, outcomes) = match settle.files {
            Some(files) => self.live.rt.block_on(settle.settle_files(files, outcomes)),
            None => (Vec::new(), outcomes),
        };
        let one_by_one = self.live.rt.block_on(futures_util::future::join_all(outcomes.into_iter().map(|o| settle.record(o))));
        for settled in from_files.into_iter().chain(one_by_one) {
            report.count(settled);
        }
        if !documents.is_empty()
            && let Err(e) = self.live.state.note_documents(&self.live.flow.name, &documents)
        {
            tracing::warn!("which documents the records are about could not be noted: {e}");
        }
        self.finished += taken;
        (self.progress)(Progress::Records { done: self.finished, total: batch.fetched });
        if report.stopped.is_some() {
            return Ok(Go::Stop);
        }
        if self.live.cancel.as_ref().is_some_and(Shutdown::is_set) {
            report.stopped = Some("the engine is shutting down; what is left waits for the next run".into());
            return Ok(Go::Stop);
        }
        Ok(Go::On)
    }
}

/// A preview's settler: outcomes settled against the recording ports, kept.
struct Collect<'a> {
    dry: DrySettle<'a>,
    outcomes: Vec<Outcome>,
    stop: &'a StopSignal,
    error: Option<String>,
}

impl Settler for Collect<'_> {
    type Error = std::convert::Infallible;

    fn settle(&mut self, batch: Batch, calls: &mut CallLog) -> Result<Go, Self::Error> {
        if let Some(message) = stop_message(self.stop) {
            self.error = Some(message);
            return Ok(Go::Stop);
        }
        let mut outcomes = batch.outcomes;
        self.dry.files(&mut outcomes);
        for mut o in outcomes {
            if let Some(error) = o.configuration_error() {
                self.error = Some(error.stop_message());
                return Ok(Go::Stop);
            }
            self.dry.outcome(&mut o);
            self.dry.count(calls);
            self.outcomes.push(o);
        }
        Ok(Go::On)
    }
}
