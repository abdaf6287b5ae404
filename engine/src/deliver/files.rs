//! The target port over a file store: each record written as one file in the
//! system's outbox, in the system's format, under the name the runner gave it
//! (`target.file`). The store puts it under a temporary name and renames it
//! when complete; numbered formats (X12) take their control numbers from the
//! state store first, so a number is never used twice, even after a crash.

use std::sync::Arc;

use flowmap_state::{ControlKind, State};
use minijinja::Value;

use super::{DeliverError, Delivered, Fut, PlannedRequest, Target};
use crate::format::x12::EnvelopeConfig;
use crate::format::{Control, RecordFormat};
use crate::transport::files::{FileFailure, FileStore, join};

pub struct FileTarget<'a> {
    pub store: Arc<dyn FileStore>,
    pub format: &'a dyn RecordFormat,
    pub outbox: String,
    pub envelope: Option<&'a EnvelopeConfig>,
    /// Control numbers (numbered formats): the state store and the partner pair they count for.
    pub control: Option<(&'a State, String)>,
}

impl FileTarget<'_> {
    fn allocate(&self) -> Result<Control, DeliverError> {
        let Some((state, pair)) = &self.control else { return Ok(Control { interchange: 1, group: 1 }) };
        let take = |kind| state.allocate_control(pair, kind, 1).map_err(|e| DeliverError::Failed { message: e.to_string() });
        Ok(Control { interchange: take(ControlKind::Interchange)?, group: take(ControlKind::Group)? })
    }
}

impl Target for FileTarget<'_> {
    fn deliver<'a>(&'a self, request: &'a PlannedRequest, _found: Option<&'a Value>) -> Fut<'a, Result<Delivered, DeliverError>> {
        Box::pin(async move {
            let record = request.body.as_ref().map(crate::value::to_json).unwrap_or_default();
            // Allocated (and on disk) before anything is written.
            let control = if self.format.numbered() { self.allocate()? } else { Control { interchange: 1, group: 1 } };
            let bytes = self.format.write(std::slice::from_ref(&record), self.envelope, control).map_err(DeliverError::of_write)?;
            let path = join(&self.outbox, &request.path);
            match self.store.put(&self.outbox, &request.path, &bytes).await {
                Ok(()) => {
                    let mut answer = serde_json::json!({"file": path, "bytes": bytes.len()});
                    if self.format.numbered() {
                        answer["interchange"] = serde_json::json!(control.interchange);
                        answer["group"] = serde_json::json!(control.group);
                    }
                    Ok(Delivered { answer, written: Some(super::Written { name: path, bytes }) })
                }
                // A file already under the name: delivered before, by this flow (an answer lost to
                // a crash) or not; either way nothing is overwritten, and nobody can tell now.
                Err(e) if e.kind == FileFailure::Refused => Err(DeliverError::Unknown { message: e.message }),
                Err(e) if matches!(e.kind, FileFailure::HostKey | FileFailure::Credentials) => Err(DeliverError::Stop { message: e.message }),
                Err(e) => Err(DeliverError::Failed { message: e.message }),
            }
        })
    }
}
