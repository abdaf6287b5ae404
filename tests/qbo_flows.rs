//! QuickBooks Online ⇄ Exact, live against the sandbox: the seed's flows sent as QuickBooks takes
//! them (realm from the consent, minorversion, query statements paged by STARTPOSITION, requestid,
//! sparse updates with SyncToken, a stale object read again), and the promises that hold under a
//! kill, injected faults and token expiry.

mod common;

use std::collections::BTreeMap;

use common::live::*;
use common::repo_root;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const ORDERS: &str = "mappings/qbo-exact/orders.flow.yaml";
const PRODUCTS: &str = "mappings/exact-qbo/products.flow.yaml";

fn world(config: SandboxConfig, tuning: &str) -> World {
    let world = World::start(config, "");
    world.consent("exact", "/api/oauth2/auth");
    world.connect_qbo(tuning);
    world
}

fn fixtures_world() -> World {
    world(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "")
}

/// QuickBooks items by SKU.
fn qbo_items(world: &World) -> BTreeMap<String, Vec<Value>> {
    let mut by = BTreeMap::<String, Vec<Value>>::new();
    for item in world.sandbox.qbo_records("Item") {
        if let Some(sku) = item["Sku"].as_str() {
            by.entry(sku.to_string()).or_default().push(item);
        }
    }
    by
}

#[test]
fn paid_quickbooks_invoices_become_exact_orders_once_as_quickbooks_answers_them() {
    let world = fixtures_world();
    let run = world.flowmap(&["run", ORDERS]);
    assert_eq!(
        untimed(&run.stdout),
        "run 1 of qbo-orders-to-exact: completed in <t>
  6 fetched, 3 sent, 1 skipped, 1 blocked, 1 ignored
  blocked 1003
    - Product CND-SOY-AMB (Soy candle amber) does not exist as an Item in Exact Online
  API calls: exact 6, qbo 3; waited 0.0 s on rate limits",
        "{}",
        run.stderr
    );

    let orders = world.exact_orders_by_ref();
    for sent in ["QB-1001", "QB-1004", "QB-1006"] {
        assert_eq!(orders.get(sent), Some(&1), "{orders:?}");
    }
    assert_eq!(orders.get("QB-1003"), None, "its product is not in Exact");
    // The bundle's items and the tote, each 10% off: Exact's total is QuickBooks' 156.78 before VAT.
    let order = world.sandbox.exact_records("salesorder/SalesOrders").into_iter().find(|o| o["YourRef"] == "QB-1006").unwrap();
    let lines = order["SalesOrderLines"]["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(lines.iter().map(|l| l["Discount"].as_f64().unwrap_or_default()).collect::<Vec<_>>(), vec![0.1, 0.1, 0.1]);

    // Every QuickBooks call named the company the consent gave, and minor version 75; lists
    // were statements on the query endpoint, paged.
    let realm = world.sandbox.qbo_realm();
    let calls: Vec<RecordedRequest> = world.sandbox.requests().into_iter().filter(|r| r.system == "qbo" && r.path.contains("/v3/company/")).collect();
    assert!(!calls.is_empty());
    for call in &calls {
        assert!(call.path.starts_with(&format!("/v3/company/{realm}/")), "{call:?}");
        assert!(call.query.contains(&("minorversion".into(), "75".into())), "{call:?}");
    }
    let listing = calls.iter().find(|c| c.query.iter().any(|(k, v)| k == "query" && v.starts_with("select * from Invoice"))).unwrap();
    assert!(listing.query.iter().any(|(_, v)| v == "select * from Invoice STARTPOSITION 1 MAXRESULTS 1000"), "{listing:?}");

    world.sandbox.clear_requests();
    let again = world.flowmap(&["run", ORDERS]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(world.requests_to("exact", "POST", "SalesOrders").len(), 0);
}

#[test]
fn once_a_run_has_a_recent_watermark_only_what_changed_is_asked_of_change_data_capture() {
    let world = fixtures_world();
    // An invoice saved in QuickBooks now: the first run's newest change is recent.
    world.sandbox.edit_qbo_record("Invoice", "130", serde_json::Map::from_iter([("PrivateNote".to_string(), json!("checked"))])).unwrap();
    let first = world.flowmap(&["run", ORDERS]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(untimed(&first.stdout).contains("  6 fetched, 3 sent, 1 skipped, 1 blocked, 1 ignored\n"), "{}", first.stdout);

    // A new paid invoice: the next run asks the feed for what changed since, and takes just that
    // (and the invoice saved at the watermark, which Exact has already).
    world.sandbox.clear_requests();
    let mut new = common::invoices::qbo_invoices(1);
    // Saved now: QuickBooks stamps its own MetaData.
    new[0].as_object_mut().unwrap().remove("MetaData");
    world.sandbox.add_qbo_records("Invoice", new).unwrap();
    let second = world.flowmap(&["run", ORDERS]);
    assert!(untimed(&second.stdout).contains("  2 fetched, 1 sent, 1 skipped\n"), "{}{}", second.stdout, second.stderr);
    assert_eq!(world.exact_orders_by_ref().get("QB-70000"), Some(&1));
    let asked: Vec<RecordedRequest> = world.sandbox.requests().into_iter().filter(|r| r.system == "qbo" && r.path.contains("/v3/company/")).collect();
    let feed: Vec<&RecordedRequest> = asked.iter().filter(|r| r.path.ends_with("/cdc")).collect();
    assert_eq!(feed.len(), 1, "{asked:?}");
    assert!(feed[0].query.contains(&("entities".into(), "Invoice".into())), "{:?}", feed[0]);
    assert!(feed[0].query.iter().any(|(k, v)| k == "changedSince" && v.ends_with('Z')), "{:?}", feed[0]);
    assert!(!asked.iter().any(|r| r.query.iter().any(|(_, v)| v.starts_with("select * from Invoice"))), "the whole listing was asked: {asked:?}");
}

#[test]
fn exact_items_become_quickbooks_items_created_or_updated_by_sku() {
    let world = fixtures_world();
    let before = qbo_items(&world);
    let run = world.flowmap(&["run", PRODUCTS]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let items = qbo_items(&world);
    // Every Exact sales item is in QuickBooks once, under its SKU.
    for item in world.sandbox.exact_records("logistics/Items").iter().filter(|i| i["IsSalesItem"] == true) {
        let code = item["Code"].as_str().unwrap();
        assert_eq!(items.get(code).map(Vec::len), Some(1), "{code}\n{}{}", run.stdout, run.stderr);
    }
    // A known SKU was updated sparsely: its QuickBooks description (enriched there) stayed.
    let tee = &items["TSH-WHT-M"][0];
    assert_eq!(tee["Description"], before["TSH-WHT-M"][0]["Description"]);
    assert_ne!(tee["SyncToken"], before["TSH-WHT-M"][0]["SyncToken"]);
    // The Exact item group Apparel became one category, the items under it.
    let categories: Vec<Value> =
        world.sandbox.qbo_records("Item").into_iter().filter(|i| i["Type"] == "Category" && i["Name"] == "Apparel").collect();
    assert_eq!(categories.len(), 1, "{categories:?}");
    assert_eq!(tee["ParentRef"]["value"], categories[0]["Id"]);
    // Every write carried a requestid.
    let writes = world.requests_to("qbo", "POST", "/item");
    assert!(!writes.is_empty());
    assert!(writes.iter().all(|w| w.query.iter().any(|(k, v)| k == "requestid" && v.len() == 36)), "{writes:?}");

    // Nothing changed: nothing is sent again.
    world.sandbox.clear_requests();
    let again = world.flowmap(&["run", PRODUCTS]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(world.requests_to("qbo", "POST", "/item").len(), 0);
}

#[test]
fn an_update_of_an_item_saved_meanwhile_in_quickbooks_reads_it_again_and_goes_once_more() {
    let world = fixtures_world();
    let project = flowmap::project::Project::load(&repo_root()).unwrap_or_else(|_| panic!("the project loads"));
    let loaded = flowmap::load::load_flow(&repo_root().join(PRODUCTS)).unwrap_or_else(|p| panic!("{p:?}"));
    let (flow, _) = flowmap::compile::compile_flow(&project, &loaded).unwrap_or_else(|p| panic!("{p:?}"));
    let state = std::sync::Arc::new(flowmap_state::State::open(&world.state).unwrap());
    let vault = std::sync::Arc::new(flowmap_state::Vault::load_from(None, &world.path("key"), false).unwrap());
    let registry = std::sync::Arc::new(
        flowmap::http::Registry::load(&project, &world.connections, state, Ok(vault)).unwrap_or_else(|_| panic!("connections load")),
    );
    // The tee as the existence check read it; then someone saves it in QuickBooks.
    let tee = world.sandbox.qbo_records("Item").into_iter().find(|i| i["Sku"] == "TSH-WHT-M").unwrap();
    let id = tee["Id"].as_str().unwrap().to_string();
    world.sandbox.edit_qbo_record("Item", &id, serde_json::Map::from_iter([("PurchaseDesc".to_string(), json!("Reordered"))])).unwrap();
    let found = flowmap::value::from_json(&tee);
    let payload = flowmap::value::from_json(&json!({"Name": "Organic cotton tee white M", "Sku": "TSH-WHT-M", "UnitPrice": 21.5}));
    let request = flowmap::deliver::update(&flow.target, &id, payload, &found, &["exact-products-to-qbo", "e53fcc59"]);
    let target = flowmap::deliver::HttpTarget { project: &project, registry, target: &flow.target };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let delivered = rt.block_on(flowmap::deliver::Target::deliver(&target, &request, Some(&found))).expect("delivered after reading it again");
    assert_eq!(delivered.answer["UnitPrice"], json!(21.5));
    let now = world.sandbox.qbo_records("Item").into_iter().find(|i| i["Id"] == id.as_str()).unwrap();
    assert_eq!((now["UnitPrice"].as_f64(), now["PurchaseDesc"].as_str()), (Some(21.5), Some("Reordered")));
    let answered: Vec<u16> = world.requests_to("qbo", "POST", "/item").iter().map(|r| r.status).collect();
    assert_eq!(answered, vec![400, 200], "a stale update, then the same with the SyncToken read again");
}

fn generated_counts(world: &World, n: usize) -> BTreeMap<String, usize> {
    let by = world.exact_orders_by_ref();
    (0..n).map(|i| format!("QB-7{i:04}")).map(|k| (k.clone(), by.get(&k).copied().unwrap_or(0))).collect()
}

#[test]
fn a_run_killed_midway_then_run_again_sends_every_invoice_once() {
    let n = 150;
    let world = world(SandboxConfig { fixtures: Some(fixtures()), clock_speed: 40.0, ..Default::default() }, "clock_speed: 40");
    world.sandbox.add_qbo_records("Invoice", common::invoices::qbo_invoices(n)).unwrap();
    world.run_killed_when(ORDERS, |world| world.requests_to("exact", "POST", "SalesOrders").len() >= 30);
    let after_kill = generated_counts(&world, n);
    assert!(after_kill.values().any(|&k| k == 0), "killed before the end");
    assert!(after_kill.values().all(|&k| k <= 1), "{after_kill:?}");
    let again = world.flowmap(&["run", ORDERS]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let counts = generated_counts(&world, n);
    assert!(counts.values().all(|&k| k == 1), "{counts:?}");
}

#[test]
fn with_a_fifth_of_quickbooks_calls_failing_every_item_goes_once() {
    let world = world(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "timeout_seconds: 0.5\nretries: 8");
    let faults = Faults {
        rate: 0.2,
        kinds: vec![FaultKind::TooManyRequests, FaultKind::ServiceUnavailable, FaultKind::Timeout, FaultKind::DropAfterWrite],
        seed: 9,
        hang_ms: 3000,
    };
    world.sandbox.set_faults_of("qbo", faults).unwrap();
    // Runs again until one settles everything, as an operator's schedule would.
    for _ in 0..6 {
        let run = world.flowmap(&["run", PRODUCTS]);
        if run.code == 0 && !run.stdout.contains(" failed") && !run.stdout.contains(" unknown") {
            break;
        }
    }
    let items = qbo_items(&world);
    assert!(items.values().all(|list| list.len() == 1), "{:?}", items.iter().filter(|(_, l)| l.len() > 1).collect::<Vec<_>>());
    let categories = world.sandbox.qbo_records("Item").into_iter().filter(|i| i["Type"] == "Category" && i["Name"] == "Apparel").count();
    assert_eq!(categories, 1);
    let hit: Vec<String> = world.sandbox.requests().iter().filter(|r| r.system == "qbo").filter_map(|r| r.fault.clone()).collect();
    assert!(hit.iter().any(|f| f == "drop_after_write"), "no answer was lost: {hit:?}");
    assert!(world.sandbox.qbo_replays() > 0, "no lost answer was repeated");
}

#[test]
fn fifty_concurrent_quickbooks_calls_across_an_expiry_refresh_once() {
    let world = world(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "concurrency: 50");
    // Access tokens live 3,600 s.
    let query = [("query".to_string(), "select * from Term".to_string())];
    assert_eq!(world.fifty_calls_across_an_expiry("qbo", "query", &query, 3601), 1);
}

#[test]
fn the_other_quickbooks_flows_run_live_too() {
    let world = fixtures_world();
    let expect = [
        (
            "mappings/qbo-exact/sales-receipts.flow.yaml",
            "run 1 of qbo-sales-receipts-to-exact: completed in <t>\n  2 fetched, 2 sent\n  API calls: exact 5, qbo 2; waited 0.0 s on rate limits",
        ),
        (
            "mappings/qbo-exact/customers.flow.yaml",
            "run 2 of qbo-customers-to-exact: completed in <t>
  5 fetched, 4 sent, 1 blocked
  blocked 62
    - Customer 62 (Marco Bakker) has no e-mail address to match an Exact account on
  API calls: exact 6, qbo 1; waited 0.0 s on rate limits",
        ),
        // The category and the bundle are not items; the gift wrapping has no SKU.
        (
            "mappings/qbo-exact/products.flow.yaml",
            "run 3 of qbo-products-to-exact: completed in <t>
  15 fetched, 12 sent, 1 blocked, 2 ignored
  blocked 24
    - Item 24 (Gift wrapping) has no SKU to match an Exact item code on
  API calls: exact 14, qbo 1; waited 0.0 s on rate limits",
        ),
    ];
    for (flow, summary) in expect {
        let run = world.flowmap(&["run", flow]);
        assert_eq!(untimed(&run.stdout), summary, "{}", run.stderr);
    }
    assert_eq!(world.exact_orders_by_ref().get("QB-2001"), Some(&1));
}
