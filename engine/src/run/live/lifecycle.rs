//! A live run's lifecycle: one run of a flow at a time (a lock the operating
//! system drops with the process), runs of dead processes closed first, the
//! run recorded with what it did and the calls it made.

use std::sync::Arc;
use std::time::Instant;

use super::{Live, LiveReport, Progress, Records};
use crate::http::Shutdown;

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
            let http = self.project.systems.get(system).is_none_or(|s| s.def.transport == crate::model::Transport::Http);
            if http {
                self.rt.block_on(self.registry.connection(system)).map_err(|e| e.to_string())?;
            } else {
                self.registry.store(system).map_err(|e| e.to_string())?;
            }
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
        // The partner's 997s are taken first; when they cannot be, the run still sends (the next run takes them).
        if let Err(e) = self.acknowledgements(run, &mut report) {
            report.attention.push(format!("the partner's 997s were not taken: {e}; the next run tries again"));
        }
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
