//! The target port of a dry-run: nothing leaves the machine. Each request is
//! recorded, and the answer is what the target would give: the payload with
//! the target's key field marked as assigned by the target (or, for an
//! update, the record found).

use std::sync::Mutex;

use minijinja::Value;

use super::{DeliverError, Delivered, Fut, PlannedRequest, Target};
use crate::compile::CompiledTarget;
use crate::run::CallLog;
use crate::write_back::WriteBack;

/// The requests a dry-run would have sent, counted as a call summary (grouped,
/// one example each: recording costs no copy of a payload).
#[derive(Default)]
pub struct Recorded {
    calls: Mutex<CallLog>,
}

impl Recorded {
    /// Counts `request` under `group` (the path shown for its kind of call).
    pub(crate) fn keep(&self, purpose: &str, group: &str, request: &PlannedRequest) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        calls.record(&request.system, &request.method, group, purpose, || request.path.clone());
    }

    /// Takes what was recorded so far.
    pub fn take(&self) -> CallLog {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

pub struct RecordingTarget<'a> {
    pub target: &'a CompiledTarget,
    pub recorded: &'a Recorded,
    /// Whether anything reads the answer (a `sent` write-back reading `result`): building it
    /// costs a copy of the payload, so it is only built then.
    pub answered: bool,
    /// For a file target: how its files are written, so the dry-run shows their exact bytes.
    pub files: Option<FileTargetShape<'a>>,
}

/// What a file target writes with. Control numbers are 1 (a dry-run allocates none).
pub struct FileTargetShape<'a> {
    pub format: &'a dyn crate::format::RecordFormat,
    pub envelope: Option<&'a crate::format::x12::EnvelopeConfig>,
    pub outbox: String,
}

impl<'a> RecordingTarget<'a> {
    /// The recording target of `flow`'s target in `project` (a file target writes its bytes).
    pub fn of(
        project: &'a crate::project::Project,
        flow: &'a crate::compile::CompiledFlow,
        recorded: &'a Recorded,
        envelope: Option<&'a crate::format::x12::EnvelopeConfig>,
    ) -> Self {
        let target = &flow.target;
        let answered = flow.after.sent.iter().any(|r| r.reads("result"));
        let files = project.systems.get(&target.system).filter(|s| s.def.transport != crate::model::Transport::Http).map(|s| FileTargetShape {
            format: &*s.format,
            envelope,
            outbox: s.def.files.as_ref().and_then(|f| f.outbox.clone()).unwrap_or_else(|| "/".into()),
        });
        RecordingTarget { target, recorded, answered, files }
    }
}

impl Target for RecordingTarget<'_> {
    fn deliver<'a>(&'a self, request: &'a PlannedRequest, found: Option<&'a Value>) -> Fut<'a, Result<Delivered, DeliverError>> {
        self.recorded.keep("deliver", &self.target.path, request);
        let answer = match found {
            _ if !self.answered && self.files.is_none() => serde_json::Value::Null,
            Some(f) => crate::value::to_json(f),
            None => crate::value::to_json(&crate::access::created_as_planned(self.target, request)),
        };
        let Some(files) = &self.files else { return Box::pin(std::future::ready(Ok(Delivered { answer, written: None }))) };
        let record = request.body.as_ref().map(crate::value::to_json).unwrap_or_default();
        let control = crate::format::Control { interchange: 1, group: 1 };
        let written = files.format.write(std::slice::from_ref(&record), files.envelope, control).map(|bytes| {
            let name = crate::transport::files::join(&files.outbox, &request.path);
            super::Written { name, bytes }
        });
        Box::pin(std::future::ready(match written {
            Ok(w) => Ok(Delivered { answer: serde_json::json!({"file": w.name, "bytes": w.bytes.len()}), written: Some(w) }),
            Err(e) => Err(DeliverError::of_write(e)),
        }))
    }

    fn file_shape(&self) -> Option<&FileTargetShape<'_>> {
        self.files.as_ref()
    }
}

/// The write-back port of a dry-run: recorded, never sent.
pub struct RecordingWriteBack<'a> {
    pub recorded: &'a Recorded,
}

impl WriteBack for RecordingWriteBack<'_> {
    fn send<'a>(&'a self, request: &'a PlannedRequest) -> Fut<'a, Result<(), String>> {
        self.recorded.keep("write back", &request.path, request);
        Box::pin(std::future::ready(Ok(())))
    }
}
