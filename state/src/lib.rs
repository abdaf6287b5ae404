//! flowmap's state, in ONE SQLite file: runs, the per-record journal (the
//! audit trail), each record's current state, the inbox of records that
//! events asked for (and the events received lately), connection settings,
//! credentials and OAuth tokens encrypted at rest, and for file transports the
//! files taken in, the X12 control numbers given out and the interchanges received.
//!
//! The key that encrypts credentials ([`Vault`]) is kept outside the file, so
//! the file alone reveals no secret. Nothing secret appears in an error
//! message or a `Debug` output of this crate.
//!
//! Beside the state file SQLite keeps `<file>-wal` and `<file>-shm`, and token
//! refreshes are serialised with a lock on `<file>-tokenlock` ([`TokenLock`]).

mod acknowledgements;
mod clock;
mod connections;
mod control_numbers;
mod db;
mod deliveries;
mod error;
mod file_journal;
mod files;
mod hex;
mod inbox;
mod interchanges;
mod journal;
mod json;
mod names;
mod process;
mod runs;
mod schema;
mod secrets;
mod settings;
mod state;
mod token_lock;
mod tokens;
mod vault;
mod watermarks;
mod webhook_events;

pub use acknowledgements::{Acknowledgement, Unacknowledged};
pub use connections::ConnectionRow;
pub use control_numbers::{ControlKind, MAX_CONTROL};
pub use deliveries::{Delivered, DeliveryEnd, Reservation};
pub use error::{Result, StateError};
pub use file_journal::{Disposal, FileBegin, FileRow, FileStatus, MAX_FILES_LISTED};
pub use inbox::{GiveUp, InboxRow, InboxStatus};
pub use interchanges::InterchangeReceipt;
pub use journal::{EVENTS, JournalEntry, JournalRow, RecordRow, SentVersion};
pub use runs::{CRASHED, RUN_ENDINGS, RUN_MODES, RUN_ORIGINS, RUNNING, RunRow};
pub use state::State;
pub use token_lock::TokenLock;
pub use tokens::TokenSet;
pub use vault::{KEY_ENV, Vault};
pub use watermarks::Watermark;
pub use webhook_events::Received;
