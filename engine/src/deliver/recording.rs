//! The target port of a dry-run: nothing leaves the machine. Each request is
//! recorded, and the answer is what the target would give: the payload with
//! the target's key field marked as assigned by the target (or, for an
//! update, the record found).

use std::sync::Mutex;

use minijinja::Value;

use super::{DeliverError, Delivered, Fut, PlannedRequest, Target};
use crate::compile::CompiledTarget;
use crate::write_back::WriteBack;

/// Requests a dry-run would have sent, in order.
#[derive(Default)]
pub struct Recorded {
    pub requests: Mutex<Vec<(String, PlannedRequest)>>,
}

impl Recorded {
    fn keep(&self, purpose: &str, request: &PlannedRequest) {
        self.requests.lock().unwrap_or_else(|p| p.into_inner()).push((purpose.to_string(), request.clone()));
    }

    /// Takes what was recorded so far.
    pub fn take(&self) -> Vec<(String, PlannedRequest)> {
        std::mem::take(&mut *self.requests.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

pub struct RecordingTarget<'a> {
    pub target: &'a CompiledTarget,
    pub recorded: &'a Recorded,
}

impl Target for RecordingTarget<'_> {
    fn deliver<'a>(&'a self, request: &'a PlannedRequest, found: Option<&'a Value>) -> Fut<'a, Result<Delivered, DeliverError>> {
        self.recorded.keep("deliver", request);
        let answer = match found {
            Some(f) => crate::value::to_json(f),
            None => {
                let mut answer = request.body.as_ref().map(crate::value::to_json).unwrap_or_else(|| serde_json::json!({}));
                if let (Some(k), serde_json::Value::Object(fields)) = (&self.target.key_field, &mut answer) {
                    fields.insert(k.clone(), serde_json::Value::String(format!("(new {k} from {})", self.target.system)));
                }
                answer
            }
        };
        Box::pin(std::future::ready(Ok(Delivered { answer })))
    }
}

/// The write-back port of a dry-run: recorded, never sent.
pub struct RecordingWriteBack<'a> {
    pub recorded: &'a Recorded,
}

impl WriteBack for RecordingWriteBack<'_> {
    fn send<'a>(&'a self, request: &'a PlannedRequest) -> Fut<'a, Result<(), String>> {
        self.recorded.keep("write back", request);
        Box::pin(std::future::ready(Ok(())))
    }
}
