//! `flowmap serve`: the long-running engine. Every flow under the flow folder
//! is loaded as one checked set, run on its schedule, by hand through the HTTP
//! API, or by a webhook; the folder is watched and a change is applied only
//! when the whole new set checks clean.

mod api;
mod clock;
mod engine;
mod flow_set;
mod inbox;
mod metrics;
mod scheduler;
mod server;
mod signature;
mod trigger;
mod watch;

pub use api::check_webhooks;
pub use clock::EngineClock;
pub use flow_set::FlowSet;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use engine::Engine;

/// How long a shutdown waits for runs in progress to finish their batch.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(120);

/// How long a shutdown waits for API calls still open.
const CALLS_GRACE: Duration = Duration::from_secs(10);

pub struct ServeOptions {
    pub listen: SocketAddr,
    /// The folder of flow files (default `<root>/mappings`).
    pub flows_dir: Option<PathBuf>,
    pub clock: EngineClock,
}

pub struct ServeSetup {
    pub root: PathBuf,
    pub set: FlowSet,
    pub registry: Arc<crate::http::Registry>,
    /// The file the registry was built from (watched with the flows).
    pub connections_file: PathBuf,
    pub state: Arc<flowmap_state::State>,
    pub token: String,
    /// Each system's webhook secret (system → secret).
    pub webhook_secrets: std::collections::HashMap<String, String>,
}

/// Serves until SIGTERM or Ctrl-C, then lets runs in progress finish their batch.
pub fn serve(setup: ServeSetup, options: ServeOptions) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let flows_dir = options.flows_dir.clone().unwrap_or_else(|| setup.root.join("mappings"));
    let engine = Arc::new(Engine::new(
        setup.root.clone(),
        flows_dir,
        setup.connections_file,
        setup.set,
        setup.registry,
        setup.state,
        rt.handle().clone(),
        options.clock,
        setup.webhook_secrets,
    ));
    // Runs left `running` by a process that was killed are closed first, so the
    // history does not show them as still going.
    match engine.state.close_dead_runs() {
        Ok(closed) if closed.is_empty() => {}
        Ok(closed) => tracing::warn!(runs = ?closed, "runs left running by a process that is gone were closed as crashed"),
        Err(e) => tracing::error!(error = %e, "cannot close the runs of a process that is gone"),
    }
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.listen).await.map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let _watcher = watch::start(engine.clone())?;
        let scheduler = tokio::spawn(scheduler::run(engine.clone()));
        let app = api::router(api::Api { engine: engine.clone(), token: setup.token.into() });
        let limits = server::Limits::for_this_process();
        tracing::info!(
            flows = engine.flows().flows.len(), address = %address, max_connections = limits.max_connections,
            header_timeout_s = server::HEADER_TIMEOUT.as_secs(), "serving"
        );
        // The address on stdout, for whoever started the engine (port 0 picks one). Nobody
        // reading it is no reason to stop serving: the log (stderr) has it too.
        let announced = {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "flowmap serve: {} flows, listening on http://{address}", engine.flows().flows.len()).and_then(|()| out.flush())
        };
        if let Err(e) = announced {
            tracing::warn!(error = %e, "cannot write the address to stdout; serving anyway");
        }
        let stopping = engine.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: no new runs; runs in progress finish their batch");
            stopping.shutdown.begin();
            stopping.changed.notify_waiters();
        });
        let server = server::serve(listener, app, limits, engine.clone());
        // Calls still open at shutdown (a long preview, a client that sends slowly)
        // get a moment to finish; after that the engine no longer waits for them
        // (they end with the process), so a connection never holds the exit up.
        let calls_grace = async {
            engine.shutdown.begun().await;
            tokio::time::sleep(CALLS_GRACE).await;
        };
        tokio::select! {
            () = server => {}
            () = calls_grace => tracing::warn!("calls still open after {} s are not waited for", CALLS_GRACE.as_secs()),
        }
        scheduler.abort();
        wait_for_runs(&engine).await;
        Ok::<(), String>(())
    })?;
    rt.shutdown_timeout(Duration::from_secs(5));
    Ok(())
}

async fn wait_for_runs(engine: &Engine) {
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while !engine.running().is_empty() && tokio::time::Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(100), engine.changed.notified()).await;
    }
    let left: Vec<String> = engine.running().into_keys().collect();
    if left.is_empty() {
        tracing::info!("stopped; every run in progress ended");
    } else {
        tracing::warn!(flows = ?left, "stopped with runs still going; their records in doubt are settled by the next run");
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// The API token: `FLOWMAP_API_TOKEN`, else the token file beside the state
/// file (created with a random token, mode 0600, on first use).
pub fn api_token(state_dir: &Path) -> Result<(String, String), String> {
    if let Ok(t) = std::env::var("FLOWMAP_API_TOKEN")
        && !t.trim().is_empty()
    {
        return Ok((t.trim().to_string(), "FLOWMAP_API_TOKEN".into()));
    }
    let file = state_dir.join("api-token");
    if let Ok(text) = std::fs::read_to_string(&file)
        && !text.trim().is_empty()
    {
        return Ok((text.trim().to_string(), file.display().to_string()));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers for the API token: {e}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(state_dir).map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
    write_private(&file, &token).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok((token, file.display().to_string()))
}

fn write_private(file: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)?.write_all(format!("{text}\n").as_bytes())
}
