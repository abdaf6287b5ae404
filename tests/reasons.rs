//! A configuration error never becomes a record's block reason: a mistake in
//! the flow (a setting left empty, a look-up query the target refuses as
//! malformed) stops the run with its place in the flow, and nothing is
//! written back; a problem with a record's own data still blocks that record
//! and is written back as Blocked. Dry-runs, flow tests and live runs against
//! the sandbox (which logs every request).

mod common;

use common::live::*;
use common::{flowmap, flowmap_in};
use pretty_assertions::assert_eq;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";
/// The orders flow with `settings.warehouse.in_stock: ""`: the rule `warehouses_configured` fails for every order.
const UNSET: &str = "tests/flows/live-unset-warehouse.flow.yaml";

const HELP: &str =
    "a mistake in the flow, not in the record: no record is reported blocked for it, and a live run stops here and writes nothing back";

fn without_version(text: &str) -> String {
    match text.find("version ") {
        Some(i) => format!("{}version <hash>{}", &text[..i], &text[i + 8 + 16..]),
        None => text.to_string(),
    }
}

#[test]
fn a_dry_run_shows_a_configuration_error_once_where_it_is_not_as_blocked_records() {
    let run = flowmap(&["dry-run", UNSET]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        without_version(&run.stdout),
        "dry-run of live-unset-warehouse (tests/flows/live-unset-warehouse.flow.yaml, version <hash>)

✘ stopped at record 50001 (#1): a mistake in the flow, not in the record
"
    );
    assert_eq!(
        common::past_warnings(&run.stderr),
        format!(
            "error: configuration error: Configure settings.warehouse.preorder and settings.warehouse.in_stock (Exact warehouse IDs)
  --> mappings/lnb-exact/orders.flow.yaml:78:3
   |
78 |   warehouses_configured:
   |   ^^^^^^^^^^^^^^^^^^^^^
   = help: {HELP}

"
        )
    );
    let json = flowmap(&["dry-run", UNSET, "--format", "json"]);
    assert_eq!(json.code, 1);
    assert_eq!(
        json.stdout,
        r#"{"stopped":{"configuration_error":"Configure settings.warehouse.preorder and settings.warehouse.in_stock (Exact warehouse IDs)","at":"mappings/lnb-exact/orders.flow.yaml:78:3","record":{"position":1,"key":"50001"}}}
"#
    );
}

/// The issue's own case: a mistyped setting in the orders flow (which blocked
/// every order and wrote "Blocked" back to LNB) no longer reaches a record:
/// the flow is refused when it loads, at the mistyped part, and no record runs.
#[test]
fn a_mistyped_setting_is_refused_before_any_record_runs() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("typo.flow.yaml");
    let base = common::repo_root().join(ORDERS);
    std::fs::write(
        &flow,
        format!(
            "extends: {}\nflow: typo\nmapping:\n  WarehouseID: settings.warehouse.preorder if order.line.preorder else settings.warehouse.instock\n",
            base.display()
        ),
    )
    .unwrap();
    let input = dir.path().join("orders.json");
    let order = |reference: &str, preorder: bool| {
        serde_json::json!({"id": 1, "reference": reference, "status": "Invoicing", "currency": "EUR",
            "retailer": {"reference": "10023"}, "line": {"id": reference, "preorder": preorder},
            "lines": [{"sku": "TSH-WHT-M", "quantity": 1, "unit_price": 19.95}]})
    };
    std::fs::write(&input, serde_json::json!([order("1", true), order("2", false), order("3", false)]).to_string()).unwrap();
    let run = flowmap(&["dry-run", flow.to_str().unwrap(), "--input", input.to_str().unwrap(), "--root", common::repo_root().to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""), "{}", run.stderr);
    let errors = common::past_warnings(&run.stderr);
    assert!(
        errors.starts_with(&format!(
            "error: unknown setting `warehouse.instock`\n --> {}:4:91\n  |\n4 |   WarehouseID: settings.warehouse.preorder if order.line.preorder else settings.warehouse.instock\n  |                                                                                           ^^^^^^^ did you mean `in_stock`?\n",
            flow.display()
        )),
        "{errors}"
    );
}

/// The other side: a settings table without an entry for this record's value
/// is the record's (a new currency, a new VAT code): other records go on, this
/// one is blocked with the value named and written back as Blocked.
#[test]
fn a_settings_table_without_the_records_value_blocks_that_record() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.flow.yaml"),
        format!(
            "extends: {}\nflow: table\nsettings:\n  notes: {{ USD: Dollar order }}\n  codes: {{ USD: \"1\" }}\nmapping:\n  \
             Description: settings.notes[order.currency]\n  PaymentCondition: order.currency | translate(settings.codes)\n",
            common::repo_root().join(ORDERS).display()
        ),
    )
    .unwrap();
    let order = serde_json::json!({"id": 1, "reference": "1", "status": "Invoicing", "currency": "EUR",
        "retailer": {"reference": "10023"}, "line": {"id": "1", "preorder": true},
        "lines": [{"sku": "TSH-WHT-M", "quantity": 1, "unit_price": 19.95}]});
    std::fs::write(dir.path().join("o.json"), serde_json::json!([order]).to_string()).unwrap();
    let root = common::repo_root();
    let run = flowmap_in(dir.path(), &["--root", root.to_str().unwrap(), "dry-run", "t.flow.yaml", "--input", "o.json"]);
    assert_eq!((run.code, common::past_warnings(&run.stderr)), (0, ""), "{}", run.stdout);
    let record: String = without_version(&run.stdout).lines().skip(2).take(4).map(|l| format!("{l}\n")).collect();
    assert_eq!(
        record,
        r#"✘ blocked  1
    - `settings.notes["EUR"]` is missing (Description)
    - PaymentCondition (t.flow.yaml:8:3): no entry for "EUR" in the table (known: USD)
    then POST lnb /orders/status {"reference":"1","status":"Blocked","reason":"`settings.notes[\"EUR\"]` is missing (Description); PaymentCondition (t.flow.yaml:8:3): no entry for \"EUR\" in the table (known: USD)"}
"#
    );
}

/// `flowmap test` shows a configuration error as such, not as a block.
#[test]
fn a_flow_test_expecting_a_block_shows_the_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("unset.test.yaml");
    std::fs::write(
        &test,
        format!(
            "flow: {}\ncases:\n  - name: an order with the in-stock warehouse left empty\n    from: {}\n    key: \"50001\"\n    expect:\n      blocked:\n        - Configure the warehouses\n",
            common::repo_root().join(UNSET).display(),
            common::repo_root().join("fixtures/lnb/orders.json").display()
        ),
    )
    .unwrap();
    let run = flowmap(&["test", test.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let case = run.stdout.lines().nth(2).unwrap_or_default();
    assert_eq!(
        case,
        "      expected blocked, got configuration error at mappings/lnb-exact/orders.flow.yaml:78:3: Configure \
         settings.warehouse.preorder and settings.warehouse.in_stock (Exact warehouse IDs) (a mistake in the flow, not in the record)"
    );
}

fn status_write_backs(world: &World) -> usize {
    world.requests_to("lnb", "POST", "/orders/status").len()
}

/// Live, both sides in one world: the flow's mistake stops the run with
/// nothing written back and the records left for the next run; the shipped
/// flow then blocks the records whose data is wrong and writes that back.
#[test]
fn live_a_configuration_error_stops_the_run_and_lnb_hears_nothing() {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    let before = world.lnb_statuses();
    let run = world.flowmap(&["run", UNSET]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let exact = untimed(&run.stdout).lines().filter(|l| !l.starts_with("  API calls")).collect::<Vec<_>>().join("\n");
    assert_eq!(
        exact,
        "run 1 of live-unset-warehouse: stopped in <t>
  stopped: configuration error at mappings/lnb-exact/orders.flow.yaml:78:3: Configure settings.warehouse.preorder and \
settings.warehouse.in_stock (Exact warehouse IDs) (the flow's, not a record's: nothing was blocked or written back for it; \
fix the flow, the records wait for the next run)
  7 fetched"
    );
    // Not a single status write-back, no order sent, every LNB order as it was.
    assert_eq!(status_write_backs(&world), 0, "{:?}", world.requests_to("lnb", "POST", ""));
    assert!(world.requests_to("exact", "POST", "salesorder").is_empty());
    assert_eq!(world.lnb_statuses(), before);
    // The journal holds no record of that run: nothing blocked, nothing failed.
    let show = world.flowmap(&["show", "live-unset-warehouse", "50001"]);
    assert_ne!(show.code, 0, "{}", show.stdout);
    assert!(show.stderr.contains("the journal has nothing on `50001`"), "{}", show.stderr);
    let runs = world.flowmap(&["runs", "live-unset-warehouse"]);
    assert!(runs.stdout.contains("stopped"), "{}", runs.stdout);

    // A record-level block is still written back as Blocked.
    let shipped = world.flowmap(&["run", ORDERS]);
    assert_eq!(shipped.code, 0, "{}{}", shipped.stdout, shipped.stderr);
    assert!(untimed(&shipped.stdout).contains("7 fetched, 4 sent, 1 skipped, 2 blocked"), "{}", shipped.stdout);
    let blocked = world.sandbox.lnb_orders().into_iter().find(|o| o["reference"] == "50004").unwrap();
    assert_eq!(
        (blocked["status"].as_str(), blocked["status_reason"].as_str()),
        (Some("Blocked"), Some("Customer 99999 does not exist as an Account in Exact Online"))
    );
    assert_eq!(status_write_backs(&world), 7);
}

/// A project whose catalogue lists an Accounts field the sandbox's Exact does
/// not have (as an edition-only field in a division without the edition): the
/// look-up's query is refused with 400 for every record alike.
fn project_with_unserved_field(dir: &std::path::Path) -> std::path::PathBuf {
    let root = common::repo_root();
    copy_dir(&root.join("mappings/systems"), &dir.join("mappings/systems"));
    // TrueCommerce's entities are made from the X12 definitions.
    copy_dir(&root.join("mappings/x12"), &dir.join("mappings/x12"));
    copy_dir(&root.join("schemas/catalogue"), &dir.join("schemas/catalogue"));
    let catalogue = dir.join("schemas/catalogue/exact.yaml");
    let text = std::fs::read_to_string(&catalogue).unwrap();
    let accounts = "  crm/Accounts:\n";
    let at = text.find(accounts).expect("crm/Accounts in the catalogue");
    let fields = at + text[at..].find("    fields:\n").unwrap() + "    fields:\n".len();
    let text = format!("{}      LegacyCode: {{ type: string }}\n{}", &text[..fields], &text[fields..]);
    std::fs::write(&catalogue, text).unwrap();
    let flow = std::fs::read_to_string(root.join(ORDERS))
        .unwrap()
        .replace("    match: Code\n    key: order.retailer", "    match: LegacyCode\n    key: order.retailer");
    assert!(flow.contains("match: LegacyCode"));
    std::fs::create_dir_all(dir.join("mappings/lnb-exact")).unwrap();
    let file = dir.join("mappings/lnb-exact/orders.flow.yaml");
    std::fs::write(&file, flow).unwrap();
    file
}

#[test]
fn live_a_lookup_query_refused_as_malformed_stops_the_run() {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    let project = world.path("project");
    let flow = project_with_unserved_field(&project);
    let check = flowmap_in(&project, &["check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let run = world.flowmap(&["run", flow.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let stopped = run.stdout.lines().nth(1).unwrap_or_default().to_string();
    assert!(stopped.starts_with(&format!("  stopped: configuration error at {}:27:3: lookup account of ", flow.display())), "{}", run.stdout);
    assert!(stopped.contains("Could not find a property named 'LegacyCode' on type 'Exact.Web.Api.Models.Account'. (HTTP 400)"), "{stopped}");
    assert_eq!(status_write_backs(&world), 0);
    assert!(world.requests_to("exact", "POST", "salesorder").is_empty());
}
