//! Delimited text (CSV) with a declared column list: the flat files agreed
//! per customer (TrueCommerce's customer integrations among them).
//!
//! The configuration ([`CsvFormat`], in system or flow YAML) is compiled once
//! ([`CsvFormat::compile`], every problem at once) into a [`Csv`], which reads
//! files into records ([`Csv::read`]: streaming, one error per bad line, the
//! others carry on) and writes records into files ([`Csv::writer`]).
//!
//! Quoting is RFC 4180's: a cell holding the delimiter, the quote character or
//! a line break is quoted, a quote inside it doubled. The `csv` crate does
//! the splitting: it is the ecosystem's reference reader (streaming, quoted
//! line breaks, a record's line number, the UTF-8 BOM), so this module keeps
//! only what is ours: columns, types and messages.

mod cell;
mod read;
mod write;

use schemars::JsonSchema;
use serde::Deserialize;

pub use read::CsvReader;
pub use write::CsvWriter;

/// A delimited text file: its columns and how cells are separated and quoted.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvFormat {
    /// The columns in the order they stand on a line: a name (a text column), or
    /// `{name, type, places, format}`. A record read has exactly these fields.
    pub columns: Vec<ColumnDef>,
    /// The one character between cells (`,` unless said; `;`, `|` and a tab are common).
    #[serde(default = "comma")]
    pub delimiter: char,
    /// Whether the first line names the columns. Reading checks it against
    /// `columns` (same names, same order) and refuses a file whose header differs;
    /// writing writes it.
    #[serde(default = "yes")]
    pub header: bool,
    /// The character that quotes a cell (`"` unless said).
    #[serde(default = "double_quote")]
    pub quote: char,
    /// The line ending written: `crlf` (RFC 4180, the default) or `lf`. Reading takes either.
    #[serde(default)]
    pub line_ending: LineEnding,
}

/// A column: its name alone (text), or with a type.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ColumnDef {
    /// A text column.
    Name(String),
    /// A column with a type.
    Typed(TypedColumn),
}

/// A column with a type.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypedColumn {
    /// The column's name: the record field, and the header cell.
    pub name: String,
    /// `text` (the default), `number`, `decimal` (with `places`) or `date` (with an optional `format`).
    #[serde(default, rename = "type")]
    pub kind: ColumnType,
    /// Decimal columns: at most this many digits after the point are read;
    /// exactly this many are written (12.5 → `12.50`). A value with more is an
    /// error, never rounded.
    #[serde(default)]
    pub places: Option<u8>,
    /// Date columns: the cell's form, in strftime notation (`%Y%m%d`, `%d/%m/%Y`);
    /// `%Y-%m-%d` unless said. A record holds the date as `YYYY-MM-DD`.
    #[serde(default)]
    pub format: Option<String>,
}

/// What a column holds. An empty cell of a typed column is `null`.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Text as it stands (not trimmed); an empty cell is `""`.
    #[default]
    Text,
    /// A number: sign, digits, an optional fraction (`-12.5`, `007`); read as a JSON number.
    Number,
    /// A number with at most `places` digits after the point; read as a JSON number with exactly `places`.
    Decimal,
    /// A date in the column's `format`; read as text `YYYY-MM-DD`.
    Date,
}

/// The line ending written.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LineEnding {
    #[default]
    Crlf,
    Lf,
}

fn comma() -> char {
    ','
}

fn yes() -> bool {
    true
}

fn double_quote() -> char {
    '"'
}

/// The largest `places` of a decimal column (rust_decimal's scale is 28; 18 is past any currency).
const MAX_PLACES: u8 = 18;

/// A problem in a [`CsvFormat`], at a key path (`columns[2].places`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub at: String,
    pub message: String,
}

/// A [`CsvFormat`] checked and ready: compiled once, used for every file.
#[derive(Debug, Clone)]
pub struct Csv {
    columns: Vec<Column>,
    delimiter: u8,
    quote: u8,
    header: bool,
    line_ending: LineEnding,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: cell::CellKind,
}

impl CsvFormat {
    /// Checks the configuration: every problem at once.
    pub fn compile(&self) -> Result<Csv, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut problem = |at: String, message: String| problems.push(ConfigProblem { at, message });
        let delimiter = single_byte("delimiter", self.delimiter, &mut problem);
        let quote = single_byte("quote", self.quote, &mut problem);
        if delimiter.is_some() && delimiter == quote {
            problem("quote".into(), format!("the quote character {:?} is also the delimiter", self.quote));
        }
        if self.columns.is_empty() {
            problem("columns".into(), "no columns are declared".into());
        }
        let mut columns: Vec<Column> = Vec::with_capacity(self.columns.len());
        for (index, def) in self.columns.iter().enumerate() {
            let at = format!("columns[{index}]");
            let Some(kind) = cell::CellKind::of(def, &at, &mut problem) else { continue };
            let name = def.name();
            if name.is_empty() {
                problem(at, "a column's name is empty".into());
            } else if columns.iter().any(|column| column.name == name) {
                problem(at, format!("column {name:?} is declared twice"));
            } else {
                columns.push(Column { name: name.to_string(), kind });
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Csv { columns, delimiter: delimiter.unwrap_or(b','), quote: quote.unwrap_or(b'"'), header: self.header, line_ending: self.line_ending })
    }
}

impl ColumnDef {
    fn name(&self) -> &str {
        match self {
            ColumnDef::Name(name) => name,
            ColumnDef::Typed(column) => &column.name,
        }
    }
}

/// `character` as the one byte the file holds: ASCII, and no line break.
fn single_byte(key: &str, character: char, problem: &mut impl FnMut(String, String)) -> Option<u8> {
    match u8::try_from(character) {
        Ok(byte) if byte.is_ascii() && byte != b'\r' && byte != b'\n' => Some(byte),
        _ => {
            problem(key.into(), format!("{character:?} cannot be the {key}: it must be one ASCII character other than a line break"));
            None
        }
    }
}

impl Csv {
    /// The declared column names, in file order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|column| column.name.as_str())
    }

    fn names_joined(&self) -> String {
        self.column_names().collect::<Vec<_>>().join(", ")
    }
}

/// A line of a file that could not be read into a record (or the file itself
/// when `line` is where reading stopped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub file: String,
    /// The line the record starts on (1-based).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "{}:{}: column {column}: {}", self.file, self.line, self.message),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.message),
        }
    }
}

impl std::error::Error for CsvError {}

/// A record that could not be written (nothing of it was), or the output failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvWriteError {
    /// The record's place among those written (1-based); `None` for the header or the output.
    pub record: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for CsvWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(record) = self.record {
            write!(f, "record {record}: ")?;
        }
        if let Some(column) = &self.column {
            write!(f, "column {column}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for CsvWriteError {}

#[cfg(test)]
mod tests;
