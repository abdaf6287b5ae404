//! `flowmap-sandbox`: runs the Exact Online and Le New Black emulators until SIGINT or SIGTERM.
//! Prints `exact URL`, `lnb URL` and `ready` on stdout once both ports listen.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use flowmap_sandbox::{FaultKind, Faults, Generate, Limits, Sandbox, SandboxConfig};

#[derive(Parser)]
#[command(version, about = "Local emulators of Exact Online and Le New Black for trying flowmap flows end to end")]
struct Cli {
    /// Fixture folder (exact/*.json, lnb/*.json); default ./fixtures when it exists.
    #[arg(long)]
    fixtures: Option<PathBuf>,
    #[arg(long, default_value_t = 18080)]
    exact_port: u16,
    #[arg(long, default_value_t = 18081)]
    lnb_port: u16,
    /// Sandbox seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    clock_speed: f64,
    #[arg(long, default_value_t = 60)]
    minutely_limit: u32,
    #[arg(long, default_value_t = 5000)]
    daily_limit: u32,
    /// No Exact rate limits and no X-RateLimit-* headers.
    #[arg(long)]
    no_rate_limits: bool,
    #[arg(long, default_value_t = 500)]
    lnb_page_size: usize,
    /// Generated data besides the fixtures, e.g. customers=2000,items=5000,orders=1000,lines=5.
    #[arg(long, value_parser = parse_generate)]
    generate: Option<Generate>,
    /// Seed of generated data and of fault draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Probability (0–1) that an API request gets one of --faults.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Fault kinds: 429, 503, timeout, drop_after_write.
    #[arg(long, value_parser = FaultKind::parse_list, default_value = "")]
    faults: std::vec::Vec<FaultKind>,
    /// How long a timeout fault holds the answer, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    fault_hang_ms: u64,
    #[arg(long, default_value = "sandbox-client")]
    client_id: String,
    #[arg(long, default_value = "sandbox-secret")]
    client_secret: String,
    /// The Exact division of the sandbox user.
    #[arg(long, default_value_t = 3_012_345)]
    division: i64,
    /// The app's webhook secret, the key of each event's HashCode (HMAC-SHA256).
    #[arg(long, default_value = "sandbox-webhook-secret")]
    webhook_secret: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !(0.0..=1.0).contains(&cli.fault_rate) {
        eprintln!("error: --fault-rate must be between 0 and 1");
        return ExitCode::from(2);
    }
    if cli.fault_rate > 0.0 && cli.faults.is_empty() {
        eprintln!("error: --fault-rate needs --faults (429, 503, timeout, drop_after_write)");
        return ExitCode::from(2);
    }
    let fixtures = cli.fixtures.or_else(|| Some(PathBuf::from("fixtures")).filter(|p| p.is_dir()));
    let config = SandboxConfig {
        fixtures,
        generate: cli.generate.map(|g| Generate { seed: cli.seed, ..g }),
        exact_port: cli.exact_port,
        lnb_port: cli.lnb_port,
        clock_speed: cli.clock_speed,
        limits: Limits { minutely: cli.minutely_limit, daily: cli.daily_limit, enabled: !cli.no_rate_limits },
        lnb_page_size: cli.lnb_page_size,
        client_id: cli.client_id,
        client_secret: cli.client_secret,
        division: cli.division,
        faults: Faults { rate: cli.fault_rate, kinds: cli.faults, seed: cli.seed, hang_ms: cli.fault_hang_ms },
        webhook_secret: cli.webhook_secret,
    };
    let sandbox = match Sandbox::start(config) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let announced = writeln!(out, "exact {}\nlnb {}\nready", sandbox.exact_url(), sandbox.lnb_url()).and_then(|_| out.flush());
    drop(out);
    if let Err(e) = announced {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    match wait_for_signal() {
        Ok(()) => {
            sandbox.shutdown();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
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

fn wait_for_signal() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                result = tokio::signal::ctrl_c() => result,
                _ = terminate.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await
        }
    })
}
