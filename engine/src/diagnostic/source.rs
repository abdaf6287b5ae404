use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A loaded text file, kept so diagnostics can quote its lines.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    /// Byte offset where each line starts, so quoting a line is not a scan of the file.
    line_starts: Vec<usize>,
    /// The path as shown, worked out once: block reasons name their origin for every
    /// compiled request, and finding the working directory is two system calls.
    shown: OnceLock<String>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Arc<Self> {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Arc::new(SourceFile { path: path.into(), text, line_starts, shown: OnceLock::new() })
    }

    /// The path as shown to users: relative to the working directory when below it.
    pub fn display_path(&self) -> &str {
        self.shown.get_or_init(|| display_path(&self.path))
    }

    /// The 1-based line `n`, without its line break.
    pub fn line(&self, n: usize) -> Option<&str> {
        let start = *self.line_starts.get(n.checked_sub(1)?)?;
        let end = self.line_starts.get(n).map_or(self.text.len(), |e| e - 1);
        let line = self.text.get(start..end.max(start))?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok().map(|d| d.canonicalize().unwrap_or(d));
    let relative = cwd.and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative.unwrap_or_else(|| path.to_path_buf()).display().to_string()
}

/// A position: 1-based line, 0-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn point(line: usize, col: usize) -> Span {
        let p = Pos { line, col };
        Span { start: p, end: Pos { line, col: col + 1 } }
    }
}

/// A span in a particular file.
#[derive(Debug, Clone)]
pub struct Location {
    pub file: Arc<SourceFile>,
    pub span: Span,
}

impl Location {
    pub fn new(file: &Arc<SourceFile>, span: Span) -> Self {
        Location { file: Arc::clone(file), span }
    }

    /// A narrower location inside this one's first line: `offset` characters in, `len` long.
    /// Used to point into a YAML scalar (e.g. at the bad part of an expression).
    pub fn sub(&self, offset: usize, len: usize) -> Location {
        let start = Pos { line: self.span.start.line, col: self.span.start.col + offset };
        Location { file: Arc::clone(&self.file), span: Span { start, end: Pos { line: start.line, col: start.col + len.max(1) } } }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display_path(), self.span.start.line, self.span.start.col + 1)
    }
}
