use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use minijinja::Value;

use crate::diagnostic::SourceFile;

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
    Lines { reader: BufReader<File>, name: String, line: usize, buf: String },
    Whole { records: std::vec::IntoIter<Value> },
}

impl RecordReader {
    pub fn open(path: &Path, selector: &jmespath::Expression<'static>) -> Result<RecordReader, InputError> {
        let name = SourceFile::new(path, String::new()).display_path();
        let file = File::open(path).map_err(|e| InputError(format!("cannot read {name}: {e}")))?;
        let mut reader = BufReader::new(file);
        let first_line = {
            let buf = reader.fill_buf().map_err(|e| InputError(format!("cannot read {name}: {e}")))?;
            let text = String::from_utf8_lossy(&buf[..buf.len().min(64 * 1024)]).to_string();
            text.lines().find(|l| !l.trim().is_empty()).map(str::to_string).unwrap_or_default()
        };
        let is_lines = first_line.trim_start().starts_with('{') && serde_json::from_str::<serde_json::Value>(&first_line).is_ok();
        if is_lines && !whole_file_is_one_object(&mut reader)? {
            return Ok(RecordReader::Lines { reader, name, line: 0, buf: String::new() });
        }
        let mut text = String::new();
        reader.read_to_string(&mut text).map_err(|e| InputError(format!("cannot read {name}: {e}")))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| not_json(&name, e.line(), &e))?;
        let list = match json {
            serde_json::Value::Array(items) => items,
            other => {
                let found = selector.search(&other).map_err(|e| InputError(format!("{name}: {e}")))?;
                match serde_json::to_value(&*found).unwrap_or_default() {
                    serde_json::Value::Array(items) => items,
                    _ => return Err(InputError(format!("{name}: the source's `records` selector found no list of records in the file"))),
                }
            }
        };
        Ok(RecordReader::Whole { records: list.iter().map(crate::value::from_json).collect::<Vec<_>>().into_iter() })
    }
}

/// A recorded response may be one pretty-printed object whose first line is
/// `{`; JSON lines have a complete object on the first line. Checked above;
/// here we only rule out a single-line file holding one response object with
/// a list inside, which is not a record stream.
fn whole_file_is_one_object(reader: &mut BufReader<File>) -> Result<bool, InputError> {
    let buf = reader.fill_buf().map_err(|e| InputError(e.to_string()))?;
    let text = String::from_utf8_lossy(buf);
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    Ok(lines == 1 && text.contains("[{"))
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
