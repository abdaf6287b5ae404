//! The webhook inbox and the triggers cannot be poisoned: keys are bounded and
//! of their source's shape on every way in (API, webhooks, command line); a
//! key the source refuses becomes a dead letter an operator can see, retry or
//! drop, never an endless retry; an event received again starts nothing.
//! Through the real binary against the sandbox.

mod common;

use std::path::Path;
use std::time::Duration;

use common::live::*;
use common::serve::*;
use pretty_assertions::assert_eq;
use serde_json::json;

const SECRET: &str = "sandbox-webhook-secret";
const CANCELLATIONS: &str = "exact-order-cancellations-to-lnb";
/// The sales order cancelled in the sandbox's fixtures (its YourRef is LNB order 50007).
const CANCELLED: &str = "c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10";
/// A Sunday: the shipped weekday schedules do not fire while a test runs.
const SUNDAY: &str = "2026-01-04T12:00:00Z";

fn world() -> World {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    world
}

fn serve(world: &World, root: &Path) -> Served {
    Served::start(world, root, &["--clock-start", SUNDAY], &[("FLOWMAP_WEBHOOK_SECRET", SECRET)])
}

fn cancellations_flow(root: &Path) -> String {
    root.join("mappings/exact-lnb/order-cancellations.flow.yaml").display().to_string()
}

fn subscribe(world: &World, root: &Path, served: &Served) {
    let callback = format!("{}/webhooks/exact", served.url);
    let done = world.flowmap(&["--root", root.to_str().unwrap(), "subscribe", &cancellations_flow(root), "--callback", &callback]);
    assert_eq!(done.code, 0, "{}{}", done.stdout, done.stderr);
}

fn runs_of(served: &Served, flow: &str) -> Vec<serde_json::Value> {
    served.get(&format!("/flows/{flow}/runs")).1["runs"].as_array().cloned().unwrap_or_default()
}

#[test]
fn keys_too_long_too_many_or_not_of_the_sources_shape_are_refused_on_every_way_in() {
    let world = world();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let served = serve(&world, &root);
    subscribe(&world, &root, &served);
    let long = "a".repeat(300);
    let shown_long = format!("{}… (300 bytes)", "a".repeat(40));
    let too_long = format!("key `{shown_long}` is 300 bytes long; a key is at most 256 bytes");
    let not_guid = |k: &str| format!("key `{k}` is not a guid (a GUID such as c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10)");

    // The API: runs, replays and previews of chosen keys.
    let runs = format!("/flows/{CANCELLATIONS}/runs");
    let replay = format!("/flows/{CANCELLATIONS}/replay");
    let preview = format!("/flows/{CANCELLATIONS}/preview");
    for path in [&runs, &replay, &preview] {
        assert_eq!(served.post(path, &json!({"keys": [&long]}).to_string()), (400, json!({"error": too_long})), "{path}");
        for refused in ["../../etc", "x') or (1 eq 1"] {
            assert_eq!(served.post(path, &json!({"keys": [refused]}).to_string()), (400, json!({"error": not_guid(refused)})), "{path}");
        }
    }
    let many: Vec<String> = (0..1001).map(|i| format!("{i}")).collect();
    assert_eq!(
        served.post("/flows/lnb-orders-to-exact/runs", &json!({"keys": many}).to_string()),
        (400, json!({"error": "1001 keys; at most 1000 in one request"}))
    );
    assert_eq!(
        served.post("/flows/lnb-orders-to-exact/runs", &json!({"keys": ["50001\nINFO forged line"]}).to_string()),
        (400, json!({"error": "key `50001\\nINFO forged line` has a control character"}))
    );
    // A key of a megabyte is not read at all.
    let huge = json!({"keys": ["b".repeat(1 << 20)]}).to_string();
    assert_eq!(served.post(&runs, &huge), (413, json!({"error": "the body is larger than 524288 bytes"})));

    // Webhooks, signed by the sandbox's Exact: refused before they are kept.
    for (key, status) in [("x') or (1 eq 1", 400), ("../../etc", 400), (long.as_str(), 400), (&"c".repeat(1 << 20), 413)] {
        assert_eq!(world.sandbox.fire_webhook("SalesOrders", key, "Update"), Ok(1));
        let delivery = world.sandbox.webhook_deliveries().into_iter().last().unwrap();
        assert_eq!(delivery.status, Some(status), "{}", &key[..key.len().min(40)]);
    }
    let (_, body) = served.raw(
        "POST",
        "/webhooks/exact",
        None,
        signed(&exact_event("SalesOrders", "../../etc", "Update", "2026-01-04T12:00:00"), SECRET).as_bytes(),
    );
    assert_eq!(body, json!({"error": not_guid("../../etc")}).to_string(), "the reason is told");

    // The command line.
    let cli = world.flowmap(&["--root", root.to_str().unwrap(), "run", &cancellations_flow(&root), "--key", "../../etc"]);
    assert_eq!((cli.code, cli.stderr.as_str()), (2, format!("error: {}\n", not_guid("../../etc")).as_str()));

    // Nothing was kept, run or asked.
    assert_eq!(served.get("/inbox").1, json!({"waiting": 0, "dead": 0, "records": []}));
    assert_eq!(served.get("/runs").1, json!({"runs": []}));
    assert_eq!(world.requests_to("exact", "GET", "SalesOrders(").len(), 0);
}

#[test]
fn a_key_the_source_refuses_is_a_dead_letter_an_operator_can_see_retry_or_drop() {
    let world = world();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    // Without the GUID shape in YAML, a bad key reaches Exact, which answers 400: the inbox must still not retry it for ever.
    for file in ["mappings/systems/exact.yaml", "mappings/exact-lnb/order-cancellations.flow.yaml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        std::fs::write(root.join(file), text.replace(", key_shape: guid", "").replace("  key_shape: guid\n", "")).unwrap();
    }
    let served = serve(&world, &root);
    let unknown = "00000000-0000-4000-8000-000000000001";
    for (key, at) in [("../../etc", "2026-01-04T12:00:00"), (unknown, "2026-01-04T12:00:01")] {
        let (status, _) = served.raw("POST", "/webhooks/exact", None, signed(&exact_event("SalesOrders", key, "Update", at), SECRET).as_bytes());
        assert_eq!(status, 202, "{key}");
    }
    served.wait_for("two dead letters", Duration::from_secs(20), || served.get("/inbox").1["dead"] == 2);
    let (_, inbox) = served.get("/inbox");
    let records: Vec<(String, String, i64, String)> = inbox["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
                r["attempts"].as_i64().unwrap(),
                r["last_error"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        records,
        vec![
            ("../../etc".into(), "dead".into(), 1, "exact refused to give `../../etc`: Bad Request - Error in query syntax. (HTTP 400)".into()),
            (unknown.into(), "dead".into(), 1, format!("the source has no record `{unknown}`")),
        ]
    );
    let (_, flow) = served.get(&format!("/flows/{CANCELLATIONS}"));
    assert_eq!((flow["waiting"].clone(), flow["dead_letters"].clone()), (json!([]), json!(2)));
    let metrics = served.get("/metrics").1.as_str().unwrap_or_default().to_string();
    assert!(metrics.contains(&format!("flowmap_inbox_records{{flow=\"{CANCELLATIONS}\",status=\"dead\"}} 2\n")), "{metrics}");
    assert!(metrics.contains(&format!("flowmap_inbox_dead_letters_total{{flow=\"{CANCELLATIONS}\"}} 2\n")), "{metrics}");
    assert_eq!(runs_of(&served, CANCELLATIONS).len(), 2, "one run per event, none after");

    // An operator retries one: it runs at once, and is given up again with the same reason.
    let retry = served.post(&format!("/inbox/{CANCELLATIONS}/{unknown}/retry"), "");
    assert_eq!(retry, (202, json!({"flow": CANCELLATIONS, "key": unknown, "status": "waiting"})));
    served.wait_for("the retried record's run", Duration::from_secs(20), || runs_of(&served, CANCELLATIONS).len() == 3);
    served.wait_for("it to be dead again", Duration::from_secs(20), || served.get("/inbox").1["dead"] == 2);
    // … and drops them: one by one, or every dead letter of the flow.
    let drop_one = served.call("DELETE", &format!("/inbox/{CANCELLATIONS}/{unknown}"), Some(TOKEN), "");
    assert_eq!(drop_one, (200, json!({"dropped": 1})));
    assert_eq!(served.call("DELETE", &format!("/inbox/{CANCELLATIONS}/{unknown}"), Some(TOKEN), "").0, 404);
    assert_eq!(
        served.call("DELETE", &format!("/inbox/{CANCELLATIONS}"), Some(TOKEN), ""),
        (400, json!({"error": "only dead letters are dropped together: add ?status=dead"}))
    );
    assert_eq!(served.call("DELETE", &format!("/inbox/{CANCELLATIONS}?status=dead"), Some(TOKEN), ""), (200, json!({"dropped": 1})));
    assert_eq!(served.get("/inbox").1, json!({"waiting": 0, "dead": 0, "records": []}));
    // Like the rest of the API, the inbox asks for the token.
    assert_eq!(served.call("GET", "/inbox", None, "").0, 401);
    assert_eq!(served.call("DELETE", &format!("/inbox/{CANCELLATIONS}?status=dead"), None, "").0, 401);
}

#[test]
fn poisoned_records_left_in_the_inbox_by_an_older_flowmap_are_given_up_unasked_and_shown_cut() {
    let world = world();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let huge = "a".repeat(1 << 20);
    {
        let state = flowmap_state::State::open(&world.state).unwrap();
        for key in [huge.as_str(), "../../etc", "x') or (1 eq 1"] {
            state.put_inbox(CANCELLATIONS, key, "exact SalesOrders Update").unwrap();
        }
    }
    let served = serve(&world, &root);
    served.wait_for("three dead letters", Duration::from_secs(10), || served.get("/inbox").1["dead"] == 3);
    let (_, inbox) = served.get("/inbox?status=dead&limit=1");
    let cut = format!("{}… (1048576 bytes)", "a".repeat(40));
    assert_eq!(inbox["records"][0]["key"], json!(cut));
    assert_eq!(inbox["records"][0]["key_bytes"], json!(1 << 20));
    assert_eq!(inbox["records"][0]["last_error"], json!(format!("key `{cut}` is 1048576 bytes long; a key is at most 256 bytes")));
    assert_eq!(inbox["records"].as_array().map(Vec::len), Some(1), "limit");
    let text = serde_json::to_string(&served.get("/inbox").1).unwrap();
    assert!(text.len() < 4096, "no answer carries the key whole: {} bytes", text.len());
    served.wait_for("the dead letters in the log", Duration::from_secs(5), || served.log.lock().unwrap().matches("a dead letter").count() == 3);
    assert!(!served.log.lock().unwrap().contains(&"a".repeat(100)), "nor does the log");
    assert_eq!(served.get("/runs").1, json!({"runs": []}), "nothing was run");
    assert_eq!(world.requests_to("exact", "GET", "SalesOrders(").len(), 0, "Exact was not asked");
    assert_eq!(served.call("DELETE", &format!("/inbox/{CANCELLATIONS}?status=dead"), Some(TOKEN), ""), (200, json!({"dropped": 3})));
}

#[test]
fn an_event_received_again_is_acknowledged_without_a_run_even_after_a_restart() {
    let world = world();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let mut served = serve(&world, &root);
    subscribe(&world, &root, &served);
    assert_eq!(world.sandbox.fire_webhook("SalesOrders", CANCELLED, "Update"), Ok(1));
    let delivery = world.sandbox.webhook_deliveries().into_iter().last().unwrap();
    assert_eq!(delivery.status, Some(202));
    served.wait_for("LNB order 50007 to be cancelled", Duration::from_secs(10), || world.lnb_statuses()["50007"] == "Canceled");
    served.wait_for("the inbox to be empty", Duration::from_secs(10), || served.get("/inbox").1["waiting"] == 0);

    // The same signed body, twice more (a sender's retry, or a replay by someone who captured it).
    for _ in 0..2 {
        let (status, answer) = served.call("POST", "/webhooks/exact", None, &delivery.body);
        assert_eq!((status, answer["duplicate"].clone()), (200, json!(true)), "{answer}");
    }
    // Across a restart too: the events are remembered in the state file.
    assert!(served.terminate().success());
    let served = serve(&world, &root);
    let (status, _) = served.call("POST", "/webhooks/exact", None, &delivery.body);
    assert_eq!(status, 200);
    assert_eq!(runs_of(&served, CANCELLATIONS).len(), 1, "one run for one event");
    let cancels = world.requests_to("lnb", "POST", "/orders/status");
    assert_eq!(cancels.len(), 1, "LNB was told Canceled once: {cancels:?}");
    let metrics = served.get("/metrics").1.as_str().unwrap_or_default().to_string();
    assert!(metrics.contains("flowmap_webhooks_total{system=\"exact\",result=\"duplicate\"} 1\n"), "{metrics}");

    // A new event for the same record (raised later) is a new event.
    let (status, _) = served.raw(
        "POST",
        "/webhooks/exact",
        None,
        signed(&exact_event("SalesOrders", CANCELLED, "Update", "2026-01-04T13:00:00"), SECRET).as_bytes(),
    );
    assert_eq!(status, 202);
    served.wait_for("the second event's run", Duration::from_secs(10), || runs_of(&served, CANCELLATIONS).len() == 2);
}
