//! ANSI X12: a streaming reader, a writer, and their envelope checks. Rust
//! knows the syntax only (separators, envelopes, types); what the 850, 855,
//! 810 and 997 contain is YAML under `mappings/x12/` ([`Definitions`]).
//!
//! Reading: `Reader::new(input, file_name, &definitions)` is an iterator of
//! `Result<SetRecord, X12Error>`, one per transaction set; a bad set is an
//! `Err` and the next set follows. Writing: [`write_interchange`] wraps
//! records of the same shape in GS/ISA envelopes.
//!
//! Acknowledging: `Reader::with_receipt` also builds a [`FileReceipt`] (per
//! interchange, group and set, in the 997's codes); [`acknowledgement`] makes
//! the 997 record for one received group. [`read_acknowledgement`] reads a
//! partner's 997 about the groups we sent.

mod ack_codes;
mod acknowledge;
mod acknowledged;
mod catalogue;
mod definitions;
mod envelope;
mod error;
mod format;
mod reader;
mod receipt;
mod receipt_builder;
mod record;
mod separators;
mod set_check;
mod tokenizer;
mod values;
mod writer;

pub use ack_codes::{ElementSyntaxError, GroupSyntaxError, GroupVerdict, SegmentSyntaxError, SetSyntaxError, SetVerdict};
pub use acknowledge::{UnidentifiableGroup, acknowledgement, receive};
pub use acknowledged::{Acknowledged, ElementNote, NotA997, SegmentNote, SetAcknowledged, read_acknowledgement};
pub use catalogue::entities as catalogue_entities;
pub use definitions::{Definitions, ElementDef, ElementType, Node, SegmentDef, SetDef, SetSchema};
pub use envelope::{ControlNumbers, EnvelopeConfig, Usage, X12Version};
pub use error::{X12Error, X12ErrorKind};
pub use format::{Entities, X12Format, envelope_in, format, project_envelope};
pub use reader::{MAX_SET_SEGMENTS, Reader, SetRecord};
pub use receipt::{
    ElementError, FileReceipt, GroupReceipt, InterchangeReceipt, MAX_ELEMENT_ERRORS, MAX_SEGMENT_ERRORS, NotAcknowledged, NotAcknowledgedReason,
    Party, SegmentError, SetReceipt,
};
pub use record::UNKNOWN_KEY;
pub use separators::{ISA_LENGTH, Separators};
pub use tokenizer::MAX_SEGMENT_BYTES;
pub use writer::write_interchange;
