//! X12 functional acknowledgements (997) received for the groups we sent: a
//! partner's word that our 850s arrived whole (accepted) or not (rejected,
//! with why). The groups we sent are in the journal (each delivered record's
//! answer names its interchange, group and set), so an 850 still waiting for
//! its 997 is one whose group has no row here.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::now_ms;
use crate::error::Result;
use crate::json;
use crate::state::State;

/// One 997's verdict on one group we sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub partner: String,
    pub functional_id: String,
    pub group_control: String,
    /// `accepted`, `accepted_with_errors`, `partially_accepted` or `rejected`.
    pub verdict: String,
    /// Each set's verdict and errors, as the engine read them.
    pub detail: Value,
    pub file: Option<i64>,
    pub received_at_ms: i64,
}

/// A record delivered in an X12 group that has no acknowledgement yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unacknowledged {
    pub flow: String,
    pub key: String,
    pub group_control: String,
    pub file: Option<String>,
    pub sent_at_ms: i64,
}

impl State {
    /// Keeps a 997's verdict on a group; a later 997 for the same group replaces it
    /// (a partner may reject, then accept a group sent again).
    pub fn receive_acknowledgement(&self, ack: &Acknowledgement) -> Result<()> {
        self.connection()
            .execute(
                "INSERT INTO acknowledgements_received (partner, functional_id, group_control, verdict, detail, file, received_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (partner, functional_id, group_control) DO UPDATE SET
                     verdict = excluded.verdict, detail = excluded.detail, file = excluded.file, received_at_ms = excluded.received_at_ms",
                params![ack.partner, ack.functional_id, ack.group_control, ack.verdict, json::to_text(&ack.detail), ack.file, now_ms()],
            )
            .map(|_| ())
            .map_err(self.sqlite_error(format_args!("keeping the acknowledgement of group {}", ack.group_control)))
    }

    /// The acknowledgement of group `group_control` (as we numbered it: our group numbers
    /// count up per partner pair across every kind of group), if one came.
    pub fn acknowledgement(&self, group_control: &str) -> Result<Option<Acknowledgement>> {
        let row: Option<(Acknowledgement, String)> = self
            .connection()
            .query_row(
                "SELECT partner, functional_id, group_control, verdict, detail, file, received_at_ms FROM acknowledgements_received
                 WHERE group_control = ?1 ORDER BY received_at_ms DESC LIMIT 1",
                params![group_control],
                |row| {
                    Ok((
                        Acknowledgement {
                            partner: row.get(0)?,
                            functional_id: row.get(1)?,
                            group_control: row.get(2)?,
                            verdict: row.get(3)?,
                            detail: Value::Null,
                            file: row.get(5)?,
                            received_at_ms: row.get(6)?,
                        },
                        row.get(4)?,
                    ))
                },
            )
            .optional()
            .map_err(self.sqlite_error(format_args!("reading the acknowledgement of group {group_control}")))?;
        row.map(|(mut ack, detail)| {
            ack.detail =
                json::parse(&detail).map_err(|p| self.error(format_args!("acknowledgement of group {group_control}: damaged detail: {p}")))?;
            Ok(ack)
        })
        .transpose()
    }

    /// Records of `flow` delivered in an X12 group (their answer names it) before
    /// `sent_before_ms` whose group no 997 has acknowledged yet, oldest first.
    pub fn unacknowledged(&self, flow: &str, sent_before_ms: i64) -> Result<Vec<Unacknowledged>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached(
                "SELECT r.flow, r.key, CAST(json_extract(j.answer, '$.group') AS TEXT), json_extract(j.answer, '$.file'), j.at_ms
                 FROM records r JOIN journal j ON j.id = (
                     SELECT max(id) FROM journal WHERE flow = r.flow AND key = r.key AND event IN ('sent', 'reconciled') AND answer IS NOT NULL)
                 WHERE r.flow = ?1 AND r.status = 'sent' AND json_extract(j.answer, '$.group') IS NOT NULL AND j.at_ms < ?2
                   AND NOT EXISTS (SELECT 1 FROM acknowledgements_received a
                                   WHERE a.group_control = CAST(json_extract(j.answer, '$.group') AS TEXT))
                 ORDER BY j.at_ms, r.key",
            )
            .map_err(self.sqlite_error("listing groups without acknowledgement"))?;
        statement
            .query_map(params![flow, sent_before_ms], |row| {
                Ok(Unacknowledged { flow: row.get(0)?, key: row.get(1)?, group_control: row.get(2)?, file: row.get(3)?, sent_at_ms: row.get(4)? })
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(self.sqlite_error(format_args!("listing groups of {flow} without acknowledgement")))
    }
}
