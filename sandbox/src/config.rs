//! What a sandbox is started with: fixtures, generated data, ports, clock, limits and faults.

use std::path::PathBuf;

/// Everything [`crate::Sandbox::start`] needs. `Default` gives the values the real systems use.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Folder with `exact/*.json` and `lnb/{orders,invoices}.json`; `None` starts empty.
    pub fixtures: Option<PathBuf>,
    /// Extra generated records, added beside the fixtures (benchmarks).
    pub generate: Option<Generate>,
    /// Loopback port of the Exact Online emulator; 0 picks a free one.
    pub exact_port: u16,
    /// Loopback port of the Le New Black emulator; 0 picks a free one.
    pub lnb_port: u16,
    /// Loopback port of the Xero emulator (identity and accounting on the one port); 0 picks a free one.
    pub xero_port: u16,
    /// Loopback port of the QuickBooks Online emulator (OAuth and API on the one port); 0 picks a free one.
    pub qbo_port: u16,
    /// Sandbox seconds per real second (2.0 makes tokens expire twice as fast).
    pub clock_speed: f64,
    /// Exact's per-division API limits.
    pub limits: Limits,
    /// Xero's per-tenant limits (60 a minute, 5,000 a day); its 5 at once and 10,000 a minute
    /// per app are fixed.
    pub xero_limits: Limits,
    /// QuickBooks' per-company throttle: `minutely` requests a minute (Intuit: 500); its 10 in
    /// flight are fixed and `daily` is not used (Intuit has no daily limit).
    pub qbo_limits: Limits,
    /// Orders or invoices per LNB page.
    pub lnb_page_size: usize,
    /// The one OAuth client the Exact, Xero and QuickBooks emulators know (and LNB's API client).
    pub client_id: String,
    pub client_secret: String,
    /// The division the Exact user works in (`current/Me`); other divisions answer 403.
    pub division: i64,
    /// Injected failures; none by default.
    pub faults: Faults,
    /// The app's webhook secret: the key of every event's `HashCode` (HMAC-SHA256).
    pub webhook_secret: String,
    /// The TrueCommerce SFTP emulator and its partner simulator.
    pub truecommerce: TrueCommerceConfig,
    /// The QuickBooks app's webhook verifier token: the key of each delivery's `intuit-signature`.
    pub qbo_verifier_token: String,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            fixtures: None,
            generate: None,
            exact_port: 0,
            lnb_port: 0,
            xero_port: 0,
            qbo_port: 0,
            clock_speed: 1.0,
            limits: Limits::default(),
            xero_limits: Limits::default(),
            qbo_limits: Limits::qbo(),
            lnb_page_size: 500,
            client_id: "sandbox-client".into(),
            client_secret: "sandbox-secret".into(),
            division: 3_012_345,
            faults: Faults::default(),
            webhook_secret: "sandbox-webhook-secret".into(),
            truecommerce: TrueCommerceConfig::default(),
            qbo_verifier_token: "sandbox-verifier-token".into(),
        }
    }
}

impl SandboxConfig {
    /// The port configured for the HTTP emulator registered as `name`; 0 (any free port) for one
    /// without a setting of its own.
    pub fn port_of(&self, name: &str) -> u16 {
        match name {
            "exact" => self.exact_port,
            "lnb" => self.lnb_port,
            "xero" => self.xero_port,
            "qbo" => self.qbo_port,
            _ => 0,
        }
    }
}

/// The TrueCommerce emulator: an SFTP server over a folder, and a trading partner answering the
/// files that appear in its Import folder.
#[derive(Clone, Debug)]
pub struct TrueCommerceConfig {
    /// Loopback port of the SFTP server; 0 picks a free one.
    pub port: u16,
    /// The folder the SFTP server serves as `/`; `None`: a fresh folder under the system's temp
    /// folder, removed when the sandbox stops.
    pub root: Option<PathBuf>,
    /// The company folder under `IntegrationFTP/Export` and `IntegrationFTP/Import`.
    pub company: String,
    /// The one SFTP login.
    pub user: String,
    pub password: String,
    /// How often the partner looks at the Import folder, in milliseconds; 0: only when
    /// `POST /_sandbox/truecommerce/tick` (or `Sandbox::truecommerce_tick`) asks.
    pub poll_ms: u64,
    /// Largest file the server accepts (a write past it is refused).
    pub max_file_bytes: u64,
    /// SSH connections served at once; more are closed at once.
    pub max_sessions: usize,
    /// Seconds without any traffic before the server closes a connection.
    pub idle_timeout_seconds: u64,
}

impl Default for TrueCommerceConfig {
    fn default() -> Self {
        TrueCommerceConfig {
            port: 0,
            root: None,
            company: "Acme".into(),
            user: "ACME-EDI".into(),
            password: "sandbox-password".into(),
            poll_ms: 0,
            max_file_bytes: 16 * 1024 * 1024,
            max_sessions: 16,
            idle_timeout_seconds: 120,
        }
    }
}

/// How many records to generate; picks are deterministic from `seed`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Generate {
    pub customers: usize,
    pub items: usize,
    pub orders: usize,
    /// Lines per generated LNB order.
    pub lines: usize,
    pub seed: u64,
}

/// An emulator's API limits: Exact's per division, Xero's per tenant (defaults for both: 60 a
/// minute, 5,000 a day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    pub minutely: u32,
    pub daily: u32,
    /// Off: no limits and no `X-RateLimit-*` headers.
    pub enabled: bool,
}

impl Limits {
    /// Intuit's 500 requests a minute per company (blogs.intuit.com 2016-08-08).
    pub fn qbo() -> Limits {
        Limits { minutely: 500, daily: u32::MAX, enabled: true }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits { minutely: 60, daily: 5000, enabled: true }
    }
}

/// Failures injected into API requests (never into token or `/_sandbox/` calls).
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// Probability per API request, 0.0 ..= 1.0.
    pub rate: f64,
    /// One of these is picked for a request that gets a fault.
    pub kinds: Vec<FaultKind>,
    /// Seeds the generator, so a run with the same requests gets the same faults.
    pub seed: u64,
    /// How long a `Timeout` holds the answer.
    pub hang_ms: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults { rate: 0.0, kinds: Vec::new(), seed: 0, hang_ms: 60_000 }
    }
}

/// The failures the sandbox can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// 429 with `Retry-After`, as from an overloaded gateway.
    TooManyRequests,
    /// 503, the request was not processed.
    ServiceUnavailable,
    /// No answer for `hang_ms`; the request is not processed.
    Timeout,
    /// A write is processed, then the connection closes without an answer.
    DropAfterWrite,
}

impl FaultKind {
    /// The names used on the command line and in `POST /_sandbox/faults`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::TooManyRequests => "429",
            FaultKind::ServiceUnavailable => "503",
            FaultKind::Timeout => "timeout",
            FaultKind::DropAfterWrite => "drop_after_write",
        }
    }

    pub fn parse(name: &str) -> Option<FaultKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "429" | "too_many_requests" => Some(FaultKind::TooManyRequests),
            "503" | "service_unavailable" => Some(FaultKind::ServiceUnavailable),
            "timeout" | "hang" => Some(FaultKind::Timeout),
            "drop_after_write" | "drop" => Some(FaultKind::DropAfterWrite),
            _ => None,
        }
    }

    /// Parses a comma list such as `429,503,timeout`.
    pub fn parse_list(list: &str) -> Result<Vec<FaultKind>, String> {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| FaultKind::parse(s).ok_or_else(|| format!("unknown fault kind `{}` (use 429, 503, timeout, drop_after_write)", s.trim())))
            .collect()
    }
}
