//! Live runs against the sandbox: the real binary, real HTTP over loopback,
//! a real SQLite state file.

mod common;

use common::live::*;
use pretty_assertions::assert_eq;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";
const INVOICES: &str = "mappings/lnb-exact/invoices.flow.yaml";

fn default_world() -> World {
    World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "")
}

#[test]
fn orders_and_invoices_run_live_end_to_end() {
    let world = default_world();
    world.connect();
    let run = world.flowmap(&["run", ORDERS]);
    assert_eq!(
        untimed(&run.stdout),
        "run 1 of lnb-orders-to-exact: completed in <t>
  7 fetched, 4 sent, 1 skipped, 2 blocked
  blocked 50004
    - Customer 99999 does not exist as an Account in Exact Online
  blocked 50005
    - Product BAG-XXL-RED does not exist as an Item in Exact Online
    - Line SWT-NVY-L has quantity 0; it must be more than 0
  API calls: exact 7, lnb 8; waited 0.0 s on rate limits"
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Every order in Invoicing ends Closed (sent or already there) or Blocked with every reason.
    let statuses = world.lnb_statuses();
    let expected: Vec<(&str, &str)> = vec![
        ("50001", "Closed"),
        ("50002", "Closed"),
        ("50003", "Closed"),
        ("50004", "Blocked"),
        ("50005", "Blocked"),
        ("50006", "Closed"),
        ("50007", "Confirmed"),
        ("50008", "Closed"),
    ];
    assert_eq!(statuses.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(), expected);
    let blocked = world.sandbox.lnb_orders().into_iter().find(|o| o["reference"] == "50005").unwrap();
    assert_eq!(
        blocked["status_reason"],
        "Product BAG-XXL-RED does not exist as an Item in Exact Online; Line SWT-NVY-L has quantity 0; it must be more than 0"
    );
    // Each new order once in Exact, with the payload the dry-run shows.
    let orders = world.exact_orders_by_ref();
    for r in ["PO50001", "PO50002", "PO50003", "PO50006", "PO50008"] {
        assert_eq!(orders.get(r), Some(&1), "{r}: {orders:?}");
    }
    // Look-ups asked with padded account codes and $select; writes with Prefer.
    let lookups = world.requests_to("exact", "GET", "crm/Accounts");
    let filter = lookups[0].query.iter().find(|(k, _)| k == "$filter").map(|(_, v)| v.clone()).unwrap();
    assert!(filter.contains("Code eq '             10023'"), "{filter}");
    assert!(lookups[0].query.iter().any(|(k, v)| k == "$select" && v == "ID,Code"), "{:?}", lookups[0].query);
    let post = &world.requests_to("exact", "POST", "salesorder/SalesOrders")[0];
    assert!(post.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("prefer") && v == "return=representation"));
    // A second run finds nothing left to do.
    let again = world.flowmap(&["run", ORDERS]);
    assert_eq!(
        untimed(&again.stdout),
        "run 2 of lnb-orders-to-exact: completed in <t>\n  no records\n  API calls: exact 0, lnb 1; waited 0.0 s on rate limits"
    );

    let invoices = world.flowmap(&["run", INVOICES]);
    assert_eq!(
        untimed(&invoices.stdout),
        "run 3 of lnb-invoices-to-exact: completed in <t>
  6 fetched, 3 sent, 1 skipped, 1 blocked, 1 ignored
  blocked INV-2025-0104
    - no entry for 7 in the table (known: 0, 9, 21) (lookup vat_code)
  API calls: exact 7, lnb 6; waited 0.0 s on rate limits"
    );
    let status: Vec<(String, String)> = world
        .sandbox
        .lnb_invoices()
        .iter()
        .map(|i| (i["reference_number"].as_str().unwrap().to_string(), i["integration_status"].as_str().unwrap_or("").to_string()))
        .collect();
    assert!(
        status.iter().filter(|(_, s)| s == "Success").count() == 5 && status.iter().any(|(r, s)| r == "INV-2025-0104" && s == "Blocked"),
        "{status:?}"
    );

    // The audit trail: runs, and one record's whole history.
    let runs = world.flowmap(&["runs"]);
    assert_eq!(runs.stdout.lines().count(), 3, "{}", runs.stdout);
    let show = world.flowmap(&["show", "lnb-orders-to-exact", "50001"]);
    let events: Vec<&str> =
        show.stdout.lines().skip(1).filter(|l| l.contains(" run 1 ")).map(|l| l.split_whitespace().nth(5).unwrap_or("")).collect();
    assert_eq!(events, ["sending", "sent", "written_back"], "{}", show.stdout);
    assert!(show.stdout.starts_with("lnb-orders-to-exact 50001: sent after 1 delivery attempt(s), target id "), "{}", show.stdout);
}

#[test]
fn the_target_refusing_a_payload_blocks_the_record_with_its_own_words() {
    let world = default_world();
    world.connect();
    // The sandbox refuses an order for an account that does not exist, as Exact does (500, Dutch).
    let run = world.flowmap(&["run", "tests/flows/live-unknown-account.flow.yaml"]);
    assert!(
        run.stdout
            .contains("  blocked 50001\n    - Exact Online refused POST salesorder/SalesOrders: Ongeldige referentie: Besteld door (HTTP 500)\n"),
        "{}",
        run.stdout
    );
    let order = world.sandbox.lnb_orders().into_iter().find(|o| o["reference"] == "50001").unwrap();
    assert_eq!(
        (order["status"].as_str(), order["status_reason"].as_str()),
        (Some("Blocked"), Some("Exact Online refused POST salesorder/SalesOrders: Ongeldige referentie: Besteld door (HTTP 500)"))
    );
}

#[test]
fn injection_shaped_keys_are_looked_up_literally() {
    let dir = tempfile::tempdir().unwrap();
    let order = |id: i64, retailer: &str| {
        serde_json::json!({"id": id, "reference": id.to_string(), "status": "Invoicing", "currency": "EUR",
            "retailer": {"reference": retailer, "name": "Test"}, "line": {"id": id, "name": "SS25", "preorder": false},
            "lines": [{"sku": "TSH-WHT-M", "name": "Tee", "quantity": 1, "unit_price": 19.95}]})
    };
    let fixtures = fixtures_with_orders(dir.path(), &[order(60001, "x' or '1' eq '1"), order(60002, "O'BRIEN")]);
    let world = World::start(SandboxConfig { fixtures: Some(fixtures), ..Default::default() }, "");
    world.connect();
    let run = world.flowmap(&["run", ORDERS]);
    assert!(run.stdout.contains("  blocked 60001\n    - Customer x' or '1' eq '1 does not exist as an Account in Exact Online\n"), "{}", run.stdout);
    assert_eq!(world.exact_orders_by_ref().get("PO60002"), Some(&1), "O'BRIEN is found by its escaped, padded code");
    let filters: Vec<String> = world
        .requests_to("exact", "GET", "crm/Accounts")
        .iter()
        .flat_map(|r| r.query.iter().filter(|(k, _)| k == "$filter").map(|(_, v)| v.clone()))
        .collect();
    assert!(filters.iter().any(|f| f.contains("Code eq '   x'' or ''1'' eq ''1'")), "{filters:?}");
    assert!(filters.iter().any(|f| f.contains("Code eq '           O''BRIEN'")), "{filters:?}");
}

#[test]
fn replay_of_a_key_runs_its_journaled_record_again_and_never_sends_twice() {
    let world = default_world();
    world.connect();
    let first = world.flowmap(&["run", ORDERS]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    // Someone creates the missing customer in Exact. 50004 is Blocked in LNB
    // now, so no source query returns it: replay takes it from the journal.
    let account = serde_json::json!({"ID": "0b6d0d0e-6c55-4bd4-8a1e-6a3b1d9c9e01", "Code": "             99999",
        "Name": "Mode Atelier Nova", "Status": "C", "IsSales": true, "Blocked": false, "Division": 3012345});
    world.sandbox.add_exact_records("crm/Accounts", vec![account]).unwrap();
    let replay = world.flowmap(&["replay", ORDERS, "--key", "50004", "--key", "50001"]);
    let sent_50001 = world.sandbox.exact_records("salesorder/SalesOrders").into_iter().find(|o| o["YourRef"] == "PO50001").unwrap();
    assert_eq!(
        untimed(&replay.stdout),
        format!(
            "replay 2 of lnb-orders-to-exact: completed in <t>
  1 sent, 1 skipped
  sent 50004
  skipped 50001: Exact already has sales order {} with YourRef PO50001
  API calls: exact 4, lnb 2; waited 0.0 s on rate limits",
            sent_50001["OrderNumber"]
        )
    );
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    let orders = world.exact_orders_by_ref();
    assert_eq!((orders.get("PO50004"), orders.get("PO50001")), (Some(&1), Some(&1)), "{orders:?}");
    assert_eq!(world.lnb_statuses()["50004"], "Closed");
    let show = world.flowmap(&["show", "lnb-orders-to-exact", "50004"]);
    let events: Vec<(&str, &str)> = show
        .stdout
        .lines()
        .filter(|l| l.contains(" UTC  run "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[4], w[5])
        })
        .collect();
    assert_eq!(events, [("1", "blocked"), ("1", "written_back"), ("2", "sending"), ("2", "sent"), ("2", "written_back")], "{}", show.stdout);

    let unknown = world.flowmap(&["replay", ORDERS, "--key", "77777"]);
    // After the flow's warning that WarehouseID is edition-only (tests/catalogue.rs).
    let error = unknown.stderr.rfind("error: ").map(|at| &unknown.stderr[at..]);
    assert_eq!(
        (unknown.code, error),
        (2, Some("error: the journal has no record `77777` of flow lnb-orders-to-exact; `flowmap show lnb-orders-to-exact KEY` shows what it has\n"))
    );
}

#[test]
fn exact_going_down_stops_the_run_and_loses_nothing() {
    let world = default_world();
    world.connect();
    let closed = format!("http://127.0.0.1:{}", free_port());
    world.point_exact_at(&closed, "retries: 1");
    let down = world.flowmap(&["run", ORDERS]);
    // Which of the three concurrent calls failed last varies; the rest is fixed.
    let text = untimed(&down.stdout);
    let (from, to) = (text.find("/api/v1/3012345/").unwrap() + 16, text.find(" failed twice").unwrap());
    assert_eq!(
        format!("{}<entity>{}", &text[..from], &text[to..]),
        format!(
            "run 1 of lnb-orders-to-exact: stopped in <t>
  stopped: connection `exact` is unavailable: 3 calls in a row got no usable answer (last: GET {closed}/api/v1/3012345/<entity> failed twice; last: could not connect: Connection refused (os error 111)); what is left waits for the next run
  7 fetched, 7 left for the next run
  API calls: exact 6, lnb 1; waited 0.0 s on rate limits"
        )
    );
    assert_eq!(down.code, 1);
    // Nothing was written back or journaled as done: the orders wait in Invoicing.
    assert_eq!(world.lnb_statuses().values().filter(|s| *s == "Invoicing").count(), 7);

    world.point_exact_at(&world.sandbox.exact_url(), "");
    let back = world.flowmap(&["run", ORDERS]);
    assert!(
        untimed(&back.stdout).starts_with("run 2 of lnb-orders-to-exact: completed in <t>\n  7 fetched, 4 sent, 1 skipped, 2 blocked\n"),
        "{}",
        back.stdout
    );
    // Replaying what was blocked asks again and, nothing having changed, blocks again.
    let replay = world.flowmap(&["replay", ORDERS, "--failed"]);
    assert_eq!(
        untimed(&replay.stdout),
        "replay 3 of lnb-orders-to-exact: completed in <t>
  2 blocked
  blocked 50004
    - Customer 99999 does not exist as an Account in Exact Online
  blocked 50005
    - Product BAG-XXL-RED does not exist as an Item in Exact Online
    - Line SWT-NVY-L has quantity 0; it must be more than 0
  API calls: exact 3, lnb 2; waited 0.0 s on rate limits"
    );
    let orders = world.exact_orders_by_ref();
    assert!(orders.values().all(|n| *n == 1), "{orders:?}");
}

#[test]
fn a_run_of_chosen_keys_fetches_and_sends_exactly_those() {
    let world = default_world();
    world.connect();
    world.sandbox.clear_requests();
    let run = world.flowmap(&["run", ORDERS, "--key", "50001", "--key", "50005", "--key", "../50002?x"]);
    assert_eq!(
        untimed(&run.stdout),
        "run 1 of lnb-orders-to-exact: completed in <t>
  2 fetched, 1 sent, 1 blocked, 1 failed
  sent 50001
  failed ../50002?x
    - the source has no record `../50002?x`
  blocked 50005
    - Product BAG-XXL-RED does not exist as an Item in Exact Online
    - Line SWT-NVY-L has quantity 0; it must be more than 0
  API calls: exact 4, lnb 5; waited 0.0 s on rate limits"
    );
    assert_eq!(run.code, 1, "a key the source does not have is a failure");
    // One GET per key, the odd one kept whole in its path segment; no listing.
    let gets: Vec<String> = world.requests_to("lnb", "GET", "").iter().map(|r| r.path.clone()).collect();
    assert_eq!(gets.len(), 3, "{gets:?}");
    assert!(gets.iter().all(|p| p.starts_with("/apis/wholesale/v2/orders/")), "{gets:?}");
    let statuses = world.lnb_statuses();
    assert_eq!((statuses["50001"].as_str(), statuses["50005"].as_str(), statuses["50002"].as_str()), ("Closed", "Blocked", "Invoicing"));
    let orders = world.exact_orders_by_ref();
    assert_eq!((orders.get("PO50001"), orders.get("PO50002")), (Some(&1), None));
}

/// Issue 9: an amount with more digits than a binary float holds is read
/// from the source's answer, sent to Exact and journaled digit for digit (a
/// float would make it 1234567890123456.8).
#[test]
fn long_amounts_are_sent_and_journaled_exactly() {
    let dir = tempfile::tempdir().unwrap();
    // Parsed from text: `json!` would make the amount a float first.
    let order: serde_json::Value = serde_json::from_str(
        r#"{"id": 60003, "reference": "60003", "status": "Invoicing", "currency": "EUR",
            "retailer": {"reference": "10023", "name": "Test"}, "line": {"id": 60003, "name": "SS25", "preorder": false},
            "lines": [{"sku": "TSH-WHT-M", "name": "Tee", "quantity": 1, "unit_price": 1234567890123456.78}]}"#,
    )
    .unwrap();
    let fixtures = fixtures_with_orders(dir.path(), &[order]);
    let world = World::start(SandboxConfig { fixtures: Some(fixtures), ..Default::default() }, "");
    world.connect();
    let run = world.flowmap(&["run", ORDERS, "--key", "60003"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let posts = world.requests_to("exact", "POST", "salesorder/SalesOrders");
    let sent = posts.iter().filter_map(|p| p.body.as_ref()).find(|b| b["YourRef"] == "PO60003").expect("PO60003 sent");
    assert_eq!(sent["SalesOrderLines"][0]["UnitPrice"].to_string(), "1234567890123456.78");
    let show = world.flowmap(&["show", "lnb-orders-to-exact", "60003"]);
    assert!(show.stdout.contains(r#""UnitPrice":1234567890123456.78"#), "{}", show.stdout);
}
