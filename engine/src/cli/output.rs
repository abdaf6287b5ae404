//! What a command writes to standard output, every write checked.
//!
//! `println!` panics when standard output is closed (`flowmap runs | head -0`)
//! and `let _ = writeln!` loses the output without a word (`>/dev/full`), so
//! a CI job would pass with nothing written. Output that cannot be written
//! ends the command instead: a closed pipe quietly, anything else (a full
//! disk) with the reason on stderr; both with a non-zero status (failure.rs).

use std::fmt;
use std::io::{self, Write};

/// Standard output could not be written.
#[derive(Debug)]
pub struct OutputError(pub io::Error);

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write the output: {}", self.0)
    }
}

/// For helpers that report problems as text.
impl From<OutputError> for String {
    fn from(e: OutputError) -> String {
        e.to_string()
    }
}

/// Standard output of a command.
pub struct Out {
    inner: Box<dyn Write>,
}

impl Out {
    /// Text for people: colour only on a terminal (anstream strips it otherwise).
    pub fn text() -> Out {
        Out { inner: Box::new(anstream::stdout()) }
    }

    /// JSON for machines: no colour to strip, buffered.
    pub fn raw() -> Out {
        Out { inner: Box::new(io::BufWriter::new(io::stdout())) }
    }

    /// `write!` and `writeln!` on an `Out` give an `OutputError`.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), OutputError> {
        self.inner.write_fmt(args).map_err(OutputError)
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.inner.write_all(bytes).map_err(OutputError)
    }

    /// `value` as one line of JSON, written without an intermediate string.
    pub fn json_line(&mut self, value: &impl serde::Serialize) -> Result<(), OutputError> {
        serde_json::to_writer(&mut self.inner, value).map_err(|e| OutputError(e.into()))?;
        self.write_all(b"\n")
    }

    /// Everything written so far reaches the output (before stderr is written, say).
    pub fn flush(&mut self) -> Result<(), OutputError> {
        self.inner.flush().map_err(OutputError)
    }

    /// The end of the output: an error that only shows when the last bytes
    /// are written (a full disk under a buffer) is not lost.
    pub fn finish(mut self) -> Result<(), OutputError> {
        self.flush()
    }
}
