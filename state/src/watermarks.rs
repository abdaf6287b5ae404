//! Watermarks: where a flow that takes "what changed since the last run"
//! starts next time (a flow's `source.since`). The engine moves a watermark
//! only after every record up to it is settled, so a run that ended early
//! takes the same records again (their versions keep them from being sent twice).

use rusqlite::{OptionalExtension, params};

use crate::clock::now_ms;
use crate::error::Result;
use crate::state::State;

/// A flow's watermark as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Watermark {
    pub value: String,
    pub run: Option<i64>,
    pub updated_at_ms: i64,
}

impl State {
    /// The flow's watermark, if a run set one.
    pub fn watermark(&self, flow: &str) -> Result<Option<Watermark>> {
        self.connection()
            .query_row("SELECT value, run, updated_at_ms FROM watermarks WHERE flow = ?1", params![flow], |row| {
                Ok(Watermark { value: row.get(0)?, run: row.get(1)?, updated_at_ms: row.get(2)? })
            })
            .optional()
            .map_err(self.sqlite_error(format_args!("reading the watermark of {flow}")))
    }

    /// Sets the flow's watermark (run `run` settled every record up to `value`).
    pub fn set_watermark(&self, flow: &str, value: &str, run: Option<i64>) -> Result<()> {
        self.connection()
            .execute(
                "INSERT INTO watermarks (flow, value, run, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (flow) DO UPDATE SET value = excluded.value, run = excluded.run, updated_at_ms = excluded.updated_at_ms",
                params![flow, value, run, now_ms()],
            )
            .map(|_| ())
            .map_err(self.sqlite_error(format_args!("setting the watermark of {flow}")))
    }
}
