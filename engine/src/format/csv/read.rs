//! Reading a delimited file into records, one line at a time.

use std::io::BufRead;

use csv::ByteRecord;
use serde_json::{Map, Value};

use super::{Csv, CsvError};

impl Csv {
    /// The records of `input` (the file called `file` in messages), one at a
    /// time as the file is read: an object per line keyed by the declared
    /// columns, in their order. A bad line is one error naming its line (and
    /// column), and the lines after it carry on; a header that differs from
    /// the columns, or a file that cannot be read further, is the last item.
    /// Blank lines are skipped; a UTF-8 BOM, CRLF and LF are taken as they come.
    pub fn read<R: BufRead>(&self, file: &str, input: R) -> CsvReader<'_, R> {
        let reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .quote(self.quote)
            .has_headers(false)
            // Lines with another number of cells are ours to report, line by line.
            .flexible(true)
            .from_reader(input);
        CsvReader { csv: self, file: file.to_string(), reader, record: ByteRecord::new(), header_pending: self.header, first: true, done: false }
    }
}

/// The records of one file: see [`Csv::read`].
pub struct CsvReader<'c, R: BufRead> {
    csv: &'c Csv,
    file: String,
    reader: csv::Reader<R>,
    record: ByteRecord,
    header_pending: bool,
    /// Before the first line: a BOM the reader did not take off is taken off here.
    first: bool,
    done: bool,
}

impl<R: BufRead> Iterator for CsvReader<'_, R> {
    type Item = Result<Value, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => self.done = true,
                Ok(true) => {
                    let line = self.record.position().map_or(0, csv::Position::line);
                    let first = std::mem::take(&mut self.first);
                    let is_header = std::mem::take(&mut self.header_pending);
                    let cells = cells(&self.record, first);
                    if !is_header {
                        return Some(self.record_of(line, &cells));
                    }
                    if let Err(message) = self.check_header(&cells) {
                        self.done = true;
                        return Some(Err(self.error(line, None, message)));
                    }
                }
                Err(error) => {
                    self.done = true;
                    let line = error.position().map_or_else(|| self.reader.position().line(), csv::Position::line);
                    return Some(Err(self.error(line, None, format!("cannot be read further: {error}"))));
                }
            }
        }
        None
    }
}

impl<R: BufRead> CsvReader<'_, R> {
    fn check_header(&self, cells: &[&[u8]]) -> Result<(), String> {
        let declared: Vec<&str> = self.csv.column_names().collect();
        if cells.len() != declared.len() {
            return Err(format!(
                "the header row has {} cells, but {} columns are declared ({})",
                cells.len(),
                declared.len(),
                self.csv.names_joined()
            ));
        }
        for (index, (cell, name)) in cells.iter().zip(&declared).enumerate() {
            let found = String::from_utf8_lossy(cell);
            if found.trim() != *name {
                return Err(format!(
                    "the header row does not match the declared columns: cell {} is {found:?} where {name:?} is declared",
                    index + 1
                ));
            }
        }
        Ok(())
    }

    fn record_of(&self, line: u64, cells: &[&[u8]]) -> Result<Value, CsvError> {
        let columns = &self.csv.columns;
        if cells.len() != columns.len() {
            let message = format!("{} cells, but {} columns are declared ({})", cells.len(), columns.len(), self.csv.names_joined());
            return Err(self.error(line, None, message));
        }
        let mut record = Map::with_capacity(columns.len());
        for (column, cell) in columns.iter().zip(cells) {
            let text = std::str::from_utf8(cell)
                .map_err(|error| self.error(line, Some(&column.name), format!("not UTF-8 text (byte {} of the cell)", error.valid_up_to() + 1)))?;
            let value = column.kind.read(text).map_err(|message| self.error(line, Some(&column.name), message))?;
            record.insert(column.name.clone(), value);
        }
        Ok(Value::Object(record))
    }

    fn error(&self, line: u64, column: Option<&str>, message: String) -> CsvError {
        CsvError { file: self.file.clone(), line, column: column.map(str::to_string), message }
    }
}

/// The line's cells as bytes; a BOM before the first cell of the file removed
/// (the `csv` crate takes it off only when it arrives in one piece).
fn cells(record: &ByteRecord, first_line: bool) -> Vec<&[u8]> {
    record
        .iter()
        .enumerate()
        .map(|(index, cell)| if first_line && index == 0 { cell.strip_prefix(b"\xef\xbb\xbf").unwrap_or(cell) } else { cell })
        .collect()
}
