/// Why a call did not give an answer to use. The kinds matter to the run:
/// only `Unknown` leaves a write in doubt, only `Stop` ends the run.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The system answered with an error: the request had no effect. The
    /// message is the system's own (Exact's `error.message.value`).
    Refused { status: u16, message: String },
    /// A write was sent but no answer came (timeout, connection dropped):
    /// it may have been applied. Never re-sent blind.
    Unknown { message: String },
    /// Retries are spent (5xx, timeouts and connection failures of reads, or writes that never left).
    Unavailable { message: String },
    /// The run cannot go on: consent lost, daily budget spent, credentials missing or refused,
    /// the engine shutting down.
    Stop { message: String },
    /// The request could not be made (e.g. a URL no HTTP library accepts): nothing
    /// was sent, and sending it again cannot help.
    Invalid { message: String },
}

impl CallError {
    pub fn message(&self) -> &str {
        match self {
            CallError::Refused { message, .. }
            | CallError::Unknown { message }
            | CallError::Unavailable { message }
            | CallError::Stop { message }
            | CallError::Invalid { message } => message,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused { status, message } => write!(f, "{message} (HTTP {status})"),
            _ => f.write_str(self.message()),
        }
    }
}
