//! Never twice, whoever runs what: flows that deliver the same records to the
//! same target (the shipped orders flow and its "as Order" send mode), run at
//! the same time from separate processes and from a serving engine, with
//! faults injected, send every order once. Also: a run whose process was
//! killed is closed as crashed by the next one.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::live::*;
use common::serve::{Served, project_copy};
use pretty_assertions::assert_eq;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";
const AS_ORDER: &str = "mappings/exact-send-modes/order.flow.yaml";

fn world(orders: usize) -> World {
    let config = SandboxConfig {
        generate: Some(Generate { customers: 40, items: 80, orders, lines: 2, seed: 5 }),
        limits: Limits { enabled: false, ..Default::default() },
        ..Default::default()
    };
    let world = World::start(config, "timeout_seconds: 0.5\nretries: 8");
    world.connect();
    world
}

/// A fifth of Exact's and LNB's answers fail: throttled, unavailable, slow, or lost after the write.
fn faults() -> Faults {
    Faults {
        rate: 0.2,
        kinds: vec![FaultKind::TooManyRequests, FaultKind::ServiceUnavailable, FaultKind::Timeout, FaultKind::DropAfterWrite],
        seed: 9,
        hang_ms: 1500,
    }
}

/// Generated orders (references from 900001) → how many sales orders Exact has for each.
fn counts(world: &World, orders: usize) -> BTreeMap<String, usize> {
    let by_ref = world.exact_orders_by_ref();
    (0..orders).map(|i| format!("PO{}", 900_001 + i)).map(|r| (r.clone(), by_ref.get(&r).copied().unwrap_or(0))).collect()
}

fn twice(counts: &BTreeMap<String, usize>) -> Vec<(&String, &usize)> {
    counts.iter().filter(|(_, n)| **n > 1).collect()
}

/// After the concurrent runs, quiet runs settle what faults left over (failed,
/// in doubt); then every order is in Exact exactly once.
fn settle_and_count(world: &World, orders: usize, flows: &[&str]) -> BTreeMap<String, usize> {
    world.sandbox.set_faults(Faults::default());
    for flow in flows {
        let run = world.flowmap(&["run", flow]);
        assert!(run.code == 0 || run.code == 1, "{}{}", run.stdout, run.stderr);
    }
    counts(world, orders)
}

#[test]
fn two_flows_with_one_target_run_at_once_from_two_processes_send_each_order_once() {
    let orders = 120;
    let world = world(orders);
    world.sandbox.set_faults(faults());
    let runs: Vec<_> = [ORDERS, AS_ORDER, ORDERS].iter().map(|flow| world.spawn(&["run", flow])).collect();
    for child in runs {
        let out = child.wait_with_output().expect("the run ends");
        // The third is refused while the first runs the same flow (or runs after it).
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.code().is_some(), "the run was killed: {text}");
    }
    let concurrent = counts(&world, orders);
    let dup = twice(&concurrent);
    assert!(dup.is_empty(), "{} of {orders} orders sent more than once by the concurrent runs: {dup:?}", dup.len());

    let settled = settle_and_count(&world, orders, &[ORDERS, AS_ORDER]);
    assert_eq!(twice(&settled), vec![]);
    assert_eq!(settled.values().filter(|n| **n == 0).count(), 0, "every order is sent in the end: {settled:?}");
    let hit: Vec<String> = world.sandbox.requests().iter().filter_map(|r| r.fault.clone()).collect();
    assert!(hit.len() > 10, "faults were injected: {hit:?}");
}

#[test]
fn a_serving_engine_and_a_cli_run_of_flows_with_one_target_send_each_order_once() {
    let orders = 120;
    let world = world(orders);
    let root = project_copy(world.dir.path());
    // A third flow with the same target: another customer's copy of the send mode.
    let third = root.join("mappings/exact-send-modes/order-copy.flow.yaml");
    let text = std::fs::read_to_string(root.join("mappings/exact-send-modes/order.flow.yaml")).unwrap();
    std::fs::write(&third, text.replace("flow: lnb-order-to-exact-as-order", "flow: lnb-order-copy")).unwrap();
    let served = Served::start(&world, &root, &[], &[]);
    let log = served.log.lock().unwrap().clone();
    let warned = log.split("WARN warning: ").find(|w| w.contains("`lnb-order-copy`")).unwrap_or_default();
    let shown = |file: &str| root.join(file).display().to_string();
    assert_eq!(
        warned.lines().take(5).collect::<Vec<_>>(),
        vec![
            "4 flows can deliver the same records to one target: each takes lnb /orders and creates exact salesorder/SalesOrders matched on YourRef"
                .to_string(),
            format!(" = help: flow `acme-lnb-orders-to-exact` in {}", shown("mappings/customers/acme/orders.flow.yaml")),
            format!(" = help: flow `lnb-order-copy` in {}", shown("mappings/exact-send-modes/order-copy.flow.yaml")),
            format!(" = help: flow `lnb-order-to-exact-as-order` in {}", shown("mappings/exact-send-modes/order.flow.yaml")),
            format!(" = help: flow `lnb-orders-to-exact` in {}", shown("mappings/lnb-exact/orders.flow.yaml")),
        ],
        "serve warns about flows with one target:\n{log}"
    );
    world.sandbox.set_faults(faults());

    let cli = world.spawn(&["run", &third.display().to_string()]);
    for flow in ["lnb-orders-to-exact", "lnb-order-to-exact-as-order"] {
        let (status, answer) = served.post(&format!("/flows/{flow}/runs"), "");
        assert_eq!(status, 202, "{answer}");
    }
    let out = cli.wait_with_output().expect("the CLI run ends");
    assert!(out.status.code().is_some(), "{}", String::from_utf8_lossy(&out.stderr));
    for flow in ["lnb-orders-to-exact", "lnb-order-to-exact-as-order"] {
        served.wait_for(&format!("{flow} to finish"), Duration::from_secs(120), || {
            let (_, f) = served.get(&format!("/flows/{flow}"));
            f["running"].is_null() && f["last_run"]["ended_at_ms"].is_i64()
        });
    }
    let concurrent = counts(&world, orders);
    let dup = twice(&concurrent);
    assert!(dup.is_empty(), "{} of {orders} orders sent more than once by the concurrent runs: {dup:?}", dup.len());
    drop(served);

    let settled = settle_and_count(&world, orders, &[ORDERS]);
    assert_eq!(twice(&settled), vec![]);
    assert_eq!(settled.values().filter(|n| **n == 0).count(), 0, "every order is sent in the end: {settled:?}");
}

#[test]
fn a_run_whose_process_was_killed_is_closed_as_crashed_by_the_next_run() {
    let orders = 80;
    // 60 calls a minute on a clock 40 times fast: the run takes seconds, long enough to be killed in.
    let config =
        SandboxConfig { generate: Some(Generate { customers: 40, items: 80, orders, lines: 2, seed: 5 }), clock_speed: 40.0, ..Default::default() };
    let world = World::start(config, "clock_speed: 40");
    world.connect();
    let mut child = world.spawn(&["run", ORDERS]);
    let started = Instant::now();
    while world.requests_to("exact", "POST", "SalesOrders").len() < 10 {
        assert!(started.elapsed() < Duration::from_secs(60), "the run did not get going");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let sent_before_kill = counts(&world, orders).values().filter(|n| **n == 1).count();

    let listed = world.flowmap(&["runs"]);
    assert!(listed.stdout.contains("running"), "the killed run still shows as running until a run starts: {}", listed.stdout);
    let again = world.flowmap(&["run", ORDERS]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let listed = world.flowmap(&["runs", "--format", "json"]);
    let runs: Vec<serde_json::Value> = listed.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let first = runs.iter().find(|r| r["id"] == 1).unwrap_or_else(|| panic!("run 1 listed: {}{}", listed.stdout, listed.stderr));
    assert_eq!(first["status"], "crashed", "{first}");
    let summary = &first["summary"];
    // What the journal shows it did: the orders it sent before it was killed (one more
    // may have been in flight, journaled as sending).
    let sent = summary["sent"].as_u64().unwrap();
    assert!(sent as usize <= sent_before_kill && sent_before_kill <= sent as usize + summary["unknown"].as_u64().unwrap() as usize, "{summary}");
    assert!(sent >= 1, "{summary}");
    let unknown = summary["unknown"].as_u64().unwrap();
    assert_eq!(
        summary["stopped"],
        format!(
            "the process running it ended before the run finished (killed or crashed); \
             {unknown} record(s) were in delivery and are settled by the next run (the existence check decides)"
        )
    );
    assert!(first["ended_at_ms"].is_i64(), "{first}");
    assert_eq!(twice(&counts(&world, orders)), vec![]);
}

#[test]
fn a_run_on_an_empty_state_file_is_refused_with_what_to_do() {
    let world = World::start(SandboxConfig::default(), "");
    std::fs::write(&world.state, b"").unwrap();
    let run = world.flowmap(&["run", ORDERS]);
    let shown = world.state.display();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            2,
            "",
            format!(
                "error: {shown} is empty (0 bytes): the journal and the credentials it held are gone. Restore it from a backup; \
                 or, to start anew without them, remove it (`rm {shown}`) and connect again (`flowmap connect NAME`)\n"
            )
            .as_str()
        )
    );
    assert_eq!(std::fs::metadata(&world.state).unwrap().len(), 0);
    assert!(world.sandbox.requests().is_empty(), "nothing was called");
}
