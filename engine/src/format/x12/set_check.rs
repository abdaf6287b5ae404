//! Checks one transaction set's segments against its definition, as X12
//! syntax editing does for a 997: where each segment stands in the structure
//! (placed as the record builder places it: the deepest open loop that still
//! has it ahead, else a parent), how often segments and loops occur, and each
//! element's presence, length and type. Only counts are kept, never values.

use chrono::NaiveDate;

use super::ack_codes::{ElementSyntaxError as E, SegmentSyntaxError as S};
use super::definitions::{ElementDef, ElementType, Node, SegmentDef, SetSchema};
use super::receipt::{ElementError, MAX_ELEMENT_ERRORS, MAX_SEGMENT_ERRORS, SegmentError};
use super::tokenizer::Segment;
use super::values::read_value;

struct Frame<'a> {
    nodes: &'a [Node],
    /// Where the search for the next segment starts.
    next: usize,
    /// Occurrences of each node in this instance.
    counts: Vec<usize>,
    /// The loop this frame is an instance of.
    loop_id: Option<&'a str>,
}

pub struct SetCheck<'a> {
    schema: SetSchema<'a>,
    stack: Vec<Frame<'a>>,
    /// Position of ST in the file: a segment's position in the set is counted from it.
    start: usize,
    pub errors: Vec<SegmentError>,
}

impl<'a> SetCheck<'a> {
    pub fn new(schema: SetSchema<'a>, start: usize) -> Self {
        let nodes = schema.set.structure.as_slice();
        let root = Frame { nodes, next: 0, counts: vec![0; nodes.len()], loop_id: None };
        SetCheck { schema, stack: vec![root], start, errors: Vec::new() }
    }

    /// The position of a file position in the set (ST is 1).
    pub fn in_set(&self, position: usize) -> usize {
        position.saturating_sub(self.start) + 1
    }

    pub fn push(&mut self, segment: &Segment) {
        let at = self.in_set(segment.position);
        let found =
            self.stack.iter().enumerate().rev().find_map(|(depth, frame)| {
                frame.nodes.iter().enumerate().skip(frame.next).find(|(_, n)| n.id() == segment.id).map(|(i, _)| (depth, i))
            });
        let Some((depth, index)) = found else {
            let code = self.misplaced(&segment.id);
            return self.note(&segment.id, at, code, Vec::new());
        };
        while self.stack.len() > depth + 1 {
            self.close_top(at);
        }
        self.missing_before(index, at);
        let Some(frame) = self.stack.last_mut() else { return };
        let nodes: &'a [Node] = frame.nodes;
        let Some(node) = nodes.get(index) else { return };
        frame.next = if node.max() == 1 { index + 1 } else { index };
        let count = frame.counts.get_mut(index).map(|c| {
            *c += 1;
            *c
        });
        let over = count.unwrap_or(0) > node.max();
        if let Node::Loop { id, body, .. } = node {
            // The trigger segment's errors belong to its loop (AK303).
            let mut counts = vec![0; body.len()];
            if let Some(first) = counts.first_mut() {
                *first = 1;
            }
            self.stack.push(Frame { nodes: body, next: 1, counts, loop_id: Some(id) });
        }
        let elements = self.schema.segment(&segment.id).map(|def| element_errors(def, segment)).unwrap_or_default();
        match node {
            Node::Segment { .. } if over => self.note(&segment.id, at, S::SegmentExceedsMaximumUse, elements),
            Node::Loop { .. } if over => self.note(&segment.id, at, S::LoopOccursOverMaximumTimes, elements),
            _ if !elements.is_empty() => self.note(&segment.id, at, S::SegmentHasDataElementErrors, elements),
            _ => {}
        }
    }

    /// Notes a segment error the caller found (an unreadable segment, a limit).
    pub fn note(&mut self, segment_id: &str, position: usize, code: S, elements: Vec<ElementError>) {
        if self.errors.len() >= MAX_SEGMENT_ERRORS {
            return;
        }
        let loop_id = self.stack.last().and_then(|f| f.loop_id).map(str::to_string);
        self.errors.push(SegmentError { segment_id: segment_id.to_string(), position, loop_id, code, elements });
    }

    /// At SE (at file position `se`): the mandatory segments never seen.
    pub fn finish(mut self, se: usize) -> Vec<SegmentError> {
        let at = self.in_set(se);
        while self.stack.len() > 1 {
            self.close_top(at);
        }
        let remaining = self.stack.last().map_or(0, |f| f.nodes.len());
        self.missing_before(remaining, at);
        self.errors
    }

    /// A set cut off before its SE: what was found so far (what is missing
    /// after the cut is not the sender's fault).
    pub fn cut_off(self) -> Vec<SegmentError> {
        self.errors
    }

    /// Why a segment found nowhere ahead is out of place.
    fn misplaced(&self, id: &str) -> S {
        // Passed over already, as often as it may occur: one too many.
        let used_up =
            self.stack.iter().find_map(|f| f.nodes.iter().zip(&f.counts).take(f.next).find(|(n, c)| n.id() == id && **c >= n.max()).map(|(n, _)| n));
        match used_up {
            Some(Node::Loop { .. }) => S::LoopOccursOverMaximumTimes,
            Some(Node::Segment { .. }) => S::SegmentExceedsMaximumUse,
            None if in_structure(&self.schema.set.structure, id) => S::SegmentNotInProperSequence,
            None if self.schema.segment(id).is_some() => S::SegmentNotInDefinedTransactionSet,
            None => S::UnrecognizedSegmentId,
        }
    }

    /// Nodes of the top frame passed over (from its `next` to `index`) fewer
    /// times than their `min`: missing, due at position `at`.
    fn missing_before(&mut self, index: usize, at: usize) {
        let Some(frame) = self.stack.last() else { return };
        let missing: Vec<&str> = (frame.next..index)
            .filter_map(|i| Some((frame.nodes.get(i)?, *frame.counts.get(i)?)))
            .filter(|(node, count)| *count < node.min())
            .map(|(node, _)| node.id())
            .collect();
        for id in missing {
            self.note(id, at, S::MandatorySegmentMissing, Vec::new());
        }
    }

    fn close_top(&mut self, at: usize) {
        let remaining = self.stack.last().map_or(0, |f| f.nodes.len());
        self.missing_before(remaining, at);
        self.stack.pop();
    }
}

fn in_structure(nodes: &[Node], id: &str) -> bool {
    nodes.iter().any(|n| {
        n.id() == id
            || match n {
                Node::Loop { body, .. } => in_structure(body, id),
                Node::Segment { .. } => false,
            }
    })
}

/// The AK4s of one segment: each defined element's presence, length and type,
/// then the first element past the definition.
fn element_errors(def: &SegmentDef, segment: &Segment) -> Vec<ElementError> {
    let mut errors = Vec::new();
    for (i, element) in def.elements.iter().enumerate() {
        let text = segment.element(i + 1);
        if let Some(code) = element_error(element, text) {
            let value = (!text.is_empty()).then(|| text.to_string());
            errors.push(ElementError { position: i + 1, reference: element.reference, code, value });
        }
    }
    let extra = segment.elements.iter().enumerate().skip(def.elements.len()).find(|(_, e)| !e.is_empty());
    if let Some((i, text)) = extra {
        errors.push(ElementError { position: i + 1, reference: None, code: E::TooManyDataElements, value: Some(text.clone()) });
    }
    errors.truncate(MAX_ELEMENT_ERRORS);
    errors
}

fn element_error(def: &ElementDef, text: &str) -> Option<E> {
    if text.is_empty() {
        return def.required.then_some(E::MandatoryDataElementMissing);
    }
    let length = match def.kind {
        ElementType::Real | ElementType::Implied(_) => {
            if read_value(def, text.to_string()).is_err() {
                return Some(E::InvalidCharacterInDataElement);
            }
            text.bytes().filter(u8::is_ascii_digit).count()
        }
        ElementType::Date if !is_date(text) => return Some(E::InvalidDate),
        ElementType::Time if !is_time(text) => return Some(E::InvalidTime),
        _ => text.chars().count(),
    };
    if length < def.min {
        Some(E::DataElementTooShort)
    } else if length > def.max {
        Some(E::DataElementTooLong)
    } else {
        None
    }
}

/// CCYYMMDD, or YYMMDD, of a day that exists.
fn is_date(text: &str) -> bool {
    let format = match text.len() {
        8 => "%Y%m%d",
        6 => "%y%m%d",
        _ => return false,
    };
    text.bytes().all(|b| b.is_ascii_digit()) && NaiveDate::parse_from_str(text, format).is_ok()
}

/// HHMM, HHMMSS, or HHMMSS with decimal seconds (up to 8 digits).
fn is_time(text: &str) -> bool {
    let digits = |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    (4..=8).contains(&text.len())
        && text.len() != 5
        && text.bytes().all(|b| b.is_ascii_digit())
        && digits(0..2).is_some_and(|h| h < 24)
        && digits(2..4).is_some_and(|m| m < 60)
        && (text.len() == 4 || digits(4..6).is_some_and(|s| s < 60))
}
