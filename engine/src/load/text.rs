//! Reading a file as text: UTF-8, or a problem at the first byte that is not.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Location, SourceFile, Span};

/// The file's text, kept under `shown` (the path diagnostics name).
pub fn read_text(path: &Path, shown: PathBuf) -> Result<Arc<SourceFile>, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| Diagnostic::error(format!("cannot read {}: {e}", crate::diagnostic::display_path(path))))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(shown, text)),
        Err(e) => Err(not_utf8(shown, e)),
    }
}

/// Points at the first invalid byte. The quoted line is the file decoded with
/// U+FFFD for what is not UTF-8; up to that byte the text is valid, so the
/// column (counted in characters) is the same in both.
fn not_utf8(shown: PathBuf, e: std::string::FromUtf8Error) -> Diagnostic {
    let at = e.utf8_error().valid_up_to();
    let bytes = e.into_bytes();
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let col = std::str::from_utf8(&before[line_start..]).map_or(0, |s| s.chars().count());
    let byte = bytes[at];
    let file = SourceFile::new(shown, String::from_utf8_lossy(&bytes).into_owned());
    Diagnostic::error(format!("the file is not UTF-8 text: byte 0x{byte:02X} cannot stand here"))
        .at(Some(Location::new(&file, Span::point(line, col))))
        .label("not UTF-8")
        .help("save the file as UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(bytes: &[u8]) -> (String, usize, usize) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.yaml");
        std::fs::write(&file, bytes).unwrap();
        let d = read_text(&file, file.clone()).expect_err("not UTF-8");
        let loc = d.location.expect("a position");
        (d.message, loc.span.start.line, loc.span.start.col)
    }

    #[test]
    fn the_first_invalid_byte_is_located_in_characters() {
        assert_eq!(problem(b"flow: x\nname: \xC3\xA9t\xFF\n"), ("the file is not UTF-8 text: byte 0xFF cannot stand here".into(), 2, 8));
        assert_eq!(problem(b"\xFE"), ("the file is not UTF-8 text: byte 0xFE cannot stand here".into(), 1, 0));
        // A sequence cut short at the end of the file.
        assert_eq!(problem(b"a: b\n\xE2\x82").1, 2);
    }
}
