//! Control numbers of outgoing X12 interchanges (ISA13) and functional groups
//! (GS06), per partner pair.
//!
//! A number is allocated — committed to disk, `synchronous=FULL` — before the
//! interchange that carries it is written, so a crash after the allocation
//! loses a number (a gap the partner never sees as a problem) but never gives
//! one out twice. Numbers increase strictly per (pair, kind) until the last
//! nine-digit number, 999999999; the next allocation starts again at 1, as
//! X12 practice does (partners check duplicates within a window, not for ever).

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::clock::now_ms;
use crate::error::Result;
use crate::state::State;

/// Which control number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    /// ISA13, the interchange control number.
    Interchange,
    /// GS06, the group control number.
    Group,
}

impl ControlKind {
    fn as_str(self) -> &'static str {
        match self {
            ControlKind::Interchange => "interchange",
            ControlKind::Group => "group",
        }
    }
}

/// The largest control number: ISA13 is exactly nine digits, GS06 at most nine.
pub const MAX_CONTROL: u32 = 999_999_999;

impl State {
    /// Allocates `count` consecutive control numbers of `kind` for
    /// `partner_pair` and returns the first; the block `first ..= first + count - 1`
    /// is the caller's alone. Committed before it returns. A block that would
    /// pass [`MAX_CONTROL`] starts at 1 instead (the numbers wrap; a block is
    /// never split across the wrap).
    pub fn allocate_control(&self, partner_pair: &str, kind: ControlKind, count: u32) -> Result<u32> {
        let doing = || format!("allocating {} control numbers for {partner_pair}", kind.as_str());
        if partner_pair.is_empty() {
            return Err(self.error(format_args!("{}: the partner pair is empty", doing())));
        }
        if count == 0 || count > MAX_CONTROL {
            return Err(self.error(format_args!("{}: cannot allocate {count} numbers (1 to {MAX_CONTROL} at a time)", doing())));
        }
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error(doing()))?;
        let last: Option<i64> = transaction
            .query_row("SELECT last FROM control_numbers WHERE pair = ?1 AND kind = ?2", params![partner_pair, kind.as_str()], |row| row.get(0))
            .optional()
            .map_err(self.sqlite_error(doing()))?;
        let last = u32::try_from(last.unwrap_or(0).clamp(0, i64::from(MAX_CONTROL))).unwrap_or(MAX_CONTROL);
        let first = match last.checked_add(count) {
            Some(end) if end <= MAX_CONTROL => last + 1,
            _ => 1,
        };
        let new_last = first + (count - 1);
        transaction
            .execute(
                "INSERT INTO control_numbers (pair, kind, last, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (pair, kind) DO UPDATE SET last = excluded.last, updated_at_ms = excluded.updated_at_ms",
                params![partner_pair, kind.as_str(), new_last, now_ms()],
            )
            .map_err(self.sqlite_error(doing()))?;
        transaction.commit().map_err(self.sqlite_error(doing()))?;
        Ok(first)
    }
}
