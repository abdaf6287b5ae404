//! Exact Online ⇄ TrueCommerce, live against the sandbox: purchase orders out
//! as 850s (one interchange per supplier, once per version), the partner's
//! 997s, 855s and 810s back into Exact, our 997s for what we take.

mod common;

use common::live::*;
use pretty_assertions::assert_eq;
use serde_json::json;

const TO_850: &str = "mappings/exact-truecommerce/purchase-orders-to-850.flow.yaml";
const FROM_855: &str = "mappings/exact-truecommerce/855-to-exact.flow.yaml";
const FROM_810: &str = "mappings/exact-truecommerce/810-to-purchase-entries.flow.yaml";
const PO_30001: &str = "5002aab4-e1cc-49f1-a3b8-f9e529dcb79c";

fn edi_world() -> World {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    world.add_truecommerce_connection();
    let connect = world.flowmap_env(&["connect", "truecommerce"], &[("FLOWMAP_PASSWORD", "sandbox-password")]);
    assert_eq!(connect.code, 0, "{}{}", connect.stdout, connect.stderr);
    world
}

fn names(files: &[impl AsRef<str>]) -> Vec<String> {
    files.iter().map(|f| f.as_ref().to_string()).collect()
}

#[test]
fn purchase_orders_go_out_once_per_version_one_interchange_per_supplier() {
    let world = edi_world();
    let run = world.flowmap(&["run", TO_850]);
    assert_eq!(
        untimed(&run.stdout),
        "run 1 of exact-purchase-orders-to-850: completed in <t>
  5 fetched, 2 sent, 3 blocked
  blocked 98918dd8-7837-47a0-a6fe-8a886273ed06
    - Line 3 (SCF-WOL-GRY): cost center 300 (Old workshop) is not active in Exact
    - Line 3 (SCF-WOL-GRY): cost center 300 has no GL account in settings.gl_accounts
  blocked 1d241ed6-409b-43c2-9574-5f0b5d02b200
    - Supplier 20003 (Atelier Porto Lda.) has no EDI id: set its GLN in Exact, or add it to settings.edi_ids
  blocked 84dd01fa-0696-438d-ab3d-0b216d5fcd18
    - Purchase order 30004 was cancelled before it was ever sent: there is nothing to cancel at the supplier
  API calls: exact 4; waited 0.0 s on rate limits",
        "{}",
        run.stderr
    );
    let (received, _) = world.truecommerce_tick();
    let got: Vec<(String, String, Vec<String>)> = received.iter().map(|f| (f.name.clone(), f.isa13.clone(), f.po_numbers.clone())).collect();
    assert_eq!(
        got,
        vec![
            ("PO_20001_1.x12".to_string(), "000000001".to_string(), vec!["30001".to_string()]),
            ("PO_20002_2.x12".to_string(), "000000002".to_string(), vec!["30005".to_string()]),
        ]
    );
    assert!(received[0].text.contains("BEG*00*SA*30001**20250310~"), "{}", received[0].text);

    // Nothing changed: the watermark asks only for what changed since, and the newest order,
    // sent in this version already, is not sent again.
    let again = world.flowmap(&["run", TO_850]);
    assert!(untimed(&again.stdout).contains("  1 fetched, 1 ignored\n"), "{}{}", again.stdout, again.stderr);
    assert_eq!(world.truecommerce_tick().0.len(), 0);

    // An order changed in Exact goes once more, as a replacement (BEG01 05), in a new interchange
    // (the newest order of the last run comes again with it: `Modified ge` the watermark).
    let change = serde_json::Map::from_iter([("Description".to_string(), json!("Spring restock tees, moved forward"))]);
    world.sandbox.edit_exact_record("purchaseorder/PurchaseOrders", PO_30001, change).unwrap();
    let changed = world.flowmap(&["run", TO_850]);
    assert!(untimed(&changed.stdout).contains("  2 fetched, 1 sent, 1 ignored\n"), "{}{}", changed.stdout, changed.stderr);
    let (received, _) = world.truecommerce_tick();
    assert_eq!(names(&received.iter().map(|f| f.name.as_str()).collect::<Vec<_>>()), vec!["PO_20001_3.x12"]);
    assert!(received[0].text.contains("BEG*05*SA*30001**20250310~"), "{}", received[0].text);
    let last = world.flowmap(&["run", TO_850]);
    assert!(untimed(&last.stdout).contains("  1 fetched, 1 ignored\n"), "{}", last.stdout);
}

#[test]
fn the_partners_997_855_and_810_come_back_into_exact_and_are_acknowledged() {
    let world = edi_world();
    // The supplier of 30001 backorders its second line.
    world.truecommerce_rules(json!({"po": "30001", "backorder_line": 2}));
    let out = world.flowmap(&["run", TO_850]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let (_, sent) = world.truecommerce_tick();
    let mut answers: Vec<String> = sent.iter().map(|f| f.name.clone()).collect();
    answers.sort();
    assert_eq!(answers.len(), 6, "{answers:?}");

    // 855s: the accepted one is filed as a document on the supplier; the backordered line blocks.
    let acks = world.flowmap(&["run", FROM_855]);
    assert!(untimed(&acks.stdout).contains("2 fetched, 1 sent, 1 blocked"), "{}{}", acks.stdout, acks.stderr);
    assert!(acks.stdout.contains("the supplier answered backordered"), "{}", acks.stdout);
    let documents = world.sandbox.exact_records("documents/Documents");
    assert_eq!(documents.len(), 1);
    assert!(documents[0]["Subject"].as_str().unwrap().starts_with("Purchase order 30005: acknowledgement 855 "), "{documents:?}");

    // 810s: booked as purchase entries on the order's supplier, never twice.
    let invoices = world.flowmap(&["run", FROM_810]);
    assert_eq!(invoices.code, 0, "{}{}", invoices.stdout, invoices.stderr);
    let entries =
        || world.sandbox.exact_records("purchaseentry/PurchaseEntries").into_iter().filter(|e| e["YourRef"] != "INV-OLD-1").collect::<Vec<_>>();
    let booked = entries();
    assert!(!booked.is_empty(), "{}", invoices.stdout);
    for entry in &booked {
        let lines = entry["PurchaseEntryLines"]["results"].as_array().cloned().unwrap_or_default();
        assert!(lines.iter().all(|l| l["CostCenter"] == "100" || l["CostCenter"] == "200"), "{entry}");
    }
    let rerun = world.flowmap(&["run", FROM_810]);
    assert_eq!(rerun.code, 0, "{}", rerun.stdout);
    assert_eq!(entries().len(), booked.len());

    // Every group we took is answered with a 997 in Import; the partner matches them to its own.
    let (received, _) = world.truecommerce_tick();
    let ours: Vec<&str> = received.iter().filter(|f| f.set_ids.iter().all(|s| s == "997")).map(|f| f.name.as_str()).collect();
    assert!(ours.len() >= 2, "{:?}", received.iter().map(|f| (&f.name, &f.set_ids)).collect::<Vec<_>>());
    assert!(
        world.sandbox.truecommerce_sent().iter().filter(|f| f.set_ids.iter().any(|s| s == "855" || s == "810")).all(|f| f.acknowledged.is_some())
    );

    // The partner's 997s for our 850s: taken by the next run of the 850 flow, the groups marked.
    let next = world.flowmap(&["run", TO_850]);
    assert_eq!(next.code, 0, "{}{}", next.stdout, next.stderr);
    let show = world.flowmap(&["show", TO_850, PO_30001]);
    print!("{}", show.stdout);
    assert!(show.stdout.contains("      997 for group 1: accepted ("), "{}", show.stdout);
    assert!(show.stdout.contains("document 30001, in other flows:\n"), "{}", show.stdout);
    assert!(show.stdout.contains("  truecommerce-855-to-exact 30001@"), "{}", show.stdout);
    assert!(show.stdout.contains("the supplier answered backordered"), "{}", show.stdout);
    assert!(show.stdout.contains("  truecommerce-810-to-purchase-entries 30001/"), "{}", show.stdout);
}

#[test]
fn an_850_the_partner_rejects_or_never_acknowledges_is_named_for_an_operator() {
    let world = edi_world();
    // 997s are due at once here, so the run after sending names every group still unanswered.
    let text = std::fs::read_to_string(&world.connections).unwrap().replace("line_break: true }", "line_break: true, acknowledgement_due_hours: 0 }");
    std::fs::write(&world.connections, text).unwrap();
    world.truecommerce_rules(json!({"po": "30001", "reject_group": true}));
    world.truecommerce_rules(json!({"po": "30005", "no_997": true}));
    let sent = world.flowmap(&["run", TO_850]);
    assert_eq!(sent.code, 0, "{}{}", sent.stdout, sent.stderr);
    world.truecommerce_tick();

    let next = world.flowmap(&["run", TO_850]);
    assert!(
        untimed(&next.stdout).contains(
            "  attention: 8ccaec71-387b-42d9-84fd-4616b22635cb was sent 0 h ago in /IntegrationFTP/Import/Acme/PO_20002_2.x12 (group 2) and no 997 has answered it\n"
        ),
        "{}{}",
        next.stdout,
        next.stderr
    );
    assert!(!next.stdout.contains("(group 1) and no 997"), "{}", next.stdout);
    let show = world.flowmap(&["show", TO_850, PO_30001]);
    assert!(show.stdout.contains("      997 for group 1: rejected ("), "{}", show.stdout);
}
