//! Runs: one row per `flowmap run` or `flowmap replay`, with its outcome.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::Value;

use crate::clock::now_ms;
use crate::error::Result;
use crate::json;
use crate::state::State;

/// What a run does: take the source's records, or replay stored ones.
pub const RUN_MODES: &[&str] = &["run", "replay"];
/// What started a run: a command (`flowmap run`, `flowmap replay`), or in a
/// serving engine its schedule, the API (`manual` runs, `replay`) or a webhook.
pub const RUN_ORIGINS: &[&str] = &["command", "schedule", "manual", "replay", "webhook"];
/// How a run can end.
pub const RUN_ENDINGS: &[&str] = &["completed", "failed", "stopped", CRASHED];
/// The ending of a run whose process died (or whose thread panicked) before it finished.
pub const CRASHED: &str = "crashed";
/// The status of a run that has not finished (or whose process died).
pub const RUNNING: &str = "running";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub flow: String,
    pub version: String,
    /// "run" or "replay".
    pub mode: String,
    /// What started it (one of [`RUN_ORIGINS`]); None for runs recorded before origins were.
    pub origin: Option<String>,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    /// "running" until finished, then "completed", "failed" or "stopped".
    pub status: String,
    /// Counts, calls and waits, as the engine reported them; null while running.
    pub summary: Value,
}

const RUN_COLUMNS: &str = "id, flow, version, mode, started_at_ms, ended_at_ms, status, summary, origin";

/// A row as stored, before its JSON is parsed (which can fail on a damaged file).
struct StoredRun {
    row: RunRow,
    summary: Option<String>,
}

impl StoredRun {
    fn read(row: &Row<'_>) -> rusqlite::Result<StoredRun> {
        Ok(StoredRun {
            row: RunRow {
                id: row.get(0)?,
                flow: row.get(1)?,
                version: row.get(2)?,
                mode: row.get(3)?,
                started_at_ms: row.get(4)?,
                ended_at_ms: row.get(5)?,
                status: row.get(6)?,
                summary: Value::Null,
                origin: row.get(8)?,
            },
            summary: row.get(7)?,
        })
    }

    fn parse(self, state: &State) -> Result<RunRow> {
        let mut row = self.row;
        row.summary = json::parse_optional(self.summary.as_deref())
            .map_err(|problem| state.error(format_args!("run {}: damaged summary: {problem}", row.id)))?
            .unwrap_or(Value::Null);
        Ok(row)
    }
}

impl State {
    /// Records that a run of `flow` (at `version`) started by `origin` starts now; returns its id.
    pub fn start_run(&self, flow: &str, version: &str, mode: &str, origin: &str) -> Result<i64> {
        if !RUN_MODES.contains(&mode) {
            return Err(self.error(format_args!("unknown run mode {mode:?} (expected one of {})", RUN_MODES.join(", "))));
        }
        if !RUN_ORIGINS.contains(&origin) {
            return Err(self.error(format_args!("unknown run origin {origin:?} (expected one of {})", RUN_ORIGINS.join(", "))));
        }
        // The process is marked alive before its first run is recorded, so a run
        // is never seen without a live process behind it while it goes.
        let process = self.process_id()?.to_string();
        let connection = self.connection();
        connection
            .execute(
                "INSERT INTO runs (flow, version, mode, started_at_ms, status, process, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![flow, version, mode, now_ms(), RUNNING, process, origin],
            )
            .map_err(self.sqlite_error(format_args!("starting a run of {flow}")))?;
        Ok(connection.last_insert_rowid())
    }

    /// Records that run `run` ended now with `status` and the engine's `summary`.
    /// A run ends once: finishing it again is an error.
    pub fn finish_run(&self, run: i64, status: &str, summary: &Value) -> Result<()> {
        if !RUN_ENDINGS.contains(&status) {
            return Err(self.error(format_args!("unknown run ending {status:?} (expected one of {})", RUN_ENDINGS.join(", "))));
        }
        let connection = self.connection();
        let changed = connection
            .execute(
                "UPDATE runs SET status = ?2, ended_at_ms = ?3, summary = ?4 WHERE id = ?1 AND status = ?5",
                params![run, status, now_ms(), json::to_text(summary), RUNNING],
            )
            .map_err(self.sqlite_error(format_args!("finishing run {run}")))?;
        if changed == 1 {
            return Ok(());
        }
        let current: Option<String> = connection
            .query_row("SELECT status FROM runs WHERE id = ?1", [run], |row| row.get(0))
            .optional()
            .map_err(self.sqlite_error(format_args!("finishing run {run}")))?;
        Err(match current {
            None => self.error(format_args!("cannot finish run {run}: there is no such run")),
            Some(current) => self.error(format_args!("cannot finish run {run}: it has already ended ({current})")),
        })
    }

    /// Closes as [`CRASHED`] every run still `running` whose process is gone
    /// (killed, crashed, or a flowmap from before runs named their process),
    /// with the counts its records show in the journal; returns their ids.
    /// Their reservations are left as they are: the next delivery of those
    /// identities sees a dead holder and asks the target first.
    pub fn close_dead_runs(&self) -> Result<Vec<i64>> {
        let running: Vec<(i64, Option<String>)> = {
            let connection = self.connection();
            let mut statement = connection
                .prepare_cached("SELECT id, process FROM runs WHERE status = ?1 ORDER BY id")
                .map_err(self.sqlite_error("looking for runs whose process is gone"))?;
            let rows = statement
                .query_map([RUNNING], |row| Ok((row.get(0)?, row.get(1)?)))
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(self.sqlite_error("looking for runs whose process is gone"));
            rows?
        };
        let mut closed = Vec::new();
        for (run, process) in running {
            if process.is_some_and(|process| crate::process::is_alive(self.path(), &process)) {
                continue;
            }
            let summary = self.crash_summary(run)?;
            let connection = self.connection();
            let changed = connection
                .execute(
                    "UPDATE runs SET status = ?2, ended_at_ms = ?3, summary = ?4 WHERE id = ?1 AND status = ?5",
                    params![run, CRASHED, now_ms(), json::to_text(&summary), RUNNING],
                )
                .map_err(self.sqlite_error(format_args!("closing run {run}")))?;
            if changed == 1 {
                closed.push(run);
            }
        }
        Ok(closed)
    }

    /// What the journal says run `run` did: records by their last event in it.
    fn crash_summary(&self, run: i64) -> Result<Value> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached(
                "SELECT event, count(*) FROM journal j
                 WHERE run = ?1 AND event IN ('sent', 'reconciled', 'skipped', 'blocked', 'failed', 'unknown_outcome', 'sending')
                   AND id = (SELECT max(id) FROM journal k WHERE k.run = ?1 AND k.flow = j.flow AND k.key = j.key
                             AND k.event NOT IN ('written_back', 'write_back_failed', 'fetched', 'created'))
                 GROUP BY event",
            )
            .map_err(self.sqlite_error(format_args!("counting the records of run {run}")))?;
        let counts: Vec<(String, i64)> = statement
            .query_map([run], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(self.sqlite_error(format_args!("counting the records of run {run}")))?;
        let count = |event: &str| counts.iter().find(|(e, _)| e == event).map_or(0, |(_, n)| *n);
        let sending = count("sending");
        Ok(serde_json::json!({
            "run": run,
            "sent": count("sent"),
            "reconciled": count("reconciled"),
            "skipped": count("skipped"),
            "blocked": count("blocked"),
            "failed": count("failed"),
            "unknown": count("unknown_outcome") + sending,
            "stopped": format!(
                "the process running it ended before the run finished (killed or crashed); \
                 {sending} record(s) were in delivery and are settled by the next run (the existence check decides)"
            ),
        }))
    }

    /// The newest `limit` runs, of `flow` or of all flows; newest first.
    pub fn runs(&self, flow: Option<&str>, limit: usize) -> Result<Vec<RunRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE ?1 IS NULL OR flow = ?1 ORDER BY id DESC LIMIT ?2"))
            .map_err(self.sqlite_error("listing runs"))?;
        let stored = statement
            .query_map(params![flow, limit], StoredRun::read)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(self.sqlite_error("listing runs"))?;
        stored.into_iter().map(|run| run.parse(self)).collect()
    }

    /// Run `id`, if there is one.
    pub fn run(&self, id: i64) -> Result<Option<RunRow>> {
        let stored = self
            .connection()
            .query_row(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"), [id], StoredRun::read)
            .optional()
            .map_err(self.sqlite_error(format_args!("reading run {id}")))?;
        stored.map(|run| run.parse(self)).transpose()
    }
}
