//! Writing records into a delimited file.
//!
//! Every declared column must be a field of each record: a field missing is
//! an error for that record (nothing of it is written), since a flat file
//! agreed with a customer has no optional columns and a misspelt mapping key
//! would otherwise ship blank cells. A field that is `null` is an empty cell.
//! Fields that are not columns are left out.

use std::io::Write;

use serde_json::Value;

use super::{Csv, CsvWriteError, LineEnding};

impl Csv {
    /// A writer into `into`; the header line (when declared) is written first.
    pub fn writer<W: Write>(&self, into: W) -> Result<CsvWriter<'_, W>, CsvWriteError> {
        let terminator = match self.line_ending {
            LineEnding::Crlf => csv::Terminator::CRLF,
            LineEnding::Lf => csv::Terminator::Any(b'\n'),
        };
        let writer = csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .quote(self.quote)
            .double_quote(true)
            .quote_style(csv::QuoteStyle::Necessary)
            .terminator(terminator)
            .from_writer(into);
        let mut writer = CsvWriter { csv: self, writer, records: 0 };
        if self.header {
            writer.writer.write_record(self.column_names()).map_err(output_error)?;
        }
        Ok(writer)
    }

    /// `records` as the bytes of a whole file.
    pub fn to_bytes<'v>(&self, records: impl IntoIterator<Item = &'v Value>) -> Result<Vec<u8>, CsvWriteError> {
        let mut writer = self.writer(Vec::new())?;
        for record in records {
            writer.write(record)?;
        }
        writer.finish()
    }
}

/// Writes records as lines: see [`Csv::writer`].
pub struct CsvWriter<'c, W: Write> {
    csv: &'c Csv,
    writer: csv::Writer<W>,
    records: u64,
}

impl<W: Write> CsvWriter<'_, W> {
    /// Writes `record` (an object) as one line, or nothing of it when a cell cannot be made.
    pub fn write(&mut self, record: &Value) -> Result<(), CsvWriteError> {
        self.records += 1;
        let place = Some(self.records);
        let Value::Object(fields) = record else {
            return Err(CsvWriteError { record: place, column: None, message: format!("is not an object: {record}") });
        };
        let mut cells = Vec::with_capacity(self.csv.columns.len());
        for column in &self.csv.columns {
            let problem = |message: String| CsvWriteError { record: place, column: Some(column.name.clone()), message };
            let value = fields.get(&column.name).ok_or_else(|| problem("missing (a column is never left out; null writes an empty cell)".into()))?;
            cells.push(column.kind.write(value).map_err(problem)?);
        }
        self.writer.write_record(&cells).map_err(output_error)
    }

    /// Flushes the last lines and hands the output back.
    pub fn finish(self) -> Result<W, CsvWriteError> {
        self.writer.into_inner().map_err(|error| CsvWriteError { record: None, column: None, message: format!("cannot write: {}", error.error()) })
    }
}

fn output_error(error: csv::Error) -> CsvWriteError {
    CsvWriteError { record: None, column: None, message: format!("cannot write: {error}") }
}
