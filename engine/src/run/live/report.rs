//! What a live run tells: how each record ended, and the run's report.

use crate::fetch::NotHad;

/// How one record ended in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
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
    /// What an operator should look at that is no record's ending: 850s no 997 has
    /// answered in time, a file that did not belong where it was found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<String>,
    /// It stopped because the engine is shutting down (nothing went wrong).
    #[serde(skip)]
    pub cut_by_shutdown: bool,
    /// Chosen keys the source did not give (counted as failed, not journaled:
    /// there is no record to journal), and why; whoever asked for them decides
    /// whether to ask again. The reasons are in `problems`.
    #[serde(skip)]
    pub not_had: Vec<(String, NotHad)>,
    /// Keys, endings and reasons of records blocked, failed or unknown, for the summary.
    pub problems: Vec<(String, Ending, Vec<String>)>,
    /// Records sent, reconciled or skipped: key, which, and why (a replay names each).
    pub done: Vec<(String, Ending, Option<String>)>,
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

/// How one record was settled.
#[derive(Debug, Clone)]
pub struct Settled {
    pub ending: Ending,
    pub key: String,
    /// Why (block reasons, a failure, the skip message).
    pub reasons: Vec<String>,
    pub write_backs_failed: u64,
    /// The run cannot go on: why.
    pub stop: Option<String>,
}

impl Ending {
    /// The word the summary and the journal use.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Sent => "sent",
            Ending::Reconciled => "reconciled",
            Ending::Skipped => "skipped",
            Ending::Blocked => "blocked",
            Ending::Ignored => "ignored",
            Ending::Failed => "failed",
            Ending::Unknown => "unknown",
            Ending::Left => "left",
        }
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Settled {
    pub fn new(ending: Ending, key: impl Into<String>, reasons: Vec<String>, write_backs_failed: u64, stop: Option<String>) -> Settled {
        Settled { ending, key: key.into(), reasons, write_backs_failed, stop }
    }
}

impl LiveReport {
    /// Counts one settled record.
    pub fn count(&mut self, s: Settled) {
        self.write_backs_failed += s.write_backs_failed;
        if let Some(stop) = s.stop {
            self.stopped.get_or_insert(stop);
        }
        let Settled { ending, key, reasons, .. } = s;
        let done = |report: &mut LiveReport, ending: Ending| report.done.push((key.clone(), ending, reasons.first().cloned()));
        match ending {
            Ending::Sent => {
                self.sent += 1;
                done(self, Ending::Sent);
            }
            Ending::Reconciled => {
                self.reconciled += 1;
                done(self, Ending::Reconciled);
            }
            Ending::Skipped => {
                self.skipped += 1;
                done(self, Ending::Skipped);
            }
            Ending::Ignored => self.ignored += 1,
            Ending::Blocked => {
                self.blocked += 1;
                self.problems.push((key, Ending::Blocked, reasons));
            }
            Ending::Failed => {
                self.failed += 1;
                self.problems.push((key, Ending::Failed, reasons));
            }
            Ending::Left => self.left += 1,
            Ending::Unknown => {
                self.unknown += 1;
                self.problems.push((key, Ending::Unknown, reasons));
            }
        }
    }
}
