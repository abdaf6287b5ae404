//! The streaming reader: tokens in, one record per transaction set out. Only
//! the set being read is held as a value tree; envelopes are checked as their
//! trailers arrive. A bad set is reported (an `Err` item) and reading goes on
//! with the next one; an ISA that cannot be trusted skips its interchange.

use std::collections::VecDeque;
use std::io::BufRead;

use serde_json::{Map, Value, json};

use super::definitions::Definitions;
use super::envelope::{group_facts, interchange_facts, same_control};
use super::error::{X12Error, X12ErrorKind};
use super::receipt::{FileReceipt, NotAcknowledgedReason};
use super::receipt_builder::ReceiptBuilder;
use super::record::RecordBuilder;
use super::separators::IsaHeader;
use super::tokenizer::{Segment, Token, Tokenizer};

/// The most segments one transaction set may have (a missing SE would
/// otherwise make the rest of the file one set held in memory).
pub const MAX_SET_SEGMENTS: usize = 200_000;

/// One transaction set as read: the record a flow sees, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SetRecord {
    /// `interchange`, `group`, `set` (envelope facts), then segments and loops.
    pub record: Value,
    /// ST01, e.g. "850".
    pub set_id: String,
    /// ST02.
    pub set_control: String,
    /// ISA13 and GS06 of its envelopes.
    pub interchange_control: String,
    pub group_control: String,
    /// 1-based position of its ST segment in the file.
    pub position: usize,
}

struct Interchange {
    facts: Value,
    control: String,
    groups: usize,
}

struct Group {
    facts: Value,
    control: String,
    version: String,
    sets: usize,
}

struct OpenSet<'d> {
    id: String,
    control: String,
    /// ST03 (005010 on): the implementation convention reference.
    convention: String,
    position: usize,
    segments: usize,
    builder: Option<RecordBuilder<'d>>,
    /// The set's first problem; it is reported at its SE.
    error: Option<X12Error>,
}

/// Reads X12 from `input`: an iterator of one `Result` per transaction set
/// (envelope problems are `Err` items too, where they are found).
pub struct Reader<'d, R> {
    tokens: Tokenizer<R>,
    file: String,
    definitions: &'d Definitions,
    interchange: Option<Interchange>,
    group: Option<Group>,
    set: Option<OpenSet<'d>>,
    /// Skipping an interchange whose ISA was refused, up to its IEA.
    skipping: bool,
    pending: VecDeque<Result<SetRecord, X12Error>>,
    ended: bool,
    /// What was read, for acknowledging it ([`Reader::with_receipt`]).
    receipt: Option<Box<ReceiptBuilder<'d>>>,
}

impl<'d, R: BufRead> Reader<'d, R> {
    pub fn new(input: R, file_name: &str, definitions: &'d Definitions) -> Self {
        Reader {
            tokens: Tokenizer::new(input),
            file: file_name.to_string(),
            definitions,
            interchange: None,
            group: None,
            set: None,
            skipping: false,
            pending: VecDeque::new(),
            ended: false,
            receipt: None,
        }
    }

    /// Also builds a [`FileReceipt`] of what is read (for 997s); the items
    /// the reader yields are the same.
    pub fn with_receipt(mut self) -> Self {
        self.receipt = Some(Box::new(ReceiptBuilder::new(&self.file, self.definitions)));
        self
    }

    /// The receipt so far (complete once the iterator has ended).
    pub fn receipt(&self) -> Option<&FileReceipt> {
        self.receipt.as_deref().map(ReceiptBuilder::receipt)
    }

    /// The receipt, what is still open closed as cut off; `None` without [`Reader::with_receipt`].
    pub fn into_receipt(self) -> Option<FileReceipt> {
        self.receipt.map(|r| r.into_receipt())
    }

    fn note(&mut self, event: impl FnOnce(&mut ReceiptBuilder<'d>)) {
        if let Some(receipt) = self.receipt.as_deref_mut() {
            event(receipt);
        }
    }

    fn step(&mut self) {
        match self.tokens.next_token() {
            None => self.end_of_file(),
            Some(Err(e)) => {
                let located = self.located(e.clone());
                self.note(|r| r.unreadable(&located));
                self.fail(e)
            }
            Some(Ok(Token::Bad(e))) if self.set.is_some() => {
                let located = self.located(e.clone());
                if let Some(set) = self.set.as_mut() {
                    set.segments += 1;
                    set.error.get_or_insert(e);
                }
                self.note(|r| r.unreadable_segment(&located));
            }
            Some(Ok(Token::Bad(_))) if self.skipping => {}
            Some(Ok(Token::Bad(e))) => self.fault(e),
            Some(Ok(Token::Isa(header, position))) => self.start_interchange(header, position),
            Some(Ok(Token::Segment(segment))) => self.segment(segment),
        }
    }

    fn end_of_file(&mut self) {
        self.ended = true;
        if let Some(set) = self.set.take() {
            let message = format!("the file ends inside transaction set {} {} (no SE)", set.id, set.control);
            self.fail(X12Error::new(X12ErrorKind::Envelope, message).at_segment(set.position, "ST"));
        }
        if self.interchange.is_some() && !self.skipping {
            self.fault(X12Error::new(X12ErrorKind::Envelope, "the file ends inside the interchange (no IEA)"));
        }
        self.note(ReceiptBuilder::end_of_file);
        self.interchange = None;
    }

    fn start_interchange(&mut self, header: IsaHeader, position: usize) {
        self.close_set_unfinished(position);
        if self.interchange.is_some() && !self.skipping {
            self.fault(X12Error::new(X12ErrorKind::Envelope, "the interchange has no IEA before the next ISA").at_segment(position, "ISA"));
        }
        self.group = None;
        let control = header.control_number().to_string();
        self.interchange = Some(Interchange { facts: interchange_facts(&header), control: control.clone(), groups: 0 });
        self.skipping = false;
        let refused = header.check_widths().err().map(|e| self.located(e.at_segment(position, "ISA")));
        self.note(|r| r.interchange(&header, refused.as_ref()));
        if let Some(e) = refused {
            self.fail(e);
            self.skipping = true;
        }
    }

    fn segment(&mut self, segment: Segment) {
        if self.skipping {
            if segment.id == "IEA" {
                self.skipping = false;
                self.interchange = None;
            }
            return;
        }
        if self.set.is_some() {
            if segment.id == "SE" {
                return self.end_set(&segment);
            }
            if !matches!(segment.id.as_str(), "ST" | "GS" | "GE" | "IEA") {
                return self.add_to_set(segment);
            }
            self.close_set_unfinished(segment.position);
        }
        match segment.id.as_str() {
            "GS" => self.start_group(&segment),
            "ST" => self.start_set(&segment),
            "GE" => self.end_group(&segment),
            "IEA" => self.end_interchange(&segment),
            other => {
                let message = format!("segment {other} is outside a transaction set (ST … SE)");
                self.fault(X12Error::new(X12ErrorKind::Envelope, message).at_segment(segment.position, &segment.id));
            }
        }
    }

    fn start_group(&mut self, gs: &Segment) {
        if self.interchange.is_none() {
            let error = self.located(envelope_error("GS is outside an interchange (no ISA before it)", gs));
            self.note(|r| r.not_acknowledged(NotAcknowledgedReason::GroupOutsideInterchange, &error));
            return self.fail(error);
        }
        if let Some(group) = self.group.take() {
            self.fail(envelope_error(format!("group {} has no GE before the next GS", group.control), gs));
        }
        if let Some(interchange) = self.interchange.as_mut() {
            interchange.groups += 1;
        }
        self.group = Some(Group { facts: group_facts(gs), control: gs.element(6).to_string(), version: gs.element(8).to_string(), sets: 0 });
        self.note(|r| r.group(gs));
    }

    fn start_set(&mut self, st: &Segment) {
        let mut set = OpenSet {
            id: st.element(1).to_string(),
            control: st.element(2).to_string(),
            convention: st.element(3).to_string(),
            position: st.position,
            segments: 1,
            builder: None,
            error: None,
        };
        let definitions = self.definitions;
        match self.group.as_mut() {
            None => {
                let error = self.located(envelope_error("ST is outside a functional group (no GS before it)", st));
                self.note(|r| r.not_acknowledged(NotAcknowledgedReason::SetOutsideGroup, &error));
                set.error = Some(error);
            }
            Some(group) => {
                group.sets += 1;
                let schema = definitions.schema(&set.id, &group.version);
                match &schema {
                    Ok(schema) => set.builder = Some(RecordBuilder::new(*schema)),
                    Err(e) => set.error = Some(e.clone().at_segment(st.position, "ST")),
                }
                self.note(|r| r.set(st, schema.ok()));
            }
        }
        self.set = Some(set);
    }

    fn add_to_set(&mut self, segment: Segment) {
        let Some(set) = self.set.as_mut() else { return };
        set.segments += 1;
        if set.segments == MAX_SET_SEGMENTS + 1 {
            let message = format!("transaction set {} {} has more than {MAX_SET_SEGMENTS} segments", set.id, set.control);
            let error = X12Error::new(X12ErrorKind::Limit, message).at_segment(segment.position, &segment.id);
            set.error.get_or_insert(error.clone());
            set.builder = None;
            return self.note(|r| r.over_limit(&error));
        }
        self.note(|r| r.segment(&segment));
        let Some(set) = self.set.as_mut() else { return };
        if set.error.is_some() {
            return;
        }
        if let Some(Err(e)) = set.builder.as_mut().map(|b| b.push(segment)) {
            set.error = Some(e);
            set.builder = None;
        }
    }

    fn end_set(&mut self, se: &Segment) {
        let Some(mut set) = self.set.take() else { return };
        set.segments += 1;
        let counted = se.element(1).trim();
        if set.error.is_none() && counted.parse::<usize>().ok() != Some(set.segments) {
            let message = format!("SE01 says {counted} segments, transaction set {} {} has {} (ST to SE)", set.id, set.control, set.segments);
            set.error = Some(envelope_error(message, se));
        }
        if set.error.is_none() && !same_control(se.element(2), &set.control) {
            set.error = Some(envelope_error(format!("SE02 is {}, its ST02 is {}", se.element(2), set.control), se));
        }
        self.note(|r| r.end_set(Some(se), set.error.is_some()));
        if let Some(e) = set.error {
            return self.fail(e);
        }
        let (Some(builder), Some(interchange), Some(group)) = (set.builder, &self.interchange, &self.group) else { return };
        let mut record = Map::new();
        record.insert("interchange".into(), interchange.facts.clone());
        record.insert("group".into(), group.facts.clone());
        let mut facts = json!({ "id": set.id, "control_number": set.control });
        if !set.convention.is_empty() {
            facts["convention"] = Value::String(set.convention);
        }
        record.insert("set".into(), facts);
        record.extend(builder.finish());
        self.pending.push_back(Ok(SetRecord {
            record: Value::Object(record),
            set_id: set.id,
            set_control: set.control,
            interchange_control: interchange.control.clone(),
            group_control: group.control.clone(),
            position: set.position,
        }));
    }

    fn end_group(&mut self, ge: &Segment) {
        let Some(group) = self.group.take() else {
            return self.fault(envelope_error("GE has no GS before it", ge));
        };
        self.note(|r| r.end_group(ge));
        let counted = ge.element(1).trim();
        if counted.parse::<usize>().ok() != Some(group.sets) {
            let message = format!("GE01 says {counted} transaction sets, group {} has {}", group.control, group.sets);
            self.fail(envelope_error(message, ge));
        } else if !same_control(ge.element(2), &group.control) {
            self.fail(envelope_error(format!("GE02 is {}, its GS06 is {}", ge.element(2), group.control), ge));
        }
    }

    fn end_interchange(&mut self, iea: &Segment) {
        if let Some(group) = self.group.take() {
            self.fail(envelope_error(format!("group {} has no GE before the IEA", group.control), iea));
        }
        let Some(interchange) = self.interchange.as_ref() else {
            return self.fault(envelope_error("IEA has no ISA before it", iea));
        };
        let counted = iea.element(1).trim();
        if counted.parse::<usize>().ok() != Some(interchange.groups) {
            let message = format!("IEA01 says {counted} functional groups, the interchange has {}", interchange.groups);
            self.fault(envelope_error(message, iea));
        } else if !same_control(iea.element(2), &interchange.control) {
            let message = format!("IEA02 is {}, its ISA13 is {}", iea.element(2), interchange.control);
            self.fault(envelope_error(message, iea));
        }
        self.note(ReceiptBuilder::end_interchange);
        self.interchange = None;
    }

    /// A set cut off by an envelope segment or ISA: reported, then dropped.
    fn close_set_unfinished(&mut self, position: usize) {
        if let Some(set) = self.set.take() {
            let message = format!("transaction set {} {} has no SE (it ends at segment {position})", set.id, set.control);
            self.fail(X12Error::new(X12ErrorKind::Envelope, message).at_segment(set.position, "ST"));
            self.note(|r| r.end_set(None, true));
        }
    }

    /// Queues an error, naming the file and the interchange.
    fn fail(&mut self, error: X12Error) {
        let located = self.located(error);
        self.pending.push_back(Err(located));
    }

    /// Queues an error of the interchange envelope, which a 997 cannot express
    /// (the receipt keeps it with its interchange).
    fn fault(&mut self, error: X12Error) {
        let located = self.located(error);
        self.note(|r| r.fault(&located));
        self.pending.push_back(Err(located));
    }

    /// The error naming the file and the interchange.
    fn located(&self, error: X12Error) -> X12Error {
        let control = self.interchange.as_ref().map(|i| i.control.as_str());
        error.in_interchange(control).in_file(&self.file)
    }
}

impl<R: BufRead> Iterator for Reader<'_, R> {
    type Item = Result<SetRecord, X12Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.is_empty() && !self.ended {
            self.step();
        }
        self.pending.pop_front()
    }
}

fn envelope_error(message: impl Into<String>, segment: &Segment) -> X12Error {
    X12Error::new(X12ErrorKind::Envelope, message).at_segment(segment.position, &segment.id)
}
