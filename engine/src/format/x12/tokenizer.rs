//! Splits a byte stream into segments, one at a time, from a `BufRead`: an
//! ISA switches to the separators it declares (a mailbag may mix them); CR, LF
//! and NUL between segments are line breaks and padding, not data. Every read
//! is bounded, so no input makes it allocate without limit.

use std::io::BufRead;

use super::error::{X12Error, X12ErrorKind};
use super::separators::{ISA_MAX_LENGTH, IsaHeader, Separators, parse_isa};

/// The longest segment accepted; X12 segments are a few hundred bytes, so a
/// longer one is a file without its terminators.
pub const MAX_SEGMENT_BYTES: usize = 64 * 1024;

/// A segment other than ISA: its id and elements (element 1 first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    pub elements: Vec<String>,
    /// 1-based position in the file.
    pub position: usize,
}

impl Segment {
    /// Element `n` (1-based), empty when absent.
    pub fn element(&self, n: usize) -> &str {
        self.elements.get(n.wrapping_sub(1)).map(String::as_str).unwrap_or("")
    }
}

pub enum Token {
    Isa(IsaHeader, usize),
    Segment(Segment),
    /// A segment that cannot be read, though the stream goes on after it.
    Bad(X12Error),
}

pub struct Tokenizer<R> {
    input: R,
    separators: Option<Separators>,
    position: usize,
    buf: Vec<u8>,
    finished: bool,
}

impl<R: BufRead> Tokenizer<R> {
    pub fn new(input: R) -> Self {
        Tokenizer { input, separators: None, position: 0, buf: Vec::with_capacity(256), finished: false }
    }

    /// The next token; `None` at the end. An error here is not recoverable
    /// (the stream cannot be resynchronised), so the tokenizer stops after it.
    pub fn next_token(&mut self) -> Option<Result<Token, X12Error>> {
        if self.finished {
            return None;
        }
        let result = self.read_token();
        if !matches!(result, Some(Ok(_))) {
            self.finished = true;
        }
        result
    }

    fn read_token(&mut self) -> Option<Result<Token, X12Error>> {
        match self.skip_filler() {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => return Some(Err(e.into())),
        }
        self.position += 1;
        self.buf.clear();
        Some(self.read_segment())
    }

    /// Skips line breaks and padding between segments; false at the end.
    fn skip_filler(&mut self) -> std::io::Result<bool> {
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(false);
            }
            let filler = available.iter().take_while(|b| is_filler(**b, self.position == 0)).count();
            let more = filler < available.len();
            self.input.consume(filler);
            if more {
                return Ok(true);
            }
        }
    }

    fn read_segment(&mut self) -> Result<Token, X12Error> {
        let terminator = self.separators.map(|s| s.segment);
        // The first three bytes say whether this is an ISA (which brings its own terminator).
        while self.buf.len() < 3 {
            match self.read_byte()? {
                None => break,
                Some(b) if Some(b) == terminator => return self.finish_segment(),
                Some(b) => self.buf.push(b),
            }
        }
        if self.buf == b"ISA" {
            return self.read_isa();
        }
        let Some(terminator) = terminator else {
            return Err(self.error(X12ErrorKind::Header, "the file does not start with an ISA segment"));
        };
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Err(self.error(X12ErrorKind::Envelope, "the file ends inside a segment (no segment terminator)"));
            }
            let (take, done) = match available.iter().position(|b| *b == terminator) {
                Some(i) => (i, true),
                None => (available.len(), false),
            };
            if self.buf.len() + take > MAX_SEGMENT_BYTES {
                return Err(
                    self.error(X12ErrorKind::Limit, format!("a segment is longer than {MAX_SEGMENT_BYTES} bytes: the segment terminator is missing"))
                );
            }
            self.buf.extend_from_slice(available.get(..take).unwrap_or_default());
            self.input.consume(if done { take + 1 } else { take });
            if done {
                return self.finish_segment();
            }
        }
    }

    fn read_isa(&mut self) -> Result<Token, X12Error> {
        let element = self.read_byte()?.ok_or_else(|| self.error(X12ErrorKind::Header, "the file ends inside the ISA segment"))?;
        self.buf.push(element);
        let mut separators = 0;
        // After the 16th element separator come ISA16 and the terminator.
        let mut after = None;
        while after != Some(0) {
            if self.buf.len() >= ISA_MAX_LENGTH {
                return Err(self.error(X12ErrorKind::Header, format!("the ISA segment is longer than {ISA_MAX_LENGTH} characters")));
            }
            let b = self.read_byte()?.ok_or_else(|| self.error(X12ErrorKind::Header, "the file ends inside the ISA segment"))?;
            self.buf.push(b);
            match after {
                Some(n) => after = Some(n - 1),
                None if b == element => {
                    separators += 1;
                    if separators == 15 {
                        after = Some(2);
                    }
                }
                None => {}
            }
        }
        let header = parse_isa(&self.buf).map_err(|e| e.at_segment(self.position, "ISA"))?;
        self.separators = Some(header.separators);
        Ok(Token::Isa(header, self.position))
    }

    fn finish_segment(&mut self) -> Result<Token, X12Error> {
        let Some(separators) = self.separators else {
            return Err(self.error(X12ErrorKind::Header, "the file does not start with an ISA segment"));
        };
        let mut bytes = self.buf.as_slice();
        // A newline terminator in a file with CRLF line ends leaves a CR behind.
        if separators.segment == b'\n' {
            bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        }
        let mut parts = bytes.split(|b| *b == separators.element);
        let id = text(parts.next().unwrap_or_default());
        if !(2..=3).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            let shown: String = id.chars().take(20).collect();
            // The terminator was found, so the stream goes on: only this segment is bad.
            return Ok(Token::Bad(self.error(X12ErrorKind::Envelope, format!("'{shown}' is not a segment id"))));
        }
        let elements = parts.map(text).collect();
        Ok(Token::Segment(Segment { id, elements, position: self.position }))
    }

    fn read_byte(&mut self) -> std::io::Result<Option<u8>> {
        let available = self.input.fill_buf()?;
        let Some(&b) = available.first() else { return Ok(None) };
        self.input.consume(1);
        Ok(Some(b))
    }

    fn error(&self, kind: X12ErrorKind, message: impl Into<String>) -> X12Error {
        X12Error::new(kind, message).at_segment(self.position, "")
    }
}

/// Bytes skipped between segments: line breaks, and the padding some VANs and
/// mainframes add to fill blocks (spaces, tabs, NUL, the DOS end-of-file
/// 0x1A) — no segment starts with one; before the first segment also a UTF-8
/// byte-order mark.
fn is_filler(b: u8, at_start: bool) -> bool {
    matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0 | 0x1A) || (at_start && matches!(b, 0xEF | 0xBB | 0xBF))
}

fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}
