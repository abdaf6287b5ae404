//! The serving engine's shared state: the flow set in force, the runs in
//! progress, the connections (shared by every run, so tokens and rate budgets
//! are too), metrics, and the shutdown flag.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use flowmap_state::State;

use super::clock::EngineClock;
use super::flow_set::FlowSet;
use super::metrics::Metrics;
use crate::diagnostic::Diagnostic;
use crate::http::{Registry, Shutdown};

/// A reload that did not take: the problems, as `file:line:col` diagnostics.
#[derive(Clone)]
pub struct LoadFailure {
    pub at: DateTime<Utc>,
    pub problems: Vec<Diagnostic>,
}

/// The connections in force and those they replaced, under one lock so a
/// metrics scrape never sees a registry twice or not at all.
struct Connections {
    current: Arc<Registry>,
    /// The text of the files `current` was built from.
    inputs: String,
    /// Registries replaced by a reload: runs that started on them may still use
    /// them, and their call counts stay in the metrics (counters never go back).
    retired: Vec<Arc<Registry>>,
}

/// A run in progress.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Running {
    pub run: Option<i64>,
    pub origin: String,
    pub since: DateTime<Utc>,
    pub version: String,
}

pub struct Engine {
    pub root: PathBuf,
    pub flows_dir: PathBuf,
    /// Where the connections come from: a change to it (or to a system's
    /// definition) builds the registry again on reload.
    pub connections_file: PathBuf,
    pub state: Arc<State>,
    pub rt: tokio::runtime::Handle,
    pub clock: EngineClock,
    pub metrics: Metrics,
    /// Each system's webhook secret (system → secret), from its connection or, for Exact, FLOWMAP_WEBHOOK_SECRET.
    pub webhook_secrets: HashMap<String, String>,
    flows: RwLock<Arc<FlowSet>>,
    connections: RwLock<Connections>,
    failure: Mutex<Option<LoadFailure>>,
    running: Mutex<HashMap<String, Running>>,
    /// Flows whose inbox an operator retried: tried at the next look, whatever the wait.
    poked: Mutex<HashSet<String>>,
    /// Begun on SIGTERM: no new runs; runs in progress end after their batch, and
    /// calls waiting to try again stop waiting. The connections share it.
    pub shutdown: Shutdown,
    /// Woken after a reload and when a run ends (the scheduler and shutdown wait on it).
    pub changed: tokio::sync::Notify,
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        root: PathBuf,
        flows_dir: PathBuf,
        connections_file: PathBuf,
        set: FlowSet,
        registry: Arc<Registry>,
        state: Arc<State>,
        rt: tokio::runtime::Handle,
        clock: EngineClock,
        webhook_secrets: HashMap<String, String>,
    ) -> Engine {
        let metrics = Metrics::default();
        metrics.set("flowmap_flows_loaded", &[], set.flows.len() as f64);
        let inputs = connection_inputs(&root, &connections_file);
        let shutdown = registry.shutdown().clone();
        Engine {
            root,
            flows_dir,
            connections_file,
            connections: RwLock::new(Connections { current: registry, inputs, retired: Vec::new() }),
            state,
            rt,
            clock,
            metrics,
            webhook_secrets,
            flows: RwLock::new(Arc::new(set)),
            failure: Mutex::new(None),
            running: Mutex::new(HashMap::new()),
            poked: Mutex::new(HashSet::new()),
            shutdown,
            changed: tokio::sync::Notify::new(),
        }
    }

    /// The set in force; a run keeps the one it started with.
    pub fn flows(&self) -> Arc<FlowSet> {
        self.flows.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The connections in force; a run keeps the ones it started with.
    pub fn registry(&self) -> Arc<Registry> {
        self.connections.read().unwrap_or_else(|e| e.into_inner()).current.clone()
    }

    /// Every registry this engine has used: the one in force first.
    pub fn registries(&self) -> Vec<Arc<Registry>> {
        let connections = self.connections.read().unwrap_or_else(|e| e.into_inner());
        std::iter::once(&connections.current).chain(&connections.retired).cloned().collect()
    }

    pub fn failure(&self) -> Option<LoadFailure> {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn running(&self) -> HashMap<String, Running> {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn shutting_down(&self) -> bool {
        self.shutdown.is_set()
    }

    /// The flow's waiting records are tried at the scheduler's next look.
    pub fn poke_inbox(&self, flow: &str) {
        self.poked.lock().unwrap_or_else(|e| e.into_inner()).insert(flow.to_string());
        self.changed.notify_waiters();
    }

    /// The flows poked since the last call.
    pub fn take_pokes(&self) -> HashSet<String> {
        std::mem::take(&mut *self.poked.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Loads the flow files again; the new set replaces the old one only when it checks clean.
    pub fn reload(&self) -> Result<usize, Vec<Diagnostic>> {
        match FlowSet::load(&self.root, &self.flows_dir).and_then(|set| self.connections_for(&set).map(|registry| (set, registry))) {
            Ok((set, registry)) => {
                let count = set.flows.len();
                let old = self.flows();
                for (name, flow) in &set.flows {
                    match old.flows.get(name) {
                        None => tracing::info!(flow = %name, version = %flow.version, "flow added"),
                        Some(o) if o.version != flow.version => {
                            tracing::info!(flow = %name, version = %flow.version, was = %o.version, "flow changed")
                        }
                        Some(_) => {}
                    }
                }
                for name in old.flows.keys().filter(|n| !set.flows.contains_key(*n)) {
                    tracing::info!(flow = %name, "flow removed");
                }
                if let Some((registry, inputs)) = registry {
                    tracing::info!(file = %self.connections_file.display(), "connections changed; new runs use the new settings");
                    let mut connections = self.connections.write().unwrap_or_else(|e| e.into_inner());
                    let old = std::mem::replace(&mut connections.current, Arc::new(registry));
                    connections.retired.push(old);
                    connections.inputs = inputs;
                }
                *self.flows.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
                *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
                self.metrics.add("flowmap_reloads_total", &[("result", "ok")], 1.0);
                self.metrics.set("flowmap_flows_loaded", &[], count as f64);
                self.changed.notify_waiters();
                Ok(count)
            }
            Err(problems) => {
                let text: String = problems.iter().map(plain_text).collect();
                tracing::error!(problems = problems.len(), "reload refused; the flows in force keep running:\n{text}");
                *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(LoadFailure { at: Utc::now(), problems: problems.clone() });
                self.metrics.add("flowmap_reloads_total", &[("result", "failed")], 1.0);
                Err(problems)
            }
        }
    }

    /// A new registry when the connections file or a system's definition changed
    /// (checked against the new set's systems, so a bad edit is refused like a
    /// bad flow); `None` when they are as they were.
    fn connections_for(&self, set: &FlowSet) -> Result<Option<(Registry, String)>, Vec<Diagnostic>> {
        let inputs = connection_inputs(&self.root, &self.connections_file);
        let current = {
            let connections = self.connections.read().unwrap_or_else(|e| e.into_inner());
            if connections.inputs == inputs {
                return Ok(None);
            }
            connections.current.clone()
        };
        current.reloaded(&set.project, &self.connections_file).map(|r| Some((r, inputs)))
    }

    /// Marks a flow as running, unless it already is (then who runs it).
    pub fn claim(&self, flow: &str, origin: &str, version: &str) -> Result<(), Running> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = running.get(flow) {
            return Err(r.clone());
        }
        running.insert(flow.to_string(), Running { run: None, origin: origin.to_string(), since: Utc::now(), version: version.to_string() });
        Ok(())
    }

    pub fn set_run(&self, flow: &str, run: i64) {
        if let Some(r) = self.running.lock().unwrap_or_else(|e| e.into_inner()).get_mut(flow) {
            r.run = Some(run);
        }
    }

    /// Records waiting in the inbox (state file; dead letters are not) whose
    /// flow is loaded and not running now, by flow. A flow no longer loaded
    /// keeps its records waiting.
    pub fn waiting(&self) -> Vec<(String, Vec<String>)> {
        let rows = match self.state.inbox_waiting() {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the inbox");
                return Vec::new();
            }
        };
        let set = self.flows();
        let running = self.running();
        let mut by_flow: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows.into_iter().filter(|r| set.flows.contains_key(&r.flow) && !running.contains_key(&r.flow)) {
            match by_flow.iter_mut().find(|(f, _)| *f == row.flow) {
                Some((_, keys)) => keys.push(row.key),
                None => by_flow.push((row.flow, vec![row.key])),
            }
        }
        by_flow
    }

    pub fn release(&self, flow: &str) {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(flow);
        self.changed.notify_waiters();
    }
}

/// The text of the files a registry is built from: the connections file and
/// every system definition. Read on each reload (a few small files) so an edit
/// is noticed whatever the watcher reported.
fn connection_inputs(root: &std::path::Path, connections_file: &std::path::Path) -> String {
    let systems = crate::project::Project::system_files(root).unwrap_or_default();
    let mut text = String::new();
    for file in std::iter::once(connections_file.to_path_buf()).chain(systems) {
        text.push_str(&file.display().to_string());
        text.push('\n');
        text.push_str(&std::fs::read_to_string(&file).unwrap_or_default());
        text.push('\n');
    }
    text
}

/// A diagnostic as plain text (no colour), for logs and the API.
pub fn plain_text(d: &Diagnostic) -> String {
    anstream::adapter::strip_str(&crate::diagnostic::render_text(d)).to_string()
}
