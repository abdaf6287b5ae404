//! Formats: how a file's bytes become records (the source side) and records
//! become bytes (the target side). JSON is the HTTP systems' format and a file
//! format too; X12 and delimited text (CSV) are file formats. A system of a
//! file transport names its format in its YAML; it is compiled once, when
//! the project loads ([`compile`]).

pub mod csv;
mod json;
pub mod x12;

use std::io::BufRead;

use minijinja::Value;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::fetch::InputError;
pub use json::JsonFormat;

/// A system's format, as its YAML says it: `format: json`, `format: x12`, or
/// `format: { csv: { columns: [...] } }`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormatDef {
    /// JSON: an array of records, JSON lines, or one record per file.
    #[default]
    Json,
    /// ANSI X12 EDI: one record per transaction set, by the definitions under `mappings/x12/`.
    X12,
    /// Delimited text with a declared column list.
    Csv(csv::CsvFormat),
}

impl FormatDef {
    /// The usual ending of its files, for default file names.
    pub fn extension(&self) -> &'static str {
        match self {
            FormatDef::Json => "json",
            FormatDef::X12 => "x12",
            FormatDef::Csv(_) => "csv",
        }
    }
}

/// The records of one file, as it is read; a record that cannot be read is an error in its place.
pub type FileRecords<'a> = Box<dyn Iterator<Item = Result<Value, InputError>> + Send + 'a>;

/// What numbers a file's envelopes (X12: the interchange's ISA13 and the group's GS06).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    pub interchange: u32,
    pub group: u32,
}

/// A format, compiled.
pub trait RecordFormat: Send + Sync {
    /// `json`, `x12`, `csv`.
    fn kind(&self) -> &'static str;

    /// The usual ending of its files, for default file names.
    fn extension(&self) -> &'static str;

    /// Whether a file needs control numbers from the state store before it is written.
    fn numbered(&self) -> bool {
        false
    }

    /// The records of one file (`file` names it in errors), read as they come.
    fn read<'a>(&'a self, input: Box<dyn BufRead + Send + 'a>, file: &str) -> Result<FileRecords<'a>, InputError>;

    /// What a file received says of itself beyond its records: for X12 its interchanges,
    /// groups and sets with the errors found (to take an interchange once and answer each
    /// group with a 997). None for formats without envelopes.
    fn receive(&self, _input: Box<dyn BufRead + Send + '_>, _file: &str) -> Option<x12::FileReceipt> {
        None
    }

    /// The bytes of one file holding `records`; `envelope` says who sends it to
    /// whom (X12), `control` numbers it.
    fn write(&self, records: &[serde_json::Value], envelope: Option<&x12::EnvelopeConfig>, control: Control) -> Result<Vec<u8>, WriteError>;
}

/// Why records could not be written: the records' own values, or the configuration
/// (an X12 file without the connection's envelope), which is never a record's fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    Record(String),
    Configuration(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Record(m) | WriteError::Configuration(m) => f.write_str(m),
        }
    }
}

/// The CSV format over the compiled columns.
impl RecordFormat for csv::Csv {
    fn kind(&self) -> &'static str {
        "csv"
    }

    fn extension(&self) -> &'static str {
        "csv"
    }

    fn read<'a>(&'a self, input: Box<dyn BufRead + Send + 'a>, file: &str) -> Result<FileRecords<'a>, InputError> {
        Ok(Box::new(csv::Csv::read(self, file, input).map(|r| r.map(|v| crate::value::from_json(&v)).map_err(|e| InputError(e.to_string())))))
    }

    fn write(&self, records: &[serde_json::Value], _: Option<&x12::EnvelopeConfig>, _: Control) -> Result<Vec<u8>, WriteError> {
        self.to_bytes(records).map_err(|e| WriteError::Record(e.to_string()))
    }
}

/// A system's format, compiled once when the project loads (problems at their key), and
/// the catalogue entities it makes (X12: one per transaction set; none for the others).
pub fn compile(
    def: &crate::model::SystemDef,
    records: &jmespath::Expression<'static>,
    doc: &crate::load::Document,
    root: &std::path::Path,
) -> Result<(std::sync::Arc<dyn RecordFormat>, x12::Entities), Vec<crate::diagnostic::Diagnostic>> {
    use crate::diagnostic::Diagnostic;
    let none = x12::Entities::new;
    match def.format.clone().unwrap_or_default() {
        FormatDef::Json => Ok((std::sync::Arc::new(JsonFormat { records: records.clone() }), none())),
        FormatDef::Csv(csv) => csv.compile().map(|c| (std::sync::Arc::new(c) as std::sync::Arc<dyn RecordFormat>, none())).map_err(|problems| {
            problems
                .into_iter()
                .map(|p| {
                    let at = format!("/format/csv{}", if p.at.is_empty() { String::new() } else { format!("/{}", p.at.replace('.', "/")) });
                    Diagnostic::error(p.message).at(doc.spans.value_loc(&at).or_else(|| doc.spans.value_loc("/format")))
                })
                .collect()
        }),
        FormatDef::X12 => x12::format(root).map_err(|e| vec![Diagnostic::error(e).at(doc.spans.value_loc("/format"))]),
    }
}
