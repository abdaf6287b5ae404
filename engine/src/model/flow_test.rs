use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// Flow tests (`<name>.test.yaml` beside `<name>.flow.yaml`): records in,
/// the expected payload or block reasons out. Run with `flowmap test`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The flow under test, relative to this file.
    pub flow: String,
    /// Fixture folder answering look-ups and existence checks (default: the project's `fixtures/`).
    pub fixtures: Option<String>,
    /// Settings overriding the flow's for every case.
    #[serde(default)]
    pub settings: IndexMap<String, serde_json::Value>,
    pub cases: Vec<TestCase>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    /// The source record, inline.
    pub record: Option<serde_json::Value>,
    /// A fixture file (relative to this file) to take the record from, by `key`.
    pub from: Option<String>,
    /// The source key of the record in `from`.
    pub key: Option<serde_json::Value>,
    /// Settings overriding the flow's for this case.
    #[serde(default)]
    pub settings: IndexMap<String, serde_json::Value>,
    /// The version of the record delivered before, as the journal would say it (flows with
    /// `source.version`): the same version is ignored, another is sent with `previous` set.
    pub previous: Option<String>,
    pub expect: Expectation,
}

/// Exactly one outcome is expected.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The exact payload sent to the target.
    pub ready: Option<serde_json::Value>,
    /// Every block reason, in order.
    pub blocked: Option<Vec<String>>,
    /// The skip message.
    pub skipped: Option<String>,
    /// A mistake in the flow, not in the record (a missing setting, a rule
    /// that reads only settings): the run stops with this error, nothing is
    /// written back. Its text; the place in the flow is not compared.
    pub configuration_error: Option<String>,
    /// The record is filtered out by the source's `where`.
    #[serde(default)]
    pub ignored: bool,
    /// Requests written back to the source (method, path and body), when checked.
    pub writes_back: Option<Vec<serde_json::Value>>,
}
