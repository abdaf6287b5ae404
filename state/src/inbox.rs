//! The inbox: records that an event (an Exact Online webhook) asked a flow to
//! run. An event is put here before it is acknowledged and taken out only
//! after a run of its flow has finished with it, so an accepted event is never
//! lost to a busy flow, a system that is down or a restart. Running a record
//! twice is harmless: the flow's existence check decides before anything is sent.

use rusqlite::{TransactionBehavior, params};
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
    pub received_at_ms: i64,
}

impl State {
    /// Puts `key` of `flow` in the inbox; an event for a record already waiting
    /// keeps the first one's time (the record is run once for both).
    pub fn put_inbox(&self, flow: &str, key: &str, origin: &str) -> Result<()> {
        self.connection()
            .execute(
                "INSERT INTO inbox (flow, key, origin, received_at_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (flow, key) DO NOTHING",
                params![flow, key, origin, now_ms()],
            )
            .map_err(self.sqlite_error(format_args!("keeping record {key} of flow {flow} in the inbox")))?;
        Ok(())
    }

    /// Everything waiting, oldest first.
    pub fn inbox(&self) -> Result<Vec<InboxRow>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached("SELECT flow, key, origin, received_at_ms FROM inbox ORDER BY received_at_ms, flow, key")
            .map_err(self.sqlite_error("reading the inbox"))?;
        let rows = statement
            .query_map([], |row| Ok(InboxRow { flow: row.get(0)?, key: row.get(1)?, origin: row.get(2)?, received_at_ms: row.get(3)? }))
            .map_err(self.sqlite_error("reading the inbox"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(self.sqlite_error("reading the inbox"))
    }

    /// Takes `keys` of `flow` out of the inbox (a run has finished with them).
    pub fn take_inbox(&self, flow: &str, keys: &[String]) -> Result<()> {
        let mut connection = self.connection();
        // IMMEDIATE, as every write here: wait for other writers with the busy timeout.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error("clearing the inbox"))?;
        {
            let mut statement =
                transaction.prepare_cached("DELETE FROM inbox WHERE flow = ?1 AND key = ?2").map_err(self.sqlite_error("clearing the inbox"))?;
            for key in keys {
                statement
                    .execute(params![flow, key])
                    .map_err(self.sqlite_error(format_args!("taking record {key} of flow {flow} from the inbox")))?;
            }
        }
        transaction.commit().map_err(self.sqlite_error("clearing the inbox"))
    }
}
