//! The target port over a file store: records written as files in the
//! system's outbox, in the system's format (`grouped.rs` gathers them: one
//! file per record, or per group). The store puts each under a temporary name
//! and renames it when complete; numbered formats (X12) take their control
//! numbers from the state store first, so a number is never used twice, even
//! after a crash.
//!
//! A file target can answer "was it delivered?" for a delivery in doubt: the
//! file journaled at "sending" is looked for in the outbox and compared, byte
//! for byte, with what was journaled ([`FileTarget::presence`]).

use std::sync::Arc;

use flowmap_state::{ControlKind, State};
use minijinja::Value;

use super::{DeliverError, Delivered, FileTargetShape, Fut, PlannedRequest, Target};
use crate::format::Control;
use crate::transport::files::{FileError, FileFailure, FileStore, join};

pub struct FileTarget<'a> {
    pub store: Arc<dyn FileStore>,
    /// The format, the envelope and the outbox.
    pub shape: FileTargetShape<'a>,
    /// Control numbers (numbered formats): the state store and the partner pair they count for.
    pub control: Option<(&'a State, String)>,
}

/// Whether a file written before is in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// There, with exactly the bytes written: delivered.
    Ours,
    /// Not there: never written (or taken away by the partner, who then has it).
    Absent,
    /// A file of that name with other bytes: someone else's, or changed since.
    Other,
}

impl FileTarget<'_> {
    /// The next control numbers of the partner pair, on disk before anything is written.
    pub fn allocate(&self) -> Result<Control, String> {
        let Some((state, pair)) = &self.control else { return Ok(Control { interchange: 1, group: 1 }) };
        let take = |kind| state.allocate_control(pair, kind, 1).map_err(|e| e.to_string());
        Ok(Control { interchange: take(ControlKind::Interchange)?, group: take(ControlKind::Group)? })
    }

    /// Writes `bytes` as `name` in the outbox. A name taken already by a file of exactly
    /// these bytes is this delivery made before (an answer lost): delivered. Taken by other
    /// bytes: nobody can tell now whether ours arrived, and nothing is overwritten.
    pub async fn upload(&self, name: &str, bytes: &[u8]) -> Result<(), DeliverError> {
        match self.store.put(&self.shape.outbox, name, bytes).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind == FileFailure::Refused => match self.presence(&join(&self.shape.outbox, name), bytes).await {
                Ok(Presence::Ours) => Ok(()),
                _ => Err(DeliverError::Unknown { message: e.message }),
            },
            Err(e) => Err(not_sent(e)),
        }
    }

    /// Whether the file at `path` is there with exactly `bytes`.
    pub async fn presence(&self, path: &str, bytes: &[u8]) -> Result<Presence, FileError> {
        match self.store.size(path).await? {
            None => Ok(Presence::Absent),
            Some(size) if size != bytes.len() as u64 => Ok(Presence::Other),
            Some(_) => {
                let mut held = Vec::with_capacity(bytes.len());
                self.store.read(path, &mut held).await?;
                Ok(if held == bytes { Presence::Ours } else { Presence::Other })
            }
        }
    }
}

/// An upload that failed, by what happens next.
pub fn not_sent(e: FileError) -> DeliverError {
    match e.kind {
        FileFailure::HostKey | FileFailure::Credentials => DeliverError::Stop { message: e.message },
        _ => DeliverError::Failed { message: e.message },
    }
}

/// One record, one file (what `grouped.rs` does for a batch, for a single delivery).
impl Target for FileTarget<'_> {
    fn deliver<'a>(&'a self, request: &'a PlannedRequest, _found: Option<&'a Value>) -> Fut<'a, Result<Delivered, DeliverError>> {
        Box::pin(async move {
            let record = request.body.as_ref().map(crate::value::to_json).unwrap_or_default();
            let format = self.shape.format;
            // Allocated (and on disk) before anything is written.
            let control = if format.numbered() {
                self.allocate().map_err(|message| DeliverError::Failed { message })?
            } else {
                Control { interchange: 1, group: 1 }
            };
            let bytes = format.write(std::slice::from_ref(&record), self.shape.envelope, control).map_err(DeliverError::of_write)?;
            self.upload(&request.path, &bytes).await?;
            let mut answer = serde_json::json!({"file": join(&self.shape.outbox, &request.path), "bytes": bytes.len()});
            if format.numbered() {
                answer["interchange"] = serde_json::json!(control.interchange);
                answer["group"] = serde_json::json!(control.group);
            }
            Ok(Delivered { answer, written: Some(super::Written { name: join(&self.shape.outbox, &request.path), bytes }) })
        })
    }

    fn file_shape(&self) -> Option<&FileTargetShape<'_>> {
        Some(&self.shape)
    }
}
