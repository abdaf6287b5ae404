//! Dry-run and live are one pipeline with two sets of ports (issue 11): for
//! the same records, a live run sends exactly the payloads and write-backs
//! the dry-run shows.

mod common;

use std::collections::BTreeMap;

use common::flowmap;
use common::live::*;
use pretty_assertions::assert_eq;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";

#[test]
fn a_live_run_sends_the_payloads_and_write_backs_the_dry_run_shows() {
    let fixtures = fixtures();
    let dry = flowmap(&["dry-run", ORDERS, "--fixtures", fixtures.to_str().unwrap(), "--format", "json"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let outcomes: Vec<serde_json::Value> =
        dry.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).filter(|o: &serde_json::Value| o["key"].is_string()).collect();
    // YourRef → the body the dry-run would POST.
    let shown: BTreeMap<String, serde_json::Value> = outcomes
        .iter()
        .filter(|o| o["status"] == "ready")
        .map(|o| (o["request"]["body"]["YourRef"].as_str().unwrap().to_string(), o["request"]["body"].clone()))
        .collect();
    // Write-backs, as (method, path, body), in record order.
    let shown_back: Vec<(String, String, serde_json::Value)> = outcomes
        .iter()
        .flat_map(|o| o["write_back"].as_array().cloned().unwrap_or_default())
        .map(|w| (w["method"].as_str().unwrap().to_string(), w["path"].as_str().unwrap().to_string(), w["body"].clone()))
        .collect();
    assert!(shown.len() >= 4 && shown_back.len() >= 6, "{}", dry.stdout);

    let world = World::start(SandboxConfig { fixtures: Some(fixtures), ..Default::default() }, "");
    world.connect();
    let run = world.flowmap(&["run", ORDERS]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let sent: BTreeMap<String, serde_json::Value> = world
        .requests_to("exact", "POST", "salesorder/SalesOrders")
        .into_iter()
        .map(|r| {
            let body = r.body.unwrap();
            (body["YourRef"].as_str().unwrap().to_string(), body)
        })
        .collect();
    assert_eq!(sent, shown);
    let mut written_back: Vec<(String, String, serde_json::Value)> = world
        .requests_to("lnb", "POST", "/orders/status")
        .into_iter()
        .map(|r| (r.method, r.path.trim_start_matches("/apis/wholesale/v2").to_string(), r.body.unwrap_or_default()))
        .collect();
    let mut shown_back = shown_back;
    written_back.sort_by_key(|a| a.2.to_string());
    shown_back.sort_by_key(|a| a.2.to_string());
    assert_eq!(written_back, shown_back);
}
