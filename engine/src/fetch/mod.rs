//! Fetch: the source records. From an input file (a JSON array, JSON lines,
//! or a recorded API response), or from the source system's fixture file
//! filtered by the flow's query, as a live fetch would be.

mod input;

pub use input::{InputError, RecordReader, not_json};

use std::path::Path;

use minijinja::Value;

use crate::access::{AccessError, FixtureAccess, read_records};
use crate::compile::CompiledFlow;
use crate::run::CallLog;

/// The source records a live run would fetch, answered from `fixtures/`.
/// Query parameters filter records on the field of the same name
/// (`status: Invoicing` keeps orders whose `status` is `Invoicing`).
pub fn from_fixtures(flow: &CompiledFlow, dir: &Path, calls: &mut CallLog) -> Result<(String, Vec<Value>), AccessError> {
    let file = FixtureAccess::file_of(dir, &flow.source.system, &flow.source.get);
    let records = read_records(&file, Some(&flow.source.records))?;
    calls.record(&flow.source.system, "GET", &flow.source.get, "fetch source", || source_request(flow));
    let kept = records.into_iter().filter(|r| flow.source.query_match(r) == Some(true)).collect();
    Ok((crate::diagnostic::display_path(&file), kept))
}

/// The source request as a live run sends it: path and query.
pub fn source_request(flow: &CompiledFlow) -> String {
    let query: Vec<String> = flow.source.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if query.is_empty() { flow.source.get.clone() } else { format!("{}?{}", flow.source.get, query.join("&")) }
}
