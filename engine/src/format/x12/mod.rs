//! ANSI X12: a streaming reader, a writer, and their envelope checks. Rust
//! knows the syntax only (separators, envelopes, types); what the 850, 855,
//! 810 and 997 contain is YAML under `mappings/x12/` ([`Definitions`]).
//!
//! Reading: `Reader::new(input, file_name, &definitions)` is an iterator of
//! `Result<SetRecord, X12Error>`, one per transaction set; a bad set is an
//! `Err` and the next set follows. Writing: [`write_interchange`] wraps
//! records of the same shape in GS/ISA envelopes.

mod catalogue;
mod definitions;
mod envelope;
mod error;
mod format;
mod reader;
mod record;
mod separators;
mod tokenizer;
mod values;
mod writer;

pub use catalogue::entities as catalogue_entities;
pub use definitions::{Definitions, ElementDef, ElementType, Node, SegmentDef, SetDef, SetSchema};
pub use envelope::{ControlNumbers, EnvelopeConfig, Usage, X12Version};
pub use error::{X12Error, X12ErrorKind};
pub use format::{Entities, X12Format, envelope_in, format, project_envelope};
pub use reader::{MAX_SET_SEGMENTS, Reader, SetRecord};
pub use record::UNKNOWN_KEY;
pub use separators::{ISA_LENGTH, Separators};
pub use tokenizer::MAX_SEGMENT_BYTES;
pub use writer::write_interchange;
