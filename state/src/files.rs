//! Files and directories that hold secrets or customer data: readable by their
//! owner only, from the moment they exist.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

/// `path` created (it must not exist) with mode 0600 from the start, so its
/// contents are never readable by others, not even for a moment; flushed to disk.
pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = private_options().open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Missing directories of `path`, created readable by their owner only.
pub(crate) fn create_private_dirs(path: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// An empty `path` with mode 0600 unless it exists already. SQLite gives its
/// -wal and -shm files the mode of the database file, so this covers them too.
pub(crate) fn create_private_file_if_missing(path: &Path) -> std::io::Result<()> {
    match private_options().open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}
