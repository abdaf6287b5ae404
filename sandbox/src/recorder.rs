//! The log of API requests the sandbox answered, for tests to assert on what a flow really sent.

use std::sync::Mutex;

use serde::Serialize;

/// One request as the sandbox saw it, with the status it answered.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    /// `exact` or `lnb`.
    pub system: String,
    pub method: String,
    pub path: String,
    /// Query parameters, percent-decoded, in the order sent.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// A form-encoded body, decoded (token calls).
    pub form: Vec<(String, String)>,
    /// A JSON body; a body that is not JSON is kept as a string.
    pub body: Option<serde_json::Value>,
    /// The status answered; for `drop_after_write` the status the write produced, which the
    /// client never saw.
    pub status: u16,
    /// The injected fault (`429`, `503`, `timeout`, `drop_after_write`), if any.
    pub fault: Option<String>,
    /// Sandbox clock, epoch milliseconds, when the request arrived.
    pub at_ms: i64,
}

#[derive(Default)]
pub struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
}

impl Recorder {
    pub fn push(&self, request: RecordedRequest) {
        self.lock().push(request);
    }

    pub fn all(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }
}
