//! X12 envelopes on the files a live run takes in (a protocol, so Rust):
//!
//! - each interchange is noted by sender, receiver and ISA13 before its sets
//!   run; one received before in another file is answered again but its sets
//!   are not processed twice;
//! - each functional group is answered with a 997 (AK1/AK2/AK5/AK9), written
//!   to the partner's outbox once every record of the file is journaled, and
//!   before the file is archived — a run that dies first answers it again;
//! - a set the 997 rejects is not handed to the flow: it is reported as a
//!   record that could not be read (so its file is never deleted);
//! - a 997 the partner sent (for our 850s) is not a flow's record: it marks
//!   the group it answers acknowledged or rejected in the state file.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use flowmap_state::{Acknowledgement, ControlKind, InterchangeReceipt, State};
use minijinja::Value;

use super::InputError;
use crate::format::x12::{EnvelopeConfig, FileReceipt, GroupVerdict, acknowledgement, read_acknowledgement};
use crate::format::{Control, RecordFormat};
use crate::transport::files::FileStore;

/// How a live run answers what it takes from an X12 partner.
pub struct X12Partner<'a> {
    pub state: &'a State,
    pub store: Arc<dyn FileStore>,
    pub format: &'a dyn RecordFormat,
    /// Where 997s go (the system's outbox).
    pub outbox: String,
    /// Our envelope towards the partner (the connection's `x12:`).
    pub envelope: EnvelopeConfig,
    /// Which files are this source's to take: the others are not noted, answered or moved, but
    /// left to the flow they are for (partners' names are free text: `810_40997_….x12` matches
    /// `*997*.x12`, `855_40810_….x12` matches `*810*.x12`).
    pub takes: Takes,
}

/// Which of the files whose names match are taken, by the sets they hold.
pub enum Takes {
    /// The partner's 997s for what we sent: a file holding nothing but 997s.
    Acknowledgements,
    /// A flow's records: a file holding a set of this id (`810`) — or none that could be read,
    /// so that what is wrong with it is reported.
    SetsOf(String),
}

/// What one file's envelopes said: what to leave out and what to answer.
#[derive(Default)]
pub struct Intake {
    /// Interchanges received before in another file: `sender/ISA13`.
    duplicates: HashSet<String>,
    /// Sets the 997 rejects, by `ISA13/GS06/ST02`, with why.
    rejected: HashMap<String, String>,
    /// The 997 records answering the file's groups.
    pub answers: Vec<serde_json::Value>,
}

/// What becomes of one record of a file.
pub enum Admit {
    /// A record for the flow.
    Take(Value),
    /// Not the flow's: a set of an interchange processed before, or a 997 (applied here).
    Drop,
    /// A set the 997 rejects: reported with why.
    Reject(InputError),
}

impl X12Partner<'_> {
    /// Notes the file's interchanges and prepares the 997s answering its groups.
    pub fn intake(&self, receipt: &FileReceipt, file_id: i64, path: &str) -> Result<Intake, String> {
        let mut intake = Intake::default();
        for e in &receipt.not_acknowledged {
            tracing::warn!(file = %path, "{path}: {} cannot be acknowledged ({:?})", e.error, e.reason);
        }
        for interchange in &receipt.interchanges {
            let sender = format!("{}:{}", interchange.sender.qualifier, interchange.sender.id);
            let receiver = format!("{}:{}", interchange.receiver.qualifier, interchange.receiver.id);
            let control = &interchange.control_number;
            let seen = self.state.receive_interchange(&sender, &receiver, control, file_id).map_err(|e| e.to_string())?;
            if let InterchangeReceipt::Duplicate { file, .. } = seen {
                let earlier = self.state.file(file).ok().flatten().map_or_else(|| format!("file {file}"), |f| f.name);
                tracing::warn!(file = %path, "{path}: interchange {control} from {sender} was received before in {earlier}: acknowledged again, not processed again");
                intake.duplicates.insert(format!("{sender}/{}", trim_control(control)));
            }
            // A 997 is never answered with a 997.
            for group in interchange.groups.iter().filter(|g| g.functional_id != "FA") {
                let answer = match acknowledgement(group, &self.envelope) {
                    Ok(answer) => answer,
                    Err(e) => {
                        tracing::warn!(file = %path, "{path}: group {} cannot be acknowledged: {e}", group.control_number);
                        continue;
                    }
                };
                if group.verdict() != GroupVerdict::Accepted
                    && let Ok(read) = read_acknowledgement(&answer)
                {
                    for set in read.sets.iter().filter(|s| s.verdict == crate::format::x12::SetVerdict::Rejected) {
                        let why = set.problems().join("; ");
                        let at = format!("{}/{}/{}", trim_control(control), trim_control(&group.control_number), set.control_number);
                        intake.rejected.insert(at, format!("{path}: {why} (rejected in the 997 sent back)"));
                    }
                }
                intake.answers.push(answer);
            }
        }
        Ok(intake)
    }

    /// Whether a file that `receipt` describes is to be taken (see `Takes`).
    pub fn takes(&self, receipt: &FileReceipt) -> bool {
        match &self.takes {
            Takes::Acknowledgements => receipt.groups().all(|(_, g)| g.functional_id == "FA"),
            Takes::SetsOf(id) => {
                let mut sets = receipt.groups().flat_map(|(_, g)| g.sets.iter()).peekable();
                sets.peek().is_none() || sets.any(|s| s.id == *id)
            }
        }
    }

    /// What becomes of one record of the file.
    pub fn admit(&self, intake: &Intake, record: Value, file_id: i64) -> Admit {
        let text = |path: &[&str]| {
            let mut v = record.clone();
            for p in path {
                v = v.get_attr(p).unwrap_or_default();
            }
            crate::value::key_text(&v)
        };
        let sender = format!("{}:{}", text(&["interchange", "sender_qualifier"]), text(&["interchange", "sender_id"]));
        let isa13 = trim_control(&text(&["interchange", "control_number"]));
        if intake.duplicates.contains(&format!("{sender}/{isa13}")) {
            return Admit::Drop;
        }
        let at = format!("{isa13}/{}/{}", trim_control(&text(&["group", "control_number"])), text(&["set", "control_number"]));
        if let Some(why) = intake.rejected.get(&at) {
            return Admit::Reject(InputError(why.clone()));
        }
        if text(&["set", "id"]) == "997" {
            self.apply_997(&record, &sender, file_id);
            return Admit::Drop;
        }
        Admit::Take(record)
    }

    /// A partner's 997: the group of ours it answers is acknowledged or rejected.
    fn apply_997(&self, record: &Value, partner: &str, file_id: i64) {
        let json = crate::value::to_json(record);
        match read_acknowledgement(&json) {
            Ok(ack) => {
                let verdict = match ack.verdict {
                    GroupVerdict::Accepted => "accepted",
                    GroupVerdict::AcceptedWithErrors => "accepted_with_errors",
                    GroupVerdict::PartiallyAccepted => "partially_accepted",
                    GroupVerdict::Rejected => "rejected",
                };
                let sets: Vec<serde_json::Value> = ack
                    .sets
                    .iter()
                    .map(|s| serde_json::json!({"set": s.set_id, "control_number": s.control_number, "verdict": format!("{:?}", s.verdict), "problems": s.problems()}))
                    .collect();
                let kept = Acknowledgement {
                    partner: partner.to_string(),
                    functional_id: ack.functional_id.clone(),
                    group_control: trim_control(&ack.group_control),
                    verdict: verdict.to_string(),
                    detail: serde_json::json!({"problems": ack.problems(), "sets": sets}),
                    file: Some(file_id),
                    received_at_ms: 0,
                };
                if let Err(e) = self.state.receive_acknowledgement(&kept) {
                    tracing::warn!("a 997 for group {} could not be kept: {e}", ack.group_control);
                }
            }
            Err(e) => tracing::warn!("a 997 could not be read: {}", e.0),
        }
    }

    /// Writes the 997s answering a file's groups to the outbox: one interchange,
    /// one FA group, numbered from the state file like every interchange we send.
    pub async fn answer(&self, intake: &Intake, path: &str) -> Result<(), String> {
        if intake.answers.is_empty() || !self.envelope.acknowledge {
            return Ok(());
        }
        let pair = self.envelope.pair();
        let take = |kind| self.state.allocate_control(&pair, kind, 1).map_err(|e| e.to_string());
        let control = Control { interchange: take(ControlKind::Interchange)?, group: take(ControlKind::Group)? };
        let bytes = self
            .format
            .write(&intake.answers, Some(&self.envelope), control)
            .map_err(|e| format!("the 997 for {path} could not be written: {e:?}"))?;
        let name = format!("997_{:09}.x12", control.interchange);
        self.store.put(&self.outbox, &name, &bytes).await.map_err(|e| format!("the 997 for {path} could not be uploaded: {}", e.message))
    }
}

/// Control numbers compare as numbers: `000000017` is `17`.
fn trim_control(text: &str) -> String {
    let trimmed = text.trim().trim_start_matches('0');
    if trimmed.is_empty() { "0".into() } else { trimmed.to_string() }
}
