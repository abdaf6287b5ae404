//! The inbox: records that an event (an Exact Online webhook) asked a flow to
//! run. An event is put here before it is acknowledged and taken out only
//! after a run of its flow has finished with it, so an accepted event is never
//! lost to a busy flow, a system that is down or a restart. Running a record
//! twice is harmless: the flow's existence check decides before anything is sent.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::clock::now_ms;
use crate::error::Result;
use crate::state::State;

/// A record waiting for a run of its flow.
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
}

impl State {
    /// Puts `key` of `flow` in the inbox. An event for a record already waiting
    /// keeps the first one's origin and time and is counted, so a run that
    /// started before it does not take it away (see [`State::take_inbox`]).
    pub fn put_inbox(&self, flow: &str, key: &str, origin: &str) -> Result<()> {
        self.connection()
            .execute(
                "INSERT INTO inbox (flow, key, origin, received_at_ms) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (flow, key) DO UPDATE SET events = events + 1",
                params![flow, key, origin, now_ms()],
            )
            .map_err(self.sqlite_error(format_args!("keeping record {key} of flow {flow} in the inbox")))?;
        Ok(())
    }

    /// Everything waiting, oldest first.
    pub fn inbox(&self) -> Result<Vec<InboxRow>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached("SELECT flow, key, origin, received_at_ms, events FROM inbox ORDER BY received_at_ms, flow, key")
            .map_err(self.sqlite_error("reading the inbox"))?;
        let rows = statement
            .query_map([], |row| {
                Ok(InboxRow { flow: row.get(0)?, key: row.get(1)?, origin: row.get(2)?, received_at_ms: row.get(3)?, events: row.get(4)? })
            })
            .map_err(self.sqlite_error("reading the inbox"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(self.sqlite_error("reading the inbox"))
    }

    /// The events counted so far for those of `keys` of `flow` that wait: what
    /// a run starting now will have seen (pass it to [`State::take_inbox`]).
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
}
