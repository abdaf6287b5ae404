//! The source port over a file store (SFTP, a local folder): the files of the
//! system's inbox whose names match the flow's pattern, oldest name first,
//! each read through the system's format, page by page.
//!
//! In a live run each file is copied to a spool file while its SHA-256 is
//! taken, and journaled (name, size, hash) before any of its records runs;
//! the same content, under any name, is never processed twice. The driver
//! asks for the next page only once the page before is settled, so when a
//! file's records run out every record of it is journaled: only then is the
//! file finished in the journal and archived or deleted on the store.

use std::collections::VecDeque;
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::sync::Arc;

use flowmap_state::{Disposal, FileBegin, State};
use sha2::Digest;

use super::x12_intake::{Admit, Intake};
use super::{FetchError, Fut, One, Pages, Source, SourcePage};
use crate::format::x12::FileReceipt;
use crate::format::{FileRecords, RecordFormat};
use crate::model::Processed;
use crate::transport::files::{FileStore, RemoteFile, glob_match, join};

pub struct FileSource<'a> {
    /// Whose files these are in the files journal (the flow's name): a file is taken once per name.
    pub name: &'a str,
    /// The system, for messages.
    pub system: &'a str,
    /// The names taken from the inbox (the flow's `pattern`, else the system's).
    pub pattern: &'a str,
    pub store: Arc<dyn FileStore>,
    pub format: &'a dyn RecordFormat,
    pub inbox: String,
    pub processed: Processed,
    /// A live run's journal; without it (a preview) files are read, never journaled or moved.
    pub journal: Option<FileJournal<'a>>,
    pub page_size: usize,
    /// An X12 partner's files (a live run): interchanges taken once, groups answered with 997s.
    pub x12: Option<super::x12_intake::X12Partner<'a>>,
}

pub struct FileJournal<'a> {
    pub state: &'a State,
    pub run: i64,
    /// Where downloads are spooled while they are hashed and read.
    pub spool: PathBuf,
}

impl FileSource<'_> {
    fn failed(&self, what: &str, e: impl std::fmt::Display) -> FetchError {
        FetchError(format!("{what} {} {}: {e}", self.system, self.inbox))
    }
}

/// The file whose records are being taken.
struct Current<'a> {
    id: Option<i64>,
    path: String,
    records: FileRecords<'a>,
    count: u64,
    /// Records of it that could not be read (reported in the run, each with its line).
    unreadable: u64,
    /// What its X12 envelopes said (interchanges taken before, sets rejected, the 997s to send).
    intake: Option<Intake>,
}

struct FilePages<'s> {
    source: &'s FileSource<'s>,
    names: Option<VecDeque<RemoteFile>>,
    current: Option<Current<'s>>,
    /// Files read to their end whose last records went out in the page before: settled
    /// by the time the next page is asked for, then finished, answered and archived.
    read: Vec<Current<'s>>,
}

impl Source for FileSource<'_> {
    fn list(&self) -> Box<dyn Pages + '_> {
        Box::new(FilePages { source: self, names: None, current: None, read: Vec::new() })
    }

    /// A file holds records of many keys: chosen keys are picked from the listing
    /// by whoever asks (a live run refuses them, see `run/live/choose.rs`).
    fn get_one<'b>(&'b self, _key: &'b str) -> Option<Fut<'b, Result<One, FetchError>>> {
        None
    }
}

impl<'s> Pages for FilePages<'s> {
    fn next_page(&mut self) -> Fut<'_, Result<Option<SourcePage>, FetchError>> {
        Box::pin(async move {
            let source = self.source;
            // Every record of these files was settled before this page was asked for.
            for file in std::mem::take(&mut self.read) {
                source.done(file).await?;
            }
            // A page takes records across files (a partner often sends one document per file), so
            // look-ups and existence checks are asked for many documents at once, not one by one.
            let size = source.page_size.max(1);
            let mut items = Vec::new();
            while items.len() < size {
                if let Some(current) = &mut self.current {
                    items.extend(source.page_of(current, size - items.len()));
                    if items.len() >= size {
                        break;
                    }
                    // Read to its end: finished once the page's records are settled.
                    self.read.extend(self.current.take());
                }
                if self.names.is_none() {
                    self.names = Some(source.names().await?);
                }
                let Some(file) = self.names.as_mut().and_then(VecDeque::pop_front) else { break };
                self.current = source.open(file).await?;
            }
            if items.is_empty() {
                for file in std::mem::take(&mut self.read) {
                    source.done(file).await?;
                }
                return Ok(None);
            }
            Ok(Some(SourcePage { items, call: None }))
        })
    }
}

impl<'s> FileSource<'s> {
    /// The next page of the file's records: each knows its file (the audit trail: which file an
    /// 810 came in); X12 sets of an interchange taken before, and 997s, are not the flow's.
    fn page_of(&self, current: &mut Current<'_>, limit: usize) -> Vec<Result<minijinja::Value, super::InputError>> {
        let file = crate::value::map([("path", minijinja::Value::from(current.path.as_str())), ("id", minijinja::Value::from(current.id))]);
        let mut items = Vec::new();
        while items.len() < limit {
            let Some(item) = current.records.next() else { break };
            let admitted = match (item, &self.x12, &current.intake) {
                (Ok(record), Some(x12), Some(intake)) => match x12.admit(intake, record, current.id.unwrap_or_default()) {
                    Admit::Take(record) => Some(Ok(record)),
                    Admit::Drop => None,
                    Admit::Reject(e) => Some(Err(e)),
                },
                (item, _, _) => Some(item),
            };
            items.extend(admitted.map(|item| item.map(|r| crate::value::with_entry(r, "_file", file.clone()))));
        }
        current.count += items.len() as u64;
        current.unreadable += items.iter().filter(|i| i.is_err()).count() as u64;
        items
    }

    /// Reads a spooled file's X12 envelopes (a pass of its own, from its start) for what they
    /// say; None when the source answers no partner or the format has no envelopes.
    fn receipt(&self, spool: &mut std::fs::File, path: &str) -> Result<Option<FileReceipt>, FetchError> {
        use std::io::Seek;
        if self.x12.is_none() {
            return Ok(None);
        }
        let cannot = |e: std::io::Error| FetchError(format!("cannot read the spooled copy of {path}: {e}"));
        let copy = spool.try_clone().map_err(cannot)?;
        let receipt = self.format.receive(Box::new(BufReader::with_capacity(256 * 1024, copy)), path);
        spool.seek(std::io::SeekFrom::Start(0)).map_err(cannot)?;
        Ok(receipt)
    }

    /// What the file's envelopes mean for this run (see `X12Partner::intake`).
    fn intake(&self, receipt: Option<&FileReceipt>, id: i64, path: &str) -> Result<Option<Intake>, FetchError> {
        let (Some(x12), Some(receipt)) = (&self.x12, receipt) else { return Ok(None) };
        x12.intake(receipt, id, path).map(Some).map_err(FetchError)
    }

    /// The names the flow takes from the inbox, in name order (partners number their files).
    async fn names(&self) -> Result<VecDeque<RemoteFile>, FetchError> {
        let pattern = self.pattern;
        let mut names = Vec::new();
        let mut keep = |f: RemoteFile| {
            if glob_match(pattern, &f.name) && !crate::transport::sftp::is_temp_name(&f.name) {
                names.push(f);
            }
        };
        self.store.list(&self.inbox, &mut keep).await.map_err(|e| self.failed("listing", e))?;
        names.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(names.into())
    }

    /// Downloads, journals and opens one file; None when it is not to be processed (done before).
    async fn open(&'s self, file: RemoteFile) -> Result<Option<Current<'s>>, FetchError> {
        let path = join(&self.inbox, &file.name);
        let Some(journal) = &self.journal else {
            // A preview reads the file into memory: nothing is journaled, spooled or moved.
            let mut bytes = Vec::new();
            self.store.read(&path, &mut bytes).await.map_err(|e| self.failed("reading", e))?;
            let records = self.format.read(Box::new(std::io::Cursor::new(bytes)), &path).map_err(|e| FetchError(e.0))?;
            return Ok(Some(Current { id: None, path, records, count: 0, unreadable: 0, intake: None }));
        };
        std::fs::create_dir_all(&journal.spool).map_err(|e| FetchError(format!("cannot create {}: {e}", journal.spool.display())))?;
        let spool = journal.spool.join(format!("{}-{}.part", journal.run, random_suffix()));
        let mut hashing = Hashing {
            file: std::fs::File::create(&spool).map_err(|e| FetchError(format!("cannot create {}: {e}", spool.display())))?,
            sha: sha2::Sha256::new(),
        };
        let read = self.store.read(&path, &mut hashing).await;
        let Hashing { file: written, sha } = hashing;
        drop(written);
        // Once open for reading, the spool file is unlinked: it goes when the run is done with it, or dies.
        let opened = std::fs::File::open(&spool);
        let _ = std::fs::remove_file(&spool);
        let size = read.map_err(|e| self.failed("reading", e))?;
        let mut opened = opened.map_err(|e| FetchError(format!("cannot read {}: {e}", spool.display())))?;
        let hash: [u8; 32] = sha.finalize().into();
        // Read once: whether the file is this source's to take, then what its envelopes say.
        let receipt = self.receipt(&mut opened, &path)?;
        if let (Some(x12), Some(receipt)) = (&self.x12, &receipt)
            && !x12.takes(receipt)
        {
            tracing::info!(file = %path, "{path} matches `{}` but holds no set of this flow's: left to its own flow", self.pattern);
            return Ok(None);
        }
        let begun = journal.state.begin_file(self.name, &file.name, size, &hash, journal.run).map_err(|e| FetchError(e.to_string()))?;
        let id = match begun {
            FileBegin::New { id } | FileBegin::Unfinished { id } => id,
            FileBegin::InThisRun { name, .. } => {
                tracing::warn!(file = %path, "{path} holds the same bytes as {name}, taken in this run: left for the next run to dispose of");
                return Ok(None);
            }
            FileBegin::Done { id, name } => {
                // This very file, processed (its groups answered) but not moved yet: it is only moved now.
                let left_behind = name == file.name && journal.state.file(id).ok().flatten().is_some_and(|f| f.disposal.is_none());
                if left_behind {
                    self.dispose(id, &path).await;
                    return Ok(None);
                }
                tracing::warn!(file = %path, "{path} holds the same bytes as {name}, processed before: not processed again");
                // The same interchanges sent again: answered again, as a partner expects.
                if let (Some(x12), Some(intake)) = (&self.x12, self.intake(receipt.as_ref(), id, &path)?)
                    && let Err(e) = x12.answer(&intake, &path).await
                {
                    tracing::warn!(file = %path, "{e}; the next run tries again");
                    return Ok(None);
                }
                self.dispose(id, &path).await;
                return Ok(None);
            }
        };
        let intake = self.intake(receipt.as_ref(), id, &path)?;
        let records = self.format.read(Box::new(BufReader::with_capacity(256 * 1024, opened)), &path).map_err(|e| FetchError(e.0))?;
        Ok(Some(Current { id: Some(id), path, records, count: 0, unreadable: 0, intake }))
    }

    /// A file whose every record is settled: finished in the journal, then archived or deleted.
    async fn done(&self, current: Current<'_>) -> Result<(), FetchError> {
        let (Some(journal), Some(id)) = (&self.journal, current.id) else { return Ok(()) };
        // The partner's groups are answered before the file is done: a run that dies
        // between the two answers them again, never not at all.
        if let (Some(x12), Some(intake)) = (&self.x12, &current.intake) {
            x12.answer(intake, &current.path).await.map_err(FetchError)?;
        }
        journal.state.finish_file(id, current.count).map_err(|e| FetchError(e.to_string()))?;
        // A file with records that could not be read is never deleted: its bytes are
        // the only copy of those records. It goes to `unreadable/` beside the inbox instead.
        let keep = (current.unreadable > 0 && self.processed == Processed::Delete).then(|| join(&self.inbox, "unreadable"));
        if let Some(folder) = &keep {
            tracing::warn!(file = %current.path, "{} of {} records of {} could not be read: the file is kept in {folder}", current.unreadable, current.count, current.path);
        }
        self.dispose_as(id, &current.path, keep).await;
        Ok(())
    }

    /// Archives or deletes a processed file; a failure is logged, and the next run, finding it done, tries again.
    async fn dispose(&self, id: i64, path: &str) {
        self.dispose_as(id, path, None).await
    }

    async fn dispose_as(&self, id: i64, path: &str, keep_in: Option<String>) {
        let Some(journal) = &self.journal else { return };
        let archive = keep_in.or_else(|| match &self.processed {
            Processed::Archive(folder) => Some(folder.clone()),
            Processed::Delete => None,
        });
        let (moved, how) = match archive {
            Some(folder) => (self.store.archive(path, &folder).await, Disposal::Archived { folder }),
            None => (self.store.remove(path).await, Disposal::Removed),
        };
        match moved.map_err(|e| e.to_string()).and_then(|()| journal.state.dispose_file(id, &how).map_err(|e| e.to_string())) {
            Ok(()) => {}
            Err(e) => tracing::warn!(file = %path, "{path} was processed but not moved: {e}; the next run tries again"),
        }
    }
}

/// A writer that hashes what it writes.
struct Hashing {
    file: std::fs::File,
    sha: sha2::Sha256,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
