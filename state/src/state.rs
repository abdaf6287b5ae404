//! [`State`]: the handle on one state file, shared by all threads of a process.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use rusqlite::Connection;

use crate::db::{connect, sqlite_error};
use crate::error::{Result, StateError};
use crate::files::create_private_dirs;
use crate::process::ProcessMark;
use crate::schema;

/// The engine's state in one SQLite file: runs, the journal, each record's
/// current state, connection settings, sealed secrets and tokens.
///
/// One `State` per process is enough (it is `Sync`); other processes may open
/// the same file at the same time. The operations live in the modules that
/// own their tables (runs, journal, settings, secrets, tokens).
pub struct State {
    path: PathBuf,
    connection: Mutex<Connection>,
    /// Taken when this process first records a run: read-only commands
    /// (`flowmap runs`) leave no mark.
    process: OnceLock<ProcessMark>,
}

impl State {
    /// Opens the state file at `path`, creating it (and its directories,
    /// owner-only) if missing, and migrating it to the current schema.
    ///
    /// A file that is not a flowmap state file, or one written by a newer
    /// flowmap, is refused with a message saying so, and left unchanged.
    ///
    /// The file's structure is checked first (SQLite's `quick_check`: about
    /// 1.3 s for a 420 MB journal), so a run never builds on a damaged file.
    pub fn open(path: &Path) -> Result<State> {
        State::open_checked(path, true)
    }

    /// [`State::open`] for commands that only read (`flowmap runs`, `show`):
    /// without the structure check, which would cost them more than their
    /// reading; a damaged page they meet is reported as damage all the same.
    pub fn open_to_read(path: &Path) -> Result<State> {
        State::open_checked(path, false)
    }

    fn open_checked(path: &Path, check_integrity: bool) -> Result<State> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            create_private_dirs(parent)
                .map_err(|error| StateError::new(format!("{}: cannot create its directory {}: {error}", path.display(), parent.display())))?;
        }
        // An existing file must be a state file, never silently an empty new one.
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.len() == 0 => return Err(empty_file(path)),
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => schema::create(path)?,
            Err(error) => return Err(StateError::new(format!("{}: cannot read it: {error}", path.display()))),
        }
        let mut connection = connect(path)?;
        schema::prepare(&mut connection, path, check_integrity)?;
        Ok(State { path: path.to_path_buf(), connection: Mutex::new(connection), process: OnceLock::new() })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The id this process records its runs and deliveries under, marked alive
    /// for as long as this `State` is open (see `process.rs`).
    pub(crate) fn process_id(&self) -> Result<&str> {
        if let Some(mark) = self.process.get() {
            return Ok(&mark.id);
        }
        let mark = ProcessMark::take(&self.path)?;
        // Two threads racing here both take a mark; one is kept, the other
        // dropped (its file removed) before anything was recorded under it.
        Ok(&self.process.get_or_init(|| mark).id)
    }

    /// The shared connection, for one operation at a time.
    pub(crate) fn connection(&self) -> MutexGuard<'_, Connection> {
        // A thread that panicked while holding the lock had its transaction
        // rolled back when the transaction was dropped: the connection is fine.
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A `map_err` adapter for SQLite errors of this file.
    pub(crate) fn sqlite_error(&self, doing: impl fmt::Display) -> impl FnOnce(rusqlite::Error) -> StateError {
        sqlite_error(&self.path, doing)
    }

    /// An error about this file.
    pub(crate) fn error(&self, what: impl fmt::Display) -> StateError {
        StateError::new(format!("{}: {what}", self.path.display()))
    }
}

/// A state file of 0 bytes is one that lost everything (truncated by a full
/// disk, a bad copy, `> state.db`): a new state file is never empty (see
/// [`schema::create`]). Starting anew would hide that the journal and the
/// credentials are gone, so the operator decides.
fn empty_file(path: &Path) -> StateError {
    StateError::new(format!(
        "{0} is empty (0 bytes): the journal and the credentials it held are gone. \
         Restore it from a backup; or, to start anew without them, remove it (`rm {0}`) \
         and connect again (`flowmap connect NAME`)",
        path.display()
    ))
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State").field("path", &self.path).finish_non_exhaustive()
    }
}
