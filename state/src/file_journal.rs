//! The files a flow has taken in from a file store (a folder, an SFTP server).
//!
//! A downloaded file is recorded here — name, size, SHA-256 of its content,
//! the run — before any of its records runs; it is marked done once every
//! record in it is journaled, and only then may it be archived or removed on
//! the store. A file is known by its content, per flow: the same file seen
//! again (its archiving failed, or the partner sent it twice) or the same
//! bytes under another name is recognised and never processed twice. A file
//! whose run ended before it was done is taken up again by the next run, whose
//! records' own journal (the existence check) keeps them from being sent twice.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;

use crate::clock::now_ms;
use crate::error::Result;
use crate::state::State;

/// What [`State::begin_file`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileBegin {
    /// Never seen by this flow: recorded now under `id`; process its records.
    New { id: i64 },
    /// Begun by an earlier run that did not finish it: taken up by this run
    /// now; process its records again (those already settled are found by
    /// their existence checks).
    Unfinished { id: i64 },
    /// Begun by this same run and not finished yet: the same content twice in
    /// one listing. Leave this copy; the next run finds the content done and
    /// disposes of it.
    InThisRun { id: i64, name: String },
    /// Processed before (completely), as `name`: do not process it again;
    /// dispose of it on the store.
    Done { id: i64, name: String },
}

/// Where a taken-in file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Recorded; its records are being processed (or were, by a run that did not finish).
    Taking,
    /// Every record in it is journaled.
    Done,
}

/// What was done with a processed file on its store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Disposal {
    /// Moved into this folder of the store.
    Archived { folder: String },
    /// Deleted from the store.
    Removed,
}

/// A file in the listing of [`State::files`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRow {
    pub id: i64,
    pub flow: String,
    /// The name it had when first taken in.
    pub name: String,
    pub size: u64,
    /// Lower-case hex of the SHA-256 of its content.
    pub sha256: String,
    pub first_seen_at_ms: i64,
    /// The run that first took it in, and the last one that took it up.
    pub first_run: Option<i64>,
    pub run: Option<i64>,
    pub status: FileStatus,
    /// How many records it held; set when done.
    pub records: Option<u64>,
    pub finished_at_ms: Option<i64>,
    pub disposal: Option<Disposal>,
    pub disposed_at_ms: Option<i64>,
}

/// The most files [`State::files`] lists, whatever is asked.
pub const MAX_FILES_LISTED: usize = 1000;

const COLUMNS: &str =
    "id, flow, name, size, sha256, first_seen_at_ms, first_run, run, status, records, finished_at_ms, disposal, archive_folder, disposed_at_ms";

fn file_row(row: &Row<'_>) -> rusqlite::Result<FileRow> {
    let disposal = match (row.get::<_, Option<String>>(11)?.as_deref(), row.get::<_, Option<String>>(12)?) {
        (Some("archived"), folder) => Some(Disposal::Archived { folder: folder.unwrap_or_default() }),
        (Some(_), _) => Some(Disposal::Removed),
        (None, _) => None,
    };
    Ok(FileRow {
        id: row.get(0)?,
        flow: row.get(1)?,
        name: row.get(2)?,
        size: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
        sha256: row.get(4)?,
        first_seen_at_ms: row.get(5)?,
        first_run: row.get(6)?,
        run: row.get(7)?,
        status: if row.get::<_, String>(8)? == "done" { FileStatus::Done } else { FileStatus::Taking },
        records: row.get::<_, Option<i64>>(9)?.map(|n| u64::try_from(n).unwrap_or(0)),
        finished_at_ms: row.get(10)?,
        disposal,
        disposed_at_ms: row.get(13)?,
    })
}

impl State {
    /// Records that `run` of `flow` takes in the file `name` (`size` bytes,
    /// content digest `sha256`) before any of its records runs, unless the
    /// flow has this content already: see [`FileBegin`]. Committed when it returns.
    pub fn begin_file(&self, flow: &str, name: &str, size: u64, sha256: &[u8; 32], run: i64) -> Result<FileBegin> {
        let digest = crate::hex::encode(sha256);
        let doing = || format!("taking in file {name} for {flow}");
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(self.sqlite_error(doing()))?;
        let known: Option<(i64, String, String, Option<i64>)> = transaction
            .query_row("SELECT id, name, status, run FROM files WHERE flow = ?1 AND sha256 = ?2", params![flow, digest], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .optional()
            .map_err(self.sqlite_error(doing()))?;
        let begun = match known {
            None => {
                let size = i64::try_from(size).map_err(|_| self.error(format_args!("file {name} of {flow}: size {size} is too large")))?;
                transaction
                    .execute(
                        "INSERT INTO files (flow, name, size, sha256, first_seen_at_ms, first_run, run, status)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 'taking')",
                        params![flow, name, size, digest, now_ms(), run],
                    )
                    .map_err(self.sqlite_error(doing()))?;
                FileBegin::New { id: transaction.last_insert_rowid() }
            }
            Some((id, name, status, _)) if status == "done" => FileBegin::Done { id, name },
            Some((id, name, _, last_run)) if last_run == Some(run) => FileBegin::InThisRun { id, name },
            Some((id, _, _, _)) => {
                transaction.execute("UPDATE files SET run = ?2 WHERE id = ?1", params![id, run]).map_err(self.sqlite_error(doing()))?;
                FileBegin::Unfinished { id }
            }
        };
        transaction.commit().map_err(self.sqlite_error(doing()))?;
        Ok(begun)
    }

    /// Records that every one of the `records` records of file `id` is
    /// journaled: from now on its content is done for its flow. A file is
    /// finished once.
    pub fn finish_file(&self, id: i64, records: u64) -> Result<()> {
        let records = i64::try_from(records).map_err(|_| self.error(format_args!("file {id}: {records} records is too many")))?;
        let connection = self.connection();
        let changed = connection
            .execute(
                "UPDATE files SET status = 'done', records = ?2, finished_at_ms = ?3 WHERE id = ?1 AND status = 'taking'",
                params![id, records, now_ms()],
            )
            .map_err(self.sqlite_error(format_args!("finishing file {id}")))?;
        if changed == 1 {
            return Ok(());
        }
        Err(match file_name(self, &connection, id)? {
            None => self.error(format_args!("cannot finish file {id}: there is no such file")),
            Some(_) => self.error(format_args!("cannot finish file {id}: it was finished already")),
        })
    }

    /// Records what was done with file `id` on its store, once it is done:
    /// disposing of a file whose records are not all journaled is refused.
    /// Recording it again (a retried archive) keeps the latest.
    pub fn dispose_file(&self, id: i64, how: &Disposal) -> Result<()> {
        let (disposal, folder) = match how {
            Disposal::Archived { folder } => ("archived", Some(folder.as_str())),
            Disposal::Removed => ("removed", None),
        };
        let connection = self.connection();
        let changed = connection
            .execute(
                "UPDATE files SET disposal = ?2, archive_folder = ?3, disposed_at_ms = ?4 WHERE id = ?1 AND status = 'done'",
                params![id, disposal, folder, now_ms()],
            )
            .map_err(self.sqlite_error(format_args!("recording the disposal of file {id}")))?;
        if changed == 1 {
            return Ok(());
        }
        Err(match file_name(self, &connection, id)? {
            None => self.error(format_args!("cannot dispose of file {id}: there is no such file")),
            Some(name) => self.error(format_args!("cannot dispose of file {id} ({name}): its records are not all journaled (finish it first)")),
        })
    }

    /// The newest files `flow` took in, newest first: at most `limit`, and
    /// never more than [`MAX_FILES_LISTED`].
    pub fn files(&self, flow: &str, limit: usize) -> Result<Vec<FileRow>> {
        let limit = i64::try_from(limit.min(MAX_FILES_LISTED)).unwrap_or(0);
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached(&format!("SELECT {COLUMNS} FROM files WHERE flow = ?1 ORDER BY id DESC LIMIT ?2"))
            .map_err(self.sqlite_error(format_args!("listing the files of {flow}")))?;
        let rows = statement
            .query_map(params![flow, limit], file_row)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(self.sqlite_error(format_args!("listing the files of {flow}")))?;
        Ok(rows)
    }

    /// File `id`, if there is one.
    pub fn file(&self, id: i64) -> Result<Option<FileRow>> {
        self.connection()
            .query_row(&format!("SELECT {COLUMNS} FROM files WHERE id = ?1"), [id], file_row)
            .optional()
            .map_err(self.sqlite_error(format_args!("reading file {id}")))
    }
}

/// The name of file `id`, if there is one.
fn file_name(state: &State, connection: &rusqlite::Connection, id: i64) -> Result<Option<String>> {
    connection
        .query_row("SELECT name FROM files WHERE id = ?1", [id], |row| row.get(0))
        .optional()
        .map_err(state.sqlite_error(format_args!("reading file {id}")))
}
