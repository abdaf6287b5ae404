//! What every live command needs, resolved once: the project, the
//! connections file, the state file and the key that unlocks its secrets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use flowmap_state::{State, Vault};

use super::{Failure, paths, print_diagnostics};
use crate::compile::{CompiledFlow, compile_file};
use crate::http::Registry;
use crate::project::Project;

/// Where live commands keep things, from flags, then the environment, then defaults under the project.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveOptions {
    /// The connections file (default: $FLOWMAP_CONNECTIONS, else mappings/connections.yaml).
    #[arg(long, global = true, value_parser = paths::existing_file)]
    pub connections: Option<PathBuf>,
    /// The state file: runs, journal, encrypted credentials (default: $FLOWMAP_STATE, else .flowmap/state.db).
    #[arg(long, global = true)]
    pub state: Option<PathBuf>,
}

pub struct LiveSetup {
    pub project: Project,
    pub registry: Arc<Registry>,
    pub state: Arc<State>,
    /// The key, or why it could not be loaded.
    pub vault: Result<Arc<Vault>, String>,
    pub key_file: PathBuf,
}

impl LiveOptions {
    pub fn state_path(&self, root: &Path) -> PathBuf {
        self.state.clone().or_else(|| std::env::var_os("FLOWMAP_STATE").map(PathBuf::from)).unwrap_or_else(|| root.join(".flowmap").join("state.db"))
    }

    pub fn connections_path(&self, root: &Path) -> PathBuf {
        self.connections
            .clone()
            .or_else(|| std::env::var_os("FLOWMAP_CONNECTIONS").map(PathBuf::from))
            .unwrap_or_else(|| root.join("mappings").join("connections.yaml"))
    }

    /// Opens everything; `create_key` makes a key file when there is none (only `connect` does).
    /// A project or connections file with errors ends the command as `check` would show them.
    pub fn open(&self, root: Option<PathBuf>, near: Option<&Path>, create_key: bool) -> Result<LiveSetup, Failure> {
        let root = paths::project_root(root, near)?;
        let project = paths::load_project(&root).map_err(Failure::problems)?;
        let state_path = self.state_path(&root);
        let state = Arc::new(State::open(&state_path).map_err(|e| e.to_string())?);
        let key_file = state_path.parent().unwrap_or(Path::new(".")).join("key");
        // Only commands that need a secret fail without the key, with the vault's own words.
        let vault = Vault::load(&key_file, create_key).map(Arc::new).map_err(|e| e.to_string());
        if create_key && let Err(e) = &vault {
            return Err(e.clone().into());
        }
        let connections = self.connections_path(&root);
        let registry = Registry::load(&project, &connections, state.clone(), vault.clone()).map_err(Failure::problems)?;
        Ok(LiveSetup { project, registry: Arc::new(registry), state, vault, key_file })
    }
}

/// Compiles a flow file, printing warnings; errors end the command (status 1, as `check`).
pub fn compile(project: &Project, flow: &Path) -> Result<CompiledFlow, Failure> {
    let (compiled, warnings) = compile_file(project, flow).map_err(Failure::problems)?;
    print_diagnostics(&warnings);
    Ok(compiled)
}

/// A runtime for the HTTP side of a command.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| format!("cannot start the async runtime: {e}"))
}
