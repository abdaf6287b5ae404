//! The simulated trading partner behind TrueCommerce: it takes each complete file from
//! Import/<company>, acknowledges its groups with a 997 and answers each 850 with an 855 and an
//! 810 in Export/<company>, as its rules say. It acts when ticked (by the poll or the control
//! API), so a test decides when answers appear.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::answers::{PurchaseOrder, functional_acknowledgment};
use super::records::{Acknowledgment, ReceivedFile, SentFile};
use super::rules::{RuleBook, Rules};
use super::x12::{self, Envelope, Group, Interchange, OutGroup, OutSet};

/// The partner's folders on disk.
pub struct Folders {
    pub import: PathBuf,
    pub export: PathBuf,
}

#[derive(Default)]
pub struct PartnerState {
    pub rules: RuleBook,
    pub received: Vec<ReceivedFile>,
    pub sent: Vec<SentFile>,
    /// (ISA06, ISA08, ISA13) of every interchange received.
    seen: HashSet<(String, String, String)>,
    /// The partner's own control numbers: they count up for the sandbox's life (a reset keeps
    /// them, as a client may remember the ones it saw).
    last_interchange: u32,
    last_group: u32,
    last_invoice: u32,
}

/// What one tick did.
#[derive(Debug, Serialize)]
pub struct TickReport {
    pub received: Vec<ReceivedFile>,
    pub sent: Vec<SentFile>,
}

/// An answer being written: the sets of one interchange. It is named after its first set, its
/// PO number and its ISA13 (`855_PO-1_000000002.x12`); `twice`: also under a second name.
struct Answer {
    functional_id: &'static str,
    sets: Vec<OutSet>,
    po_number: Option<String>,
    twice: bool,
}

impl PartnerState {
    /// Takes every complete file now in Import (names in order; never a hidden or `.part` one,
    /// which is an upload in progress) and answers it.
    pub fn tick(&mut self, folders: &Folders, now_ms: i64) -> io::Result<TickReport> {
        let (received_before, sent_before) = (self.received.len(), self.sent.len());
        for name in complete_files(&folders.import)? {
            let path = folders.import.join(&name);
            let bytes = std::fs::read(&path)?;
            // TrueCommerce takes files away once it has them.
            std::fs::remove_file(&path)?;
            self.take(name, &bytes, folders, now_ms)?;
        }
        Ok(TickReport { received: self.received[received_before..].to_vec(), sent: self.sent[sent_before..].to_vec() })
    }

    /// Forgets what was received and sent, and the rules; the control numbers keep counting.
    pub fn reset(&mut self) {
        *self = PartnerState {
            last_interchange: self.last_interchange,
            last_group: self.last_group,
            last_invoice: self.last_invoice,
            ..PartnerState::default()
        };
    }

    fn take(&mut self, name: String, bytes: &[u8], folders: &Folders, now_ms: i64) -> io::Result<()> {
        let mut record = ReceivedFile {
            name,
            bytes: bytes.len(),
            isa13: String::new(),
            sender: String::new(),
            receiver: String::new(),
            set_ids: Vec::new(),
            po_numbers: Vec::new(),
            duplicate: false,
            error: None,
            acknowledgments: Vec::new(),
            answered_with: Vec::new(),
            text: String::from_utf8_lossy(bytes).into_owned(),
        };
        let interchange = match x12::read(bytes) {
            Ok(interchange) => interchange,
            Err(error) => {
                record.error = Some(error);
                self.received.push(record);
                return Ok(());
            }
        };
        let sets = interchange.groups.iter().flat_map(|g| &g.sets);
        record.set_ids = sets.clone().map(|s| s.id.clone()).collect();
        record.po_numbers = sets.filter_map(PurchaseOrder::read).map(|po| po.number).collect();
        (record.isa13, record.sender, record.receiver) =
            (interchange.control.clone(), interchange.sender_id.clone(), interchange.receiver_id.clone());
        record.duplicate = !self.seen.insert((interchange.sender_id.clone(), interchange.receiver_id.clone(), interchange.control.clone()));

        let mut acknowledgments = Vec::new();
        let mut answers = Vec::new();
        for group in &interchange.groups {
            if group.functional_id == "FA" {
                // Acknowledgments are never acknowledged; they settle what the partner sent.
                record.acknowledgments.extend(self.match_acknowledgments(group));
                continue;
            }
            let orders: Vec<PurchaseOrder> = group.sets.iter().filter(|s| s.envelope_error.is_none()).filter_map(PurchaseOrder::read).collect();
            let rules: Vec<Rules> = match orders.is_empty() {
                true => vec![self.rules.default.clone()],
                false => orders.iter().map(|po| self.rules.for_po(&po.number).clone()).collect(),
            };
            let rejected = rules.iter().any(|r| r.reject_group);
            if !rules.iter().any(|r| r.no_997) {
                acknowledgments.push(functional_acknowledgment(group, rejected));
            }
            if rejected || record.duplicate {
                continue;
            }
            for (po, rules) in orders.iter().zip(&rules) {
                answers.extend(self.answers_to(po, rules, now_ms));
            }
        }
        if !acknowledgments.is_empty() {
            answers.insert(0, Answer { functional_id: "FA", sets: acknowledgments, po_number: None, twice: false });
        }
        let first_group = interchange.groups.first();
        for answer in answers {
            let sent = self.write(answer, &interchange, first_group, &folders.export, now_ms)?;
            record.answered_with.extend(sent.iter().map(|s| s.name.clone()));
            self.sent.extend(sent);
        }
        self.received.push(record);
        Ok(())
    }

    /// The 855 and (unless the rules say no, or nothing ships) the 810 of one purchase order.
    fn answers_to(&mut self, po: &PurchaseOrder, rules: &Rules, now_ms: i64) -> Vec<Answer> {
        let acknowledgment = po.acknowledgment(rules);
        let mut answers = vec![Answer { functional_id: "PR", sets: vec![acknowledgment], po_number: Some(po.number.clone()), twice: false }];
        if rules.invoice {
            let number = format!("INV-{:06}", self.last_invoice + 1);
            if let Some(invoice) = po.invoice(rules, &number, &stamp(now_ms).date8) {
                self.last_invoice += 1;
                answers.push(Answer {
                    functional_id: "IN",
                    sets: vec![invoice],
                    po_number: Some(po.number.clone()),
                    twice: rules.duplicate_interchange,
                });
            }
        }
        answers
    }

    /// Writes one answer interchange under each of its names. The envelope turns the received one
    /// around: its receiver becomes the sender.
    fn write(&mut self, answer: Answer, to: &Interchange, group: Option<&Group>, export: &Path, now_ms: i64) -> io::Result<Vec<SentFile>> {
        self.last_interchange += 1;
        self.last_group += 1;
        let when = stamp(now_ms);
        let envelope = Envelope {
            sender_qualifier: to.receiver_qualifier.clone(),
            sender_id: to.receiver_id.clone(),
            receiver_qualifier: to.sender_qualifier.clone(),
            receiver_id: to.sender_id.clone(),
            usage: if to.usage.is_empty() { "P".into() } else { to.usage.clone() },
            control: self.last_interchange,
            date6: when.date6,
            date8: when.date8,
            time: when.time,
        };
        let set_ids: Vec<String> = answer.sets.iter().map(|s| s.id.to_string()).collect();
        let base = match &answer.po_number {
            Some(po) => format!("{}_{}_{:09}", set_ids[0], file_name_part(po), envelope.control),
            None => format!("{}_{:09}", set_ids[0], envelope.control),
        };
        let mut names = vec![format!("{base}.x12")];
        if answer.twice {
            names.push(format!("{base}_again.x12"));
        }
        let out = OutGroup {
            functional_id: answer.functional_id,
            sender: group.map(|g| g.receiver.clone()).unwrap_or_else(|| to.receiver_id.clone()),
            receiver: group.map(|g| g.sender.clone()).unwrap_or_else(|| to.sender_id.clone()),
            control: self.last_group,
            sets: answer.sets,
        };
        let text = x12::write(&envelope, std::slice::from_ref(&out));
        let mut sent = Vec::new();
        for name in names {
            put(export, &name, text.as_bytes())?;
            sent.push(SentFile {
                name,
                bytes: text.len(),
                isa13: format!("{:09}", envelope.control),
                set_ids: set_ids.clone(),
                po_numbers: answer.po_number.iter().cloned().collect(),
                groups: vec![(answer.functional_id.to_string(), out.control.to_string())],
                acknowledged: None,
                text: text.clone(),
            });
        }
        Ok(sent)
    }

    /// Each 997 in an FA group received, matched by (AK101, AK102) to a group the partner sent.
    fn match_acknowledgments(&mut self, group: &Group) -> Vec<Acknowledgment> {
        let mut found = Vec::new();
        for set in group.sets.iter().filter(|s| s.id == "997") {
            let field = |id: &str, n: usize| set.body.iter().find(|s| s.id == id).map(|s| s.get(n).to_string()).unwrap_or_default();
            let (functional_id, group_control, code) = (field("AK1", 1), field("AK1", 2), field("AK9", 1));
            let mut file = None;
            for sent in self.sent.iter_mut().filter(|s| s.groups.iter().any(|(f, c)| *f == functional_id && *c == group_control)) {
                sent.acknowledged = Some(code.clone());
                file.get_or_insert_with(|| sent.name.clone());
            }
            found.push(Acknowledgment { functional_id, group_control, code, file });
        }
        found
    }
}

/// Regular files in `folder` that are complete: not hidden, not `.part`. Sorted by name.
fn complete_files(folder: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && !name.starts_with('.') && !name.ends_with(".part") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Written under a hidden name first and renamed, so a client listing Export never sees half a file.
fn put(folder: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let temp = folder.join(format!(".{name}.part"));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, folder.join(name))
}

/// A PO number as part of a file name: anything but letters, digits, `-`, `_` and `.` becomes `_`.
fn file_name_part(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

struct Stamp {
    date6: String,
    date8: String,
    time: String,
}

/// The sandbox clock as the ISA and GS write it (UTC).
fn stamp(now_ms: i64) -> Stamp {
    let at = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    Stamp { date6: at.format("%y%m%d").to_string(), date8: at.format("%Y%m%d").to_string(), time: at.format("%H%M").to_string() }
}
