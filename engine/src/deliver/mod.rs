//! Deliver: the request that sends a mapped record to the target (`request.rs`),
//! and the target port that sends it: HTTP (`http.rs`), or recorded for a
//! dry-run (`recording.rs`), which answers what the target would; for a file
//! target, the records gathered into files (`grouped.rs`).

mod files;
mod grouped;
mod http;
mod recording;
mod request;

pub use files::{FileTarget, Presence, not_sent};
pub use grouped::{Gathered, Offered, PlannedFile, gather};
pub use http::{AnswerReader, HttpTarget, send};
pub use recording::{FileTargetShape, Recorded, RecordingTarget, RecordingWriteBack};
pub use request::{PlannedRequest, UploadFile, create, record_of, update};

use minijinja::Value;

pub use crate::transport::files::Fut;

/// What the target answered to a delivery: the record it now has (with the
/// id it gave), against which the `sent` write-backs are planned.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub answer: serde_json::Value,
    /// The file written (file targets): its path and exact bytes, which a dry-run shows.
    pub written: Option<Written>,
}

/// A file a delivery wrote (or, in a dry-run, would write).
#[derive(Debug, Clone)]
pub struct Written {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why a delivery did not end with an answer, by what happens next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverError {
    /// The target refused the payload (its words in `reason`): the record is blocked.
    Refused { reason: String },
    /// Sent, and the answer was lost: applied or not, nobody knows yet.
    Unknown { message: String },
    /// The run cannot go on (consent lost, the daily budget spent, shutting
    /// down); nothing was applied.
    Stop { message: String },
    /// Not sent (the connection could not be made, retries spent): the next run tries again.
    Failed { message: String },
    /// Not sent: the flow's configuration cannot make it (an X12 target without its
    /// envelope). Never the record's fault: the run stops.
    Misconfigured { message: String },
}

impl DeliverError {
    /// The error of a format that could not write the record.
    pub fn of_write(e: crate::format::WriteError) -> DeliverError {
        match e {
            crate::format::WriteError::Record(reason) => DeliverError::Refused { reason },
            crate::format::WriteError::Configuration(message) => DeliverError::Misconfigured { message },
        }
    }
}

/// The target port. `found` is the record the existence check found when this is an update of it.
pub trait Target: Sync {
    fn deliver<'a>(&'a self, request: &'a PlannedRequest, found: Option<&'a Value>) -> Fut<'a, Result<Delivered, DeliverError>>;

    /// For a file target: how its files are written (records are then gathered into files, `grouped.rs`).
    fn file_shape(&self) -> Option<&FileTargetShape<'_>> {
        None
    }
}

impl std::fmt::Display for DeliverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliverError::Refused { reason } => f.write_str(reason),
            DeliverError::Unknown { message } => write!(f, "no answer, delivered or not: {message}"),
            DeliverError::Stop { message } | DeliverError::Failed { message } | DeliverError::Misconfigured { message } => {
                write!(f, "not sent: {message}")
            }
        }
    }
}
