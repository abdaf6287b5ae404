//! The journal (every event of every record, the audit trail) and `records`
//! (each record's current state, derived from the journal as it is written).
//!
//! The engine writes "sending" with the payload BEFORE it delivers a record and
//! "sent" with the target's answer after. Both tables change in one
//! transaction, so the current state never disagrees with the history, and a
//! crash between delivery and "sent" leaves the record in "sending", to be
//! reconciled (by an existence check at the target) before anything is re-sent.

use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::now_ms;
use crate::error::Result;
use crate::json;
use crate::state::State;

/// The events a journal entry can record. `created`: a record the record's look-ups created
/// in a target (a Xero contact), which leaves the record's status as it was.
pub const EVENTS: &[&str] = &[
    "fetched",
    "created",
    "sending",
    "sent",
    "skipped",
    "blocked",
    "failed",
    "written_back",
    "write_back_failed",
    "reconciled",
    "unknown_outcome",
    "left",
];

/// The event that counts as a delivery attempt.
const SENDING: &str = "sending";
/// The status of a record delivered.
const SENT: &str = "sent";

/// One event of one record, as the engine hands it over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub run: Option<i64>,
    pub flow: String,
    pub key: String,
    /// One of [`EVENTS`].
    pub event: String,
    /// The record's new status in `records`; `None` leaves it as it is.
    pub status: Option<String>,
    /// The source record as fetched.
    pub source: Option<Value>,
    /// What is (to be) sent to the target.
    pub payload: Option<Value>,
    /// What the target answered.
    pub answer: Option<Value>,
    /// The record's id at the target.
    pub target_id: Option<String>,
    /// Why the record was skipped, blocked or failed.
    pub reasons: Vec<String>,
    pub detail: Option<String>,
    /// The source record's version (a flow's `source.version`) this entry is about: a
    /// "sent" entry with one makes it the record's sent version.
    pub version: Option<String>,
}

/// A journal entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalRow {
    pub id: i64,
    pub run: Option<i64>,
    pub at_ms: i64,
    pub flow: String,
    pub key: String,
    pub event: String,
    pub status: Option<String>,
    pub source: Option<Value>,
    pub payload: Option<Value>,
    pub answer: Option<Value>,
    pub target_id: Option<String>,
    pub reasons: Vec<String>,
    pub detail: Option<String>,
    pub version: Option<String>,
}

/// A record's current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordRow {
    pub flow: String,
    pub key: String,
    pub status: String,
    /// How many times a delivery was started ("sending" entries).
    pub attempts: i64,
    /// The record's id at the target, from the newest entry that had one.
    pub target_id: Option<String>,
    /// The reasons given with the current status.
    pub reasons: Vec<String>,
    pub last_run: Option<i64>,
    pub updated_at_ms: i64,
    /// The version of the record last delivered (flows with `source.version`).
    pub sent_version: Option<String>,
}

const JOURNAL_COLUMNS: &str = "id, run, at_ms, flow, key, event, status, source, payload, answer, target_id, reasons, detail, version";
const RECORD_COLUMNS: &str = "flow, key, status, attempts, target_id, reasons, last_run, updated_at_ms, sent_version";

/// A journal row as stored, before its JSON is parsed.
struct StoredEntry {
    row: JournalRow,
    source: Option<String>,
    payload: Option<String>,
    answer: Option<String>,
    reasons: String,
}

impl StoredEntry {
    fn read(row: &Row<'_>) -> rusqlite::Result<StoredEntry> {
        Ok(StoredEntry {
            row: JournalRow {
                id: row.get(0)?,
                run: row.get(1)?,
                at_ms: row.get(2)?,
                flow: row.get(3)?,
                key: row.get(4)?,
                event: row.get(5)?,
                status: row.get(6)?,
                source: None,
                payload: None,
                answer: None,
                target_id: row.get(10)?,
                reasons: Vec::new(),
                detail: row.get(12)?,
                version: row.get(13)?,
            },
            source: row.get(7)?,
            payload: row.get(8)?,
            answer: row.get(9)?,
            reasons: row.get(11)?,
        })
    }

    fn parse(self, state: &State) -> Result<JournalRow> {
        let mut row = self.row;
        let id = row.id;
        let damaged = |column: &'static str| move |problem: String| state.error(format_args!("journal entry {id}: damaged {column}: {problem}"));
        row.source = json::parse_optional(self.source.as_deref()).map_err(damaged("source"))?;
        row.payload = json::parse_optional(self.payload.as_deref()).map_err(damaged("payload"))?;
        row.answer = json::parse_optional(self.answer.as_deref()).map_err(damaged("answer"))?;
        row.reasons = json::parse_reasons(&self.reasons).map_err(damaged("reasons"))?;
        Ok(row)
    }
}

/// A `records` row as stored, before its reasons are parsed.
struct StoredRecord {
    row: RecordRow,
    reasons: String,
}

impl StoredRecord {
    fn read(row: &Row<'_>) -> rusqlite::Result<StoredRecord> {
        Ok(StoredRecord {
            row: RecordRow {
                flow: row.get(0)?,
                key: row.get(1)?,
                status: row.get(2)?,
                attempts: row.get(3)?,
                target_id: row.get(4)?,
                reasons: Vec::new(),
                last_run: row.get(6)?,
                updated_at_ms: row.get(7)?,
                sent_version: row.get(8)?,
            },
            reasons: row.get(5)?,
        })
    }

    fn parse(self, state: &State) -> Result<RecordRow> {
        let mut row = self.row;
        row.reasons = json::parse_reasons(&self.reasons)
            .map_err(|problem| state.error(format_args!("record {} of {}: damaged reasons: {problem}", row.key, row.flow)))?;
        Ok(row)
    }
}

impl State {
    /// Appends `entries` to the journal and updates each record's current
    /// state, all in ONE transaction: when this returns, all of it is on disk;
    /// when it fails, none of it is.
    ///
    /// For each entry, the record's row in `records`:
    /// - is created by the first entry that sets a status (entries without a
    ///   status for a record not seen before go to the journal only);
    /// - takes the entry's status, and with it the entry's reasons (reasons
    ///   explain a status, so they are replaced together, cleared by an empty list);
    /// - counts one more attempt for each "sending";
    /// - keeps its target id and last run unless the entry has new ones.
    pub fn record(&self, entries: &[JournalEntry]) -> Result<()> {
        self.check_events(entries)?;
        let mut connection = self.connection();
        // IMMEDIATE: take the write lock up front, waiting for other writers
        // with the busy timeout (a deferred one could fail at its first write).
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error("writing the journal"))?;
        self.write_entries(&transaction, entries)?;
        transaction.commit().map_err(self.sqlite_error("committing the journal"))
    }

    /// Refuses entries whose event is not one of [`EVENTS`], before anything is written.
    pub(crate) fn check_events(&self, entries: &[JournalEntry]) -> Result<()> {
        match entries.iter().find(|entry| !EVENTS.contains(&entry.event.as_str())) {
            None => Ok(()),
            Some(entry) => Err(self.error(format_args!(
                "record {} of {}: unknown journal event {:?} (expected one of {})",
                entry.key,
                entry.flow,
                entry.event,
                EVENTS.join(", ")
            ))),
        }
    }

    /// Appends `entries` and updates their records inside `transaction`
    /// (see [`State::record`]); their events must have been checked.
    pub(crate) fn write_entries(&self, transaction: &Transaction<'_>, entries: &[JournalEntry]) -> Result<()> {
        let at_ms = now_ms();
        for entry in entries {
            append(transaction, entry, at_ms)
                .and_then(|()| update_record(transaction, entry, at_ms))
                .map_err(self.sqlite_error(format_args!("journaling {} of record {} of {}", entry.event, entry.key, entry.flow)))?;
        }
        Ok(())
    }

    /// Every journal entry of record `key` of `flow`, oldest first.
    pub fn history(&self, flow: &str, key: &str) -> Result<Vec<JournalRow>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached(&format!("SELECT {JOURNAL_COLUMNS} FROM journal WHERE flow = ?1 AND key = ?2 ORDER BY id"))
            .map_err(self.sqlite_error("reading a record's history"))?;
        let stored = statement
            .query_map(params![flow, key], StoredEntry::read)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(self.sqlite_error(format_args!("reading the history of record {key} of {flow}")))?;
        stored.into_iter().map(|entry| entry.parse(self)).collect()
    }

    /// The records of `flow` whose status is one of `statuses` (all of them
    /// when `statuses` is empty), by key.
    pub fn records(&self, flow: &str, statuses: &[&str]) -> Result<Vec<RecordRow>> {
        let status_filter = if statuses.is_empty() { String::new() } else { format!(" AND status IN ({})", vec!["?"; statuses.len()].join(", ")) };
        let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE flow = ?{status_filter} ORDER BY key");
        let connection = self.connection();
        let mut statement = connection.prepare_cached(&sql).map_err(self.sqlite_error("listing records"))?;
        let stored = statement
            .query_map(params_from_iter(std::iter::once(flow).chain(statuses.iter().copied())), StoredRecord::read)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(self.sqlite_error(format_args!("listing records of {flow}")))?;
        stored.into_iter().map(|record| record.parse(self)).collect()
    }

    /// The current state of record `key` of `flow`, if it has one.
    pub fn record_state(&self, flow: &str, key: &str) -> Result<Option<RecordRow>> {
        let stored = self
            .connection()
            .query_row(&format!("SELECT {RECORD_COLUMNS} FROM records WHERE flow = ?1 AND key = ?2"), params![flow, key], StoredRecord::read)
            .optional()
            .map_err(self.sqlite_error(format_args!("reading record {key} of {flow}")))?;
        stored.map(|record| record.parse(self)).transpose()
    }

    /// The source record of the newest journal entry of `key` that has one
    /// (what `flowmap replay` sends again).
    pub fn last_source(&self, flow: &str, key: &str) -> Result<Option<Value>> {
        let text: Option<(i64, String)> = self
            .connection()
            .query_row(
                "SELECT id, source FROM journal WHERE flow = ?1 AND key = ?2 AND source IS NOT NULL ORDER BY id DESC LIMIT 1",
                params![flow, key],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(self.sqlite_error(format_args!("reading the last source of record {key} of {flow}")))?;
        text.map(|(id, text)| json::parse(&text).map_err(|problem| self.error(format_args!("journal entry {id}: damaged source: {problem}"))))
            .transpose()
    }
}

fn append(transaction: &Transaction<'_>, entry: &JournalEntry, at_ms: i64) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(
        "INSERT INTO journal (run, at_ms, flow, key, event, status, source, payload, answer, target_id, reasons, detail, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    statement.execute(params![
        entry.run,
        at_ms,
        entry.flow,
        entry.key,
        entry.event,
        entry.status,
        entry.source.as_ref().map(json::to_text),
        entry.payload.as_ref().map(json::to_text),
        entry.answer.as_ref().map(json::to_text),
        entry.target_id,
        json::reasons_to_text(&entry.reasons),
        entry.detail,
        entry.version,
    ])?;
    Ok(())
}

fn update_record(transaction: &Transaction<'_>, entry: &JournalEntry, at_ms: i64) -> rusqlite::Result<()> {
    let attempts = i64::from(entry.event == SENDING);
    // Only a delivery makes a version the sent one.
    let sent_version = entry.version.as_ref().filter(|_| entry.status.as_deref() == Some(SENT));
    match &entry.status {
        Some(status) => {
            let mut statement = transaction.prepare_cached(
                "INSERT INTO records (flow, key, status, attempts, target_id, reasons, last_run, updated_at_ms, sent_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (flow, key) DO UPDATE SET
                     sent_version = coalesce(excluded.sent_version, sent_version),
                     status = excluded.status,
                     attempts = attempts + excluded.attempts,
                     target_id = coalesce(excluded.target_id, target_id),
                     reasons = excluded.reasons,
                     last_run = coalesce(excluded.last_run, last_run),
                     updated_at_ms = excluded.updated_at_ms",
            )?;
            statement.execute(params![
                entry.flow,
                entry.key,
                status,
                attempts,
                entry.target_id,
                json::reasons_to_text(&entry.reasons),
                entry.run,
                at_ms,
                sent_version
            ])?;
        }
        None => {
            let mut statement = transaction.prepare_cached(
                "UPDATE records SET
                     attempts = attempts + ?3,
                     target_id = coalesce(?4, target_id),
                     last_run = coalesce(?5, last_run),
                     updated_at_ms = ?6
                 WHERE flow = ?1 AND key = ?2",
            )?;
            statement.execute(params![entry.flow, entry.key, attempts, entry.target_id, entry.run, at_ms])?;
        }
    }
    Ok(())
}

/// The version of a record last delivered, and where it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentVersion {
    pub key: String,
    pub version: String,
    pub target_id: Option<String>,
    pub run: Option<i64>,
}

impl State {
    /// For those of `keys` delivered before with a version: the version last delivered.
    pub fn sent_versions(&self, flow: &str, keys: &[String]) -> Result<Vec<SentVersion>> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached("SELECT key, sent_version, target_id, last_run FROM records WHERE flow = ?1 AND key = ?2 AND sent_version IS NOT NULL")
            .map_err(self.sqlite_error("reading sent versions"))?;
        let mut found = Vec::new();
        for key in keys {
            let row = statement
                .query_row(params![flow, key], |row| {
                    Ok(SentVersion { key: row.get(0)?, version: row.get(1)?, target_id: row.get(2)?, run: row.get(3)? })
                })
                .optional()
                .map_err(self.sqlite_error(format_args!("reading the sent version of record {key} of {flow}")))?;
            found.extend(row);
        }
        Ok(found)
    }
}

impl State {
    /// Notes which business document (a PO number) each record is about, for `flowmap show`.
    pub fn note_documents(&self, flow: &str, documents: &[(String, String)]) -> Result<()> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error("noting documents"))?;
        {
            let mut statement = transaction
                .prepare_cached("UPDATE records SET document = ?3 WHERE flow = ?1 AND key = ?2")
                .map_err(self.sqlite_error("noting documents"))?;
            for (key, document) in documents {
                statement.execute(params![flow, key, document]).map_err(self.sqlite_error(format_args!("noting the document of record {key}")))?;
            }
        }
        transaction.commit().map_err(self.sqlite_error("noting documents"))
    }

    /// The document record `key` of `flow` is about, if its flow says.
    pub fn document_of(&self, flow: &str, key: &str) -> Result<Option<String>> {
        self.connection()
            .query_row("SELECT document FROM records WHERE flow = ?1 AND key = ?2", params![flow, key], |row| row.get::<_, Option<String>>(0))
            .optional()
            .map(Option::flatten)
            .map_err(self.sqlite_error(format_args!("reading the document of record {key} of {flow}")))
    }

    /// Every record, of any flow, about `document`, by when it last changed.
    pub fn records_of_document(&self, document: &str) -> Result<Vec<RecordRow>> {
        let connection = self.connection();
        let mut statement = connection
            // Ties of the same millisecond in the order the records were first journaled.
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM records WHERE document = ?1
                 ORDER BY updated_at_ms, (SELECT min(id) FROM journal j WHERE j.flow = records.flow AND j.key = records.key)"
            ))
            .map_err(self.sqlite_error("listing a document's records"))?;
        let stored = statement
            .query_map(params![document], StoredRecord::read)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(self.sqlite_error(format_args!("listing the records of document {document}")))?;
        stored.into_iter().map(|record| record.parse(self)).collect()
    }
}
