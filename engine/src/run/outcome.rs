use minijinja::Value;

use crate::deliver::PlannedRequest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Mapped and valid: the request is what a live run sends.
    Ready,
    /// Not sent; `reasons` says every reason.
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
    pub reasons: Vec<String>,
    pub message: Option<String>,
    pub found: Option<Value>,
    pub write_backs: Vec<PlannedRequest>,
}

impl Outcome {
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({ "position": self.position, "key": self.key, "status": self.status.as_str() });
        if let Some(r) = &self.request {
            v["request"] = r.to_json();
        }
        if !self.reasons.is_empty() {
            v["reasons"] = serde_json::json!(self.reasons);
        }
        if let Some(m) = &self.message {
            v["message"] = serde_json::json!(m);
        }
        if let Some(f) = &self.found {
            v["found"] = crate::value::to_json(f);
        }
        if !self.write_backs.is_empty() {
            v["write_back"] = serde_json::Value::Array(self.write_backs.iter().map(PlannedRequest::to_json).collect());
        }
        v
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
