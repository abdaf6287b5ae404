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
    /// How the system is reached: `http` (an API; the default), `sftp` (files on an SFTP
    /// server) or `folder` (files in a local folder or share). `base_url`, `auth`, `query`,
    /// `paging`, `records`, `page_size`, `update_*` and `http` are the http transport's keys;
    /// `files` is the file transports'.
    #[serde(default)]
    pub transport: Transport,
    /// Base URL of the API: `{host}` is the connection's host (from `regions` or its own `host`);
    /// other `{placeholders}` come from the connection or from `http.discover`. (http)
    pub base_url: Option<String>,
    /// The host when the system has a single one.
    #[serde(default)]
    pub host: Option<String>,
    /// Named hosts (e.g. Exact's regional instances); a connection picks one with `region`.
    #[serde(default)]
    pub regions: IndexMap<String, String>,
    /// Other hosts of the system, by name, used as `{host:NAME}` in its URLs (Xero signs in on
    /// `login.xero.com` and issues tokens on `identity.xero.com`). A connection with a `host` of
    /// its own (a sandbox) sends every URL there.
    #[serde(default)]
    pub hosts: IndexMap<String, String>,
    /// How requests are authenticated. (http)
    pub auth: Option<AuthDef>,
    /// How look-up and existence queries are written. (http)
    pub query: Option<QueryLanguage>,
    /// How list answers are paged. (http)
    pub paging: Option<PagingDef>,
    /// Rows per page.
    pub page_size: Option<u32>,
    /// Default number of keys per look-up request.
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// JMESPath selecting the records in a list response, e.g. `d.results || d`. (http)
    pub records: Option<String>,
    /// Where a file system's files are: folders, names, what becomes of a processed file. (sftp, folder)
    pub files: Option<FilesDef>,
    /// What a file system's files hold: `json` (default), `x12`, or `{ csv: { columns: [...] } }`. (sftp, folder)
    pub format: Option<crate::format::FormatDef>,
    /// Entity catalogue (fields per entity), relative to this file.
    pub catalogue: String,
    /// Method of a new record's write (default POST; Xero: PUT, which only creates, so a
    /// duplicate that slipped through cannot overwrite a record).
    #[serde(default = "default_create_method")]
    pub create_method: String,
    /// Path of a new record's write; `{entity}` is the entity, `{entity_lowercase}` the same in
    /// lower case (QuickBooks: `POST item`). Default `{entity}`.
    #[serde(default = "default_create_path")]
    pub create_path: String,
    /// What an update carries beyond the mapping (QuickBooks: the record's `Id` and `SyncToken`,
    /// `sparse: true`), and what to do when the record changed since it was read.
    #[serde(default)]
    pub update: Option<UpdateDef>,
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

/// How a system is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// An HTTP API.
    #[default]
    Http,
    /// Files on an SFTP server; the connection names the server and its pinned host key.
    Sftp,
    /// Files in a local folder (a share customers drop files on); the connection names the folder.
    Folder,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Sftp => "sftp",
            Transport::Folder => "folder",
        }
    }
}

/// Where a file system's files are.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesDef {
    /// The folder files are read from (the partner's outbox), e.g. `/out`.
    pub inbox: Option<String>,
    /// The folder files are written to (the partner's inbox), e.g. `/in`.
    pub outbox: Option<String>,
    /// Names taken from the inbox, a glob: `*` any run of characters, `?` one (default `*`).
    #[serde(default = "any_name")]
    pub pattern: String,
    /// What becomes of a file once every record in it is journaled.
    #[serde(default)]
    pub processed: Processed,
    /// X12: the names of the partner's functional acknowledgements (997) in the inbox, a glob.
    /// Every run of a flow that sends to the system takes them first and marks the groups they
    /// answer acknowledged or rejected (a 997 found in any other file is taken the same way).
    pub acknowledgements: Option<String>,
}

fn any_name() -> String {
    "*".into()
}

/// What becomes of a processed file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Processed {
    /// Moved into this folder (created when missing), e.g. `{ archive: /archive }`.
    Archive(String),
    /// Deleted.
    #[default]
    Delete,
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

fn default_create_method() -> String {
    "POST".into()
}

fn default_create_path() -> String {
    "{entity}".into()
}

/// What an update of an existing record carries, and how a stale one is sent again.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDef {
    /// Fields of the found record every update carries (QuickBooks: `Id`, `SyncToken`).
    #[serde(default)]
    pub carry: Vec<String>,
    /// Fields every update sends as given (QuickBooks: `sparse: true`, so fields the mapping
    /// leaves out keep their values).
    #[serde(default)]
    pub fields: IndexMap<String, serde_json::Value>,
    /// The record changed since it was read (QuickBooks 5010 "Stale Object Error"): read again.
    #[serde(default)]
    pub stale: Option<StaleDef>,
}

/// An update refused because the record changed meanwhile is sent once more, with the carried
/// fields of the record as it is now.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaleDef {
    /// Text of the refusal that says so (QuickBooks: `Stale Object Error`).
    pub says: String,
    /// Where the record is read again; `{entity}`, `{entity_lowercase}` and `{id}` are filled in.
    pub reread: String,
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

/// Paging of a system that has none (file systems).
static NO_PAGING: PagingDef = PagingDef::None {};

impl SystemDef {
    /// The look-up query language (file systems have none: plain parameters).
    pub fn query(&self) -> QueryLanguage {
        self.query.unwrap_or(QueryLanguage::Params)
    }

    pub fn paging(&self) -> &PagingDef {
        self.paging.as_ref().unwrap_or(&NO_PAGING)
    }

    /// The http transport's keys a file system must not have, and those an http system must.
    pub fn transport_problems(&self) -> Vec<(&'static str, bool)> {
        let keys = [
            ("base_url", self.base_url.is_some()),
            ("auth", self.auth.is_some()),
            ("query", self.query.is_some()),
            ("paging", self.paging.is_some()),
            ("records", self.records.is_some()),
        ];
        match self.transport {
            // (key, missing)
            Transport::Http => keys.iter().filter(|(_, given)| !given).map(|(k, _)| (*k, true)).collect(),
            _ => keys.iter().filter(|(_, given)| *given).map(|(k, _)| (*k, false)).collect(),
        }
    }
}
