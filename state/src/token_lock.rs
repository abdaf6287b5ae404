//! The token lock: token refreshes one at a time, across threads AND processes.
//!
//! Exact Online rotates the refresh token on every refresh, and presenting an
//! old one locks the customer out. So whoever refreshes must hold this lock,
//! re-read the tokens inside it (another process may have refreshed
//! meanwhile), and store the new ones durably before releasing it.
//!
//! The lock is an exclusive `flock` on a file beside the state file
//! (`<state>-tokenlock`), not SQLite's write lock: a refresh holds the lock
//! for a network round trip (and the engine may wait inside it for a minimum
//! refresh interval), and holding SQLite's write lock that long would stall
//! every journal write of every process on the file, and could starve the
//! very task that is refreshing. The kernel releases a `flock` when its holder
//! closes the file or dies (even by `kill -9`), so a crashed refresher cannot
//! leave it stuck. Each lock opens the file anew: `flock`s of separate opens
//! exclude each other within one process too.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use crate::db::{connect, sqlite_error};
use crate::error::{Result, StateError};
use crate::names;
use crate::state::State;
use crate::tokens::{self, TokenSet};
use crate::vault::Vault;

/// How long [`State::lock_tokens`] waits for another refresher: a refresh is
/// one HTTP round trip, plus at most a short wait for the system's minimum
/// refresh interval; a holder taking longer is stuck.
const LOCK_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest pause between two attempts to take a held lock.
const MAX_POLL: Duration = Duration::from_millis(100);

/// The held token lock of a state file (see [`State::lock_tokens`]).
///
/// It owns its own SQLite connection and lock file, so it is `Send` and can be
/// held across an `.await` (the refresh request). Dropping it releases the
/// lock and changes nothing.
pub struct TokenLock {
    db: Connection,
    /// Holds the `flock`; closing it (on drop) releases the lock.
    _lock_file: File,
    path: PathBuf,
    connection: String,
}

impl State {
    /// Waits until no other thread or process holds the token lock of this
    /// state file (up to two minutes), then holds it until the returned lock
    /// is stored, marked as needing consent, or dropped.
    ///
    /// The lock covers the whole file, not only `connection`: refreshes are
    /// rare and short. Reads and other writes (the journal) do not wait for it.
    pub fn lock_tokens(&self, connection: &str) -> Result<TokenLock> {
        names::check("connection", connection)?;
        let lock_file = take_lock(self.path(), connection)?;
        let db = connect(self.path())?;
        Ok(TokenLock { db, _lock_file: lock_file, path: self.path().to_path_buf(), connection: connection.to_string() })
    }
}

impl TokenLock {
    /// The tokens as they are now, read inside the lock: another process may
    /// have refreshed them while this one waited, and then those are to be used
    /// (and their refresh token is the only valid one).
    pub fn current(&self, vault: &Vault) -> Result<Option<TokenSet>> {
        tokens::read(&self.db, &self.path, vault, &self.connection)
    }

    /// Stores `tokens` (clearing a need for consent unless `tokens` has one)
    /// and releases the lock. When this returns they are on disk: only then
    /// may the new access token be used, since the old refresh token stopped
    /// working the moment the new one was issued.
    pub fn store(mut self, vault: &Vault, tokens: &TokenSet) -> Result<()> {
        let (path, connection) = (self.path.clone(), self.connection.clone());
        self.commit(|db| tokens::write(db, &path, vault, &connection, tokens))
    }

    /// Marks the connection as needing the operator's consent (for `reason`)
    /// and releases the lock. Stored tokens are kept, flagged, as a record of
    /// what was refused; the engine must not use them.
    pub fn needs_consent(mut self, reason: &str) -> Result<()> {
        let (path, connection) = (self.path.clone(), self.connection.clone());
        self.commit(|db| tokens::flag_needs_consent(db, &path, &connection, reason))
    }

    /// Deletes the tokens and releases the lock.
    pub(crate) fn forget(mut self) -> Result<()> {
        let (path, connection) = (self.path.clone(), self.connection.clone());
        self.commit(|db| tokens::delete(db, &path, &connection))
    }

    /// Runs `change` in one transaction and commits it (durably: the
    /// connection has synchronous=FULL) while the lock is still held.
    fn commit(&mut self, change: impl FnOnce(&Connection) -> Result<()>) -> Result<()> {
        let doing = format_args!("storing the tokens of connection {}", self.connection);
        let transaction = self.db.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sqlite_error(&self.path, doing))?;
        change(&transaction)?;
        transaction.commit().map_err(sqlite_error(&self.path, format_args!("committing the tokens of connection {}", self.connection)))
    }
}

impl fmt::Debug for TokenLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenLock").field("path", &self.path).field("connection", &self.connection).finish_non_exhaustive()
    }
}

/// The lock file of `state_path`, exclusively locked by this call.
fn take_lock(state_path: &Path, connection: &str) -> Result<File> {
    let mut name = state_path.as_os_str().to_owned();
    name.push("-tokenlock");
    let lock_path = PathBuf::from(name);
    let fail = |what: String| {
        StateError::new(format!("{}: cannot take the token lock for connection {connection} ({}): {what}", state_path.display(), lock_path.display()))
    };

    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&lock_path).map_err(|error| fail(error.to_string()))?;

    // Polling rather than a blocking `lock()`, so a stuck holder gives an
    // error after a while instead of hanging this process for ever.
    let started = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if started.elapsed() < LOCK_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(MAX_POLL);
            }
            Err(TryLockError::WouldBlock) => {
                return Err(fail(format!("another flowmap process or thread has been refreshing tokens for more than {} s", LOCK_TIMEOUT.as_secs())));
            }
            Err(TryLockError::Error(error)) => return Err(fail(error.to_string())),
        }
    }
}
