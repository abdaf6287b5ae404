//! The `flowmap` command line: raw arguments (clap) are resolved into a
//! project and a list of files, then handed to one command module each.

mod bench;
mod check;
mod connect;
mod dry_run;
mod failure;
mod format;
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

pub use failure::Failure;
pub use format::Format;
pub use live_setup::LiveOptions;
pub use output::{Out, OutputError};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use format::{CheckFormat, ConnectionsFormat, DryRunFormat, RunFormat, RunsFormat, ShowFormat, TestFormat};
use paths::{existing_file, existing_folder, existing_path};

#[derive(Parser, Debug)]
#[command(name = "flowmap", version, about = "Declarative integration engine for Exact Online and partner systems")]
pub struct Args {
    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// The project folder (the one holding mappings/); found from the files given when omitted.
    #[arg(long, global = true, value_parser = existing_folder)]
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
        #[arg(value_parser = existing_path)]
        paths: Vec<PathBuf>,
        /// What to write.
        #[arg(long, value_enum, default_value_t)]
        format: CheckFormat,
    },
    /// Run a flow over records without touching any system; shows every payload and block reason.
    DryRun {
        /// The flow file.
        #[arg(value_parser = existing_file)]
        flow: PathBuf,
        /// Records: a JSON array, JSON lines, or a recorded API response (default: the source's fixture file).
        #[arg(long, value_parser = existing_file)]
        input: Option<PathBuf>,
        /// Folder of recorded answers for look-ups and existence checks (default: the project's fixtures/).
        #[arg(long, value_parser = existing_folder)]
        fixtures: Option<PathBuf>,
        /// What to write.
        #[arg(long, value_enum, default_value_t)]
        format: DryRunFormat,
        /// Exit with status 1 when any record is blocked (for CI: the fixtures must all go through).
        #[arg(long)]
        fail_on_blocked: bool,
    },
    /// Run flow tests (*.test.yaml) and show a diff for each failure.
    Test {
        /// Test files or folders (default: every *.test.yaml under mappings/).
        #[arg(value_parser = existing_path)]
        paths: Vec<PathBuf>,
        /// Write what each failing case got as its expectation (the rest of the file stays), showing what changed.
        #[arg(long)]
        update: bool,
        /// What to write.
        #[arg(long, value_enum, default_value_t)]
        format: TestFormat,
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
        /// Store only the webhook secret the system signs its webhooks with ($FLOWMAP_WEBHOOK_SECRET,
        /// else asked), without consent again.
        #[arg(long)]
        webhook_secret: bool,
    },
    /// Run a flow against the live systems: fetch, look up, map, deliver, write back, journal.
    Run {
        /// The flow file.
        #[arg(value_parser = existing_file)]
        flow: PathBuf,
        /// Only this record, fetched from the source by its key (repeatable).
        #[arg(long = "key")]
        keys: Vec<String>,
        /// What to write.
        #[arg(long, value_enum, default_value_t)]
        format: RunFormat,
    },
    /// Run records again from the journal: chosen keys, or every failed, blocked or unknown one.
    Replay {
        /// The flow file.
        #[arg(value_parser = existing_file)]
        flow: PathBuf,
        /// A record key (repeatable).
        #[arg(long = "key", required_unless_present = "failed")]
        keys: Vec<String>,
        /// Every record whose last status is failed, blocked or unknown.
        #[arg(long, conflicts_with = "keys")]
        failed: bool,
        /// What to write.
        #[arg(long, value_enum, default_value_t)]
        format: RunFormat,
    },
    /// List the connections and what is stored for each; `--check` calls each one.
    Connections {
        #[arg(long)]
        check: bool,
        /// What to write.
        #[arg(long, value_enum, default_value_t)]
        format: ConnectionsFormat,
    },
    /// Serve the engine: every flow on its schedule, an HTTP API to list, trigger and replay,
    /// webhooks (Exact Online, Xero, QuickBooks), hot reload of the flow files, metrics.
    Serve {
        /// Address of the HTTP API (127.0.0.1 unless you mean otherwise).
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: String,
        /// The folder of flow files (default: mappings/).
        #[arg(long, value_parser = existing_folder)]
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
        #[arg(value_parser = existing_file)]
        flow: PathBuf,
        /// The engine's webhook URL, e.g. https://flowmap.example.com/webhooks/exact.
        #[arg(long)]
        callback: String,
    },
    /// List runs, newest first.
    Runs {
        /// Only runs of this flow (its name).
        flow: Option<String>,
        /// How many runs to list: the newest this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// What to write.
        #[arg(long, value_enum, default_value_t)]
        format: RunsFormat,
    },
    /// A record's whole history: every event, payload, answer and reason.
    Show {
        /// The flow's name or file.
        flow: String,
        /// The record's key.
        key: String,
        /// What to write.
        #[arg(long, value_enum, default_value_t)]
        format: ShowFormat,
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
    /// Print a completion script for a shell, e.g. `flowmap completions bash > /etc/bash_completion.d/flowmap`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Emulated Exact Online, Le New Black, Xero, QuickBooks Online and TrueCommerce (SFTP) on loopback ports, for trying flows (see sandbox/README.md).
    Sandbox(flowmap_sandbox::cli::SandboxArgs),
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
        Command::Check { paths, format } => check::run(root, paths, format.into()),
        Command::DryRun { flow, input, fixtures, format, fail_on_blocked } => {
            dry_run::run(root, flow, input, fixtures, format.into(), fail_on_blocked)
        }
        Command::Test { paths, update, format } => test::run(root, paths, update, format.into()),
        Command::Schema { check } => schema::run(root, check),
        Command::Bench { orders, lines, runs, jq, dir } => bench::run(orders, lines, runs, jq, dir),
        Command::Connect { name, webhook_secret: true, .. } => connect::webhook_secret::run(root, &args.live, name),
        Command::Connect { name, client_id, webhook_secret: false } => connect::run(root, &args.live, name, client_id),
        Command::Run { flow, keys, format } => {
            let records = if keys.is_empty() { crate::run::Records::Fetch } else { crate::run::Records::Chosen(keys) };
            run::run(root, &args.live, flow, records, format == RunFormat::Json)
        }
        Command::Replay { flow, keys, failed, format } => replay(root, &args.live, flow, keys, failed, format == RunFormat::Json),
        Command::Connections { check, format } => journal::connections(root, &args.live, check, format == ConnectionsFormat::Json),
        Command::Serve { listen, flows, log_format, clock_start, clock_speed } => {
            serve::run(root, &args.live, serve::ServeArgs { listen, flows, log_format, clock_start, clock_speed })
        }
        Command::Subscribe { flow, callback } => subscribe::run(root, &args.live, flow, callback),
        Command::Runs { flow, limit, format } => journal::runs(root, &args.live, flow, limit, format == RunsFormat::Json),
        Command::Show { flow, key, format } => journal::show(root, &args.live, flow, key, format == ShowFormat::Json),
        Command::Completions { shell } => completions(shell),
        Command::Sandbox(sandbox_args) => sandbox::run(root, sandbox_args),
    };
    // Every command's errors reach this one mapping to a status (failure.rs).
    result.unwrap_or_else(Failure::exit)
}

/// `flowmap completions SHELL`: the script, from the same definitions as the parser.
fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "flowmap", &mut script);
    let mut out = Out::raw();
    out.write_all(&script)?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
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
