//! Settling the records of one batch that go to a file target: gathered into
//! files (`deliver::gather`: one per record, or one per group), each file
//! journaled, uploaded once, and settled record by record.
//!
//! For each file: every record of it is journaled "sending" (its payload; the
//! detail and the answer name the file; the file's first record also keeps the
//! file's exact bytes) in one transaction before the upload; then one upload;
//! then every record "sent" in one transaction, each with the file, the
//! interchange (ISA13), the group (GS06) and its set (ST02) as its answer and
//! `FILE#ST02` as its target id; then each record's write-backs. A record the
//! format refuses is blocked alone; a configuration the format cannot work with
//! stops the run, blocking and journaling nothing; an upload that failed leaves
//! every record of the file failed (the next run sends it again) or unknown (in
//! doubt: `doubt.rs` settles it by the file, the next run).

use flowmap_state::JournalEntry;

use super::settle::Settle;
use super::{Ending, Settled};
use crate::deliver::{DeliverError, FileTarget, Offered, PlannedFile, gather};
use crate::http::Shutdown;
use crate::run::outcome::{Context, Outcome, Status};

impl Settle<'_> {
    /// Settles what goes to the file target of `outcomes`; gives back the others
    /// (blocked, skipped, ignored, waiting), which settle one by one.
    pub(super) async fn settle_files(&self, files: &FileTarget<'_>, outcomes: Vec<Outcome>) -> (Vec<Settled>, Vec<Outcome>) {
        let (doubted, rest) = self.in_doubt(outcomes);
        let (mut settled, fresh) = self.reconcile_files(files, doubted).await;
        let cancelled = self.live.cancel.as_ref().is_some_and(Shutdown::is_set);
        let (ready, others): (Vec<Outcome>, Vec<Outcome>) =
            fresh.into_iter().chain(rest).partition(|o| o.status == Status::Ready && !cancelled && o.request.is_some() && o.context.is_some());
        let mut to_send = Vec::new();
        for o in ready {
            match self.sent_before(&o) {
                Some(file) => settled.push(self.or_failed(&o.key, self.not_again(&o.key, &file))),
                None => to_send.push(o),
            }
        }
        settled.extend(self.deliver_files(files, to_send).await);
        (settled, others)
    }

    /// The file (and place) a record was sent in before, when the journal has it sent with
    /// this very source record. A file system has no existence check: the journal is it. A
    /// source file taken again after a crash (its records not all journaled) gives its
    /// records again, and those sent already are not sent twice; a record that changed
    /// since (another source) is sent again.
    fn sent_before(&self, o: &Outcome) -> Option<String> {
        let (state, flow) = (&self.live.state, &self.live.flow.name);
        let now = state.record_state(flow, &o.key).ok()??;
        if now.status != "sent" {
            return None;
        }
        let source = o.context.as_ref().map(|c| crate::value::to_json(&c.record))?;
        (state.last_source(flow, &o.key).ok()?? == source).then(|| now.target_id.unwrap_or_default())
    }

    fn not_again(&self, key: &str, file: &str) -> Result<Settled, String> {
        let why = format!("sent before, as {file}: the same record is not sent twice");
        let mut e = self.entry(key, "skipped", None);
        e.detail = Some(why.clone());
        self.journal(&[e])?;
        Ok(Settled::new(Ending::Skipped, key, vec![why], 0, None))
    }

    async fn deliver_files(&self, files: &FileTarget<'_>, outcomes: Vec<Outcome>) -> Vec<Settled> {
        if outcomes.is_empty() {
            return Vec::new();
        }
        let offered: Vec<Offered> =
            outcomes.iter().filter_map(|o| Some(Offered { key: &o.key, request: o.request.as_ref()?, context: o.context.as_deref()? })).collect();
        let gathered = gather(self.live.flow, self.settings, &files.shape, &offered, &mut || files.allocate());
        // The flow's mistake: nothing of the batch is journaled, blocked or written back.
        if let Some(stop) = gathered.stop {
            return outcomes.iter().map(|o| Settled::new(Ending::Left, o.key.clone(), Vec::new(), 0, Some(stop.clone()))).collect();
        }
        let mut settled = Vec::new();
        for (i, reason) in gathered.refused {
            let (key, ctx) = (offered[i].key, offered[i].context);
            settled.push(self.or_failed(key, self.refused(key, ctx, reason.text, None).await));
        }
        for file in &gathered.files {
            let members: Vec<(&Outcome, &str)> = file.members.iter().map(|(i, set)| (&outcomes[*i], set.as_str())).collect();
            match self.deliver_file(files, file, &members).await {
                Ok(mut done) => settled.append(&mut done),
                Err(message) => settled.extend(members.iter().map(|(o, _)| self.or_failed(&o.key, Err(message.clone())))),
            }
        }
        settled
    }

    /// Journals, uploads and settles one file.
    async fn deliver_file(&self, files: &FileTarget<'_>, file: &PlannedFile, members: &[(&Outcome, &str)]) -> Result<Vec<Settled>, String> {
        let first = members.first().map_or("", |(o, _)| o.key.as_str());
        let sending: Vec<JournalEntry> = members
            .iter()
            .enumerate()
            .map(|(n, (o, set))| {
                let mut e = self.entry(&o.key, "sending", Some("sending"));
                e.source = o.context.as_ref().map(|c| crate::value::to_json(&c.record));
                e.payload = o.request.as_ref().and_then(|r| r.body.as_ref()).map(crate::value::to_json);
                e.detail = Some(format!("PUT {} (record {} of {} in the file)", file.path, n + 1, members.len()));
                e.answer = Some(journaled_file(file, set, first, n == 0));
                e.version = o.context.as_ref().and_then(|c| c.version.clone());
                e
            })
            .collect();
        self.journal(&sending)?;
        match files.upload(&file.name, &file.bytes).await {
            Ok(()) => self.files_sent(file, members, "sent").await,
            Err(error) => self.upload_failed(members.iter().map(|(o, _)| o.key.as_str()), error),
        }
    }

    /// Every record of `file` delivered (or found delivered): journaled in one transaction,
    /// then each record's `sent` write-backs, planned from its own answer.
    pub(super) async fn files_sent(&self, file: &PlannedFile, members: &[(&Outcome, &str)], event: &str) -> Result<Vec<Settled>, String> {
        let entries: Vec<JournalEntry> = members
            .iter()
            .map(|(o, set)| {
                let mut e = self.entry(&o.key, event, Some("sent"));
                e.detail = Some(match file.control {
                    Some(c) => format!("{}: interchange {}, group {}, set {set}", file.path, c.interchange, c.group),
                    None => format!("{}: record {set}", file.path),
                });
                e.answer = Some(file.answer(set));
                e.target_id = Some(file.target_id(set));
                // The version delivered: the next run sends only a newer one (`source.version`).
                e.version = o.context.as_ref().and_then(|c| c.version.clone());
                e
            })
            .collect();
        self.journal(&entries)?;
        let ending = if event == "reconciled" { Ending::Reconciled } else { Ending::Sent };
        let mut settled = Vec::new();
        for (o, set) in members {
            let (failures, stop) = match o.context.as_deref() {
                Some(ctx) => self.sent_write_backs(&o.key, ctx, &file.answer(set)).await?,
                None => (0, None),
            };
            settled.push(Settled::new(ending, o.key.clone(), Vec::new(), failures, stop));
        }
        Ok(settled)
    }

    async fn sent_write_backs(&self, key: &str, ctx: &Context, answer: &serde_json::Value) -> Result<(u64, Option<String>), String> {
        let (writes, problems) = crate::write_back::plan_sent(self.live.flow, self.settings, ctx, answer);
        self.write_back_planned(key, &writes, problems).await
    }

    /// An upload that did not end with the file there, for every record of the file, as a
    /// single record's delivery ends: in doubt, failed (the next run's), or left (the run stops).
    pub(super) fn upload_failed<'k>(&self, keys: impl Iterator<Item = &'k str>, error: DeliverError) -> Result<Vec<Settled>, String> {
        let keys: Vec<&str> = keys.collect();
        let (event, status, ending, stop) = match &error {
            DeliverError::Unknown { .. } => ("unknown_outcome", "unknown", Ending::Unknown, None),
            DeliverError::Stop { message } | DeliverError::Misconfigured { message } => ("left", "left", Ending::Left, Some(message.clone())),
            DeliverError::Failed { .. } | DeliverError::Refused { .. } => ("failed", "failed", Ending::Failed, None),
        };
        let why = match &error {
            DeliverError::Unknown { message } => vec![
                message.clone(),
                "the file is not sent again: the next run looks for it in the outbox (move a file that is not ours away first)".to_string(),
            ],
            DeliverError::Stop { .. } | DeliverError::Misconfigured { .. } => Vec::new(),
            e => vec![e.to_string()],
        };
        let entries: Vec<JournalEntry> = keys
            .iter()
            .map(|key| {
                let mut e = self.entry(key, event, Some(status));
                match &error {
                    DeliverError::Unknown { message } => e.detail = Some(message.clone()),
                    e2 => e.reasons = vec![e2.to_string()],
                }
                e
            })
            .collect();
        self.journal(&entries)?;
        Ok(keys.into_iter().map(|key| Settled::new(ending, key, why.clone(), 0, stop.clone())).collect())
    }

    /// What settling `key` came to, or (the journal could not be written) failed with the run stopped.
    pub(super) fn or_failed(&self, key: &str, settled: Result<Settled, String>) -> Settled {
        settled.unwrap_or_else(|message| Settled::new(Ending::Failed, key, vec![message.clone()], 0, Some(message)))
    }
}

/// What a record's "sending" entry keeps of its file, to settle it if the answer is lost:
/// the file, its control numbers and the record's place; the first record of the file also
/// keeps the file's exact bytes (once per file, not once per record), which a resend writes
/// again unchanged.
fn journaled_file(file: &PlannedFile, set: &str, first: &str, carrier: bool) -> serde_json::Value {
    let mut answer = file.answer(set);
    answer["name"] = file.name.clone().into();
    answer["first"] = first.into();
    if carrier {
        // Formats write text (X12, JSON, CSV); bytes that are not UTF-8 are not kept, and
        // such a file in doubt is written anew (`doubt.rs`).
        if let Ok(text) = std::str::from_utf8(&file.bytes) {
            answer["content"] = text.into();
        }
    }
    answer
}
