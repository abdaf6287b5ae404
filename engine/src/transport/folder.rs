//! A local folder as a file store: a share customers drop files on, and the
//! fixtures of dry-runs and tests.
//!
//! Store paths are `/`-separated and absolute from the store's root
//! (`/in/850_1.x12`); a path that would leave the root (`..`) is refused.
//! Symbolic links inside the root are followed: whoever set the folder up
//! placed them.
//!
//! The calls use `std::fs` inside their futures: a local disk answers in
//! microseconds, so blocking a runtime worker that long costs less than a hop
//! to a blocking thread per call, and `std::fs` gives the exact calls needed
//! (create-new, `fsync`, link without overwriting) that `tokio::fs` would only
//! wrap.
//!
//! Nothing is ever overwritten. A put writes the bytes under a temporary name
//! in the target folder, flushes them to disk, then moves them to the final
//! name with a move that fails when that name exists (`renameat2` with
//! `RENAME_NOREPLACE` on Linux, else a hard link and the temporary name
//! removed): a reader sees no file or the whole file, and a partner's file of
//! the same name is left as it was. An archived file whose name is taken in
//! the archive folder gets a suffix (`850_1-2.x12`, `850_1-3.x12`, …): a
//! partner reuses names (a daily `orders.csv`), and refusing would leave a
//! processed file in the inbox for ever.

use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use super::files::{FileError, FileFailure, FileStore, Fut, RemoteFile};

/// How temporary names begin. The leading dot hides them from `*` in shell
/// and SFTP globs and from `ls`; the `.part` ending matches no document
/// pattern a partner agrees (`*.x12`, `*.csv`, `850*`), and nothing of the
/// final name is in it, so no pattern written for the final names can match.
const TEMP_PREFIX: &str = ".flowmap-upload-";
const TEMP_SUFFIX: &str = ".part";

/// Most suffixes tried for a name taken in an archive folder.
const MAX_ARCHIVE_SUFFIX: u32 = 10_000;

/// A local folder, from `root` down.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    pub fn new(root: PathBuf) -> FolderStore {
        FolderStore { root }
    }

    /// The local path of store path `path`; refused when it would leave the root.
    fn local(&self, path: &str) -> Result<PathBuf, FileError> {
        let mut local = self.root.clone();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    return Err(FileError::new(
                        FileFailure::Refused,
                        format!("{}: path {path:?} refused: `..` would lead out of the folder store", self.root.display()),
                    ));
                }
                _ if part.contains('\0') => {
                    return Err(FileError::new(FileFailure::Refused, format!("{}: path {path:?} refused: it holds a NUL byte", self.root.display())));
                }
                _ => local.push(part),
            }
        }
        Ok(local)
    }

    /// `name` as a single file name in a folder (no folder of its own, no `..`).
    fn file_name<'n>(&self, name: &'n str) -> Result<&'n str, FileError> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
            return Err(FileError::new(FileFailure::Refused, format!("{}: file name {name:?} refused: not a plain file name", self.root.display())));
        }
        Ok(name)
    }
}

impl FileStore for FolderStore {
    fn list<'a>(&'a self, folder: &'a str, each: &'a mut (dyn FnMut(RemoteFile) + Send)) -> Fut<'a, Result<(), FileError>> {
        Box::pin(async move {
            let local = self.local(folder)?;
            let entries = fs::read_dir(&local).map_err(|error| failure(&local, "cannot list it", &error))?;
            // One entry at a time as the directory is read: a folder of many
            // files is never held whole.
            for entry in entries {
                let entry = entry.map_err(|error| failure(&local, "cannot list it", &error))?;
                // Names that are not UTF-8 cannot be named to the pipeline (nor
                // by a partner's pattern): left alone.
                let Ok(name) = entry.file_name().into_string() else { continue };
                if is_temporary(&name) {
                    continue;
                }
                // Following symbolic links; an entry that vanished meanwhile is skipped.
                let Ok(metadata) = fs::metadata(entry.path()) else { continue };
                if metadata.is_file() {
                    each(RemoteFile { name, size: metadata.len() });
                }
            }
            Ok(())
        })
    }

    fn read<'a>(&'a self, path: &'a str, into: &'a mut (dyn io::Write + Send)) -> Fut<'a, Result<u64, FileError>> {
        Box::pin(async move {
            let local = self.local(path)?;
            let mut file = File::open(&local).map_err(|error| failure(&local, "cannot read it", &error))?;
            let mut buffer = vec![0u8; 64 * 1024];
            let mut copied = 0u64;
            loop {
                let read = match io::Read::read(&mut file, &mut buffer) {
                    Ok(0) => return Ok(copied),
                    Ok(read) => read,
                    Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                    Err(error) => return Err(failure(&local, "cannot read it", &error)),
                };
                into.write_all(&buffer[..read]).map_err(|error| {
                    FileError::new(FileFailure::Unavailable, format!("{}: read, but its bytes could not be taken: {error}", local.display()))
                })?;
                copied += read as u64;
            }
        })
    }

    fn put<'a>(&'a self, folder: &'a str, name: &'a str, bytes: &'a [u8]) -> Fut<'a, Result<(), FileError>> {
        Box::pin(async move {
            let local_folder = self.local(folder)?;
            let target = local_folder.join(self.file_name(name)?);
            let temporary = local_folder.join(temporary_name()?);
            let written = write_synced(&temporary, bytes).and_then(|()| move_no_replace(&temporary, &target));
            if written.is_err() {
                let _ = fs::remove_file(&temporary);
            }
            match written {
                Ok(()) => {}
                Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                    return Err(FileError::new(
                        FileFailure::Refused,
                        format!("{}: not written: a file of that name exists already (a file is never overwritten)", target.display()),
                    ));
                }
                Err(error) => return Err(failure(&target, "cannot write it", &error)),
            }
            // The new name on disk too, not only the bytes.
            sync_folder(&local_folder).map_err(|error| failure(&target, "written, but its folder could not be flushed to disk", &error))
        })
    }

    fn size<'a>(&'a self, path: &'a str) -> Fut<'a, Result<Option<u64>, FileError>> {
        Box::pin(async move {
            let local = self.local(path)?;
            match fs::metadata(&local) {
                Ok(metadata) if metadata.is_file() => Ok(Some(metadata.len())),
                Ok(_) => Err(FileError::new(FileFailure::Refused, format!("{}: not a file", local.display()))),
                Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
                Err(error) => Err(failure(&local, "cannot look at it", &error)),
            }
        })
    }

    fn archive<'a>(&'a self, path: &'a str, folder: &'a str) -> Fut<'a, Result<(), FileError>> {
        Box::pin(async move {
            let source = self.local(path)?;
            let archive = self.local(folder)?;
            let name = source
                .file_name()
                .and_then(|name| name.to_str())
                .ok_or_else(|| FileError::new(FileFailure::Refused, format!("{}: path {path:?} refused: it names no file", self.root.display())))?;
            fs::metadata(&source).map_err(|error| failure(&source, "cannot archive it", &error))?;
            fs::create_dir_all(&archive).map_err(|error| failure(&archive, "cannot create the archive folder", &error))?;
            for attempt in 1..=MAX_ARCHIVE_SUFFIX {
                let target = archive.join(suffixed(name, attempt));
                match move_no_replace(&source, &target) {
                    Ok(()) => {
                        return sync_folder(&archive)
                            .map_err(|error| failure(&target, "archived, but the folder could not be flushed to disk", &error));
                    }
                    Err(error) if error.kind() == ErrorKind::AlreadyExists => continue,
                    Err(error) => return Err(failure(&source, format_args!("cannot archive it into {}", archive.display()), &error)),
                }
            }
            Err(FileError::new(
                FileFailure::Refused,
                format!("{}: cannot archive it: {MAX_ARCHIVE_SUFFIX} files of that name are in {} already", source.display(), archive.display()),
            ))
        })
    }

    fn remove<'a>(&'a self, path: &'a str) -> Fut<'a, Result<(), FileError>> {
        Box::pin(async move {
            let local = self.local(path)?;
            fs::remove_file(&local).map_err(|error| failure(&local, "cannot remove it", &error))
        })
    }
}

/// The error for `path`, of the kind the pipeline decides by.
fn failure(path: &Path, doing: impl std::fmt::Display, error: &io::Error) -> FileError {
    let kind = match error.kind() {
        ErrorKind::NotFound => FileFailure::NotFound,
        ErrorKind::PermissionDenied | ErrorKind::AlreadyExists | ErrorKind::IsADirectory | ErrorKind::NotADirectory => FileFailure::Refused,
        _ => FileFailure::Unavailable,
    };
    FileError::new(kind, format!("{}: {doing}: {error}", path.display()))
}

fn is_temporary(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

fn temporary_name() -> Result<String, FileError> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random)
        .map_err(|error| FileError::new(FileFailure::Unavailable, format!("no random numbers for a temporary name: {error}")))?;
    let hex: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{TEMP_PREFIX}{hex}{TEMP_SUFFIX}"))
}

/// `name` for the `attempt`th try in an archive folder: itself first, then
/// with `-2`, `-3`, … before its extension.
fn suffixed(name: &str, attempt: u32) -> String {
    if attempt == 1 {
        return name.to_string();
    }
    match name.rfind('.').filter(|&dot| dot > 0) {
        Some(dot) => format!("{}-{attempt}{}", &name[..dot], &name[dot..]),
        None => format!("{name}-{attempt}"),
    }
}

/// A new file at `path` (it must not exist) holding `bytes`, on disk when this returns.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    io::Write::write_all(&mut file, bytes)?;
    file.sync_all()
}

fn sync_folder(folder: &Path) -> io::Result<()> {
    File::open(folder)?.sync_all()
}

/// Moves `from` to `to`, failing with `AlreadyExists` when `to` exists: never
/// an overwrite, not even of a file that appears meanwhile.
fn move_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    match rename_no_replace(from, to) {
        Ok(()) => return Ok(()),
        // The file system cannot (some network and FAT file systems): link instead.
        Err(error) if matches!(error.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) => {}
        Err(error) => return Err(error),
    }
    link_then_remove(from, to)
}

/// The move where `renameat2` is not to be had: a hard link fails when `to`
/// exists, like `link(2)` always has; then the old name goes.
fn link_then_remove(from: &Path, to: &Path) -> io::Result<()> {
    fs::hard_link(from, to)?;
    fs::remove_file(from)
}

#[cfg(target_os = "linux")]
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let from = CString::new(from.as_os_str().as_bytes()).map_err(|_| io::Error::from(ErrorKind::InvalidInput))?;
    let to = CString::new(to.as_os_str().as_bytes()).map_err(|_| io::Error::from(ErrorKind::InvalidInput))?;
    // SAFETY: both paths are NUL-terminated C strings that live across the call.
    let result = unsafe { libc::renameat2(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::RENAME_NOREPLACE) };
    if result == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(test)]
#[path = "folder_tests.rs"]
mod tests;
