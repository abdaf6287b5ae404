//! Access: how the run stages ask systems for data. The stages only speak
//! this trait, so the same compiled flow runs against recorded fixture files
//! (dry-run, tests, benchmark) or live HTTP connections.

mod fixtures;
mod http;

pub use fixtures::{FixtureAccess, read_records};
pub use http::{Asker, HttpAccess};

use minijinja::Value;

use crate::compile::CompiledTarget;
use crate::deliver::PlannedRequest;

/// Records of `entity` in `system` whose `field` equals one of `keys`.
#[derive(Debug, Clone)]
pub struct FindQuery<'a> {
    pub system: &'a str,
    pub entity: &'a str,
    pub field: &'a str,
    pub keys: &'a [String],
    pub select: &'a [String],
}

/// A question that got no answer, and whether asking again could help.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessError {
    pub message: String,
    pub kind: AccessFailure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessFailure {
    /// Not answered now (the system down, retries spent, no fixture file): the next run asks again.
    Unavailable,
    /// The system refused the question itself as malformed (HTTP 400, 414,
    /// 422): the query is the flow's (every literal in it is escaped by the
    /// engine), so asking again, for any record, gets the same answer.
    Malformed,
    /// The system refused a record the flow asked it to create (a look-up's `create`) for what
    /// the record holds: the record's problem, in the system's words.
    Refused,
}

impl AccessError {
    pub fn unavailable(message: impl Into<String>) -> AccessError {
        AccessError { message: message.into(), kind: AccessFailure::Unavailable }
    }
}

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A listing of a whole entity (a bulk endpoint), asked page by page.
#[derive(Debug, Clone)]
pub struct ListQuery<'a> {
    pub system: &'a str,
    pub entity: &'a str,
    /// The field answers are matched on (always listed).
    pub field: &'a str,
    pub select: &'a [String],
}

pub struct Page {
    pub records: Vec<Value>,
    /// Where the next page is; None after the last.
    pub next: Option<String>,
}

pub trait Access {
    fn find(&mut self, query: &FindQuery) -> Result<Vec<Value>, AccessError>;

    /// Several questions at once; an access that can ask concurrently does.
    fn find_many(&mut self, queries: &[FindQuery]) -> Vec<Result<Vec<Value>, AccessError>> {
        queries.iter().map(|q| self.find(q)).collect()
    }

    /// A page of the entity's bulk listing, or None when the system has no
    /// bulk listing of it. `cursor` is the `next` of the previous page.
    fn list_page(&mut self, _query: &ListQuery, _cursor: Option<&str>) -> Option<Result<Page, AccessError>> {
        None
    }

    /// Creates a record a look-up did not find (its `create`) and answers the record the system
    /// now has. `request` is planned for `target`, as a flow's delivery is.
    fn create(&mut self, target: &CompiledTarget, request: &PlannedRequest) -> Result<Value, AccessError>;
}

/// The record a system would answer to the creation of `request`'s record, without asking it:
/// the record sent, its key marked as assigned by the system (dry-runs and flow tests).
pub fn created_as_planned(target: &CompiledTarget, request: &PlannedRequest) -> Value {
    let record = request.body.as_ref().map(|b| crate::deliver::record_of(target, b)).unwrap_or_default();
    let mut json = crate::value::to_json(&record);
    if let (Some(k), serde_json::Value::Object(fields)) = (&target.key_field, &mut json) {
        fields.insert(k.clone(), serde_json::Value::String(format!("(new {k} from {})", target.system)));
    }
    crate::value::from_json(&json)
}
