//! The serving engine's benchmark: `cargo bench -p flowmap --bench serve [-- --flows N]`.
//!
//! - load + check: a project of N flow files (default 200: copies of the
//!   shipped orders and invoices flows and customer adaptations extending
//!   them) loaded as one checked set, the median of 10 loads; the resident
//!   memory after 40 more loads (a replaced set must leave nothing behind);
//! - reload latency: `flowmap serve` on that project, one flow file edited in
//!   place or saved by rename, timed from the write until the API shows the
//!   new version (debounce included), 10 edits each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let flows = std::env::args().skip_while(|a| a != "--flows").nth(1).and_then(|v| v.parse().ok()).unwrap_or(200usize);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = project(dir.path(), flows);
    let flows_dir = root.join("mappings");

    let mut loads = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let set = flowmap::serve::FlowSet::load(&root, &flows_dir).unwrap_or_else(|p| panic!("{} problems", p.len()));
        loads.push(started.elapsed());
        assert_eq!(set.flows.len(), flows);
    }
    println!(
        "load + check of {flows} flow files: median {:.0} ms (min {:.0}, max {:.0})",
        ms(median(&mut loads)),
        ms(loads[0]),
        ms(loads[loads.len() - 1])
    );
    // Memory across reloads: a set replaced by the next must be freed (nothing kept per load).
    let after_ten = rss_kib();
    for _ in 0..40 {
        drop(flowmap::serve::FlowSet::load(&root, &flows_dir).unwrap_or_else(|p| panic!("{} problems", p.len())));
    }
    println!("resident memory after 10 loads: {after_ten} KiB; after 40 more: {} KiB", rss_kib());

    let (mut child, url) = serve(&root, dir.path());
    let file = flows_dir.join("bench/orders-1.flow.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    for (how, by_rename) in [("in place", false), ("by rename", true)] {
        let mut times = Vec::new();
        for i in 0..10 {
            let before = version(&url, "orders-1");
            let text = original.replace(r#"'"PO" ~ order.line.id'"#, &format!(r#"'"P{i}{}" ~ order.line.id'"#, u8::from(by_rename)));
            let started = Instant::now();
            if by_rename {
                let temp = file.with_file_name(".orders-1.flow.yaml.tmp");
                std::fs::write(&temp, &text).unwrap();
                std::fs::rename(&temp, &file).unwrap();
            } else {
                std::fs::write(&file, &text).unwrap();
            }
            while version(&url, "orders-1") == before {
                assert!(started.elapsed() < Duration::from_secs(10), "the edit never loaded");
                std::thread::sleep(Duration::from_millis(2));
            }
            times.push(started.elapsed());
        }
        let m = median(&mut times);
        println!("reload latency ({how}, {flows} flows): median {:.0} ms, max {:.0} ms", ms(m), ms(times[times.len() - 1]));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// This process's resident set (Linux), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The shipped systems and schemas, and `n` flows under mappings/bench/.
fn project(dir: &Path, n: usize) -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let root = dir.join("project");
    copy(&repo.join("mappings/systems"), &root.join("mappings/systems"));
    copy(&repo.join("schemas"), &root.join("schemas"));
    std::fs::copy(repo.join("mappings/connections.yaml"), root.join("mappings/connections.yaml")).unwrap();
    let bench = root.join("mappings/bench");
    std::fs::create_dir_all(&bench).unwrap();
    let orders = std::fs::read_to_string(repo.join("mappings/lnb-exact/orders.flow.yaml")).unwrap();
    let invoices = std::fs::read_to_string(repo.join("mappings/lnb-exact/invoices.flow.yaml")).unwrap();
    for i in 1..=n {
        let (name, text) = match i % 4 {
            0 => (format!("invoices-{i}"), invoices.replace("flow: lnb-invoices-to-exact", &format!("flow: invoices-{i}"))),
            3 => (
                format!("adapted-{i}"),
                format!(
                    "extends: orders-{}.flow.yaml\nflow: adapted-{i}\nsettings:\n  warehouse:\n    in_stock: 950e7dc6-c918-40a5-9407-2505cfbadc91\n",
                    i - 2
                ),
            ),
            _ => (format!("orders-{i}"), orders.replace("flow: lnb-orders-to-exact", &format!("flow: orders-{i}"))),
        };
        std::fs::write(bench.join(format!("{name}.flow.yaml")), text).unwrap();
    }
    root
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// `flowmap serve` on the project; its URL from the line it prints.
fn serve(root: &Path, dir: &Path) -> (std::process::Child, String) {
    let mut child = spawn_serve(root, dir);
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no stdout from flowmap serve");
    };
    let mut out = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.wait();
            panic!("flowmap serve ended before listening");
        }
        if let Some(at) = line.find("listening on ") {
            let url = line[at + 13..].trim().to_string();
            std::thread::spawn(move || {
                let mut rest = String::new();
                let _ = out.read_to_string(&mut rest);
            });
            return (child, url);
        }
    }
}

fn version(url: &str, flow: &str) -> String {
    let authority = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(authority).unwrap();
    write!(s, "GET /flows/{flow} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer bench\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| v["version"].as_str().map(str::to_string)).unwrap_or_default()
}

fn spawn_serve(root: &Path, dir: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .args(["serve", "--listen", "127.0.0.1:0", "--clock-start", "2026-01-04T12:00:00Z", "--root"])
        .arg(root)
        .arg("--state")
        .arg(dir.join("state.db"))
        .env("FLOWMAP_API_TOKEN", "bench")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("flowmap serve starts")
}
