//! The `flowmap` command line: raw arguments (clap) are resolved into a
//! project and a list of files, then handed to one command module each.

mod bench;
mod check;
mod connect;
mod dry_run;
mod journal;
mod live_setup;
mod output;
mod paths;
mod run;
mod sandbox;
mod schema;
mod serve;
mod subscribe;
mod test;

pub use live_setup::LiveOptions;
pub use output::{Failure, Out, OutputError};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "flowmap", version, about = "Declarative integration engine for Exact Online and partner systems")]
pub struct Args {
    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// The project folder (the one holding mappings/); found from the files given when omitted.
    #[arg(long, global = true)]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveOptions,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check flow files: YAML, schema, expressions, references, target fields.
    Check {
        /// Flow files or folders (default: every *.flow.yaml under mappings/).
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run a flow over records without touching any system; shows every payload and block reason.
    DryRun {
        /// The flow file.
        flow: PathBuf,
        /// Records: a JSON array, JSON lines, or a recorded API response (default: the source's fixture file).
        #[arg(long)]
        input: Option<PathBuf>,
        /// Folder of recorded answers for look-ups and existence checks (default: the project's fixtures/).
        #[arg(long)]
        fixtures: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run flow tests (*.test.yaml) and show a diff for each failure.
    Test {
        /// Test files or folders (default: every *.test.yaml under mappings/).
        paths: Vec<PathBuf>,
    },
    /// Write the JSON Schemas of flow, test, system and catalogue files to schemas/.
    Schema {
        /// Only check that the files in schemas/ are up to date.
        #[arg(long)]
        check: bool,
    },
    /// Store a connection's credentials (encrypted); for OAuth, sign in and consent.
    Connect {
        /// The connection's name in the connections file (e.g. exact, lnb).
        name: String,
        /// The OAuth client id (else $FLOWMAP_CLIENT_ID, else asked).
        #[arg(long)]
        client_id: Option<String>,
    },
    /// Run a flow against the live systems: fetch, look up, map, deliver, write back, journal.
    Run {
        /// The flow file.
        flow: PathBuf,
        /// Only this record, fetched from the source by its key (repeatable).
        #[arg(long = "key")]
        keys: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run records again from the journal: chosen keys, or every failed, blocked or unknown one.
    Replay {
        /// The flow file.
        flow: PathBuf,
        /// A record key (repeatable).
        #[arg(long = "key", required_unless_present = "failed")]
        keys: Vec<String>,
        /// Every record whose last status is failed, blocked or unknown.
        #[arg(long, conflicts_with = "keys")]
        failed: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List the connections and what is stored for each; `--check` calls each one.
    Connections {
        #[arg(long)]
        check: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Serve the engine: every flow on its schedule, an HTTP API to list, trigger and replay,
    /// Exact Online webhooks, hot reload of the flow files, metrics.
    Serve {
        /// Address of the HTTP API (127.0.0.1 unless you mean otherwise).
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: String,
        /// The folder of flow files (default: mappings/).
        #[arg(long)]
        flows: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = serve::LogFormat::Text)]
        log_format: serve::LogFormat,
        /// Start the schedule clock at this moment (RFC 3339), to try schedules.
        #[arg(long, hide = true)]
        clock_start: Option<String>,
        /// Run the schedule clock this many times faster than real time.
        #[arg(long, hide = true, default_value_t = 1.0)]
        clock_speed: f64,
    },
    /// Subscribe the flow's webhook topic at its system, calling back the serving engine.
    Subscribe {
        /// The flow file (it names the system and topic in `webhook`).
        flow: PathBuf,
        /// The engine's webhook URL, e.g. https://flowmap.example.com/webhooks/exact.
        #[arg(long)]
        callback: String,
    },
    /// List runs, newest first.
    Runs {
        /// Only runs of this flow (its name).
        flow: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// A record's whole history: every event, payload, answer and reason.
    Show {
        /// The flow's name or file.
        flow: String,
        /// The record's key.
        key: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Measure dry-run throughput on a generated data set of LNB orders.
    Bench {
        /// Number of orders.
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        /// Lines per order.
        #[arg(long, default_value_t = 5)]
        lines: usize,
        /// Timed runs over the same data; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Also time jq doing the same mapping, when jq is installed.
        #[arg(long)]
        jq: bool,
        /// Where the generated files go (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Emulated Exact Online and Le New Black on loopback ports, for trying flows (see sandbox/README.md).
    Sandbox(flowmap_sandbox::cli::SandboxArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// One JSON object per line (dry-run only): streams, for large inputs.
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

pub fn main() -> ExitCode {
    let args = Args::parse();
    match args.color {
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
        ColorWhen::Auto => {}
    }
    let root = args.root.clone();
    let result = match args.command {
        Command::Check { paths, format } => check::run(root, paths, format),
        Command::DryRun { flow, input, fixtures, format } => dry_run::run(root, flow, input, fixtures, format),
        Command::Test { paths } => test::run(root, paths),
        Command::Schema { check } => schema::run(root, check),
        Command::Bench { orders, lines, runs, jq, dir } => bench::run(orders, lines, runs, jq, dir),
        Command::Connect { name, client_id } => connect::run(root, &args.live, name, client_id),
        Command::Run { flow, keys, format } => {
            let records = if keys.is_empty() { crate::run::Records::Fetch } else { crate::run::Records::Chosen(keys) };
            run::run(root, &args.live, flow, records, format != Format::Text)
        }
        Command::Replay { flow, keys, failed, format } => replay(root, &args.live, flow, keys, failed, format != Format::Text),
        Command::Connections { check, format } => journal::connections(root, &args.live, check, format != Format::Text),
        Command::Serve { listen, flows, log_format, clock_start, clock_speed } => {
            serve::run(root, &args.live, serve::ServeArgs { listen, flows, log_format, clock_start, clock_speed })
        }
        Command::Subscribe { flow, callback } => subscribe::run(root, &args.live, flow, callback),
        Command::Runs { flow, limit, format } => journal::runs(root, &args.live, flow, limit, format != Format::Text),
        Command::Show { flow, key, format } => journal::show(root, &args.live, flow, key, format != Format::Text),
        Command::Sandbox(sandbox_args) => sandbox::run(root, sandbox_args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            let (message, status) = failure.exit();
            if let Some(message) = message {
                let _ = std::io::Write::write_all(
                    &mut anstream::stderr(),
                    crate::diagnostic::render_text(&crate::diagnostic::Diagnostic::error(message)).as_bytes(),
                );
            }
            ExitCode::from(status)
        }
    }
}

/// `flowmap replay`: the chosen keys, or every record whose last status is failed, blocked or unknown.
fn replay(root: Option<PathBuf>, live: &LiveOptions, flow: PathBuf, keys: Vec<String>, failed: bool, json: bool) -> Result<ExitCode, Failure> {
    let keys = if failed {
        let name = journal::flow_name(root.clone(), &flow.to_string_lossy())?;
        let project_root = paths::project_root(root.clone(), Some(&flow))?;
        let state = flowmap_state::State::open(&live.state_path(&project_root)).map_err(|e| e.to_string())?;
        let rows = state.records(&name, &["failed", "blocked", "unknown"]).map_err(|e| e.to_string())?;
        if rows.is_empty() {
            let mut out = Out::text();
            writeln!(out, "no failed, blocked or unknown records in flow {name}")?;
            out.finish()?;
            return Ok(ExitCode::SUCCESS);
        }
        rows.into_iter().map(|r| r.key).collect()
    } else {
        keys
    };
    run::run(root, live, flow, crate::run::Records::Stored(keys), json)
}

/// Prints diagnostics to stderr as text.
fn print_diagnostics(diagnostics: &[crate::diagnostic::Diagnostic]) {
    use std::io::Write;
    let mut err = anstream::stderr();
    for d in diagnostics {
        let _ = writeln!(err, "{}", crate::diagnostic::render_text(d));
    }
}
