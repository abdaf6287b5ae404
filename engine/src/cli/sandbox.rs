//! `flowmap sandbox`: the Exact Online and Le New Black emulators in the foreground, from the same
//! binary as the engine (no second build). The options are the sandbox library's own.

use std::path::PathBuf;
use std::process::ExitCode;

use flowmap_sandbox::Sandbox;
use flowmap_sandbox::cli::SandboxArgs;

use super::Failure;

/// Serves until SIGINT or SIGTERM. Without `--fixtures`: the project's `fixtures/` (the project
/// found from `--root` or the working directory) when there is one, the folder `dry-run` reads.
pub fn run(root: Option<PathBuf>, args: SandboxArgs) -> Result<ExitCode, Failure> {
    let project_fixtures = super::paths::project_root(root, None).ok().map(|r| r.join("fixtures")).filter(|f| f.is_dir());
    let default_fixtures = project_fixtures.or_else(|| Some(PathBuf::from("fixtures")).filter(|f| f.is_dir()));
    let config = args.config(default_fixtures)?;
    let sandbox = Sandbox::start(config).map_err(|e| format!("the sandbox cannot start: {e}"))?;
    flowmap_sandbox::cli::serve_in_foreground(sandbox).map_err(|e| format!("the sandbox stopped: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
