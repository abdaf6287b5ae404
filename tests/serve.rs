//! `flowmap serve` through its HTTP API, against the sandbox: hot reload,
//! manual triggers, schedules on a controllable clock, webhooks, SIGTERM.
//! (Webhooks of each system, with their own secrets: tests/webhooks.rs.)

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::live::*;
use common::serve::*;
use pretty_assertions::assert_eq;

const ORDERS: &str = "lnb-orders-to-exact";
/// A Sunday: the shipped weekday schedules do not fire while a test runs.
const SUNDAY: &str = "2026-01-04T12:00:00Z";

/// A fresh copy of the project (kept while the folder lives) and the engine serving it,
/// its clock on a Sunday so the shipped weekday schedules stay quiet.
fn serve_on_sunday(world: &World, env: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf, Served) {
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let served = Served::start(world, &root, &["--clock-start", SUNDAY], env);
    (dir, root, served)
}

fn default_world() -> World {
    World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "")
}

fn orders_flow(root: &Path) -> std::path::PathBuf {
    root.join("mappings/lnb-exact/orders.flow.yaml")
}

/// Writes `text` as editors that save by renaming do.
fn save_by_rename(file: &Path, text: &str) {
    let temp = file.with_file_name(".orders.flow.yaml.tmp");
    std::fs::write(&temp, text).unwrap();
    std::fs::rename(&temp, file).unwrap();
}

fn version(served: &Served) -> String {
    served.get(&format!("/flows/{ORDERS}")).1["version"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_flow_edited_while_serving_is_used_by_the_next_run_and_a_broken_edit_is_not() {
    let world = default_world();
    world.connect();
    let (_dir, root, served) = serve_on_sunday(&world, &[]);
    let flow = orders_flow(&root);
    let original = std::fs::read_to_string(&flow).unwrap();
    let v1 = version(&served);
    assert_eq!(v1.len(), 16);

    // In place: the next run uses the new mapping.
    let started = Instant::now();
    std::fs::write(&flow, original.replace(r#"YourRef: '"PO" ~ order.line.id'"#, r#"YourRef: '"WEB" ~ order.line.id'"#)).unwrap();
    served.wait_for("the edit to load", Duration::from_secs(5), || version(&served) != v1);
    println!("reload in place took {:?}", started.elapsed());
    let v2 = version(&served);
    // A manual trigger for one key runs exactly that record: one order sent, one LNB order closed.
    let (orders_before, lnb_before) = (world.exact_orders_by_ref(), world.lnb_statuses());
    let (status, answer) = served.post(&format!("/flows/{ORDERS}/runs"), r#"{"keys": ["50001"]}"#);
    assert_eq!(status, 202, "{answer}");
    let run = served.finished_run(ORDERS, answer["run"].as_i64().unwrap());
    assert_eq!((run["version"].as_str(), run["status"].as_str()), (Some(v2.as_str()), Some("completed")));
    let orders_after = world.exact_orders_by_ref();
    let new_orders: Vec<(&String, &usize)> = orders_after.iter().filter(|(r, _)| !orders_before.contains_key(*r)).collect();
    assert_eq!(new_orders, vec![(&"WEB50001".to_string(), &1)]);
    let lnb_after = world.lnb_statuses();
    let changed: Vec<(&String, &String)> = lnb_after.iter().filter(|(r, s)| lnb_before.get(*r) != Some(*s)).collect();
    assert_eq!(changed, vec![(&"50001".to_string(), &"Closed".to_string())]);

    // Broken, saved by rename: the old version keeps running; the error is in the API with its line.
    let broken = original.replace(r#"YourRef: '"PO" ~ order.line.id'"#, r#"YourRef: '"WEB" ~ order.line.idd | nosuchfilter'"#);
    save_by_rename(&flow, &broken);
    served.wait_for("the refused reload", Duration::from_secs(5), || !served.get("/flows").1["last_reload_error"].is_null());
    let (_, flows) = served.get("/flows");
    let text = flows["last_reload_error"]["text"].as_str().unwrap_or_default().to_string();
    println!("{text}");
    assert!(text.contains("mappings/lnb-exact/orders.flow.yaml:59:"), "{text}");
    assert_eq!(version(&served), v2);
    let (_, one) = served.get(&format!("/flows/{ORDERS}"));
    // Both mistakes of the edit: the path (`idd`, not in the catalogue) and the filter.
    assert_eq!(one["errors"].as_array().map(Vec::len), Some(2), "{one}");
    let (status, answer) = served.post(&format!("/flows/{ORDERS}/runs"), r#"{"keys": ["50002"]}"#);
    assert_eq!(status, 202, "{answer}");
    served.finished_run(ORDERS, answer["run"].as_i64().unwrap());
    assert_eq!(world.exact_orders_by_ref().get("WEB50002"), Some(&1), "the working version ran");

    // Fixed: it loads, and the error is gone.
    save_by_rename(&flow, &original.replace(r#"YourRef: '"PO" ~ order.line.id'"#, r#"YourRef: '"FIX" ~ order.line.id'"#));
    served.wait_for("the fix to load", Duration::from_secs(5), || version(&served) != v2);
    assert!(served.get("/flows").1["last_reload_error"].is_null());
    let (_, metrics) = served.call("GET", "/metrics", Some(TOKEN), "");
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert!(metrics.contains("flowmap_reloads_total{result=\"ok\"} 2\n"), "{metrics}");
    assert!(metrics.contains("flowmap_reloads_total{result=\"failed\"} 1\n"), "{metrics}");
    assert!(metrics.contains(&format!("flowmap_records_total{{flow=\"{ORDERS}\",status=\"sent\"}} 2\n")), "{metrics}");
}

#[test]
fn connections_edited_while_serving_are_used_by_the_next_run_and_a_broken_edit_is_not() {
    let world = default_world();
    world.connect();
    let (_dir, _, served) = serve_on_sunday(&world, &[]);
    let preview = || served.post(&format!("/flows/{ORDERS}/preview"), r#"{"keys": ["50001"]}"#);
    assert_eq!(preview().0, 200);
    let reloads = |result: &str| {
        let metrics = served.call("GET", "/metrics", Some(TOKEN), "").1.as_str().unwrap_or_default().to_string();
        let line = format!("flowmap_reloads_total{{result=\"{result}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(line.as_str()).map(str::to_string)).unwrap_or_else(|| "0".into())
    };
    let original = std::fs::read_to_string(&world.connections).unwrap();

    // A connection to a system nobody defined: refused, named at its line; the connections in force stay.
    std::fs::write(&world.connections, format!("{original}  nosuch:\n    host: http://127.0.0.1:9\n")).unwrap();
    served.wait_for("the refused reload", Duration::from_secs(5), || reloads("failed") == "1");
    let text = served.get("/flows").1["last_reload_error"]["text"].as_str().unwrap_or_default().to_string();
    assert!(text.contains("connection `nosuch`: unknown system `nosuch`") && text.contains("connections.yaml:"), "{text}");
    assert_eq!(preview().0, 200);

    // LNB moved to where nothing listens: the next call goes there.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    std::fs::write(&world.connections, original.replace(&world.sandbox.lnb_url(), &nowhere)).unwrap();
    served.wait_for("the new connections", Duration::from_secs(5), || reloads("ok") == "1");
    let (status, answer) = preview();
    assert_eq!(status, 502, "{answer}");
    assert!(answer["error"].as_str().unwrap_or_default().contains(&nowhere), "{answer}");

    // Back as it was: it works again, and the calls made before the change are still counted.
    std::fs::write(&world.connections, &original).unwrap();
    served.wait_for("the connections restored", Duration::from_secs(5), || reloads("ok") == "2");
    assert_eq!(preview().0, 200);
    let metrics = served.call("GET", "/metrics", Some(TOKEN), "").1.as_str().unwrap_or_default().to_string();
    let lnb_ok: Vec<&str> = metrics.lines().filter(|l| l.starts_with("flowmap_api_calls_total{connection=\"lnb\",code=\"200\"}")).collect();
    assert_eq!(lnb_ok, vec!["flowmap_api_calls_total{connection=\"lnb\",code=\"200\"} 3"], "{metrics}");
}

#[test]
fn the_api_asks_for_its_token_and_answers_bad_requests_clearly() {
    let world = default_world();
    world.connect();
    let (_dir, _, served) = serve_on_sunday(&world, &[]);
    assert_eq!(served.call("GET", "/health", None, "").0, 200);
    assert_eq!(served.call("GET", "/health/ready", None, "").0, 200);
    for path in ["/flows", "/metrics", "/runs"] {
        assert_eq!(served.call("GET", path, None, ""), (401, serde_json::json!({"error": "unauthorized"})), "{path}");
        assert_eq!(served.call("GET", path, Some("wrong"), "").0, 401, "{path}");
    }
    assert_eq!(
        served.post("/flows/lnb-orders-to-exakt/runs", ""),
        (404, serde_json::json!({"error": "no flow named `lnb-orders-to-exakt`; did you mean `lnb-orders-to-exact`?"}))
    );
    assert_eq!(
        served.post(&format!("/flows/{ORDERS}/runs"), r#"{"keyz": ["1"]}"#),
        (
            400,
            serde_json::json!({"error": "the body must be empty or {\"keys\": [\"…\"]}: unknown field `keyz`, expected `keys` at line 1 column 7"})
        )
    );
    assert_eq!(served.call("GET", "/nowhere", Some(TOKEN), ""), (404, serde_json::json!({"error": "no such endpoint"})));

    // A preview asks the live systems but sends and writes nothing.
    let (status, preview) = served.post(&format!("/flows/{ORDERS}/preview"), r#"{"keys": ["50001", "50005", "nope"]}"#);
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["summary"], serde_json::json!({"ready": 1, "blocked": 1, "skipped": 0, "ignored": 0}));
    assert_eq!(preview["records"][0]["key"], "50001");
    assert_eq!(preview["records"][0]["request"]["body"]["YourRef"], "PO50001", "{preview}");
    assert_eq!(
        preview["records"][1]["reasons"],
        serde_json::json!(["Product BAG-XXL-RED does not exist as an Item in Exact Online", "Line SWT-NVY-L has quantity 0; it must be more than 0"])
    );
    assert_eq!(preview["missing"], serde_json::json!([{"key": "nope", "why": "the source has no record `nope`"}]));
    assert!(world.requests_to("exact", "POST", "SalesOrders").is_empty() && world.requests_to("lnb", "POST", "/status").is_empty());
    assert_eq!(served.get("/runs").1["runs"], serde_json::json!([]));
}

#[test]
fn a_schedule_fires_on_the_engines_clock() {
    let world = default_world();
    world.connect();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let flow = orders_flow(&root);
    let text = std::fs::read_to_string(&flow).unwrap();
    let text = text.replace(
        r#"schedule: { cron: "*/15 7-19 * * 1-5", timezone: Europe/Amsterdam }"#,
        r#"schedule: { cron: "0 9 * * 1-5", timezone: Europe/Amsterdam }"#,
    );
    std::fs::write(&flow, text).unwrap();
    // Monday 5 January 2026, 08:59:57 in Amsterdam (07:59:57 UTC).
    let served = Served::start(&world, &root, &["--clock-start", "2026-01-05T07:59:57Z"], &[]);
    let (_, one) = served.get(&format!("/flows/{ORDERS}"));
    assert_eq!(one["schedule"], serde_json::json!({"cron": "0 9 * * 1-5", "timezone": "Europe/Amsterdam", "next": "2026-01-05T08:00:00Z"}));
    served.wait_for("the scheduled run", Duration::from_secs(10), || served.get(&format!("/flows/{ORDERS}")).1["last_run"]["ended_at_ms"].is_i64());
    let (_, one) = served.get(&format!("/flows/{ORDERS}"));
    assert_eq!(one["last_run"]["summary"]["sent"], 4, "{one}");
    assert_eq!(one["schedule"]["next"], "2026-01-06T08:00:00Z");
    let (_, metrics) = served.call("GET", "/metrics", Some(TOKEN), "");
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert!(metrics.contains(&format!("flowmap_runs_total{{flow=\"{ORDERS}\",origin=\"schedule\",status=\"completed\"}} 1\n")), "{metrics}");
    assert!(metrics.contains("flowmap_rate_limit_wait_seconds_total{connection=\"exact\"} "), "{metrics}");
    assert!(metrics.contains("flowmap_run_duration_seconds_count{flow=\"lnb-orders-to-exact\"} 1\n"), "{metrics}");
    // The invoices flow fired too (every 15 minutes from 07:00 Amsterdam). The customer adaptations
    // and send modes that extend the orders flow do not inherit its schedule: nothing else ran.
    let runs = served.get("/runs").1;
    let flows: Vec<&str> = runs["runs"].as_array().unwrap().iter().map(|r| r["flow"].as_str().unwrap()).collect();
    assert_eq!(flows.len(), 2, "{runs}");
    assert!(flows.contains(&ORDERS) && flows.contains(&"lnb-invoices-to-exact"), "{flows:?}");
    // Every order and invoice sent was created with one POST to Exact, answered 201.
    let sent: i64 = runs["runs"].as_array().unwrap().iter().map(|r| r["summary"]["sent"].as_i64().unwrap()).sum();
    assert!(metrics.contains(&format!("flowmap_api_calls_total{{connection=\"exact\",code=\"201\"}} {sent}\n")), "{sent}\n{metrics}");
}

/// A generated sandbox where runs take a while: 30 calls a sandbox minute on a clock 10 times
/// fast (a reset every 6 s real, about 5 orders a second); connected.
fn slow_world(generate: Generate) -> (World, Limits) {
    let limits = Limits { minutely: 30, daily: 5000, enabled: true };
    let world = World::start(SandboxConfig { generate: Some(generate), limits, clock_speed: 10.0, ..Default::default() }, "clock_speed: 10");
    world.connect();
    (world, limits)
}

#[test]
fn sigterm_during_a_run_loses_nothing() {
    let (world, limits) = slow_world(Generate { customers: 40, items: 80, orders: 150, lines: 2, seed: 11 });
    let (_dir, _, mut served) = serve_on_sunday(&world, &[]);
    let (status, answer) = served.post(&format!("/flows/{ORDERS}/runs"), "");
    assert_eq!(status, 202, "{answer}");
    served.wait_for("some orders to be sent", Duration::from_secs(30), || world.exact_orders_by_ref().len() >= 10);
    // A call whose body never comes: the shutdown does not wait for it for ever.
    let authority = served.url.trim_start_matches("http://").to_string();
    let mut half = std::net::TcpStream::connect(&authority).unwrap();
    // A whole call first, answered, so the engine has taken the connection …
    half.write_all(format!("GET /health HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") && std::io::Read::read(&mut half, &mut byte).unwrap() == 1 {
        answer.push(byte[0]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
    // … then one whose body stops short, given a moment to be read.
    let head =
        format!("POST /flows/{ORDERS}/preview HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 100\r\n\r\n{{");
    half.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let exit = served.terminate();
    assert!(exit.success(), "{exit:?}\n{}", served.log.lock().unwrap());
    let sent_before = world.exact_orders_by_ref().len();
    assert!(sent_before < 150, "the run should have been cut short: {sent_before} sent");
    let log = served.log.lock().unwrap().clone();
    assert!(log.contains("shutting down"), "{log}");
    // The call whose body never came was answered, not waited for.
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut half, &mut rest);
    assert!(rest.contains("HTTP/1.1 503 ") && rest.ends_with(r#"{"error":"the engine is shutting down"}"#), "{rest}");
    drop(half);

    // The next run (limits off now) sends the rest; every order exactly once, every LNB order Closed.
    world.sandbox.set_limits(Limits { enabled: false, ..limits });
    let rerun = world.flowmap(&["run", "mappings/lnb-exact/orders.flow.yaml"]);
    assert_eq!(rerun.code, 0, "{}{}", rerun.stdout, rerun.stderr);
    let orders = world.exact_orders_by_ref();
    assert_eq!(orders.len(), 150);
    assert!(orders.values().all(|n| *n == 1), "{orders:?}");
    assert!(world.lnb_statuses().values().all(|s| s == "Closed"));
    let runs = world.flowmap(&["runs"]);
    assert!(runs.stdout.contains("stopped"), "the cut run is recorded as stopped: {}", runs.stdout);
}

#[test]
fn a_signed_exact_webhook_starts_its_flow_and_anything_else_is_refused() {
    const SECRET: &str = "sandbox-webhook-secret";
    const CANCELLED: &str = "c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10";
    let world = default_world();
    world.connect();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let served = Served::start(&world, &root, &["--clock-start", SUNDAY, "--log-format", "json"], &[("FLOWMAP_WEBHOOK_SECRET", SECRET)]);
    let callback = format!("{}/webhooks/exact", served.url);
    let flow = root.join("mappings/exact-lnb/order-cancellations.flow.yaml");
    let subscribe = world.flowmap(&["--root", root.to_str().unwrap(), "subscribe", flow.to_str().unwrap(), "--callback", &callback]);
    assert_eq!(
        (subscribe.code, subscribe.stdout.as_str()),
        (0, format!("subscribed {callback} to exact topic SalesOrders (flow exact-order-cancellations-to-lnb)\n").as_str()),
        "{}",
        subscribe.stderr
    );
    assert_eq!(world.sandbox.webhook_subscriptions().len(), 1);

    // Exact tells that the cancelled order changed: the flow fetches it and cancels the LNB order.
    assert_eq!(world.sandbox.fire_webhook("SalesOrders", CANCELLED, "Update"), Ok(1));
    let delivery = world.sandbox.webhook_deliveries().into_iter().last().unwrap();
    assert_eq!(delivery.status, Some(202), "{delivery:?}\n{}", served.log.lock().unwrap());
    served.wait_for("LNB order 50007 to be cancelled", Duration::from_secs(10), || world.lnb_statuses()["50007"] == "Canceled");
    let fetched = world.requests_to("exact", "GET", &format!("SalesOrders(guid'{CANCELLED}')"));
    assert_eq!(fetched.len(), 1, "the run fetched the one order the event named");

    // Refused with 401 and nothing said: a wrong signature, a changed byte, no HashCode, not an envelope.
    let good = delivery.body.clone();
    let wrong_hash = format!("{}{}\"}}", &good[..good.len() - 66], "0".repeat(64));
    let changed = good.replacen("\"Action\":\"Update\"", "\"Action\":\"Updat3\"", 1);
    let no_hash = good[..good.find(",\"HashCode\"").unwrap()].to_string() + "}";
    for (what, body) in [("wrong signature", wrong_hash), ("changed byte", changed), ("no HashCode", no_hash), ("not JSON", "hello".to_string())] {
        assert_eq!(served.raw("POST", "/webhooks/exact", None, body.as_bytes()), (401, String::new()), "{what}");
    }
    // Correctly signed, but a topic no flow takes: a clear answer.
    let items = format!(
        r#"{{"Topic":"Items","ClientId":"x","Division":3012345,"Action":"Update","Key":"{CANCELLED}","ExactOnlineEndpoint":"x","EventCreatedOn":"2026-01-04T12:00:00"}}"#
    );
    assert_eq!(
        served.call("POST", "/webhooks/exact", None, &signed(&items, SECRET)),
        (422, serde_json::json!({"error": "no flow takes exact topic `Items`"}))
    );
    let (_, metrics) = served.call("GET", "/metrics", Some(TOKEN), "");
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    for line in [
        "flowmap_webhooks_total{system=\"exact\",result=\"validation\"} 1\n",
        "flowmap_webhooks_total{system=\"exact\",result=\"accepted\"} 1\n",
        "flowmap_webhooks_total{system=\"exact\",result=\"refused\"} 4\n",
        "flowmap_webhooks_total{system=\"exact\",result=\"unknown_topic\"} 1\n",
    ] {
        assert!(metrics.contains(line), "{line}{metrics}");
    }
    // The log: one JSON object per line, the secret and the API token in none of them.
    let log = served.log.lock().unwrap().clone();
    let events: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(events.iter().any(|e| e["message"] == "webhook accepted" && e["topic"] == "SalesOrders"), "{log}");
    assert!(events.iter().any(|e| e["message"] == "run finished" && e["flow"] == "exact-order-cancellations-to-lnb" && e["sent"] == 1), "{log}");
    assert!(!log.contains(SECRET) && !log.contains(TOKEN), "{log}");
}

#[test]
fn a_webhook_event_its_flow_cannot_run_now_waits_in_the_inbox_across_a_restart() {
    const SECRET: &str = "sandbox-webhook-secret";
    const CANCELLED: &str = "c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10";
    const FLOW: &str = "exact-order-cancellations-to-lnb";
    let world = default_world();
    world.connect();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    // Another process runs the flow (it holds the flow's lock beside the state file).
    let locks = world.dir.path().join("locks");
    std::fs::create_dir_all(&locks).unwrap();
    let lock = std::fs::File::create(locks.join(format!("{FLOW}.lock"))).unwrap();
    lock.try_lock().unwrap();

    let mut served = Served::start(&world, &root, &["--clock-start", SUNDAY], &[("FLOWMAP_WEBHOOK_SECRET", SECRET)]);
    let event = format!(
        r#"{{"Topic":"SalesOrders","ClientId":"x","Division":3012345,"Action":"Update","Key":"{CANCELLED}","ExactOnlineEndpoint":"x","EventCreatedOn":"2026-01-04T12:00:00"}}"#
    );
    let (status, answer) = served.call("POST", "/webhooks/exact", None, &signed(&event, SECRET));
    assert_eq!(
        (status, answer),
        (202, serde_json::json!({"started": [{"flow": FLOW, "waiting": format!("flow {FLOW} is already running in another process")}]}))
    );
    let (_, one) = served.get(&format!("/flows/{FLOW}"));
    assert_eq!(
        one["waiting"].as_array().map(|w| w.iter().map(|r| (r["key"].clone(), r["origin"].clone())).collect::<Vec<_>>()),
        Some(vec![(CANCELLED.into(), "exact SalesOrders Update".into())])
    );
    assert!(served.terminate().success());
    assert_eq!(world.lnb_statuses()["50007"], "Confirmed", "nothing ran yet");

    // The other process is done; the engine starts again and runs what waited.
    drop(lock);
    let served = Served::start(&world, &root, &["--clock-start", SUNDAY], &[("FLOWMAP_WEBHOOK_SECRET", SECRET)]);
    served.wait_for("LNB order 50007 to be cancelled", Duration::from_secs(10), || world.lnb_statuses()["50007"] == "Canceled");
    served.wait_for("the inbox to be empty", Duration::from_secs(10), || served.get(&format!("/flows/{FLOW}")).1["waiting"] == serde_json::json!([]));
    let runs = served.get(&format!("/flows/{FLOW}/runs")).1;
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(1), "{runs}");
    assert_eq!(runs["runs"][0]["summary"]["sent"], 1, "{runs}");
}

#[test]
fn webhooks_for_a_system_that_takes_none_are_not_found() {
    let world = default_world();
    let (_dir, _, served) = serve_on_sunday(&world, &[("FLOWMAP_WEBHOOK_SECRET", "s")]);
    assert_eq!(served.call("POST", "/webhooks/lnb", None, ""), (404, serde_json::json!({"error": "system `lnb` takes no webhooks"})));
    assert_eq!(served.call("POST", "/webhooks/nosuch", None, ""), (404, serde_json::json!({"error": "system `nosuch` takes no webhooks"})));
    assert_eq!(served.call("POST", "/webhooks/exact", None, "").0, 200, "Exact's subscription check");
    // Xero and QuickBooks take webhooks, but FLOWMAP_WEBHOOK_SECRET is Exact's alone and their
    // connections have none stored: refused, with no unsigned check to pass as Exact's.
    for system in ["xero", "qbo"] {
        assert_eq!(served.raw("POST", &format!("/webhooks/{system}"), None, b""), (401, String::new()), "{system}");
        assert_eq!(served.raw("POST", &format!("/webhooks/{system}"), None, b"[]"), (401, String::new()), "{system}");
    }
    let log = served.log.lock().unwrap().clone();
    assert!(log.contains("no webhook secret for this system; run \"flowmap connect xero --webhook-secret\""), "{log}");
}

fn flow_names(served: &Served) -> Vec<String> {
    served.get("/flows").1["flows"].as_array().map(|f| f.iter().filter_map(|f| f["name"].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[test]
fn flow_files_added_and_removed_while_serving_are_picked_up_and_editor_leftovers_are_not() {
    let world = default_world();
    let (dir, root, served) = serve_on_sunday(&world, &[]);
    let before = flow_names(&served);
    assert!(!before.contains(&"beta-orders".to_string()), "{before:?}");
    // Emacs marks a buffer with unsaved edits by a dangling symlink beside the file: not a system.
    #[cfg(unix)]
    std::os::unix::fs::symlink("user@host.4242:1700000000", root.join("mappings/systems/.#exact.yaml")).unwrap();

    // A new customer folder with one flow: the folder watch sees it.
    let beta = root.join("mappings/customers/beta");
    std::fs::create_dir_all(&beta).unwrap();
    let file = beta.join("orders.flow.yaml");
    std::fs::write(&file, "extends: ../../lnb-exact/orders.flow.yaml\nflow: beta-orders\n").unwrap();
    served.wait_for("the added flow", Duration::from_secs(5), || flow_names(&served).contains(&"beta-orders".to_string()));
    assert_eq!(flow_names(&served).len(), before.len() + 1);

    // A second file with the same flow name makes the set invalid: refused, with both files named.
    std::fs::write(beta.join("copy.flow.yaml"), "extends: ../../lnb-exact/orders.flow.yaml\nflow: beta-orders\n").unwrap();
    served.wait_for("the refused reload", Duration::from_secs(5), || !served.get("/flows").1["last_reload_error"].is_null());
    let text = served.get("/flows").1["last_reload_error"]["text"].as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("two flows are named `beta-orders`") && text.contains("copy.flow.yaml") && text.contains("beta/orders.flow.yaml"),
        "{text}"
    );
    std::fs::remove_file(beta.join("copy.flow.yaml")).unwrap();
    served.wait_for("the set to load again", Duration::from_secs(5), || served.get("/flows").1["last_reload_error"].is_null());

    // Removed: gone from the set.
    std::fs::remove_file(&file).unwrap();
    served.wait_for("the removed flow to go", Duration::from_secs(5), || !flow_names(&served).contains(&"beta-orders".to_string()));
    assert_eq!(flow_names(&served), before);

    // Back, then its folder moved out of the tree (the watcher sees only the old path): gone again.
    std::fs::write(&file, "extends: ../../lnb-exact/orders.flow.yaml\nflow: beta-orders\n").unwrap();
    served.wait_for("the flow to be back", Duration::from_secs(5), || flow_names(&served).contains(&"beta-orders".to_string()));
    std::fs::rename(&beta, dir.path().join("beta-archived")).unwrap();
    served.wait_for("the moved-out flow to go", Duration::from_secs(5), || !flow_names(&served).contains(&"beta-orders".to_string()));
    assert_eq!(flow_names(&served), before);

    // Swap files, backups and a vim probe file are not flow files: no reload at all.
    let reloads = |served: &Served| {
        let metrics = served.call("GET", "/metrics", Some(TOKEN), "").1.as_str().unwrap_or_default().to_string();
        metrics.lines().filter(|l| l.starts_with("flowmap_reloads_total")).map(str::to_string).collect::<Vec<_>>()
    };
    let counted = reloads(&served);
    let lnb = root.join("mappings/lnb-exact");
    for name in [".orders.flow.yaml.swp", "orders.flow.yaml~", "4913", "#orders.flow.yaml#"] {
        std::fs::write(lnb.join(name), "flow: [broken").unwrap();
    }
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(reloads(&served), counted);
    assert!(served.get("/flows").1["last_reload_error"].is_null());
}

#[test]
fn a_run_in_progress_finishes_on_the_version_it_started_with() {
    // 80 orders take at least two rate-limit resets: the edit lands while the run is going.
    let (world, _) = slow_world(Generate { customers: 20, items: 40, orders: 80, lines: 2, seed: 5 });
    let (_dir, root, served) = serve_on_sunday(&world, &[]);
    let v1 = version(&served);
    let (status, answer) = served.post(&format!("/flows/{ORDERS}/runs"), "");
    assert_eq!(status, 202, "{answer}");
    served.wait_for("some orders to be sent", Duration::from_secs(30), || world.exact_orders_by_ref().len() >= 3);

    let flow = orders_flow(&root);
    let text = std::fs::read_to_string(&flow).unwrap();
    save_by_rename(&flow, &text.replace(r#"YourRef: '"PO" ~ order.line.id'"#, r#"YourRef: '"NEW" ~ order.line.id'"#));
    served.wait_for("the edit to load", Duration::from_secs(5), || version(&served) != v1);
    let (_, one) = served.get(&format!("/flows/{ORDERS}"));
    assert_eq!(one["running"]["version"], v1.as_str(), "the run in progress keeps its version: {one}");

    let run = served.finished_run(ORDERS, answer["run"].as_i64().unwrap());
    println!("the run took {} ms", run["ended_at_ms"].as_i64().unwrap() - run["started_at_ms"].as_i64().unwrap());
    assert_eq!((run["version"].as_str(), run["status"].as_str(), run["summary"]["sent"].as_i64()), (Some(v1.as_str()), Some("completed"), Some(80)));
    let orders = world.exact_orders_by_ref();
    assert_eq!(orders.len(), 80);
    assert!(orders.keys().all(|r| r.starts_with("PO")), "every order of the run was mapped by the version it started with: {orders:?}");
}

#[test]
fn a_broken_flow_at_start_is_shown_as_check_shows_it_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let flow = orders_flow(&root);
    let text = std::fs::read_to_string(&flow).unwrap();
    std::fs::write(&flow, text.replace(r#"YourRef: '"PO" ~ order.line.id'"#, r#"YourRf: '"PO" ~ order.line.id'"#)).unwrap();
    let out = common::serve::serve_to_the_end(dir.path(), &root);
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()), (Some(1), ""));
    // The orders flow and the send modes that extend it each name the line once, for their own entity.
    let expected = ["SalesOrder", "SalesInvoice", "SalesEntry"]
        .map(|entity| {
            format!(
                "error: unknown field `YourRf` for Exact {entity}
  --> mappings/lnb-exact/orders.flow.yaml:59:3
   |
59 |   YourRf: '\"PO\" ~ order.line.id'
   |   ^^^^^^ did you mean `YourRef`?
   = help: the fields of Exact {entity} are listed in schemas/catalogue/exact.yaml

"
            )
        })
        .concat()
        + "error: the flows do not load; nothing was started\n";
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);
}

#[test]
fn a_records_history_and_a_replay_of_failed_records_through_the_api() {
    let world = default_world();
    world.connect();
    let (_dir, _, served) = serve_on_sunday(&world, &[]);
    let (status, answer) = served.post(&format!("/flows/{ORDERS}/runs"), r#"{"keys": ["50004"]}"#);
    assert_eq!(status, 202, "{answer}");
    served.finished_run(ORDERS, answer["run"].as_i64().unwrap());
    let (status, history) = served.get(&format!("/flows/{ORDERS}/records/50004"));
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["now"]["status"], "blocked");
    assert_eq!(history["now"]["reasons"], serde_json::json!(["Customer 99999 does not exist as an Account in Exact Online"]));
    let events: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["blocked", "written_back"]);
    assert_eq!(world.lnb_statuses()["50004"], "Blocked");

    // The customer is created in Exact; the blocked order is replayed from the journal (LNB no
    // longer lists it) and sent.
    let account = serde_json::json!({"ID": "0e6c7a34-3f5b-4c1e-9d2a-8b7f6e5d4c3b", "Code": "             99999", "Name": "Nouveau Client", "Status": "C", "IsSales": true});
    world.sandbox.add_exact_records("crm/Accounts", vec![account]).unwrap();
    let (status, answer) = served.post(&format!("/flows/{ORDERS}/replay"), r#"{"failed": true}"#);
    assert_eq!(status, 202, "{answer}");
    let run = served.finished_run(ORDERS, answer["run"].as_i64().unwrap());
    assert_eq!((run["mode"].as_str(), run["summary"]["sent"].as_i64()), (Some("replay"), Some(1)), "{run}");
    assert_eq!(world.exact_orders_by_ref().get("PO50004"), Some(&1));
    let (_, history) = served.get(&format!("/flows/{ORDERS}/records/50004"));
    assert_eq!(history["now"]["status"], "sent");
    assert_eq!(
        served.post(&format!("/flows/{ORDERS}/replay"), r#"{"failed": true}"#),
        (400, serde_json::json!({"error": "no failed, blocked or unknown records"}))
    );
    assert_eq!(
        served.post("/flows/lnb-orders-to-exakt/replay", r#"{"failed": true}"#),
        (404, serde_json::json!({"error": "no flow named `lnb-orders-to-exakt`; did you mean `lnb-orders-to-exact`?"}))
    );
    assert_eq!(
        served.post(&format!("/flows/{ORDERS}/replay"), r#"{"failed": true, "keys": ["50004"]}"#),
        (400, serde_json::json!({"error": "name `keys` or set `failed`, not both"}))
    );
    assert_eq!(
        served.get(&format!("/flows/{ORDERS}/records/77777")),
        (404, serde_json::json!({"error": format!("the journal has no record `77777` of flow {ORDERS}")}))
    );
}
