//! Which processes using a state file are alive.
//!
//! Each [`State`](crate::State) holds an exclusive `flock` on a file of its
//! own, `<state>-processes/<id>.lock`, for as long as it is open. The kernel
//! drops the lock when the process ends, however it ends (SIGKILL included),
//! so anyone can tell a live holder from a dead one by trying the lock: it
//! cannot be taken while its owner lives. A process id would not do: ids are
//! reused, and a serving engine's runs share one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Result, StateError};
use crate::files::create_private_dirs;

/// This process's mark on one state file: the held lock and the id runs and
/// deliveries are recorded under.
pub(crate) struct ProcessMark {
    pub(crate) id: String,
    path: PathBuf,
    /// Holds the `flock`; closing it (on drop) releases it.
    _file: File,
}

impl ProcessMark {
    /// A new id, its lock file created and locked.
    pub(crate) fn take(state_path: &Path) -> Result<ProcessMark> {
        let dir = processes_dir(state_path);
        let fail = |error: std::io::Error| {
            StateError::new(format!("{}: cannot mark this process as alive in {}: {error}", state_path.display(), dir.display()))
        };
        create_private_dirs(&dir).map_err(fail)?;
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|error| StateError::new(format!("cannot draw a process id: {error}")))?;
        let id = crate::hex::encode(&bytes);
        let path = dir.join(format!("{id}.lock"));
        let file = options().create_new(true).open(&path).map_err(fail)?;
        file.try_lock().map_err(|error| fail(std::io::Error::other(error.to_string())))?;
        Ok(ProcessMark { id, path, _file: file })
    }
}

impl Drop for ProcessMark {
    fn drop(&mut self) {
        // Best effort: a file left behind is found unlocked and removed later.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the process that recorded itself as `id` on this state file still
/// runs. A dead one's lock file is removed on the way.
pub(crate) fn is_alive(state_path: &Path, id: &str) -> bool {
    // Ids are made here from hex digits; anything else names no file of ours.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let path = processes_dir(state_path).join(format!("{id}.lock"));
    let Ok(file) = options().open(&path) else { return false };
    match file.try_lock() {
        Ok(()) => {
            let _ = std::fs::remove_file(&path);
            false
        }
        Err(TryLockError::WouldBlock) => true,
        // Cannot tell (a file system without locks): assume alive, so nothing
        // of a live process is ever taken over; an operator can still act.
        Err(TryLockError::Error(_)) => true,
    }
}

fn processes_dir(state_path: &Path) -> PathBuf {
    let mut name = state_path.as_os_str().to_owned();
    name.push("-processes");
    PathBuf::from(name)
}

fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}
