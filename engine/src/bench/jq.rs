use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::World;

/// The same mapping in jq (see orders.jq).
pub const JQ_PROGRAM: &str = include_str!("orders.jq");

/// Runs jq over the generated orders, output to a file; None when jq is not installed.
pub fn run_jq(world: &World, dir: &Path) -> Option<Result<Duration, String>> {
    Command::new("jq").arg("--version").output().ok()?;
    let program = dir.join("orders.jq");
    if let Err(e) = std::fs::write(&program, JQ_PROGRAM) {
        return Some(Err(e.to_string()));
    }
    let out = match std::fs::File::create(dir.join("jq-out.jsonl")) {
        Ok(f) => f,
        Err(e) => return Some(Err(e.to_string())),
    };
    let started = Instant::now();
    let status = Command::new("jq")
        .arg("-n")
        .arg("-c")
        .arg("--slurpfile")
        .arg("accounts")
        .arg(world.fixtures.join("exact/crm_Accounts.json"))
        .arg("--slurpfile")
        .arg("items")
        .arg(world.fixtures.join("exact/logistics_Items.json"))
        .arg("-f")
        .arg(&program)
        .arg(&world.orders)
        .stdout(Stdio::from(out))
        .status();
    Some(match status {
        Ok(s) if s.success() => Ok(started.elapsed()),
        Ok(s) => Err(format!("jq exited with {s}")),
        Err(e) => Err(e.to_string()),
    })
}
