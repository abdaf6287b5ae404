//! Runs the real `flowmap` binary from the repository root, colour off, and
//! returns what a user sees.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub mod invoices;
pub mod live;
pub mod mutate;
pub mod serve;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("engine/ has a parent").to_path_buf()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn flowmap(args: &[&str]) -> Run {
    flowmap_in(&repo_root(), args)
}

/// `flowmap` run from `dir` (a project copy, so shown paths are relative to it), colour off.
pub fn flowmap_in(dir: &std::path::Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .arg("--color")
        .arg("never")
        .args(args)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("flowmap runs");
    run_of(out)
}

/// What a finished command printed, and its exit status.
pub fn run_of(out: std::process::Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `stderr` without the warnings a command shows before its own output (the
/// orders flow's `WarehouseID` is edition-only): each is a block that starts
/// with `warning:` and ends with an empty line.
pub fn past_warnings(stderr: &str) -> &str {
    let mut rest = stderr;
    while rest.starts_with("warning: ") {
        match rest.find("\n\n") {
            Some(end) => rest = &rest[end + 2..],
            None => return "",
        }
    }
    rest
}

/// `flowmap` run in a project copy at `dir` with its own connections file and state
/// (`connections.yaml`, `state.db` there), a fixed key, progress off, and `env` added.
pub fn flowmap_project(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .args(["--color", "never", "--root", ".", "--connections", "connections.yaml", "--state", "state.db"])
        .args(args)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .env("FLOWMAP_KEY", "5a".repeat(32))
        .env("FLOWMAP_PROGRESS", "off")
        .env("FLOWMAP_CONNECTIONS", dir.join("connections.yaml"))
        .envs(env.iter().copied())
        .output()
        .expect("flowmap runs");
    run_of(out)
}

/// The files a `dry-run --format json` shows for a file target: (name, content), in order.
pub fn dry_run_files(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|o| Some((o["file"]["name"].as_str()?.to_string(), o["file"]["content"].as_str()?.to_string())))
        .collect()
}

/// A benchmark's `--name N` option (`cargo bench --bench live -- --orders 1000`), else `default`;
/// anything else on the command line (`--bench`, which cargo passes) is passed over.
pub fn count_option(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.windows(2).filter(|w| w[0] == name).find_map(|w| w[1].parse().ok()).unwrap_or(default)
}
