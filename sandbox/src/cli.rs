//! The sandbox's command-line options and its run in the foreground: what `flowmap sandbox` takes
//! and does, kept here beside the configuration the options describe.

use std::io::Write;
use std::path::PathBuf;

use crate::{FaultKind, Faults, Generate, Limits, Sandbox, SandboxConfig, TrueCommerceConfig};

/// Options of a sandbox run in the foreground.
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Fixture folder (exact/*.json, lnb/*.json); default: the project's fixtures/ when it exists.
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Loopback port of the Exact Online emulator (0: any free port).
    #[arg(long, default_value_t = 18080)]
    pub exact_port: u16,
    /// Loopback port of the Le New Black emulator (0: any free port).
    #[arg(long, default_value_t = 18081)]
    pub lnb_port: u16,
    /// Loopback port of the Xero emulator, identity and API (0: any free port).
    #[arg(long, default_value_t = 18083)]
    pub xero_port: u16,
    /// Loopback port of the QuickBooks Online emulator, OAuth and API (0: any free port).
    #[arg(long, default_value_t = 18084)]
    pub qbo_port: u16,
    /// Sandbox seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    pub clock_speed: f64,
    /// Exact API calls per division and clock minute.
    #[arg(long, default_value_t = 60)]
    pub minutely_limit: u32,
    /// Exact API calls per division and UTC day.
    #[arg(long, default_value_t = 5000)]
    pub daily_limit: u32,
    /// No Exact, Xero or QuickBooks rate limits, and no rate-limit headers.
    #[arg(long)]
    pub no_rate_limits: bool,
    /// Orders or invoices per LNB page.
    #[arg(long, default_value_t = 500)]
    pub lnb_page_size: usize,
    /// Generated data besides the fixtures, e.g. customers=2000,items=5000,orders=1000,lines=5.
    #[arg(long, value_parser = parse_generate)]
    pub generate: Option<Generate>,
    /// Seed of generated data and of fault draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Probability (0–1) that an API request gets one of --faults.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Fault kinds: 429, 503, timeout, drop_after_write.
    #[arg(long, value_parser = FaultKind::parse_list, default_value = "")]
    pub faults: std::vec::Vec<FaultKind>,
    /// How long a timeout fault holds the answer, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub fault_hang_ms: u64,
    /// The one OAuth client the Exact emulator knows.
    #[arg(long, default_value = "sandbox-client")]
    pub client_id: String,
    /// Its secret.
    #[arg(long, default_value = "sandbox-secret")]
    pub client_secret: String,
    /// The Exact division of the sandbox user.
    #[arg(long, default_value_t = 3_012_345)]
    pub division: i64,
    /// The app's webhook secret, the key of each event's HashCode (HMAC-SHA256).
    #[arg(long, default_value = "sandbox-webhook-secret")]
    pub webhook_secret: String,
    /// The QuickBooks app's webhook verifier token, the key of each event's intuit-signature (HMAC-SHA256).
    #[arg(long, default_value = "sandbox-verifier-token")]
    pub qbo_verifier_token: String,
    /// The TrueCommerce emulator's options (boxed: they would make every command of the engine's
    /// command line as large as this one).
    #[command(flatten)]
    pub truecommerce: Box<TrueCommerceArgs>,
}

/// Options of the TrueCommerce SFTP emulator and its partner.
#[derive(clap::Args, Debug, Clone)]
pub struct TrueCommerceArgs {
    /// Loopback port of the TrueCommerce SFTP server (0: any free port).
    #[arg(long, default_value_t = 18082)]
    pub truecommerce_port: u16,
    /// Folder the TrueCommerce SFTP server serves as / (default: a new temporary folder).
    #[arg(long)]
    pub truecommerce_root: Option<PathBuf>,
    /// Company folder under IntegrationFTP/Export and IntegrationFTP/Import.
    #[arg(long, default_value = "Acme")]
    pub truecommerce_company: String,
    /// The SFTP user.
    #[arg(long, default_value = "ACME-EDI")]
    pub truecommerce_user: String,
    /// Its password.
    #[arg(long, default_value = "sandbox-password")]
    pub truecommerce_password: String,
    /// How often the partner answers what is in Import, in milliseconds (0: only on POST /_sandbox/truecommerce/tick).
    #[arg(long, default_value_t = 2000)]
    pub truecommerce_poll_ms: u64,
    /// Largest file the SFTP server accepts, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub truecommerce_max_file_bytes: u64,
    /// SSH connections served at once.
    #[arg(long, default_value_t = 16)]
    pub truecommerce_max_sessions: usize,
    /// Seconds without traffic before the SFTP server closes a connection.
    #[arg(long, default_value_t = 120)]
    pub truecommerce_idle_seconds: u64,
}

impl SandboxArgs {
    /// The configuration these options describe; `default_fixtures` is used when `--fixtures` is not given.
    pub fn config(self, default_fixtures: Option<PathBuf>) -> Result<SandboxConfig, String> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err("--fault-rate must be between 0 and 1".into());
        }
        if self.fault_rate > 0.0 && self.faults.is_empty() {
            return Err("--fault-rate needs --faults (429, 503, timeout, drop_after_write)".into());
        }
        Ok(SandboxConfig {
            fixtures: self.fixtures.or(default_fixtures),
            generate: self.generate.map(|g| Generate { seed: self.seed, ..g }),
            exact_port: self.exact_port,
            lnb_port: self.lnb_port,
            xero_port: self.xero_port,
            qbo_port: self.qbo_port,
            clock_speed: self.clock_speed,
            limits: Limits { minutely: self.minutely_limit, daily: self.daily_limit, enabled: !self.no_rate_limits },
            xero_limits: Limits { enabled: !self.no_rate_limits, ..Limits::default() },
            qbo_limits: Limits { enabled: !self.no_rate_limits, ..Limits::qbo() },
            lnb_page_size: self.lnb_page_size,
            client_id: self.client_id,
            client_secret: self.client_secret,
            division: self.division,
            faults: Faults { rate: self.fault_rate, kinds: self.faults, seed: self.seed, hang_ms: self.fault_hang_ms },
            webhook_secret: self.webhook_secret,
            truecommerce: self.truecommerce.config(),
            qbo_verifier_token: self.qbo_verifier_token,
        })
    }
}

impl TrueCommerceArgs {
    fn config(self) -> TrueCommerceConfig {
        TrueCommerceConfig {
            port: self.truecommerce_port,
            root: self.truecommerce_root,
            company: self.truecommerce_company,
            user: self.truecommerce_user,
            password: self.truecommerce_password,
            poll_ms: self.truecommerce_poll_ms,
            max_file_bytes: self.truecommerce_max_file_bytes,
            max_sessions: self.truecommerce_max_sessions,
            idle_timeout_seconds: self.truecommerce_idle_seconds,
        }
    }
}

/// Prints `exact URL`, `lnb URL`, `xero URL`, `qbo URL`, `truecommerce sftp://USER@ADDRESS host_key SHA256:… root FOLDER`
/// and `ready` on stdout (every port listens by then), serves until SIGINT or SIGTERM, then stops
/// the sandbox.
pub fn serve_in_foreground(sandbox: Sandbox) -> std::io::Result<()> {
    // The signal handlers are in place before `ready` is printed: a SIGTERM sent the moment
    // `ready` is read stops the sandbox cleanly, never by the signal's default action.
    let signals = Signals::install()?;
    let mut out = std::io::stdout().lock();
    for name in sandbox.emulators() {
        writeln!(out, "{name} {}", sandbox.url(name).unwrap_or_default())?;
    }
    writeln!(
        out,
        "truecommerce sftp://{}@{} host_key {} root {}\nready",
        sandbox.truecommerce_user(),
        sandbox.truecommerce_address(),
        sandbox.truecommerce_host_key(),
        sandbox.truecommerce_root().display()
    )?;
    out.flush()?;
    drop(out);
    signals.wait()?;
    sandbox.shutdown();
    Ok(())
}

/// `customers=2000,items=5000,orders=1000,lines=5`; left-out counts are 0 (lines: 5).
fn parse_generate(text: &str) -> Result<Generate, String> {
    let mut plan = Generate { lines: 5, ..Generate::default() };
    for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (key, value) = pair.split_once('=').ok_or_else(|| format!("`{pair}`: write name=count"))?;
        let count: usize = value.trim().parse().map_err(|_| format!("`{pair}`: the count must be a whole number"))?;
        match key.trim() {
            "customers" => plan.customers = count,
            "items" => plan.items = count,
            "orders" => plan.orders = count,
            "lines" => plan.lines = count,
            other => return Err(format!("unknown `{other}` (use customers, items, orders, lines)")),
        }
    }
    Ok(plan)
}

/// SIGINT and SIGTERM, listened for from the moment they are installed.
struct Signals {
    runtime: tokio::runtime::Runtime,
    #[cfg(unix)]
    listening: (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        #[cfg(unix)]
        let listening = {
            let _entered = runtime.enter();
            use tokio::signal::unix::{SignalKind, signal};
            (signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?)
        };
        Ok(Signals {
            runtime,
            #[cfg(unix)]
            listening,
        })
    }

    fn wait(self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = self.listening;
            self.runtime.block_on(async {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            });
            Ok(())
        }
        #[cfg(not(unix))]
        {
            self.runtime.block_on(tokio::signal::ctrl_c())
        }
    }
}
