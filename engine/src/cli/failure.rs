//! Why a command ended before its end, and the one table of exit statuses
//! every command shares (README, "Exit codes"):
//!
//! | status | meaning |
//! |--------|---------|
//! | 0      | done, nothing wrong |
//! | 1      | done, and problems found: check errors, failed tests, failed or unknown records (blocked ones with `--fail-on-blocked`), a run that stopped, a connection that fails `--check`, stale schemas |
//! | 2      | not done: a usage error, an input that is missing or cannot be read or used, a refusal that ends the command |
//! | 141    | standard output was closed (`| head`) |
//!
//! A command that did its work returns `ExitCode::SUCCESS` or `FAILURE`
//! itself; everything else is a `Failure`, whose kind alone picks the status.
//! Usage errors, and file arguments that do not exist (paths.rs), are clap's:
//! they end with 2 before any command starts.

use std::io::{self, Write};
use std::process::ExitCode;

use super::output::OutputError;
use crate::diagnostic::{Diagnostic, render_text};

#[derive(Debug)]
pub enum Failure {
    /// The flows, the project or the connections file have errors, shown
    /// as `flowmap check` shows them; `then` closes them (what did not happen).
    Problems { found: Vec<Diagnostic>, then: Option<String> },
    /// The command could not do what was asked; shown as one error.
    Message(String),
    /// Standard output failed.
    Output(io::Error),
}

/// The status of a command whose reader went away: what a shell shows for a
/// process killed by SIGPIPE (128 + 13), which is what `set -o pipefail`
/// scripts expect of a program cut off by `head`.
pub const BROKEN_PIPE_STATUS: u8 = 141;

/// Problems found: check errors and the like.
pub const PROBLEMS_STATUS: u8 = 1;

/// Not done: usage, unusable input, a refusal.
pub const NOT_DONE_STATUS: u8 = 2;

impl Failure {
    /// Check errors that end the command, with nothing more to say.
    pub fn problems(found: Vec<Diagnostic>) -> Failure {
        Failure::Problems { found, then: None }
    }

    /// The exit status of this kind of failure: the one mapping.
    pub fn status(&self) -> u8 {
        match self {
            Failure::Problems { .. } => PROBLEMS_STATUS,
            Failure::Message(_) => NOT_DONE_STATUS,
            Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => BROKEN_PIPE_STATUS,
            Failure::Output(_) => NOT_DONE_STATUS,
        }
    }

    /// What stderr shows: the diagnostics as `check` shows them, or one
    /// error; nothing for a closed pipe (whoever closed it has what they wanted).
    pub fn text(&self) -> String {
        let error = |message: &str| render_text(&Diagnostic::error(message));
        match self {
            Failure::Problems { found, then } => {
                let mut text: String = found.iter().map(|d| render_text(d) + "\n").collect();
                if let Some(then) = then {
                    text.push_str(&error(then));
                }
                text
            }
            Failure::Message(m) => error(m),
            Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => String::new(),
            Failure::Output(e) => error(&format!("cannot write the output: {e}")),
        }
    }

    /// Says why on stderr and ends with the status.
    pub fn exit(self) -> ExitCode {
        // A closed stderr cannot be told anything; the status still says it.
        let _ = anstream::stderr().write_all(self.text().as_bytes());
        ExitCode::from(self.status())
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Message(message)
    }
}

impl From<OutputError> for Failure {
    fn from(e: OutputError) -> Self {
        Failure::Output(e.0)
    }
}
