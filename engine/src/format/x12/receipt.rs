//! A receipt: what reading a file found, per interchange, group and set, in
//! X12's terms (the 997's codes), so each group can be acknowledged. Made by
//! the reader alongside its records ([`super::Reader::with_receipt`]).

use serde::Serialize;

use super::ack_codes::{ElementSyntaxError, GroupSyntaxError, GroupVerdict, SegmentSyntaxError, SetSyntaxError, SetVerdict};
use super::error::X12Error;

/// The segment errors kept per set (a garbled set would otherwise list every segment).
pub const MAX_SEGMENT_ERRORS: usize = 100;
/// The element errors kept per segment (the 997 allows 99 AK4 per AK3).
pub const MAX_ELEMENT_ERRORS: usize = 99;

/// Everything read from one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileReceipt {
    pub file: String,
    /// The interchanges whose ISA was read, in file order.
    pub interchanges: Vec<InterchangeReceipt>,
    /// What cannot be acknowledged with a 997 at all (an unreadable ISA, a
    /// group outside an interchange): the operator must be told.
    pub not_acknowledged: Vec<NotAcknowledged>,
}

impl FileReceipt {
    /// Every group read, with the interchange it came in.
    pub fn groups(&self) -> impl Iterator<Item = (&InterchangeReceipt, &GroupReceipt)> {
        self.interchanges.iter().flat_map(|i| i.groups.iter().map(move |g| (i, g)))
    }
}

/// Why part of a file cannot be acknowledged with a 997.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NotAcknowledgedReason {
    /// The ISA cannot be read or is malformed: sender, receiver and control
    /// number are not to be trusted, so nothing in the interchange is read.
    UnreadableInterchangeHeader,
    /// A GS with no ISA before it.
    GroupOutsideInterchange,
    /// An ST with no GS before it: there is no group to acknowledge it in.
    SetOutsideGroup,
}

/// A part of a file that no 997 can acknowledge, and the reader's error for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotAcknowledged {
    pub reason: NotAcknowledgedReason,
    #[serde(serialize_with = "as_text")]
    pub error: X12Error,
}

/// An id with its qualifier (ISA05/06, ISA07/08).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Party {
    pub qualifier: String,
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InterchangeReceipt {
    pub sender: Party,
    pub receiver: Party,
    /// ISA13.
    pub control_number: String,
    /// ISA12, e.g. `00401`.
    pub version: String,
    /// ISA15: `T` or `P`.
    pub usage: String,
    pub groups: Vec<GroupReceipt>,
    /// Problems of the interchange envelope (IEA missing or not matching, a
    /// segment between sets): a 997 cannot express them (a TA1 would).
    #[serde(serialize_with = "all_as_text")]
    pub faults: Vec<X12Error>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupReceipt {
    /// GS01, e.g. `PO`.
    pub functional_id: String,
    /// GS06.
    pub control_number: String,
    /// GS08, e.g. `004010`.
    pub version: String,
    /// GE01 as read (None when there is no GE or it is not a number).
    pub included: Option<usize>,
    pub sets: Vec<SetReceipt>,
    /// AK905..: problems of the group's envelope; any rejects the group.
    pub errors: Vec<GroupSyntaxError>,
}

impl GroupReceipt {
    /// AK903: sets received.
    pub fn received(&self) -> usize {
        self.sets.len()
    }

    /// AK904: sets accepted (with or without errors); none when the group is
    /// rejected for its envelope.
    pub fn accepted(&self) -> usize {
        if !self.errors.is_empty() {
            return 0;
        }
        self.sets.iter().filter(|s| s.verdict() != SetVerdict::Rejected).count()
    }

    /// AK901.
    pub fn verdict(&self) -> GroupVerdict {
        let accepted = self.accepted();
        if accepted == 0 && (!self.errors.is_empty() || !self.sets.is_empty()) {
            return GroupVerdict::Rejected;
        }
        if accepted < self.sets.len() {
            return GroupVerdict::PartiallyAccepted;
        }
        if self.sets.iter().any(|s| s.verdict() == SetVerdict::AcceptedWithErrors) {
            return GroupVerdict::AcceptedWithErrors;
        }
        GroupVerdict::Accepted
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SetReceipt {
    /// ST01, e.g. `850`.
    pub id: String,
    /// ST02.
    pub control_number: String,
    /// 1-based position of its ST in the file.
    pub position: usize,
    /// AK502..: problems of the set as a whole.
    pub errors: Vec<SetSyntaxError>,
    /// AK3 (with AK4): problems of its segments, in file order.
    pub segment_errors: Vec<SegmentError>,
}

impl SetReceipt {
    /// AK501: rejected for a set error or a rejecting segment or element
    /// error; accepted with errors when only the others were found.
    pub fn verdict(&self) -> SetVerdict {
        if !self.errors.is_empty() || self.segment_errors.iter().any(SegmentError::rejects) {
            SetVerdict::Rejected
        } else if !self.segment_errors.is_empty() {
            SetVerdict::AcceptedWithErrors
        } else {
            SetVerdict::Accepted
        }
    }
}

/// One AK3 and its AK4s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentError {
    /// AK301: the segment's id.
    pub segment_id: String,
    /// AK302: its position in the set (ST is 1).
    pub position: usize,
    /// AK303: the loop it is in (its trigger segment's id), if any.
    pub loop_id: Option<String>,
    /// AK304.
    pub code: SegmentSyntaxError,
    pub elements: Vec<ElementError>,
}

impl SegmentError {
    pub fn rejects(&self) -> bool {
        self.code.rejects() || self.elements.iter().any(|e| e.code.rejects())
    }
}

/// One AK4.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementError {
    /// AK401: 1-based position in the segment.
    pub position: usize,
    /// AK402: the X12 data element reference number, when the definition has it.
    pub reference: Option<u32>,
    /// AK403.
    pub code: ElementSyntaxError,
    /// AK404: a copy of the bad value (none for a missing one).
    pub value: Option<String>,
}

fn as_text<S: serde::Serializer>(error: &X12Error, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(error)
}

fn all_as_text<S: serde::Serializer>(errors: &[X12Error], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(errors.iter().map(ToString::to_string))
}
