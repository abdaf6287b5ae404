use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(_orders: usize, _lines: usize, _jq: bool, _dir: Option<PathBuf>) -> Result<ExitCode, String> {
    Err("not yet".into())
}
