//! Opening SQLite connections to the state file with the settings every
//! connection needs, and turning SQLite errors into messages that name the file.

use std::fmt::Display;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::StateError;

/// How long a writer waits for another writer's transaction (of another
/// thread or process) before giving up. Transactions here are short (a
/// journal batch, a setting, storing tokens), so this is only reached when
/// something is stuck.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to the state file at `path` (created if missing).
///
/// Pragmas that are per connection are set here, so the token lock's own
/// connection is as durable and as patient as the main one.
pub(crate) fn connect(path: &Path) -> Result<Connection, StateError> {
    // No SQLITE_OPEN_URI: a file that happens to be called "file:…" is a file.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).map_err(sqlite_error(path, "opening it"))?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(sqlite_error(path, "setting the busy timeout"))?;
    // FULL: a commit is on disk when it returns. The journal promises that a
    // "sending" row exists before the delivery is made, and a rotated refresh
    // token must survive a power cut; NORMAL would allow losing the last commits.
    connection.pragma_update(None, "synchronous", "FULL").map_err(sqlite_error(path, "setting synchronous=FULL"))?;
    connection.pragma_update(None, "foreign_keys", true).map_err(sqlite_error(path, "enabling foreign keys"))?;
    Ok(connection)
}

/// A `map_err` adapter: `<file>: <doing>: <SQLite's message>`.
///
/// SQLite's messages carry no values from the rows (only names of tables,
/// columns and constraints), so nothing secret can leak through them.
pub(crate) fn sqlite_error(path: &Path, doing: impl Display) -> impl FnOnce(rusqlite::Error) -> StateError {
    let path = path.to_path_buf();
    move |error| {
        // SQLite only notices on its first read (whichever statement that is).
        if error.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
            return StateError::new(format!("{} is not a flowmap state file: it is not an SQLite database (is the path right?)", path.display()));
        }
        if error.sqlite_error_code() == Some(ErrorCode::DatabaseCorrupt) {
            return damaged(&path, &format!("{doing}: {error}"));
        }
        let hint = match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                " (another flowmap process or thread kept the state file locked)".to_string()
            }
            _ => String::new(),
        };
        StateError::new(format!("{}: {doing}: {error}{hint}", path.display()))
    }
}

/// The one message for a state file SQLite finds damaged, wherever it is found.
pub(crate) fn damaged(path: &Path, problem: &str) -> StateError {
    StateError::new(format!(
        "{0} is damaged ({problem}); nothing was run or changed. Restore it from a backup; \
         or, to start anew without its journal and credentials, move it away (`mv {0} {0}.damaged`) \
         and connect again (`flowmap connect NAME`)",
        path.display()
    ))
}
