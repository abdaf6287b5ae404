//! Deliveries in doubt to a file target. A run killed between the upload and
//! "sent" (or an upload whose end nobody saw) leaves records "sending" or
//! "unknown". An HTTP target is asked by the existence check; a file system
//! has none, so the file target answers instead: the file journaled at
//! "sending" is looked for in the outbox.
//!
//! - There, with exactly the journaled bytes: delivered. Every record of it in
//!   doubt is reconciled as sent, the file as its answer.
//! - Not there: sent again, the exact bytes journaled under the same name
//!   (same ISA13, GS06, ST02) — not the records written anew with new control
//!   numbers. A partner that took the file already (and removed it from the
//!   outbox) then sees a duplicate interchange, which X12 partners detect by
//!   its control number; new numbers would look like new orders. The records
//!   of the file not in this batch find it there when their turn comes.
//! - A file of that name with other bytes: someone else's, or changed after.
//!   Nobody can tell whether ours arrived; the records stay in doubt (the
//!   journal says why), and nothing is overwritten.
//!
//! A leftover `.part` file of the interrupted upload blocks nothing: the folder
//! store writes each upload under a new random temporary name, and the SFTP
//! store removes the stale temporary name of that file before it uploads.
//! Records in doubt whose "sending" entry names no file (journaled by an
//! earlier version, or a file that was not text) are delivered anew.

use indexmap::IndexMap;
use serde_json::Value;

use super::Settled;
use super::settle::Settle;
use crate::deliver::{DeliverError, FileTarget, PlannedFile, Presence, not_sent};
use crate::format::Control;
use crate::run::outcome::{Outcome, Status};

/// What a record's last "sending" entry says of its file.
pub(super) struct Journaled {
    file: PlannedFile,
    /// The record's place in the file (ST02, or its position).
    set: String,
    /// The entry's answer as journaled (kept when the file is sent again).
    answer: Value,
    /// The key of the record whose entry keeps the file's bytes.
    first: String,
}

impl Settle<'_> {
    /// The records in doubt whose file is journaled, and the others.
    pub(super) fn in_doubt(&self, outcomes: Vec<Outcome>) -> (Vec<(Outcome, Journaled)>, Vec<Outcome>) {
        let mut doubted = Vec::new();
        let mut rest = Vec::new();
        for o in outcomes {
            // An ignored record stays as the journal has it, as an ignored one in doubt at an http target does.
            let in_doubt = o.status != Status::Ignored && self.doubt.contains(&o.key);
            match in_doubt.then(|| self.journaled(&o.key)).flatten() {
                Some(j) => doubted.push((o, j)),
                None => rest.push(o),
            }
        }
        (doubted, rest)
    }

    /// Settles the records in doubt by their files; gives back those whose file's bytes are
    /// not journaled (delivered anew).
    pub(super) async fn reconcile_files(&self, files: &FileTarget<'_>, doubted: Vec<(Outcome, Journaled)>) -> (Vec<Settled>, Vec<Outcome>) {
        let mut by_file: IndexMap<String, Vec<(Outcome, Journaled)>> = IndexMap::new();
        for (o, j) in doubted {
            by_file.entry(j.file.path.clone()).or_default().push((o, j));
        }
        let mut settled = Vec::new();
        let mut anew = Vec::new();
        for (_, members) in by_file {
            let Some(bytes) = self.journaled_bytes(&members) else {
                anew.extend(members.into_iter().map(|(o, _)| o));
                continue;
            };
            let mut file = members[0].1.file.clone();
            file.bytes = bytes;
            let keys: Vec<String> = members.iter().map(|(o, _)| o.key.clone()).collect();
            match self.reconcile_file(files, &file, &members).await {
                Ok(mut done) => settled.append(&mut done),
                Err(message) => settled.extend(keys.iter().map(|k| self.or_failed(k, Err(message.clone())))),
            }
        }
        (settled, anew)
    }

    async fn reconcile_file(&self, files: &FileTarget<'_>, file: &PlannedFile, members: &[(Outcome, Journaled)]) -> Result<Vec<Settled>, String> {
        let sets: Vec<(&Outcome, &str)> = members.iter().map(|(o, j)| (o, j.set.as_str())).collect();
        let keys = || members.iter().map(|(o, _)| o.key.as_str());
        match files.presence(&file.path, &file.bytes).await {
            Ok(Presence::Ours) => self.files_sent(file, &sets, "reconciled").await,
            Ok(Presence::Absent) => {
                let sending: Vec<_> = members
                    .iter()
                    .map(|(o, j)| {
                        let mut e = self.entry(&o.key, "sending", Some("sending"));
                        e.payload = o.request.as_ref().and_then(|r| r.body.as_ref()).map(crate::value::to_json);
                        e.detail = Some(format!("PUT {} again, the same bytes: it is not in the outbox", file.path));
                        e.answer = Some(j.answer.clone());
                        e
                    })
                    .collect();
                self.journal(&sending)?;
                match files.upload(&file.name, &file.bytes).await {
                    Ok(()) => self.files_sent(file, &sets, "sent").await,
                    // Still in doubt, whatever happened: the partner may have taken the file before
                    // (it is not in the outbox), so only these bytes may go, never new ones.
                    Err(DeliverError::Stop { message }) => self.still_in_doubt(keys(), message.clone(), Some(message)),
                    Err(e) => self.still_in_doubt(keys(), e.to_string(), None),
                }
            }
            Ok(Presence::Other) => {
                let why = format!("{} in the outbox holds other bytes than were sent: delivered or not, nobody can tell", file.path);
                self.still_in_doubt(keys(), why, None)
            }
            Err(e) => {
                let stop = match not_sent(e.clone()) {
                    DeliverError::Stop { message } => Some(message),
                    _ => None,
                };
                self.still_in_doubt(keys(), format!("the outbox could not be looked at: {e}"), stop)
            }
        }
    }

    /// The records stay in doubt, the journal saying why; the next run looks again.
    fn still_in_doubt<'k>(&self, keys: impl Iterator<Item = &'k str>, why: String, stop: Option<String>) -> Result<Vec<Settled>, String> {
        let mut settled = self.upload_failed(keys, DeliverError::Unknown { message: why })?;
        for s in &mut settled {
            s.stop.clone_from(&stop);
        }
        Ok(settled)
    }

    /// The file's exact bytes: kept in the "sending" entry of its first record.
    fn journaled_bytes(&self, members: &[(Outcome, Journaled)]) -> Option<Vec<u8>> {
        let content = |answer: &Value| answer.get("content").and_then(Value::as_str).map(|c| c.as_bytes().to_vec());
        if let Some(bytes) = members.iter().find_map(|(_, j)| content(&j.answer)) {
            return Some(bytes);
        }
        let first = &members[0].1.first;
        let path = &members[0].1.file.path;
        self.sending_entries(first).into_iter().rev().filter(|a| a.get("file").and_then(Value::as_str) == Some(path)).find_map(|a| content(&a))
    }

    /// The file named by the last "sending" entry of `key`, if it names one.
    fn journaled(&self, key: &str) -> Option<Journaled> {
        let answer = self.sending_entries(key).pop()?;
        let text = |k: &str| answer.get(k).and_then(Value::as_str).map(str::to_string);
        let number = |k: &str| answer.get(k).and_then(Value::as_u64).map(|n| n as u32);
        let (path, name, first) = (text("file")?, text("name")?, text("first")?);
        let control = number("interchange").zip(number("group")).map(|(interchange, group)| Control { interchange, group });
        let set = text("set").or_else(|| text("record"))?;
        Some(Journaled { file: PlannedFile { name, path, bytes: Vec::new(), control, members: Vec::new() }, set, answer, first })
    }

    /// The answers of the "sending" entries of `key`, oldest first (none if the journal cannot be read).
    fn sending_entries(&self, key: &str) -> Vec<Value> {
        let history = self.live.state.history(&self.live.flow.name, key).unwrap_or_default();
        history.into_iter().filter(|r| r.event == "sending").filter_map(|r| r.answer).collect()
    }
}
