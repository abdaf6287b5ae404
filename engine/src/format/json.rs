//! JSON as a file format: reading takes an array of records, JSON lines, or a
//! recorded answer unwrapped by the system's `records` selector (as `--input`
//! does); writing gives one record as an object, several as an array.

use std::io::BufRead;

use super::{Control, FileRecords, RecordFormat};
use crate::fetch::{InputError, RecordReader};

pub struct JsonFormat {
    /// Selects the records in a file that is one JSON document (default `@`).
    pub records: jmespath::Expression<'static>,
}

impl RecordFormat for JsonFormat {
    fn kind(&self) -> &'static str {
        "json"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    fn read<'a>(&'a self, input: Box<dyn BufRead + Send + 'a>, file: &str) -> Result<FileRecords<'a>, InputError> {
        // RecordReader owns what it reads; a borrowed reader is read through a pipe of its own.
        let mut bytes = Vec::new();
        let mut input = input;
        std::io::Read::read_to_end(&mut input, &mut bytes).map_err(|e| InputError(format!("cannot read {file}: {e}")))?;
        let reader = RecordReader::from_reader(Box::new(std::io::Cursor::new(bytes)), file.to_string(), &self.records)?;
        Ok(Box::new(reader))
    }

    fn write(&self, records: &[serde_json::Value], _: Option<&super::x12::EnvelopeConfig>, _: Control) -> Result<Vec<u8>, super::WriteError> {
        let doc = match records {
            [one] => serde_json::to_vec_pretty(one),
            many => serde_json::to_vec_pretty(many),
        };
        doc.map(|mut bytes| {
            bytes.push(b'\n');
            bytes
        })
        .map_err(|e| super::WriteError::Record(e.to_string()))
    }
}
