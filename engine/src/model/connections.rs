use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `connections.yaml`: which account of which system a flow talks to. Only
/// addresses and tuning live here; secrets are stored encrypted by `flowmap connect`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsFile {
    /// Connections by name; a flow's `system: exact` uses the connection named `exact`.
    pub connections: IndexMap<String, ConnectionDef>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionDef {
    /// The system (default: the connection's name).
    #[serde(default)]
    pub system: Option<String>,
    /// One of the system's `regions` (Exact: nl, be, uk, de, fr, es, us).
    #[serde(default)]
    pub region: Option<String>,
    /// A host of its own (scheme and authority), e.g. a sandbox on `http://127.0.0.1:18080`.
    #[serde(default)]
    pub host: Option<String>,
    /// Values of the base URL's placeholders (Exact: `division`); otherwise found via the system's `discover`.
    #[serde(default)]
    pub params: IndexMap<String, ParamValue>,
    /// Where the consent page sends the user back (`flowmap connect` listens there); a loopback address.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Requests in flight at once on this connection (default 4).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Seconds before a request without an answer is given up (default 30).
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
    /// Retries of a failed call (429, 5xx, timeouts of reads; default 5).
    #[serde(default)]
    pub retries: Option<u32>,
    /// An SFTP server (systems of the sftp transport): host, port, user and the pinned host key.
    #[serde(default)]
    pub sftp: Option<crate::transport::sftp::SftpSettings>,
    /// A local folder (systems of the folder transport), relative to the project folder.
    #[serde(default)]
    pub folder: Option<String>,
    /// Who sends X12 interchanges to whom (systems whose format is x12): ids, qualifiers, usage, separators.
    #[serde(default)]
    pub x12: Option<crate::format::x12::EnvelopeConfig>,
    /// How many times faster the server's clock runs than real time. Only sandboxes run fast
    /// clocks (to try hours of rate limits and token expiry in seconds); default 1.
    #[serde(default)]
    pub clock_speed: Option<f64>,
}

/// A placeholder value: text or a number.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ParamValue {
    Text(String),
    Number(i64),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Text(t) => f.write_str(t),
            ParamValue::Number(n) => write!(f, "{n}"),
        }
    }
}
