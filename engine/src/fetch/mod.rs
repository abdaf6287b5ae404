//! Fetch: the source records, through the source port. A [`Source`] lists
//! the flow's records page by page (a run works on each page as it arrives,
//! so memory stays flat however many records the source has) and gives one
//! record by its key. Implementations: HTTP (`http.rs`), recorded fixtures
//! and input files for dry-runs and tests (`fixture.rs`); the journal's
//! stored records (`stored.rs`) for replays and records left in doubt.

mod changes;
mod files;
mod fixture;
mod http;
mod input;
mod since;
mod stored;
mod x12_intake;

pub use files::{FileJournal, FileSource};
pub use fixture::FixtureSource;
pub use http::{HttpSource, one_record};
pub use input::{InputError, RecordReader, not_json};
pub use since::{Newest, SinceAsk, odata_condition, since_ask, with_condition};
pub use stored::StoredPages;
pub use x12_intake::{Takes, X12Partner};

use minijinja::Value;

use crate::compile::CompiledFlow;
pub use crate::transport::files::Fut;

/// One page of source records, in the source's order. An item that could not
/// be read (a bad line of an input file, a bad transaction set of an X12
/// file) is an error in its place; the items around it go on.
pub struct SourcePage {
    pub items: Vec<Result<Value, InputError>>,
    /// The call that fetched the page, for a dry-run's call summary.
    pub call: Option<SourceCall>,
}

/// A call made (or, in a dry-run, that would be made) to fetch a page.
#[derive(Debug, Clone)]
pub struct SourceCall {
    pub system: String,
    pub method: String,
    pub path: String,
    /// The request as sent: path and query.
    pub example: String,
}

/// The source could not give its records: the run stops with this message,
/// and what it did not take waits for the next run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError(pub String);

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The pages of one listing, one after the other.
pub trait Pages: Send {
    /// The next page, or None after the last.
    fn next_page(&mut self) -> Fut<'_, Result<Option<SourcePage>, FetchError>>;
}

/// One record asked for by its key.
#[derive(Debug)]
pub enum One {
    Found(Value),
    /// The source does not give it, why (for the report), and whether asking again can help.
    NotHad(NotHad, String),
}

/// Why the source gave no record for a chosen key: whoever asked for it (the
/// inbox) decides by this whether to ask again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotHad {
    /// The source has no such record (404).
    Missing,
    /// The source refused the request for this key (400, 414, 422, …, or a URL
    /// that could not be made): the same key gets the same answer.
    Refused,
    /// Refused for now (401, 403, 408, 423, 425): rights or locks may change,
    /// so it is worth asking again later.
    Denied,
}

impl NotHad {
    /// What an HTTP refusal with this status means for the key.
    pub fn of_status(status: u16) -> NotHad {
        match status {
            404 | 410 => NotHad::Missing,
            401 | 403 | 408 | 423 | 425 | 429 => NotHad::Denied,
            _ => NotHad::Refused,
        }
    }
}

/// The source port.
pub trait Source: Sync {
    /// The flow's records, page by page.
    fn list(&self) -> Box<dyn Pages + '_>;

    /// One record by its key; None when the source has no way to give one
    /// record (then chosen keys are picked from the listing).
    fn get_one<'a>(&'a self, key: &'a str) -> Option<Fut<'a, Result<One, FetchError>>>;
}

/// The key of a source record, as the flow computes it (empty when it cannot).
pub fn key_of(flow: &CompiledFlow, settings: &Value, record: &Value) -> String {
    let mut scope = crate::expr::Scope::new();
    scope.push("settings", settings.clone());
    scope.push(flow.source.alias, record.clone());
    flow.source.key.eval(&scope).map(|k| crate::value::key_text(&k)).unwrap_or_default()
}

/// The source request as a live run sends it: path and query.
pub fn source_request(flow: &CompiledFlow) -> String {
    let query: Vec<String> = flow.source.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if query.is_empty() { flow.source.get.clone() } else { format!("{}?{}", flow.source.get, query.join("&")) }
}

/// The call summary's entry for fetching a page of the flow's source.
pub fn source_call(flow: &CompiledFlow) -> SourceCall {
    SourceCall { system: flow.source.system.clone(), method: "GET".into(), path: flow.source.get.clone(), example: source_request(flow) }
}
