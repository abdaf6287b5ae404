//! The inbox: records that an event (an Exact Online webhook) asked a flow to
//! run. An event is put here before it is acknowledged and taken out only
//! after a run of its flow has finished with it, so an accepted event is never
//! lost to a busy flow, a system that is down or a restart. Running a record
//! twice is harmless: the flow's existence check decides before anything is sent.
//!
//! A record is not tried for ever: each try that does not settle it is
//! counted with its reason, and a record the source refuses outright, or one
//! that a number of tries did not settle, is given up as a dead letter. Dead
//! letters stay (visible, with the reason) until an operator retries or drops
//! them, or a new event for the record arrives.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::clock::now_ms;
use crate::error::Result;
use crate::state::State;

/// Where a record in the inbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxStatus {
    /// Run as soon as its flow is free (after a wait that grows with each try).
    Waiting,
    /// Given up: never run by itself again, until retried or a new event names it.
    Dead,
}

impl InboxStatus {
    fn as_str(self) -> &'static str {
        match self {
            InboxStatus::Waiting => "waiting",
            InboxStatus::Dead => "dead",
        }
    }

    fn parse(text: &str) -> InboxStatus {
        // Anything but `dead` is run: a record is never lost to an unknown word.
        if text == "dead" { InboxStatus::Dead } else { InboxStatus::Waiting }
    }
}

/// A record waiting for a run of its flow, or given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxRow {
    pub flow: String,
    pub key: String,
    /// What asked for it, e.g. "exact SalesOrders Update".
    pub origin: String,
    /// When the first event still waiting arrived.
    pub received_at_ms: i64,
    /// How many events asked for it since it was last taken.
    pub events: i64,
    pub status: InboxStatus,
    /// Runs that had it and did not settle it (or could not start) since the last event revived it.
    pub attempts: i64,
    /// Why the last try did not settle it.
    pub last_error: Option<String>,
    pub last_try_at_ms: Option<i64>,
}

/// When a try that did not settle a record gives it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// Asking again cannot help (the source refused the key itself): a dead letter now.
    Now,
    /// After this many tries in all.
    After(i64),
}

/// Longest reason kept for a try (the system's words can be long; the inbox is read often).
const MAX_REASON_CHARS: usize = 1000;

const COLUMNS: &str = "flow, key, origin, received_at_ms, events, status, attempts, last_error, last_try_at_ms";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InboxRow> {
    Ok(InboxRow {
        flow: r.get(0)?,
        key: r.get(1)?,
        origin: r.get(2)?,
        received_at_ms: r.get(3)?,
        events: r.get(4)?,
        status: InboxStatus::parse(&r.get::<_, String>(5)?),
        attempts: r.get(6)?,
        last_error: r.get(7)?,
        last_try_at_ms: r.get(8)?,
    })
}

impl State {
    /// Puts `key` of `flow` in the inbox. An event for a record already there
    /// keeps the first one's origin and time and is counted, so a run that
    /// started before it does not take it away (see [`State::take_inbox`]); a
    /// dead letter is revived by it (the record changed: it may work now).
    pub fn put_inbox(&self, flow: &str, key: &str, origin: &str) -> Result<()> {
        self.connection()
            .execute(PUT, params![flow, key, origin, now_ms()])
            .map_err(self.sqlite_error(format_args!("keeping record {key} of flow {flow} in the inbox")))?;
        Ok(())
    }

    /// Everything in the inbox, waiting and dead, oldest first.
    pub fn inbox(&self) -> Result<Vec<InboxRow>> {
        self.inbox_where("1 = 1")
    }

    /// The records to run: those waiting, oldest first.
    pub fn inbox_waiting(&self) -> Result<Vec<InboxRow>> {
        self.inbox_where("status = 'waiting'")
    }

    fn inbox_where(&self, condition: &str) -> Result<Vec<InboxRow>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached(&format!("SELECT {COLUMNS} FROM inbox WHERE {condition} ORDER BY received_at_ms, flow, key"))
            .map_err(self.sqlite_error("reading the inbox"))?;
        let rows = statement.query_map([], row).map_err(self.sqlite_error("reading the inbox"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(self.sqlite_error("reading the inbox"))
    }

    /// How many records each flow has in the inbox, by status (for metrics: no keys read).
    pub fn inbox_counts(&self) -> Result<Vec<(String, InboxStatus, i64)>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached("SELECT flow, status, count(*) FROM inbox GROUP BY flow, status ORDER BY flow, status")
            .map_err(self.sqlite_error("counting the inbox"))?;
        let rows = statement
            .query_map([], |r| Ok((r.get(0)?, InboxStatus::parse(&r.get::<_, String>(1)?), r.get(2)?)))
            .map_err(self.sqlite_error("counting the inbox"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(self.sqlite_error("counting the inbox"))
    }

    /// The events counted so far for those of `keys` of `flow` in the inbox:
    /// what a run starting now will have seen (pass it to [`State::take_inbox`]
    /// or [`State::inbox_tried`]).
    pub fn inbox_seen(&self, flow: &str, keys: &[String]) -> Result<Vec<(String, i64)>> {
        let connection = self.connection();
        let mut statement =
            connection.prepare_cached("SELECT events FROM inbox WHERE flow = ?1 AND key = ?2").map_err(self.sqlite_error("reading the inbox"))?;
        let mut seen = Vec::new();
        for key in keys {
            let events: Option<i64> = statement
                .query_row(params![flow, key], |row| row.get(0))
                .optional()
                .map_err(self.sqlite_error(format_args!("reading record {key} of flow {flow} in the inbox")))?;
            if let Some(events) = events {
                seen.push((key.clone(), events));
            }
        }
        Ok(seen)
    }

    /// Takes records of `flow` out of the inbox: a run has finished with them,
    /// having seen the given number of events. A record that got more events
    /// since (one arrived while the run was going) stays, for the next run.
    pub fn take_inbox(&self, flow: &str, seen: &[(String, i64)]) -> Result<()> {
        let mut connection = self.connection();
        // IMMEDIATE, as every write here: wait for other writers with the busy timeout.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error("clearing the inbox"))?;
        {
            let mut statement = transaction
                .prepare_cached("DELETE FROM inbox WHERE flow = ?1 AND key = ?2 AND events <= ?3")
                .map_err(self.sqlite_error("clearing the inbox"))?;
            for (key, events) in seen {
                statement
                    .execute(params![flow, key, events])
                    .map_err(self.sqlite_error(format_args!("taking record {key} of flow {flow} from the inbox")))?;
            }
        }
        transaction.commit().map_err(self.sqlite_error("clearing the inbox"))
    }

    /// Counts a try of records of `flow` that did not settle them, with why,
    /// and gives up those that `give_up` says (a record that got a newer event
    /// meanwhile is never given up: it runs again with the newer data).
    /// Returns the keys that became dead letters.
    pub fn inbox_tried(&self, flow: &str, seen: &[(String, i64)], why: &str, give_up: GiveUp) -> Result<Vec<String>> {
        let why: String = why.chars().take(MAX_REASON_CHARS).collect();
        let (now_dead, max) = match give_up {
            GiveUp::Now => (true, i64::MAX),
            GiveUp::After(n) => (false, n),
        };
        let mut connection = self.connection();
        let transaction =
            connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error("counting a try in the inbox"))?;
        let mut dead = Vec::new();
        {
            let mut statement = transaction
                .prepare_cached(
                    "UPDATE inbox SET attempts = attempts + 1, last_error = ?4, last_try_at_ms = ?5,
                         status = CASE WHEN events <= ?3 AND (?6 OR attempts + 1 >= ?7) THEN 'dead' ELSE status END
                     WHERE flow = ?1 AND key = ?2
                     RETURNING status",
                )
                .map_err(self.sqlite_error("counting a try in the inbox"))?;
            let now = now_ms();
            for (key, events) in seen {
                let status: Option<String> = statement
                    .query_row(params![flow, key, events, why, now, now_dead, max], |row| row.get(0))
                    .optional()
                    .map_err(self.sqlite_error(format_args!("counting a try of record {key} of flow {flow} in the inbox")))?;
                if status.as_deref().map(InboxStatus::parse) == Some(InboxStatus::Dead) {
                    dead.push(key.clone());
                }
            }
        }
        transaction.commit().map_err(self.sqlite_error("counting a try in the inbox"))?;
        Ok(dead)
    }

    /// A record waits again with no tries counted (an operator's retry);
    /// false when the inbox does not have it.
    pub fn retry_inbox(&self, flow: &str, key: &str) -> Result<bool> {
        let changed = self
            .connection()
            .execute("UPDATE inbox SET status = ?3, attempts = 0 WHERE flow = ?1 AND key = ?2", params![flow, key, InboxStatus::Waiting.as_str()])
            .map_err(self.sqlite_error(format_args!("retrying record {key} of flow {flow} in the inbox")))?;
        Ok(changed > 0)
    }

    /// Drops a record from the inbox, waiting or dead; false when it is not there.
    pub fn drop_inbox(&self, flow: &str, key: &str) -> Result<bool> {
        let changed = self
            .connection()
            .execute("DELETE FROM inbox WHERE flow = ?1 AND key = ?2", params![flow, key])
            .map_err(self.sqlite_error(format_args!("dropping record {key} of flow {flow} from the inbox")))?;
        Ok(changed > 0)
    }

    /// Drops every dead letter of `flow`; returns how many.
    pub fn drop_dead_inbox(&self, flow: &str) -> Result<usize> {
        self.connection()
            .execute("DELETE FROM inbox WHERE flow = ?1 AND status = ?2", params![flow, InboxStatus::Dead.as_str()])
            .map_err(self.sqlite_error(format_args!("dropping the dead letters of flow {flow}")))
    }
}

/// A new record waits; an event for one already there is counted, and revives a dead letter.
pub(crate) const PUT: &str = "INSERT INTO inbox (flow, key, origin, received_at_ms) VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (flow, key) DO UPDATE SET events = events + 1, status = 'waiting', \
     attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END";
