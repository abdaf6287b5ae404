use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::Field;

/// A flow file: where records come from, how each target field is computed,
/// which look-ups must succeed, how duplicates are found, where the record goes
/// and what is written back.
///
/// A customer flow may `extends` a default flow and override any part; only
/// the merged flow needs to be complete.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// The flow's name (unique within a project).
    pub flow: Option<String>,
    /// What the flow does, for people.
    pub description: Option<String>,
    /// A flow file (relative to this one) whose definition this file adapts.
    pub extends: Option<String>,
    /// Dotted paths removed from the extended flow, e.g. `mapping.Description` or `rules.positive_quantity`.
    #[serde(default)]
    pub remove: Vec<String>,
    pub source: Option<Source>,
    /// Per-customer values: warehouse IDs, default journal, tables (VAT rate → VAT code) …
    #[serde(default)]
    pub settings: IndexMap<String, serde_json::Value>,
    /// Named checks against the target system; a missing required key blocks the record.
    #[serde(default)]
    pub lookups: IndexMap<String, Lookup>,
    /// The idempotency check: is this record already in the target?
    pub exists: Option<Exists>,
    /// Target field → how it is computed.
    #[serde(default)]
    pub mapping: IndexMap<String, Field>,
    /// Named validations; a failing rule blocks the record with its message.
    #[serde(default)]
    pub rules: IndexMap<String, Rule>,
    pub target: Option<Target>,
    /// What is written back to the source after delivery, a block, or a skip.
    pub after: Option<After>,
    /// When `flowmap serve` runs the flow by itself.
    pub schedule: Option<Schedule>,
    /// A webhook topic that starts the flow for the one record it names (`flowmap serve`).
    pub webhook: Option<WebhookTrigger>,
}

/// A cron schedule, read in a time zone.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Cron pattern: 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first),
    /// e.g. `*/15 7-19 * * 1-5`.
    pub cron: String,
    /// IANA time zone the pattern is read in, e.g. `Europe/Amsterdam` (default `UTC`).
    pub timezone: Option<String>,
}

/// Events of a system that start the flow: each names one record of the source by its key.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookTrigger {
    /// The system sending the events (the flow's source system).
    pub system: String,
    /// The topic, e.g. Exact Online's `SalesOrders`.
    pub topic: String,
}

/// Where the records come from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A system declared under `mappings/systems/`.
    pub system: String,
    /// The list endpoint, e.g. `/orders`.
    pub get: String,
    /// The entity of the source system's catalogue the records are, when `get` does not name it
    /// (default: the entity `get` names, `/orders` → `orders`). Paths into the record are checked
    /// against its fields.
    pub entity: Option<String>,
    /// Query parameters sent with the request, e.g. `{ status: Invoicing }`.
    #[serde(default)]
    pub query: IndexMap<String, serde_json::Value>,
    /// JMESPath selecting the records in a response (default: the system's `records`).
    pub records: Option<String>,
    /// Expression giving the record's key (used in reports, the audit trail and tests).
    pub key: String,
    /// The endpoint of one record with `{key}` in it (filled in escaped), e.g. `/orders/{key}`:
    /// runs of chosen keys and webhooks fetch just those records.
    pub get_one: Option<String>,
    /// The shape of the record's keys, one of the source system's `key_shapes` (e.g. `guid`):
    /// keys given to a run, a replay, a preview or by a webhook that do not fit are refused.
    pub key_shape: Option<String>,
    /// Name the record is known by in expressions (default `record`).
    #[serde(rename = "as")]
    pub alias: Option<String>,
    /// For a system of a file transport: the names this flow takes from the system's inbox,
    /// a glob (default: the system's `files.pattern`), e.g. `855_*.x12`.
    pub pattern: Option<String>,
    /// Expression; records for which it is false are ignored (not blocked).
    #[serde(rename = "where")]
    pub filter: Option<String>,
    /// Expression giving the record's version, e.g. `po.Modified`: a record is delivered once
    /// per version. A version delivered before (the journal says) is ignored; a new one is
    /// delivered again, with its last delivery in scope as `previous` (`previous.version`,
    /// `previous.target_id`, `previous.run`; none when never delivered).
    pub version: Option<String>,
    /// Expression giving the business document the record is about, e.g. `po.OrderNumber` for a
    /// purchase order, `ack.BAK.BAK03` for its acknowledgement: `flowmap show` tells every flow's
    /// part of that document's story together.
    pub document: Option<String>,
    /// Only the records changed since the last run: the source field compared (e.g.
    /// `Modified`), kept per flow in the state file as a watermark that moves only when a
    /// run has settled every record it took.
    pub since: Option<Since>,
}

/// "What changed since the last run" (`source.since`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Since {
    /// The source field holding when a record last changed, e.g. Exact's `Modified`.
    pub field: String,
    /// Where the first run starts (an ISO date or datetime); default: every record.
    pub start: Option<String>,
}

/// A named look-up: for each record (or each element of `each`), a key is
/// matched against a field of a target entity and the selected value is
/// available to the mapping as `lookup.<name>`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    pub system: String,
    /// Entity path, e.g. `crm/Accounts`.
    pub entity: String,
    /// The entity field compared with the key, e.g. `Code`.
    #[serde(rename = "match")]
    pub match_field: String,
    /// Expression giving the key.
    pub key: String,
    /// Expression giving a list; one key per element (then `lookup.<name>[key]`).
    pub each: Option<String>,
    /// Name of the element of `each` (default `item`).
    #[serde(rename = "as")]
    pub alias: Option<String>,
    /// Field(s) taken from the found record (default: the whole record).
    pub select: Option<Selection>,
    /// Keys per request (default: the system's `batch`).
    pub batch: Option<u32>,
    /// When false, a missing key leaves `lookup.<name>` empty instead of blocking.
    #[serde(default = "yes")]
    pub required: bool,
    /// Expression used when the key is not found (e.g. `settings.default_debtor`).
    pub fallback: Option<String>,
    /// Block message, a template with `key` (and the record) in scope.
    pub missing: Option<String>,
    /// Fields of a record to create in the look-up's entity when the key is not found (a
    /// customer the target does not know yet becomes one), with `key` and the record in
    /// scope; the created record answers the look-up. Not with `fallback`.
    #[serde(default)]
    pub create: Option<IndexMap<String, Field>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Selection {
    One(String),
    Many(Vec<String>),
}

/// The idempotency check, asked before delivery.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exists {
    pub system: String,
    pub entity: String,
    /// The entity field compared with the key, e.g. `YourRef`.
    #[serde(rename = "match")]
    pub match_field: String,
    /// Expression giving the key; `out` is the mapped payload. An empty key skips the check.
    pub key: String,
    /// Fields shown from the found record (default: all).
    #[serde(default)]
    pub show: Vec<String>,
    /// When a record found counts as this one already there: a condition with
    /// `found` (the record found) and `key` in scope, e.g. `found.status == "Canceled"`
    /// for a status change already made. A record found for which it is false
    /// is treated as not found. Default: every record found counts.
    pub when: Option<String>,
    /// `skip` (default) stops the record; `update` sends it as an update of the found record.
    #[serde(default)]
    pub then: ExistsAction,
    /// Message for a skipped record, a template with `key` and `found` in scope.
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExistsAction {
    #[default]
    Skip,
    Update,
}

/// A named validation of the record.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Expression that must be true.
    pub check: String,
    /// Expression giving a list; the check runs for each element.
    pub each: Option<String>,
    /// Name of the element of `each` (default `item`).
    #[serde(rename = "as")]
    pub alias: Option<String>,
    /// Only check when this expression is true.
    pub when: Option<String>,
    /// Block message, a template with the record (and the element) in scope.
    pub message: String,
}

/// Where the mapped record goes.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub system: String,
    /// Entity path, e.g. `salesorder/SalesOrders`; mapping keys are checked against its fields.
    pub entity: String,
    /// HTTP method for a new record (default POST).
    pub method: Option<String>,
    /// Request path when it differs from the entity path.
    pub path: Option<String>,
    /// For a system of a file transport: the name of the file each record is written to, a
    /// template (e.g. `PO_{{ out.BEG.BEG03 }}.x12`; default `{entity}_{key}.{extension}`).
    /// With `group`, the name of each file, rendered once per file with the first record's
    /// names, `group` (the group's value) and `interchange` (its ISA13, X12) in scope.
    pub file: Option<String>,
    /// For a system of a file transport: an expression over the record (and `lookup`, `out`)
    /// whose value gathers records into one file, e.g. `out.N1_by_N101.SU.N104` (one file per
    /// supplier). The records of one batch with the same value go into ONE file (X12: one
    /// interchange, one group, one transaction set per record; JSON: an array; CSV: the lines).
    /// Without it, each record is its own file. Requires `file`.
    pub group: Option<String>,
}

/// Requests written back to the source system.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// After a successful delivery (`result` is the target's answer).
    pub sent: Option<Requests>,
    /// After a block (`reasons` is the list of block reasons).
    pub blocked: Option<Requests>,
    /// After a skip because the record already exists (`found` is the found record).
    pub skipped: Option<Requests>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Requests {
    One(Request),
    Many(Vec<Request>),
}

impl Requests {
    pub fn as_slice(&self) -> &[Request] {
        match self {
            Requests::One(r) => std::slice::from_ref(r),
            Requests::Many(v) => v,
        }
    }
}

/// One request: system, method, path and a body mapped like `mapping`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub system: String,
    pub method: String,
    /// Path; `{{ … }}` placeholders are templates.
    pub path: String,
    /// Entity whose fields the body is checked against (default: the path).
    pub entity: Option<String>,
    /// Only sent when this expression is true.
    pub when: Option<String>,
    #[serde(default)]
    pub body: indexmap::IndexMap<String, Field>,
    /// Sends the body as one part of a multipart/form-data request and a file as another
    /// (QuickBooks' `upload`: `file_metadata_01` and `file_content_01`).
    pub multipart: Option<Box<Multipart>>,
    /// An expression naming what this request sends, e.g. the picture's URL and name: once a
    /// request with that value was written back for the record, it is not sent again.
    pub once: Option<String>,
}

/// A multipart request: the JSON body as `json_part`, a file fetched from a source as `file_part`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Multipart {
    /// The name of the part that carries the JSON body.
    pub json_part: String,
    /// The name of the part that carries the file.
    pub file_part: String,
    pub file: FilePart,
}

/// Where a multipart request's file comes from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilePart {
    /// The connection the file is fetched on, with its credentials; only URLs on its own host are fetched.
    pub from: String,
    /// Expression: the file's URL.
    pub url: String,
    /// Expression: the file name sent with the file.
    pub name: String,
    /// Expression: the file's content type.
    pub content_type: String,
}
