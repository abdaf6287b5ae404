//! The port of a file store: list a folder, read a file, put a file so no one
//! ever sees half of it, archive or remove a processed file. A local folder and
//! an SFTP server implement it; the pipeline above knows only this trait.

use futures_util::future::BoxFuture;

/// A future of a port call: boxed so the trait stays object-safe.
pub type Fut<'a, T> = BoxFuture<'a, T>;

/// A file in a listing (directories are not listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// The file's name, without its folder.
    pub name: String,
    pub size: u64,
}

/// Why a file operation failed, for whoever decides what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFailure {
    /// Not answered now (connection refused or dropped, a timeout, retries spent): the next run tries again.
    Unavailable,
    /// No such file or folder.
    NotFound,
    /// The store refused it (permissions, a file already under that name).
    Refused,
    /// The server's host key is not the pinned one: an operator must look, nothing is sent.
    HostKey,
    /// The credentials were refused: `flowmap connect` is needed.
    Credentials,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub kind: FileFailure,
    /// What happened, naming the store and the path; never a secret.
    pub message: String,
}

impl FileError {
    pub fn new(kind: FileFailure, message: impl Into<String>) -> FileError {
        FileError { kind, message: message.into() }
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FileError {}

/// Paths are `/`-separated and absolute from the store's root (`/in/850_1.x12`).
pub trait FileStore: Send + Sync {
    /// Every file in `folder`, handed to `each` as the listing arrives (page by
    /// page: a folder of many files is never held whole).
    fn list<'a>(&'a self, folder: &'a str, each: &'a mut (dyn FnMut(RemoteFile) + Send)) -> Fut<'a, Result<(), FileError>>;

    /// Copies the file's bytes into `into` as they arrive; returns how many.
    fn read<'a>(&'a self, path: &'a str, into: &'a mut (dyn std::io::Write + Send)) -> Fut<'a, Result<u64, FileError>>;

    /// Writes `bytes` to `folder/name`: first under a temporary name in the same
    /// folder, then renamed once complete, so a reader never sees half a file.
    /// Refused when `name` exists already (a partner's file is never overwritten).
    fn put<'a>(&'a self, folder: &'a str, name: &'a str, bytes: &'a [u8]) -> Fut<'a, Result<(), FileError>>;

    /// The size of the file at `path`, None when there is no such file: whether a file
    /// written before (a delivery in doubt) is there, without reading it.
    fn size<'a>(&'a self, path: &'a str) -> Fut<'a, Result<Option<u64>, FileError>>;

    /// Moves a processed file into `folder` (created when missing), keeping its name.
    fn archive<'a>(&'a self, path: &'a str, folder: &'a str) -> Fut<'a, Result<(), FileError>>;

    /// Deletes a processed file.
    fn remove<'a>(&'a self, path: &'a str) -> Fut<'a, Result<(), FileError>>;
}

/// `folder/name` with exactly one `/` between them.
pub fn join(folder: &str, name: &str) -> String {
    format!("{}/{}", folder.trim_end_matches('/'), name.trim_start_matches('/'))
}

/// A name that stays in its folder: not empty, no separators, not `.` or `..`, no control characters.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\']) && !name.chars().any(char::is_control)
}

/// Whether `name` matches a glob: `*` any run of characters, `?` one character, anything else itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // The classic two-pointer match with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        assert!(glob_match("*.x12", "850_1.x12"));
        assert!(!glob_match("*.x12", "850_1.x12.part"));
        assert!(glob_match("855_??.x12", "855_01.x12"));
        assert!(!glob_match("855_??.x12", "855_1.x12"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("a*b*c", "aXbYbZ"));
    }

    #[test]
    fn plain_names_stay_in_their_folder() {
        assert!(plain_name("PO_1.x12"));
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "a\nb"] {
            assert!(!plain_name(bad), "{bad:?}");
        }
    }
}
