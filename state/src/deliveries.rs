//! Deliveries: the promise "never twice", kept by what is sent rather than by
//! who sends it.
//!
//! A record's identity at its target (e.g. Exact Online SalesOrders by
//! YourRef) is reserved here before it is delivered, atomically, whatever flow,
//! run, thread or process delivers it. Two flows that send the same orders to
//! the same target (a flow and another send mode of it), two runs at once, or
//! an engine and a CLI run all meet on this table: one delivers, the others
//! wait for it and then ask the target (the existence check decides).
//!
//! A row is `holding` while its run delivers, `sent` once the target took it,
//! `doubt` when the run ended not knowing (an answer lost and no way to ask).
//! A run that did not deliver after all (the target refused, or the existence
//! check found the record there) gives its reservation up. A holder whose run
//! ended or whose process died (see `process.rs`) holds nothing any more: the
//! next one takes over, and asks the target first.
//!
//! Within ONE state file only: engines on separate state files cannot see
//! each other's reservations (one state file per deployment).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::clock::now_ms;
use crate::error::Result;
use crate::journal::JournalEntry;
use crate::runs::RUNNING;
use crate::state::State;

/// `sent` rows older than this are forgotten: every run asks the target
/// (its existence check) before it reserves, so a row only has to outlive the
/// moments between another run's existence check and its reservation.
const KEEP_SENT_MS: i64 = 7 * 24 * 3_600_000;

/// Who delivered, or is delivering, an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub flow: String,
    pub key: String,
    pub run: i64,
    /// "holding", "sent" or "doubt".
    pub status: String,
    pub target_id: Option<String>,
}

/// The answer to [`State::reserve_delivery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Nobody using this state file has delivered this identity, or is doing
    /// so: it is reserved for the caller, who delivers now (the entries given
    /// were journaled with the reservation).
    Fresh,
    /// Delivered before, or left in doubt, by this holder (perhaps one whose
    /// process died mid-delivery): reserved for the caller, who must ask the
    /// target before delivering (nothing was journaled).
    Confirm(Delivered),
    /// Another run that is still going is delivering it: wait, then ask again.
    Held(Delivered),
}

/// How a reserved delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEnd {
    /// The target has it (sent now, or found there), with its id there.
    Sent(Option<String>),
    /// Delivered or not, nobody can tell: whoever comes next asks the target.
    Doubt,
    /// Not delivered (refused, or never sent): the reservation is given up.
    NotDelivered,
}

impl State {
    /// Reserves `identity` at `target` for record `key` of `flow` in `run`.
    /// When it is [`Reservation::Fresh`], `on_fresh` (the "sending" entry) is
    /// journaled in the same transaction, so a delivery is never begun without
    /// both on disk.
    pub fn reserve_delivery(&self, target: &str, identity: &str, flow: &str, key: &str, run: i64, on_fresh: &[JournalEntry]) -> Result<Reservation> {
        self.check_events(on_fresh)?;
        let doing = || format!("reserving the delivery of {identity} at {target} for record {key} of {flow}");
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error(doing()))?;
        let current = holder(&transaction, self.path(), target, identity).map_err(self.sqlite_error(doing()))?;
        let answer = match current {
            None => {
                transaction
                    .execute(
                        "INSERT INTO deliveries (target, identity, flow, key, run, status, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'holding', ?6)",
                        params![target, identity, flow, key, run, now_ms()],
                    )
                    .map_err(self.sqlite_error(doing()))?;
                self.write_entries(&transaction, on_fresh)?;
                Reservation::Fresh
            }
            Some((delivered, _)) if delivered.run == run && delivered.key == key && delivered.flow == flow => {
                // Ours already (a record asked again in its own run): ask the target first.
                Reservation::Confirm(delivered)
            }
            Some((delivered, alive)) if delivered.status == "holding" && alive => Reservation::Held(delivered),
            Some((delivered, _)) => {
                transaction
                    .execute(
                        "UPDATE deliveries SET flow = ?3, key = ?4, run = ?5, status = 'holding', at_ms = ?6 WHERE target = ?1 AND identity = ?2",
                        params![target, identity, flow, key, run, now_ms()],
                    )
                    .map_err(self.sqlite_error(doing()))?;
                Reservation::Confirm(delivered)
            }
        };
        transaction.commit().map_err(self.sqlite_error(doing()))?;
        Ok(answer)
    }

    /// Ends the reservation of `identity` at `target` held by `run`, with
    /// `entries` journaled in the same transaction. A reservation `run` no
    /// longer holds (taken over after its process was thought dead) is left
    /// as its new holder has it; the entries are journaled all the same.
    pub fn end_delivery(&self, target: &str, identity: &str, run: i64, end: &DeliveryEnd, entries: &[JournalEntry]) -> Result<()> {
        self.check_events(entries)?;
        let doing = || format!("recording the delivery of {identity} at {target}");
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error(doing()))?;
        let changed = match end {
            DeliveryEnd::Sent(target_id) => transaction.execute(
                "UPDATE deliveries SET status = 'sent', target_id = coalesce(?4, target_id), at_ms = ?5
                 WHERE target = ?1 AND identity = ?2 AND run = ?3",
                params![target, identity, run, target_id, now_ms()],
            ),
            DeliveryEnd::Doubt => transaction.execute(
                "UPDATE deliveries SET status = 'doubt', at_ms = ?4 WHERE target = ?1 AND identity = ?2 AND run = ?3",
                params![target, identity, run, now_ms()],
            ),
            DeliveryEnd::NotDelivered => {
                transaction.execute("DELETE FROM deliveries WHERE target = ?1 AND identity = ?2 AND run = ?3", params![target, identity, run])
            }
        };
        changed.map_err(self.sqlite_error(doing()))?;
        self.write_entries(&transaction, entries)?;
        transaction.commit().map_err(self.sqlite_error(doing()))
    }

    /// Who holds or delivered `identity` at `target`, if anyone.
    pub fn delivery(&self, target: &str, identity: &str) -> Result<Option<Delivered>> {
        let connection = self.connection();
        let found = holder(&connection, self.path(), target, identity)
            .map_err(self.sqlite_error(format_args!("reading the delivery of {identity} at {target}")))?;
        Ok(found.map(|(delivered, _)| delivered))
    }

    /// Forgets deliveries sent long ago (see [`KEEP_SENT_MS`]).
    pub fn prune_deliveries(&self) -> Result<usize> {
        self.connection()
            .execute("DELETE FROM deliveries WHERE status = 'sent' AND at_ms < ?1", [now_ms() - KEEP_SENT_MS])
            .map_err(self.sqlite_error("forgetting old deliveries"))
    }
}

/// The row of `identity` at `target` and whether its holder's run is still
/// going in a live process.
fn holder(connection: &Connection, state_path: &Path, target: &str, identity: &str) -> rusqlite::Result<Option<(Delivered, bool)>> {
    let row: Option<(Delivered, Option<String>, Option<String>)> = connection
        .query_row(
            "SELECT d.flow, d.key, d.run, d.status, d.target_id, r.status, r.process
             FROM deliveries d LEFT JOIN runs r ON r.id = d.run
             WHERE d.target = ?1 AND d.identity = ?2",
            params![target, identity],
            |row| {
                let delivered = Delivered { flow: row.get(0)?, key: row.get(1)?, run: row.get(2)?, status: row.get(3)?, target_id: row.get(4)? };
                Ok((delivered, row.get(5)?, row.get(6)?))
            },
        )
        .optional()?;
    let Some((delivered, run_status, process)) = row else { return Ok(None) };
    let alive = run_status.as_deref() == Some(RUNNING) && process.is_some_and(|process| crate::process::is_alive(state_path, &process));
    Ok(Some((delivered, alive)))
}
