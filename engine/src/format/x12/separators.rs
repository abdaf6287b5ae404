//! The ISA header: the one fixed-width segment of X12, which declares the
//! separators the rest of its interchange uses. Read leniently (up to the
//! 16th element separator, then ISA16 and the terminator), so that an ISA whose
//! fields were not padded is still understood well enough to be refused with
//! its control number named.

use super::error::{X12Error, X12ErrorKind};

/// Widths of ISA01..ISA16 (X12 control standard); with "ISA", 16 separators
/// and the terminator, 106 bytes.
pub const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];
pub const ISA_LENGTH: usize = 106;
/// The most bytes an ISA read may take before it is declared malformed.
pub const ISA_MAX_LENGTH: usize = 200;

/// The separators of one interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separators {
    pub element: u8,
    pub component: u8,
    /// ISA11 from version 00402 on; `None` when ISA11 is `U`.
    pub repetition: Option<u8>,
    pub segment: u8,
}

/// An ISA segment as read: its fields and the separators it declares.
#[derive(Debug, Clone)]
pub struct IsaHeader {
    /// ISA01..ISA16 as written (not trimmed).
    pub fields: Vec<String>,
    pub separators: Separators,
    /// Bytes from `I` to the terminator inclusive (106 when well-formed).
    pub length: usize,
}

impl IsaHeader {
    /// ISA field `n` (1-based), trimmed of its padding.
    pub fn field(&self, n: usize) -> &str {
        self.fields.get(n.wrapping_sub(1)).map(|f| f.trim()).unwrap_or("")
    }

    pub fn control_number(&self) -> &str {
        self.field(13)
    }

    /// Checks the fixed widths: the whole segment must be 106 bytes.
    pub fn check_widths(&self) -> Result<(), X12Error> {
        if self.length == ISA_LENGTH && self.fields.iter().zip(ISA_WIDTHS).all(|(f, w)| f.len() == w) {
            return Ok(());
        }
        let field = self.fields.iter().zip(ISA_WIDTHS).enumerate().find(|(_, (f, w))| f.len() != *w);
        let detail = match field {
            Some((i, (f, w))) => format!(" (ISA{:02} is {} characters, its fixed width is {w})", i + 1, f.len()),
            None => String::new(),
        };
        Err(X12Error::new(
            X12ErrorKind::Header,
            format!("the ISA segment is {} characters, not {ISA_LENGTH}: its fields must be padded to their fixed widths{detail}", self.length),
        ))
    }
}

/// Parses an ISA from its bytes (starting with `ISA`, ending with the terminator).
pub fn parse_isa(bytes: &[u8]) -> Result<IsaHeader, X12Error> {
    let element = *bytes.get(3).ok_or_else(|| header_error("the ISA segment is cut short"))?;
    let body = bytes.get(4..).unwrap_or_default();
    // 15 separators after ISA01 start ISA16; ISA16 is the component separator
    // (one byte) and the byte after it ends the segment.
    let mut fields = Vec::with_capacity(16);
    let mut start = 0;
    for (i, &b) in body.iter().enumerate() {
        if b == element {
            fields.push(text(body.get(start..i).unwrap_or_default()));
            start = i + 1;
            if fields.len() == 15 {
                break;
            }
        }
    }
    if fields.len() < 15 {
        return Err(header_error("the ISA segment is cut short (fewer than 16 elements)"));
    }
    let component = *body.get(start).ok_or_else(|| header_error("the ISA segment is cut short (no ISA16)"))?;
    let segment = *body.get(start + 1).ok_or_else(|| header_error("the ISA segment has no segment terminator"))?;
    fields.push(text(&[component]));
    let repetition = fields.get(10).and_then(|f| f.as_bytes().first().copied()).filter(|&b| b != b'U');
    let separators = Separators { element, component, repetition, segment };
    check_separators(&separators)?;
    Ok(IsaHeader { fields, separators, length: 4 + start + 2 })
}

/// Separators must differ from each other and from the characters data uses.
fn check_separators(s: &Separators) -> Result<(), X12Error> {
    let all = [Some(s.element), Some(s.component), Some(s.segment), s.repetition];
    for (i, a) in all.iter().enumerate() {
        let Some(a) = a else { continue };
        if a.is_ascii_alphanumeric() || *a == b' ' {
            return Err(header_error(format!("the ISA declares {} as a separator; separators cannot be letters, digits or spaces", shown(*a))));
        }
        if all.iter().skip(i + 1).any(|b| *b == Some(*a)) {
            return Err(header_error(format!("the ISA declares {} for two different separators", shown(*a))));
        }
    }
    Ok(())
}

/// A byte as a user can read it in a message.
pub fn shown(b: u8) -> String {
    if b.is_ascii_graphic() { format!("'{}'", b as char) } else { format!("byte 0x{b:02X}") }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn header_error(message: impl Into<String>) -> X12Error {
    X12Error::new(X12ErrorKind::Header, message)
}
