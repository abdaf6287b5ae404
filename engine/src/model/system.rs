use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::system_http::{AuthDef, HttpDef, PagingDef};

/// A system flowmap talks to, declared once in `mappings/systems/<name>.yaml`
/// and referenced by name from flows. Everything that is knowledge about the
/// system (hosts, paging, quirks) lives here rather than in Rust.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemDef {
    /// The name flows use, e.g. `exact`.
    pub system: String,
    /// Human name, e.g. `Exact Online`.
    pub title: String,
    /// Base URL of the API: `{host}` is the connection's host (from `regions` or its own `host`);
    /// other `{placeholders}` come from the connection or from `http.discover`.
    pub base_url: String,
    /// The host when the system has a single one.
    #[serde(default)]
    pub host: Option<String>,
    /// Named hosts (e.g. Exact's regional instances); a connection picks one with `region`.
    #[serde(default)]
    pub regions: IndexMap<String, String>,
    /// How requests are authenticated.
    pub auth: AuthDef,
    /// How look-up and existence queries are written.
    pub query: QueryLanguage,
    /// How list answers are paged.
    pub paging: PagingDef,
    /// Rows per page.
    pub page_size: Option<u32>,
    /// Default number of keys per look-up request.
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// JMESPath selecting the records in a list response, e.g. `d.results || d`.
    pub records: String,
    /// Entity catalogue (fields per entity), relative to this file.
    pub catalogue: String,
    /// Method of an update of an existing record (default PUT).
    #[serde(default = "default_update_method")]
    pub update_method: String,
    /// Path of an update; `{entity}` and `{id}` are filled in (default `{entity}/{id}`).
    #[serde(default = "default_update_path")]
    pub update_path: String,
    /// Headers, rate limits, error bodies, bulk listings.
    #[serde(default)]
    pub http: HttpDef,
    /// Filters defined as expressions over `value`, e.g. `exact_code: 'value | string | trim | lpad(18)'`.
    #[serde(default)]
    pub filters: IndexMap<String, String>,
    /// The shapes this system's record keys have, by name (e.g. `guid`). A flow's
    /// `source.key_shape` and the system's `http.webhooks.key_shape` name one; a key given
    /// to a run, a replay, a preview or by an event that does not fit is refused before
    /// anything is asked.
    #[serde(default)]
    pub key_shapes: IndexMap<String, KeyShapeDef>,
}

/// The shape of a kind of key, as a regular expression the whole key must match.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyShapeDef {
    /// A regular expression (Rust `regex` syntax) the whole key must match, e.g.
    /// `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`.
    pub pattern: String,
    /// What a fitting key is, for the message that refuses one, e.g. `a GUID such as c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10`.
    pub description: String,
}

fn default_update_method() -> String {
    "PUT".into()
}

fn default_update_path() -> String {
    "{entity}/{id}".into()
}

fn default_batch() -> u32 {
    25
}

/// The query language a system's look-ups are written in. These are protocols,
/// so their escaping rules live in Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueryLanguage {
    /// OData v2/v3: `$filter=Code eq 'A' or Code eq 'B'` with `'` doubled.
    Odata,
    /// Xero's `where` parameter: `ContactNumber=="A" OR ContactNumber=="B"`.
    XeroWhere,
    /// QuickBooks' SQL-like query: `select * from Item where Sku in ('A','B')`.
    QboSql,
    /// Plain query parameters, one request per key: `?reference=A`.
    Params,
}
