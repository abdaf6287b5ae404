//! Builds a [`FileReceipt`] from what the reader meets, event by event: the
//! reader calls these as it opens and closes envelopes, so a receipt costs no
//! second pass and holds one set's checker at a time (plus each set's
//! verdict, a few strings).

use std::collections::HashSet;

use super::ack_codes::{GroupSyntaxError as G, SegmentSyntaxError, SetSyntaxError as T};
use super::definitions::{Definitions, SetSchema};
use super::envelope::same_control;
use super::error::X12Error;
use super::receipt::{FileReceipt, GroupReceipt, InterchangeReceipt, NotAcknowledged, NotAcknowledgedReason, Party, SetReceipt};
use super::separators::IsaHeader;
use super::set_check::SetCheck;
use super::tokenizer::Segment;

struct OpenGroup {
    receipt: GroupReceipt,
    /// ST02s seen, to find one used twice.
    controls: HashSet<String>,
}

struct OpenSet<'d> {
    receipt: SetReceipt,
    check: Option<SetCheck<'d>>,
    /// Segments ST to here, as SE01 counts them.
    segments: usize,
}

pub struct ReceiptBuilder<'d> {
    definitions: &'d Definitions,
    receipt: FileReceipt,
    interchange: Option<InterchangeReceipt>,
    group: Option<OpenGroup>,
    set: Option<OpenSet<'d>>,
}

impl<'d> ReceiptBuilder<'d> {
    pub fn new(file: &str, definitions: &'d Definitions) -> Self {
        let receipt = FileReceipt { file: file.to_string(), ..FileReceipt::default() };
        ReceiptBuilder { definitions, receipt, interchange: None, group: None, set: None }
    }

    pub fn receipt(&self) -> &FileReceipt {
        &self.receipt
    }

    pub fn into_receipt(mut self) -> FileReceipt {
        self.end_of_file();
        self.receipt
    }

    /// An ISA: what was open before it is cut off; a malformed one (`refused`)
    /// cannot be acknowledged.
    pub fn interchange(&mut self, isa: &IsaHeader, refused: Option<&X12Error>) {
        self.close_interchange();
        if let Some(error) = refused {
            return self.not_acknowledged(NotAcknowledgedReason::UnreadableInterchangeHeader, error);
        }
        let party = |q, i| Party { qualifier: isa.field(q).to_string(), id: isa.field(i).to_string() };
        self.interchange = Some(InterchangeReceipt {
            sender: party(5, 6),
            receiver: party(7, 8),
            control_number: isa.control_number().to_string(),
            version: isa.field(12).to_string(),
            usage: isa.field(15).to_string(),
            ..InterchangeReceipt::default()
        });
    }

    /// The tokenizer stopped: an ISA it could not read cannot be acknowledged;
    /// anything else ends what is open (at the end of the file).
    pub fn unreadable(&mut self, error: &X12Error) {
        if error.kind == super::error::X12ErrorKind::Header {
            self.not_acknowledged(NotAcknowledgedReason::UnreadableInterchangeHeader, error);
        } else {
            self.fault(error);
        }
    }

    /// A problem of the interchange envelope a 997 cannot express.
    pub fn fault(&mut self, error: &X12Error) {
        if let Some(interchange) = self.interchange.as_mut() {
            interchange.faults.push(error.clone());
        }
    }

    /// A GS inside an interchange (the reader tells [`Self::not_acknowledged`] of one outside).
    pub fn group(&mut self, gs: &Segment) {
        self.close_group();
        let (functional_id, control, version) = (gs.element(1), gs.element(6), gs.element(8));
        let mut errors = Vec::new();
        if !self.definitions.sets().any(|s| s.functional_group == functional_id) {
            errors.push(G::FunctionalGroupNotSupported);
        }
        if !self.definitions.has_version(version) {
            errors.push(G::FunctionalGroupVersionNotSupported);
        }
        if !is_group_control(control) {
            errors.push(G::ControlNumberViolatesSyntax);
        }
        let receipt = GroupReceipt {
            functional_id: functional_id.to_string(),
            control_number: control.to_string(),
            version: version.to_string(),
            errors,
            ..GroupReceipt::default()
        };
        self.group = Some(OpenGroup { receipt, controls: HashSet::new() });
    }

    /// An ST inside a group; `schema` is its definition when there is one.
    pub fn set(&mut self, st: &Segment, schema: Option<SetSchema<'d>>) {
        let Some(group) = self.group.as_mut() else { return };
        let (id, control) = (st.element(1), st.element(2));
        let mut errors = Vec::new();
        if schema.is_none() {
            errors.push(T::TransactionSetNotSupported);
        }
        if id.len() != 3 || !id.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(T::MissingOrInvalidSetIdentifier);
        }
        if !(4..=9).contains(&control.len()) || !control.bytes().all(|b| b.is_ascii_alphanumeric()) {
            errors.push(T::MissingOrInvalidControlNumber);
        } else if !group.controls.insert(control.to_string()) {
            errors.push(T::ControlNumberNotUnique);
        }
        let receipt = SetReceipt { id: id.to_string(), control_number: control.to_string(), position: st.position, errors, ..SetReceipt::default() };
        self.set = Some(OpenSet { receipt, check: schema.map(|s| SetCheck::new(s, st.position)), segments: 1 });
    }

    pub fn segment(&mut self, segment: &Segment) {
        if let Some(set) = self.set.as_mut() {
            set.segments += 1;
            if let Some(check) = set.check.as_mut() {
                check.push(segment);
            }
        }
    }

    /// A segment inside the set that cannot be read (its id is garbled).
    pub fn unreadable_segment(&mut self, error: &X12Error) {
        self.reject_segment(error, SegmentSyntaxError::UnrecognizedSegmentId);
    }

    /// The set grew past the reader's bound at this segment.
    pub fn over_limit(&mut self, error: &X12Error) {
        self.reject_segment(error, SegmentSyntaxError::SegmentExceedsMaximumUse);
    }

    /// SE (or `None`: the set was cut off). `refused` says whether the reader
    /// gave an error for the set: the receipt rejects it too, whatever else.
    pub fn end_set(&mut self, se: Option<&Segment>, refused: bool) {
        let Some(mut set) = self.set.take() else { return };
        let errors = &mut set.receipt.errors;
        match se {
            Some(se) => {
                set.segments += 1;
                if se.element(1).trim().parse::<usize>().ok() != Some(set.segments) {
                    errors.push(T::SegmentCountDoesNotMatch);
                }
                if !same_control(se.element(2), &set.receipt.control_number) {
                    errors.push(T::ControlNumbersDoNotMatch);
                }
            }
            None => errors.push(T::TransactionSetTrailerMissing),
        }
        if let Some(check) = set.check {
            set.receipt.segment_errors = match se {
                Some(se) => check.finish(se.position),
                None => check.cut_off(),
            };
        }
        // A rejecting segment error is AK502 5; so is a set the reader refused
        // for a reason no other code here names.
        let rejecting = set.receipt.segment_errors.iter().any(|e| e.rejects());
        let named = rejecting || !set.receipt.errors.is_empty();
        if (rejecting || (refused && !named)) && !set.receipt.errors.contains(&T::OneOrMoreSegmentsInError) {
            set.receipt.errors.push(T::OneOrMoreSegmentsInError);
        }
        if let Some(group) = self.group.as_mut() {
            group.receipt.sets.push(set.receipt);
        }
    }

    pub fn end_group(&mut self, ge: &Segment) {
        let Some(mut group) = self.group.take() else { return };
        let included = ge.element(1).trim().parse::<usize>().ok();
        group.receipt.included = included;
        if included != Some(group.receipt.sets.len()) {
            group.receipt.errors.push(G::SetCountDoesNotMatch);
        }
        if !same_control(ge.element(2), &group.receipt.control_number) {
            group.receipt.errors.push(G::ControlNumbersDoNotAgree);
        }
        if let Some(interchange) = self.interchange.as_mut() {
            interchange.groups.push(group.receipt);
        }
    }

    pub fn end_interchange(&mut self) {
        self.close_interchange();
    }

    pub fn end_of_file(&mut self) {
        self.close_interchange();
    }

    fn reject_segment(&mut self, error: &X12Error, code: SegmentSyntaxError) {
        let Some(set) = self.set.as_mut() else { return };
        set.segments += 1;
        if let Some(check) = set.check.as_mut() {
            let position = error.segment.map_or(set.segments, |p| check.in_set(p));
            check.note(error.segment_id.as_deref().unwrap_or_default(), position, code, Vec::new());
        }
        if !set.receipt.errors.contains(&T::OneOrMoreSegmentsInError) {
            set.receipt.errors.push(T::OneOrMoreSegmentsInError);
        }
    }

    /// Ends an open group (its GE never came) and its open set.
    fn close_group(&mut self) {
        self.end_set(None, true);
        if let Some(mut group) = self.group.take() {
            group.receipt.errors.push(G::FunctionalGroupTrailerMissing);
            if let Some(interchange) = self.interchange.as_mut() {
                interchange.groups.push(group.receipt);
            }
        }
    }

    fn close_interchange(&mut self) {
        self.close_group();
        if let Some(interchange) = self.interchange.take() {
            self.receipt.interchanges.push(interchange);
        }
    }

    pub fn not_acknowledged(&mut self, reason: NotAcknowledgedReason, error: &X12Error) {
        self.receipt.not_acknowledged.push(NotAcknowledged { reason, error: error.clone() });
    }
}

/// GS06: one to nine digits (it is acknowledged in AK102, an N0 of 1..9).
fn is_group_control(control: &str) -> bool {
    (1..=9).contains(&control.len()) && control.bytes().all(|b| b.is_ascii_digit())
}
