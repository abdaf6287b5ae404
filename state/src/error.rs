//! The one error type of this crate.
//!
//! Messages are for operators: they name the state file (or key source) and
//! what went wrong. They never contain a secret, so callers may log them.

use std::fmt;

/// What went wrong, as a sentence for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError(pub String);

pub type Result<T> = std::result::Result<T, StateError>;

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StateError {}

impl StateError {
    pub(crate) fn new(message: impl Into<String>) -> StateError {
        StateError(message.into())
    }
}
