//! X12 interchanges received, by sender, receiver and interchange control
//! number (ISA13), so an interchange received twice (a partner's resend, the
//! same interchange in two files) is processed once.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::clock::now_ms;
use crate::error::Result;
use crate::state::State;

/// What [`State::receive_interchange`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterchangeReceipt {
    /// First seen now: process it.
    New,
    /// Received before in this same file (a file taken up again after its
    /// run did not finish it): process it again; its records' own journal
    /// keeps them from being sent twice.
    SameFile,
    /// Received before in another file: do not process it again.
    Duplicate { file: i64, received_at_ms: i64 },
}

impl State {
    /// Notes that the interchange `control` (ISA13) from `sender` to
    /// `receiver` arrived in `file` (an id of [`State::begin_file`]), unless it
    /// arrived before: see [`InterchangeReceipt`]. Committed when it returns.
    pub fn receive_interchange(&self, sender: &str, receiver: &str, control: &str, file: i64) -> Result<InterchangeReceipt> {
        let doing = || format!("noting interchange {control} from {sender} to {receiver}");
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error(doing()))?;
        let before: Option<(i64, i64)> = transaction
            .query_row(
                "SELECT file, received_at_ms FROM interchanges_received WHERE sender = ?1 AND receiver = ?2 AND control = ?3",
                params![sender, receiver, control],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(self.sqlite_error(doing()))?;
        let receipt = match before {
            Some((earlier, _)) if earlier == file => InterchangeReceipt::SameFile,
            Some((earlier, received_at_ms)) => InterchangeReceipt::Duplicate { file: earlier, received_at_ms },
            None => {
                transaction
                    .execute(
                        "INSERT INTO interchanges_received (sender, receiver, control, file, received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![sender, receiver, control, file, now_ms()],
                    )
                    .map_err(self.sqlite_error(doing()))?;
                InterchangeReceipt::New
            }
        };
        transaction.commit().map_err(self.sqlite_error(doing()))?;
        Ok(receipt)
    }
}
