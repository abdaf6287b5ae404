//! Runs the real `flowmap` binary from the repository root, colour off, and
//! returns what a user sees.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

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
