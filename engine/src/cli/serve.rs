//! `flowmap serve`: raw arguments → a resolved engine setup (project, flows,
//! connections, state, API token, webhook secrets), then the engine.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::Failure;
use super::live_setup::LiveOptions;
use crate::serve::{EngineClock, FlowSet, ServeOptions, ServeSetup, api_token, serve};

pub struct ServeArgs {
    pub listen: String,
    pub flows: Option<PathBuf>,
    pub log_format: LogFormat,
    pub clock_start: Option<String>,
    pub clock_speed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

pub fn run(root: Option<PathBuf>, live: &LiveOptions, args: ServeArgs) -> Result<ExitCode, Failure> {
    init_logs(args.log_format);
    let listen = args.listen.parse().map_err(|_| format!("--listen: `{}` is not an address such as 127.0.0.1:8787", args.listen))?;
    let clock_start = match &args.clock_start {
        Some(t) => Some(
            DateTime::parse_from_rfc3339(t)
                .map_err(|e| format!("--clock-start: `{t}` is not an RFC 3339 time such as 2026-01-05T08:59:58Z ({e})"))?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    let setup = live.open(root, args.flows.as_deref(), false)?;
    let root = setup.project.root.clone();
    let flows_dir = args.flows.clone().unwrap_or_else(|| root.join("mappings"));
    // A broken flow at start is shown like `flowmap check` shows it, and nothing starts.
    let set = FlowSet::load(&root, &flows_dir)
        .map_err(|found| Failure::Problems { found, then: Some("the flows do not load; nothing was started".into()) })?;
    let state_dir = live.state_path(&root).parent().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let (token, token_from) = api_token(&state_dir)?;
    tracing::info!(from = %token_from, "API token");
    let webhook_secrets = webhook_secrets(&setup);
    for secret in webhook_secrets.values() {
        crate::http::register_secret(secret);
    }
    crate::http::register_secret(&token);
    serve(
        ServeSetup {
            connections_file: live.connections_path(&root),
            root,
            set,
            registry: setup.registry,
            state: setup.state,
            token,
            webhook_secrets,
        },
        ServeOptions { listen, flows_dir: Some(flows_dir), clock: EngineClock::new(clock_start, args.clock_speed) },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Each system's webhook secret, read when the engine starts: the `webhook_secret` stored
/// (encrypted) for the connection named like the system by `flowmap connect NAME
/// --webhook-secret`. FLOWMAP_WEBHOOK_SECRET is Exact's, and wins over a stored one: it
/// was how Exact's secret was given before connections had their own.
fn webhook_secrets(setup: &super::live_setup::LiveSetup) -> HashMap<String, String> {
    let mut secrets = HashMap::new();
    for (name, system) in &setup.project.systems {
        if system.def.http.webhooks.is_none() || setup.registry.definition(name).is_none() {
            continue;
        }
        let stored =
            setup.vault.as_ref().map_err(Clone::clone).and_then(|vault| setup.state.secret(vault, name, "webhook_secret").map_err(|e| e.to_string()));
        match stored {
            Ok(Some(secret)) => {
                secrets.insert(name.clone(), secret);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(system = %name, error = %e, "cannot read the webhook secret; its webhooks are refused"),
        }
    }
    if let Some(exact) = std::env::var("FLOWMAP_WEBHOOK_SECRET").ok().filter(|s| !s.is_empty()) {
        secrets.insert("exact".to_string(), exact);
    }
    secrets
}

fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}
