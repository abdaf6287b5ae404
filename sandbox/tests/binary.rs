//! The `flowmap-sandbox` binary: announces its URLs, serves them, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn announces_urls_then_ready_and_stops_on_sigterm() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowmap-sandbox"))
        .args(["--fixtures", fixtures, "--exact-port", "0", "--lnb-port", "0", "--generate", "customers=70,orders=2", "--seed", "5"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().and_then(Result::ok).unwrap_or_default();
    let (exact, lnb, ready) = (next(), next(), next());
    assert!(exact.starts_with("exact http://127.0.0.1:"), "{exact}");
    assert!(lnb.starts_with("lnb http://127.0.0.1:"), "{lnb}");
    assert_eq!(ready, "ready");

    let lnb_url = lnb.trim_start_matches("lnb ");
    let orders: serde_json::Value = reqwest::get(format!("{lnb_url}/_sandbox/lnb/orders")).await.unwrap().json().await.unwrap();
    assert_eq!(orders.as_array().map(Vec::len), Some(8 + 2), "fixtures plus generated orders");
    assert_eq!(orders[8]["reference"], "900001");

    let killed = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
}
