//! The one error type of the X12 codec: what went wrong (a kind callers can
//! branch on), and where — the file, the interchange (ISA13) and the segment
//! position — so a user can find it in the file.

use std::fmt;

/// What kind of problem an [`X12Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum X12ErrorKind {
    /// Reading or writing the bytes failed.
    Io,
    /// The ISA header is malformed (length, widths, separators).
    Header,
    /// Envelope pairing or counts disagree (SE01, SE02, GE01/02, IEA01/02),
    /// or a segment appears outside its envelope.
    Envelope,
    /// An element value does not fit its definition (type, length, code).
    Value,
    /// A record given to the writer does not fit the set's definition.
    Record,
    /// No definition for this transaction set and version.
    UnknownSet,
    /// The definition YAML is invalid.
    Definition,
    /// The input exceeds a bound (segment length, segments per set).
    Limit,
}

/// An X12 problem; `Display` is the message a user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X12Error {
    pub kind: X12ErrorKind,
    /// The file (or stream name) being read or written.
    pub file: String,
    /// The interchange control number (ISA13), when known.
    pub interchange: Option<String>,
    /// 1-based position of the segment in the file, when known.
    pub segment: Option<usize>,
    /// The segment id at that position (e.g. `SE`), when known.
    pub segment_id: Option<String>,
    pub message: String,
}

impl X12Error {
    pub fn new(kind: X12ErrorKind, message: impl Into<String>) -> Self {
        X12Error { kind, file: String::new(), interchange: None, segment: None, segment_id: None, message: message.into() }
    }

    pub fn in_file(mut self, file: &str) -> Self {
        if self.file.is_empty() {
            self.file = file.to_string();
        }
        self
    }

    pub fn in_interchange(mut self, control: Option<&str>) -> Self {
        if self.interchange.is_none() {
            self.interchange = control.map(str::to_string);
        }
        self
    }

    pub fn at_segment(mut self, position: usize, id: &str) -> Self {
        if self.segment.is_none() {
            self.segment = Some(position);
            self.segment_id = Some(id.to_string()).filter(|id| !id.is_empty());
        }
        self
    }
}

impl fmt::Display for X12Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if !self.file.is_empty() {
            write!(f, "{}", self.file)?;
            wrote = true;
        }
        if let Some(control) = &self.interchange {
            write!(f, "{}interchange {control}", if wrote { ", " } else { "" })?;
            wrote = true;
        }
        if let Some(position) = self.segment {
            write!(f, "{}segment {position}", if wrote { ", " } else { "" })?;
            if let Some(id) = &self.segment_id {
                write!(f, " ({id})")?;
            }
            wrote = true;
        }
        if wrote {
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for X12Error {}

impl From<std::io::Error> for X12Error {
    fn from(e: std::io::Error) -> Self {
        X12Error::new(X12ErrorKind::Io, e.to_string())
    }
}
