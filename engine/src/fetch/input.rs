use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use minijinja::Value;

/// A problem with the input: the file and position, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Source records from a file. JSON lines are streamed one line at a time
/// (memory stays flat however long the file); a JSON array or a recorded
/// response is read whole and unwrapped with the source's `records` selector.
/// A bad line is an error item naming its line; the following lines go on.
pub enum RecordReader {
    Lines { reader: Box<dyn BufRead + Send>, name: String, line: usize, buf: String },
    Whole { records: std::vec::IntoIter<Value> },
}

impl RecordReader {
    /// Opens an input file and decides its shape:
    /// - a complete JSON object on the first line, and more lines after it: JSON lines, streamed;
    /// - one single-line object: a recorded response if the selector finds a list in it, else one record;
    /// - anything else is read whole: an array of records, or a response the selector unwraps.
    pub fn open(path: &Path, selector: &jmespath::Expression<'static>) -> Result<RecordReader, InputError> {
        let name = crate::diagnostic::display_path(path);
        let file = File::open(path).map_err(|e| InputError(format!("cannot read {name}: {e}")))?;
        Self::from_reader(Box::new(BufReader::with_capacity(256 * 1024, file)), name, selector)
    }

    /// The same, from bytes being read (a file of a file transport); `name` names it in errors.
    pub fn from_reader(
        mut reader: Box<dyn BufRead + Send>,
        name: String,
        selector: &jmespath::Expression<'static>,
    ) -> Result<RecordReader, InputError> {
        let cannot = |e: std::io::Error| InputError(format!("cannot read {name}: {e}"));
        let (first_is_object, more_lines) = {
            let buf = reader.fill_buf().map_err(cannot)?;
            let text = String::from_utf8_lossy(buf);
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let first = lines.next().unwrap_or_default();
            let is_object = first.trim_start().starts_with('{') && serde_json::from_str::<serde_json::Value>(first).is_ok();
            (is_object, lines.next().is_some())
        };
        if first_is_object && more_lines {
            return Ok(RecordReader::Lines { reader, name, line: 0, buf: String::new() });
        }
        let mut text = String::new();
        reader.read_to_string(&mut text).map_err(cannot)?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| not_json(&name, e.line(), &e))?;
        let list = match json {
            serde_json::Value::Array(items) => items,
            other => match selected_list(selector, &other) {
                Some(items) => items,
                None if first_is_object => vec![other],
                None => return Err(InputError(format!("{name}: the source's `records` selector found no list of records in the file"))),
            },
        };
        Ok(RecordReader::Whole { records: list.iter().map(crate::value::from_json).collect::<Vec<_>>().into_iter() })
    }
}

/// The list of records the selector finds in a response, if it finds one.
fn selected_list(selector: &jmespath::Expression<'static>, response: &serde_json::Value) -> Option<Vec<serde_json::Value>> {
    let found = crate::value::search(selector, response).ok()?;
    match serde_json::to_value(&*found).ok()? {
        serde_json::Value::Array(items) => Some(items),
        _ => None,
    }
}

impl Iterator for RecordReader {
    type Item = Result<Value, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            RecordReader::Whole { records } => records.next().map(Ok),
            RecordReader::Lines { reader, name, line, buf } => loop {
                buf.clear();
                *line += 1;
                match reader.read_line(buf) {
                    Ok(0) => return None,
                    Ok(_) if buf.trim().is_empty() => continue,
                    Ok(_) => {
                        return Some(crate::value::parse_json(buf).map_err(|e| not_json(name, *line, &e)));
                    }
                    Err(e) => return Some(Err(InputError(format!("{name}:{line}: {e}")))),
                }
            },
        }
    }
}

/// `file:line:col: not JSON: what`, without serde_json's own "at line … column …".
pub fn not_json(name: &str, line: usize, e: &serde_json::Error) -> InputError {
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    InputError(format!("{name}:{line}:{}: not JSON: {what}", e.column()))
}
