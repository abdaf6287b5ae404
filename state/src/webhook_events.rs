//! Webhook events received lately, so an event delivered again (a sender's
//! retry, or a captured body replayed) is acknowledged without a second run.
//! Kept in the state file, so a restart does not forget them; each is
//! remembered for a window, then forgotten (pruned as new events arrive).

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::clock::now_ms;
use crate::error::Result;
use crate::inbox::PUT;
use crate::state::State;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// First seen now: its record is in the inbox of every flow named.
    New,
    /// Seen within the window (first at this time): nothing was changed.
    Again { first_at_ms: i64 },
}

impl State {
    /// Notes the event `id` (a digest of what identifies it) and puts `key` in
    /// the inbox of each of `flows`, in one transaction, unless the event was
    /// already received within the last `window_ms`. Either everything is kept
    /// or nothing is (then the sender is not told yes, and sends it again).
    pub fn receive_event(&self, id: &str, window_ms: i64, flows: &[String], key: &str, origin: &str) -> Result<Received> {
        let now = now_ms();
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error("keeping an event"))?;
        transaction
            .execute("DELETE FROM webhook_events WHERE received_at_ms < ?1", [now.saturating_sub(window_ms)])
            .map_err(self.sqlite_error("forgetting old events"))?;
        let first: Option<i64> = transaction
            .query_row("SELECT received_at_ms FROM webhook_events WHERE id = ?1", [id], |row| row.get(0))
            .optional()
            .map_err(self.sqlite_error("looking for an event received before"))?;
        if let Some(first_at_ms) = first {
            return Ok(Received::Again { first_at_ms });
        }
        transaction
            .execute("INSERT INTO webhook_events (id, received_at_ms) VALUES (?1, ?2)", params![id, now])
            .map_err(self.sqlite_error("keeping an event"))?;
        for flow in flows {
            transaction
                .execute(PUT, params![flow, key, origin, now])
                .map_err(self.sqlite_error(format_args!("keeping record {key} of flow {flow} in the inbox")))?;
        }
        transaction.commit().map_err(self.sqlite_error("keeping an event"))?;
        Ok(Received::New)
    }
}
