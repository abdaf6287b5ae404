use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(_root: Option<PathBuf>, _paths: Vec<PathBuf>) -> Result<ExitCode, String> {
    Err("not yet".into())
}
