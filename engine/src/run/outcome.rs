use minijinja::Value;

use super::reason::{Reason, ReasonKind};
use crate::deliver::PlannedRequest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Mapped and valid: the request is what a live run sends.
    Ready,
    /// Not sent; `reasons` says every reason. Only when every reason is the
    /// record's is it a block that is journaled and written back (`Outcome::configuration_error`, `Outcome::waits`).
    Blocked,
    /// Already in the target (the existence check found it).
    Skipped,
    /// Filtered out by the source's `where`.
    Ignored,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Blocked => "blocked",
            Status::Skipped => "skipped",
            Status::Ignored => "ignored",
        }
    }
}

/// What happened to one source record.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// 1-based position in the input.
    pub position: usize,
    pub key: String,
    pub status: Status,
    pub request: Option<PlannedRequest>,
    pub reasons: Vec<Reason>,
    pub message: Option<String>,
    pub found: Option<Value>,
    pub write_backs: Vec<PlannedRequest>,
    /// The file a file target would be given (a dry-run shows its exact bytes).
    pub written: Option<crate::deliver::Written>,
    /// What a live run needs to plan write-backs after delivery (kept only when asked for).
    pub context: Option<Box<Context>>,
    /// Records this record's look-ups created (`create`): what, and the system's answer.
    pub created: Vec<(String, serde_json::Value)>,
}

/// The record, its look-ups and its mapped payload, for planning write-backs
/// from the target's real answer.
#[derive(Debug, Clone)]
pub struct Context {
    pub record: Value,
    pub lookup: Value,
    pub out: Value,
    pub found: Option<Value>,
    /// The existence-check key (e.g. the YourRef), to settle a write whose answer was lost.
    pub exists_key: Option<String>,
    /// The business document the record is about (`source.document`).
    pub document: Option<String>,
    /// The record's version (`source.version`), journaled with its delivery.
    pub version: Option<String>,
    /// Its last delivery from the journal (`previous`), none when there was none.
    pub previous: Value,
}

impl Context {
    /// The scope write-backs are planned in: settings, the record, its look-ups and payload.
    pub fn scope(&self, flow: &crate::compile::CompiledFlow, settings: &Value) -> crate::expr::Scope {
        let mut scope = crate::expr::Scope::new();
        scope.push("settings", settings.clone());
        scope.push(flow.source.alias, self.record.clone());
        scope.push("lookup", self.lookup.clone());
        scope.push("previous", self.previous.clone());
        scope.push("out", self.out.clone());
        scope
    }
}

impl Outcome {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The first reason that is about the flow, not the record: a run stops
    /// with it, and nothing is journaled or written back for the record.
    pub fn configuration_error(&self) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.kind == ReasonKind::Flow)
    }

    /// Some reason is a call that failed (a look-up that could not be asked),
    /// not the data: a live run leaves the record for the next run instead of blocking it.
    pub fn waits(&self) -> bool {
        self.reasons.iter().any(|r| r.kind == ReasonKind::Call)
    }
}

/// Written straight to the output stream (no intermediate JSON tree): this
/// is on the hot path of every dry-run.
impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("position", &self.position)?;
        m.serialize_entry("key", &self.key)?;
        m.serialize_entry("status", self.status.as_str())?;
        if let Some(r) = &self.request {
            m.serialize_entry("request", r)?;
        }
        if !self.reasons.is_empty() {
            m.serialize_entry("reasons", &self.reasons)?;
        }
        if let Some(msg) = &self.message {
            m.serialize_entry("message", msg)?;
        }
        if let Some(f) = &self.found {
            m.serialize_entry("found", &crate::value::Json(f))?;
        }
        if !self.write_backs.is_empty() {
            m.serialize_entry("write_back", &self.write_backs)?;
        }
        if let Some(w) = &self.written {
            m.serialize_entry("file", &serde_json::json!({"name": w.name, "content": String::from_utf8_lossy(&w.bytes)}))?;
        }
        m.end()
    }
}

/// Counts per status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub ready: u64,
    pub blocked: u64,
    pub skipped: u64,
    pub ignored: u64,
}

impl Summary {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Ready => self.ready += 1,
            Status::Blocked => self.blocked += 1,
            Status::Skipped => self.skipped += 1,
            Status::Ignored => self.ignored += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.ready + self.blocked + self.skipped + self.ignored
    }
}
