//! `flowmap sandbox`: the emulators from the engine's own binary (no second build). It takes the
//! sandbox's options, announces its URLs on the ports given, serves them, and stops cleanly on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::live::{free_port, http_get};
use common::{flowmap, repo_root};
use pretty_assertions::assert_eq;

/// A running `flowmap sandbox`, killed when dropped (a failed assertion must not leave it serving).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `flowmap sandbox ARGS…` started from `dir`, with its six announced lines (exact, lnb, xero, qbo,
/// truecommerce, ready).
fn start_sandbox(dir: &Path, args: &[&str]) -> (Running, [String; 6]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .arg("sandbox")
        // The TrueCommerce SFTP server on any free port (its own tests: sandbox_truecommerce.rs).
        .args(["--truecommerce-port", "0"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("flowmap starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().and_then(Result::ok).unwrap_or_default();
    let announced = [next(), next(), next(), next(), next(), next()];
    (Running(child), announced)
}

fn stop_with_sigterm(mut running: Running) {
    let killed = Command::new("kill").arg("-TERM").arg(running.0.id().to_string()).status().expect("kill runs");
    assert!(killed.success());
    let status = running.0.wait().expect("exits");
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
}

#[test]
fn serves_the_emulators_on_the_ports_given_and_stops_on_sigterm() {
    let (exact_port, lnb_port, xero_port, qbo_port) = (free_port(), free_port(), free_port(), free_port());
    let fixtures = repo_root().join("fixtures");
    let args = [
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--exact-port",
        &exact_port.to_string(),
        "--lnb-port",
        &lnb_port.to_string(),
        "--xero-port",
        &xero_port.to_string(),
        "--qbo-port",
        &qbo_port.to_string(),
    ];
    let (child, announced) = start_sandbox(&std::env::temp_dir(), &[&args[..], &["--generate", "customers=70,orders=2", "--seed", "5"]].concat());
    let exact = format!("http://127.0.0.1:{exact_port}");
    let lnb = format!("http://127.0.0.1:{lnb_port}");
    let xero = format!("http://127.0.0.1:{xero_port}");
    let qbo = format!("http://127.0.0.1:{qbo_port}");
    assert_eq!(
        [&announced[0], &announced[1], &announced[2], &announced[3], &announced[5]],
        [&format!("exact {exact}"), &format!("lnb {lnb}"), &format!("xero {xero}"), &format!("qbo {qbo}"), "ready"]
    );
    assert!(announced[4].starts_with("truecommerce sftp://ACME-EDI@127.0.0.1:"), "{announced:?}");
    // QuickBooks' own control, with the fixtures in the sandbox company.
    let (status, _, body) = http_get(&format!("{qbo}/_sandbox/qbo/records/Term"));
    assert_eq!(status, 200, "{body}");
    let terms: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(terms[2]["Name"], "Net 30");
    // Xero's own control, with the fixtures in the Acme tenant.
    let (status, _, body) = http_get(&format!("{xero}/_sandbox/xero/records/Acme%20Fashion%20(NL)/Invoices"));
    assert_eq!(status, 200, "{body}");
    let invoices: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(invoices[0]["InvoiceNumber"], "INV-2025-0102");

    let (status, _, body) = http_get(&format!("{lnb}/_sandbox/lnb/orders"));
    assert_eq!(status, 200, "{body}");
    let orders: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(orders.as_array().map(Vec::len), Some(8 + 2), "fixtures plus generated orders");
    assert_eq!(orders[8]["reference"], "900001");
    let (status, _, body) = http_get(&format!("{exact}/_sandbox/exact/crm/Accounts"));
    assert_eq!(status, 200, "{body}");
    let accounts: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(accounts.as_array().map(Vec::len), Some(7 + 3 + 70), "fixtures (customers and suppliers) plus generated customers");
    stop_with_sigterm(child);
}

#[test]
fn without_fixtures_given_it_serves_the_projects_fixtures_from_any_folder_in_the_project() {
    let (child, announced) =
        start_sandbox(&repo_root().join("mappings"), &["--exact-port", "0", "--lnb-port", "0", "--xero-port", "0", "--qbo-port", "0"]);
    assert_eq!(announced[5], "ready", "{announced:?}");
    let lnb = announced[1].trim_start_matches("lnb ");
    let (status, _, body) = http_get(&format!("{lnb}/_sandbox/lnb/orders"));
    assert_eq!(status, 200, "{body}");
    let orders: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(orders.as_array().map(Vec::len), Some(8), "fixtures/lnb/orders.json");
    stop_with_sigterm(child);
}

#[test]
fn help_lists_the_sandbox_options() {
    let run = flowmap(&["sandbox", "--help"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The options are the first word of their help lines (`-h, --help` aside).
    let mut options: Vec<&str> = run.stdout.lines().filter_map(|l| l.split_whitespace().next()).filter(|w| w.starts_with("--")).collect();
    options.sort();
    let mut expected = vec![
        "--fixtures",
        "--exact-port",
        "--lnb-port",
        "--xero-port",
        "--qbo-port",
        "--clock-speed",
        "--minutely-limit",
        "--daily-limit",
        "--no-rate-limits",
        "--lnb-page-size",
        "--generate",
        "--seed",
        "--fault-rate",
        "--faults",
        "--fault-hang-ms",
        "--client-id",
        "--client-secret",
        "--division",
        "--webhook-secret",
        "--qbo-verifier-token",
        "--truecommerce-port",
        "--truecommerce-root",
        "--truecommerce-company",
        "--truecommerce-user",
        "--truecommerce-password",
        "--truecommerce-poll-ms",
        "--truecommerce-max-file-bytes",
        "--truecommerce-max-sessions",
        "--truecommerce-idle-seconds",
        "--color",
        "--root",
        "--connections",
        "--state",
    ];
    expected.sort();
    assert_eq!(options, expected);
    assert!(
        run.stdout.starts_with("Emulated Exact Online, Le New Black, Xero, QuickBooks Online and TrueCommerce (SFTP) on loopback ports"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_fault_rate_without_fault_kinds_is_a_usage_error() {
    let run = flowmap(&["sandbox", "--fault-rate", "0.2"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(run.stderr, "error: --fault-rate needs --faults (429, 503, timeout, drop_after_write)\n");
}

#[test]
fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = flowmap(&["sandbox", "--exact-port", &port, "--lnb-port", "0"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(run.stderr, format!("error: the sandbox cannot start: Exact Online on 127.0.0.1:{port}: Address already in use (os error 98)\n"));
}
