//! Envelopes: the facts a record carries about its interchange and group, and
//! the configuration the writer builds ISA and GS from (a connection's YAML).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{X12Error, X12ErrorKind};
use super::separators::IsaHeader;
use super::tokenizer::Segment;

/// `interchange` of a record: who sent it to whom, when, and its control number.
pub fn interchange_facts(isa: &IsaHeader) -> Value {
    json!({
        "sender_qualifier": isa.field(5),
        "sender_id": isa.field(6),
        "receiver_qualifier": isa.field(7),
        "receiver_id": isa.field(8),
        "date": isa.field(9),
        "time": isa.field(10),
        "version": isa.field(12),
        "control_number": isa.field(13),
        "ack_requested": isa.field(14) == "1",
        "usage": isa.field(15),
    })
}

/// `group` of a record: the functional group (GS) it came in.
pub fn group_facts(gs: &Segment) -> Value {
    json!({
        "functional_id": gs.element(1),
        "application_sender": gs.element(2),
        "application_receiver": gs.element(3),
        "date": gs.element(4),
        "time": gs.element(5),
        "control_number": gs.element(6),
        "agency": gs.element(7),
        "version": gs.element(8),
    })
}

/// Control numbers pair when equal as numbers (`000000905` = `905`) or as text.
pub fn same_control(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// ISA15: whether an interchange is test or production data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Usage {
    /// `T`: test data.
    #[serde(rename = "T")]
    Test,
    /// `P`: production data.
    #[serde(rename = "P")]
    Production,
}

/// The X12 version written: ISA12 and GS08 follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum X12Version {
    /// ISA12 `00401`, GS08 `004010`; ISA11 is `U`.
    #[serde(rename = "004010")]
    V4010,
    /// ISA12 `00501`, GS08 `005010`; ISA11 is the repetition separator.
    #[serde(rename = "005010")]
    V5010,
}

impl X12Version {
    pub fn isa12(self) -> &'static str {
        match self {
            X12Version::V4010 => "00401",
            X12Version::V5010 => "00501",
        }
    }

    pub fn gs08(self) -> &'static str {
        match self {
            X12Version::V4010 => "004010",
            X12Version::V5010 => "005010",
        }
    }
}

/// How outgoing interchanges are enveloped: the partner pair, usage and
/// separators. Comes from a connection's YAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeConfig {
    /// ISA05: the qualifier of the sender id (e.g. `ZZ` mutually defined, `01` DUNS, `12` phone).
    pub sender_qualifier: String,
    /// ISA06: our id (up to 15 characters; padded).
    pub sender_id: String,
    /// ISA07: the qualifier of the receiver id.
    pub receiver_qualifier: String,
    /// ISA08: the partner's id (up to 15 characters; padded).
    pub receiver_id: String,
    /// GS02; defaults to the sender id.
    #[serde(default)]
    pub application_sender: Option<String>,
    /// GS03; defaults to the receiver id.
    #[serde(default)]
    pub application_receiver: Option<String>,
    /// ISA15: `T` (test) or `P` (production).
    pub usage: Usage,
    /// `004010` (default) or `005010`.
    #[serde(default = "default_version")]
    pub version: X12Version,
    /// ISA14: ask the partner for a TA1 interchange acknowledgment.
    #[serde(default)]
    pub ack_requested: bool,
    /// Element separator (ISA byte 3); default `*`.
    #[serde(default = "default_element")]
    pub element_separator: char,
    /// Component separator (ISA16); default `>`.
    #[serde(default = "default_component")]
    pub component_separator: char,
    /// Repetition separator (ISA11, 005010 only); default `^`.
    #[serde(default = "default_repetition")]
    pub repetition_separator: char,
    /// Segment terminator; default `~`.
    #[serde(default = "default_segment")]
    pub segment_terminator: char,
    /// Write a line break after each segment terminator (for people reading the file).
    #[serde(default)]
    pub line_break: bool,
    /// Answer every functional group taken from the partner with a 997 in the outbox (default true).
    #[serde(default = "answer_with_997")]
    pub acknowledge: bool,
    /// Hours after which a group we sent that no 997 answered is reported (default 24).
    #[serde(default = "acknowledgement_due_hours")]
    pub acknowledgement_due_hours: u32,
}

fn answer_with_997() -> bool {
    true
}
fn acknowledgement_due_hours() -> u32 {
    24
}

fn default_version() -> X12Version {
    X12Version::V4010
}
fn default_element() -> char {
    '*'
}
fn default_component() -> char {
    '>'
}
fn default_repetition() -> char {
    '^'
}
fn default_segment() -> char {
    '~'
}

/// Control numbers for one interchange, allocated by the caller before writing
/// (from the state store, so they are never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlNumbers {
    /// ISA13 / IEA02 (1..=999999999).
    pub interchange: u64,
    /// GS06 / GE02 (1..=999999999).
    pub group: u64,
}

impl ControlNumbers {
    pub fn check(&self) -> Result<(), X12Error> {
        for (name, n) in [("interchange", self.interchange), ("group", self.group)] {
            if !(1..=999_999_999).contains(&n) {
                return Err(X12Error::new(X12ErrorKind::Record, format!("the {name} control number {n} is not in 1..999999999")));
            }
        }
        Ok(())
    }
}
