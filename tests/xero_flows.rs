//! Le New Black → Xero, live against the sandbox: the seed's invoice and credit-note flows sent
//! to the Xero emulator as Xero takes them (tenant header, envelope, PUT, summarizeErrors=false,
//! Idempotency-Key), contacts found or created, items checked, LNB told; and the promises that
//! hold under a kill, injected faults and token expiry.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::invoices::{generated, invoice, invoices_fixtures};
use common::live::*;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const INVOICES: &str = "mappings/lnb-xero/invoices.flow.yaml";
const CREDIT_NOTES: &str = "mappings/lnb-xero/credit-notes.flow.yaml";
const ACME: &str = "Acme Fashion (NL)";

fn world(fixtures: PathBuf, clock_speed: f64, tuning: &str) -> World {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures), clock_speed, ..Default::default() }, "");
    world.connect();
    world.connect_xero(tuning);
    world
}

/// Xero's invoices (or credit notes) of the fixtures' organisation, by number.
fn numbered(world: &World, entity: &str, number: &str) -> BTreeMap<String, Vec<Value>> {
    let mut by = BTreeMap::<String, Vec<Value>>::new();
    for r in world.sandbox.xero_records(ACME, entity) {
        by.entry(r[number].as_str().unwrap_or_default().to_string()).or_default().push(r);
    }
    by
}

/// LNB invoice reference → (integration status, reason).
fn lnb_invoices(world: &World) -> BTreeMap<String, (String, String)> {
    world
        .sandbox
        .lnb_invoices()
        .iter()
        .map(|i| {
            let text = |f: &str| i[f].as_str().unwrap_or_default().to_string();
            (text("reference_number"), (text("integration_status"), text("integration_reason")))
        })
        .collect()
}

#[test]
fn lnb_invoices_and_credit_notes_reach_xero_once_as_xero_takes_them() {
    let world = world(fixtures(), 1.0, "");
    let run = world.flowmap(&["run", INVOICES]);
    assert_eq!(
        untimed(&run.stdout),
        "run 1 of lnb-invoices-to-xero: completed in <t>
  6 fetched, 2 sent, 1 skipped, 1 blocked, 2 ignored
  blocked INV-2025-0104
    - No Xero tax type for tax rate 7% (settings.tax_types knows 21, 9)
  API calls: lnb 5, xero 6; waited 0.0 s on rate limits",
        "{}",
        run.stderr
    );

    let invoices = numbered(&world, "Invoices", "InvoiceNumber");
    // 0101 (known contact), 0103 (retailer 10077, new to Xero); 0102 was in Xero already; 0104's
    // 7% has no Xero tax type; the credit note 0105 is the other flow's.
    assert_eq!(invoices.keys().cloned().collect::<Vec<_>>(), ["INV-2025-0101", "INV-2025-0102", "INV-2025-0103"]);
    let sent = &invoices["INV-2025-0101"][0];
    assert_eq!((sent["Type"].as_str(), sent["Status"].as_str()), (Some("ACCREC"), Some("AUTHORISED")));
    assert_eq!(sent["Contact"]["ContactID"], json!("3542ccc2-cc56-4909-b2e0-956be4217dfb"));
    let codes: Vec<&str> = sent["LineItems"].as_array().unwrap().iter().map(|l| l["ItemCode"].as_str().unwrap_or("-")).collect();
    assert_eq!(codes, ["TSH-WHT-M", "TSH-WHT-L", "SWT-NVY-M"]);

    // Retailer 10077 is a contact now, with the LNB reference as its ContactNumber, and its
    // invoice's lines whose SKUs Xero has no item for go without ItemCode (settings.unknown_items: omit).
    let contacts: Vec<Value> = world.sandbox.xero_records(ACME, "Contacts").into_iter().filter(|c| c["ContactNumber"] == "10077").collect();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    let new = &invoices["INV-2025-0103"][0];
    assert_eq!(new["Contact"]["ContactID"], contacts[0]["ContactID"]);
    assert!(new["LineItems"].as_array().unwrap().iter().all(|l| l.get("ItemCode").is_none()), "{new}");

    // The contact's creation is in the invoice's story.
    let story = world.flowmap(&["show", "lnb-invoices-to-xero", "INV-2025-0103"]);
    let created = format!("created            Xero Contact 10077 (ContactID {}), for lookup contact", contacts[0]["ContactID"].as_str().unwrap());
    assert!(story.stdout.contains(&created), "{}", story.stdout);

    // Every write went as Xero takes it.
    let puts = world.requests_to("xero", "PUT", "/api.xro/2.0/");
    assert_eq!(puts.len(), 3, "a contact and two invoices: {puts:?}");
    let tenant = world.sandbox.xero_tenants().into_iter().find(|(_, name)| name == ACME).unwrap().0;
    for put in &puts {
        let header = |h: &str| put.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(h)).map(|(_, v)| v.clone());
        assert_eq!(header("xero-tenant-id"), Some(tenant.clone()));
        assert_eq!(header("idempotency-key").map(|k| k.len()), Some(36));
        assert!(put.query.contains(&("summarizeErrors".into(), "false".into())), "{put:?}");
        let body = put.body.as_ref().unwrap();
        let wrapped = body.get("Invoices").or_else(|| body.get("Contacts"));
        assert!(wrapped.and_then(Value::as_array).is_some_and(|l| l.len() == 1), "{body}");
    }

    let lnb = lnb_invoices(&world);
    assert_eq!(lnb["INV-2025-0101"].0, "Success");
    assert_eq!(lnb["INV-2025-0102"].0, "Success");
    assert_eq!(lnb["INV-2025-0103"].0, "Success");
    assert_eq!(lnb["INV-2025-0104"], ("Blocked".to_string(), "No Xero tax type for tax rate 7% (settings.tax_types knows 21, 9)".to_string()));
    assert_eq!(lnb["INV-2025-0105"].0, "Ready");

    // Nothing is Ready any more: the next run sends nothing.
    world.sandbox.clear_requests();
    let again = world.flowmap(&["run", INVOICES]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(world.requests_to("xero", "PUT", "").len(), 0);

    let credit = world.flowmap(&["run", CREDIT_NOTES]);
    assert_eq!(credit.code, 0, "{}{}", credit.stdout, credit.stderr);
    let notes = numbered(&world, "CreditNotes", "CreditNoteNumber");
    assert_eq!(notes.keys().cloned().collect::<Vec<_>>(), ["INV-2025-0105"]);
    assert_eq!(notes["INV-2025-0105"][0]["Type"], json!("ACCRECCREDIT"));
    assert_eq!(lnb_invoices(&world)["INV-2025-0105"].0, "Success");
}

#[test]
fn what_xero_refuses_blocks_the_invoice_with_xeros_words_and_lnb_is_told() {
    // A retailer named as another contact already is: Xero wants contact names unique.
    let dir = tempfile::tempdir().unwrap();
    let fixtures = invoices_fixtures(dir.path(), &[invoice("INV-2025-0901", "10099", "Boutique Lune", 2)]);
    let world = world(fixtures, 1.0, "");
    let run = world.flowmap(&["run", INVOICES, "--key", "INV-2025-0901"]);
    assert_eq!(
        untimed(&run.stdout),
        "run 1 of lnb-invoices-to-xero: completed in <t>
  1 fetched, 1 blocked
  blocked INV-2025-0901
    - lookup contact of 10099: creating it: Xero refused PUT Contacts: The contact name Boutique Lune is already assigned to another contact. \
The contact name must be unique across all active contacts.
  API calls: lnb 2, xero 4; waited 0.0 s on rate limits",
        "{}",
        run.stderr
    );
    let (status, reason) = lnb_invoices(&world)["INV-2025-0901"].clone();
    assert_eq!(status, "Blocked");
    assert!(reason.starts_with("lookup contact of 10099: creating it: Xero refused PUT Contacts: "), "{reason}");
    assert!(reason.contains("Boutique Lune"), "{reason}");
    assert!(!numbered(&world, "Invoices", "InvoiceNumber").contains_key("INV-2025-0901"));
}

fn generated_counts(world: &World, n: usize) -> BTreeMap<String, usize> {
    let by = numbered(world, "Invoices", "InvoiceNumber");
    (0..n).map(|i| format!("INV-9{i:05}")).map(|k| (k.clone(), by.get(&k).map_or(0, Vec::len))).collect()
}

/// No retailer became two contacts.
fn contacts_once(world: &World) {
    let mut by = BTreeMap::<String, usize>::new();
    for c in world.sandbox.xero_records(ACME, "Contacts") {
        *by.entry(c["ContactNumber"].as_str().unwrap_or_default().to_string()).or_default() += 1;
    }
    assert!(by.values().all(|&n| n == 1), "{by:?}");
}

#[test]
fn a_run_killed_midway_then_run_again_sends_every_invoice_once() {
    let n = 240;
    let dir = tempfile::tempdir().unwrap();
    // Xero's 60 calls a minute on a clock 40 times fast: long enough to be killed in.
    let world = world(invoices_fixtures(dir.path(), &generated(n)), 40.0, "clock_speed: 40");
    world.run_killed_when(INVOICES, |world| world.requests_to("xero", "PUT", "/Invoices").len() >= 40);
    let after_kill = generated_counts(&world, n);
    assert!(after_kill.values().any(|&k| k == 0), "killed before the end");
    assert!(after_kill.values().all(|&k| k <= 1), "{after_kill:?}");

    let again = world.flowmap(&["run", INVOICES]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let counts = generated_counts(&world, n);
    assert!(counts.values().all(|&k| k == 1), "{counts:?}");
    contacts_once(&world);
    let lnb = lnb_invoices(&world);
    assert!(lnb.iter().filter(|(k, _)| k.starts_with("INV-9")).all(|(_, (s, _))| s == "Success"), "{lnb:?}");
}

#[test]
fn with_a_fifth_of_xero_calls_failing_every_invoice_goes_once() {
    let n = 60;
    let dir = tempfile::tempdir().unwrap();
    let world = world(invoices_fixtures(dir.path(), &generated(n)), 1.0, "timeout_seconds: 0.5\nretries: 8");
    let faults = Faults {
        rate: 0.2,
        kinds: vec![FaultKind::TooManyRequests, FaultKind::ServiceUnavailable, FaultKind::Timeout, FaultKind::DropAfterWrite],
        seed: 9,
        hang_ms: 3000,
    };
    world.sandbox.set_faults_of("xero", faults).unwrap();
    for _ in 0..6 {
        world.flowmap(&["run", INVOICES]);
        if lnb_invoices(&world).iter().filter(|(k, _)| k.starts_with("INV-9")).all(|(_, (s, _))| s == "Success") {
            break;
        }
    }
    let counts = generated_counts(&world, n);
    assert!(counts.values().all(|&k| k == 1), "{counts:?}");
    contacts_once(&world);
    let hit: Vec<String> = world.sandbox.requests().iter().filter(|r| r.system == "xero").filter_map(|r| r.fault.clone()).collect();
    for kind in ["429", "503", "timeout", "drop_after_write"] {
        assert!(hit.iter().any(|f| f == kind), "no {kind} was injected: {hit:?}");
    }
    // A write whose answer was lost is sent again with its key, and Xero answers it from its memory.
    assert!(world.sandbox.xero_replays() > 0, "no lost answer was repeated");
    let lnb = lnb_invoices(&world);
    assert!(lnb.iter().filter(|(k, _)| k.starts_with("INV-9")).all(|(_, (s, _))| s == "Success"), "{lnb:?}");
}

#[test]
fn fifty_concurrent_xero_calls_across_an_expiry_refresh_once() {
    let world = world(fixtures(), 1.0, "concurrency: 50");
    // Access tokens live 1,800 s.
    assert_eq!(world.fifty_calls_across_an_expiry("xero", "Contacts", &[], 1801), 1);
}

#[test]
fn a_xero_source_with_since_asks_for_what_changed_with_if_modified_since() {
    let world = world(fixtures(), 1.0, "");
    // Xero contacts changed since the last run → LNB's order status (a harmless target here:
    // LNB answers an unknown reference with 404, and the contact is blocked).
    let flow = world.path("contacts.flow.yaml");
    std::fs::write(
        &flow,
        "flow: xero-contacts-since\n\
         source: { system: xero, get: Contacts, as: contact, key: contact.ContactID, since: { field: UpdatedDateUTC } }\n\
         target: { system: lnb, entity: orders/status, method: POST, path: /orders/status }\n\
         mapping:\n  reference: contact.ContactNumber\n  status: '\"Closed\"'\n",
    )
    .unwrap();
    let flow = flow.to_str().unwrap();
    let modified_since = |world: &World| -> Vec<Option<String>> {
        let listings = world.requests_to("xero", "GET", "/api.xro/2.0/Contacts");
        let header = |r: &RecordedRequest| r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("if-modified-since")).map(|(_, v)| v.clone());
        listings.iter().map(header).collect()
    };
    let first = world.flowmap(&["run", flow]);
    assert!(untimed(&first.stdout).contains("  2 fetched, 2 blocked\n"), "{}{}", first.stdout, first.stderr);
    assert_eq!(modified_since(&world), vec![None]);

    // Someone edits Maison Verte in Xero: the next run asks for what changed since the newest
    // UpdatedDateUTC it took, and gets that contact alone.
    world.sandbox.clear_requests();
    let id = "ca91f14a-2891-4e30-9e78-d944ebcd262a";
    world
        .sandbox
        .edit_xero_record(ACME, "Contacts", id, serde_json::Map::from_iter([("EmailAddress".to_string(), json!("orders@maisonverte.nl"))]))
        .unwrap();
    let second = world.flowmap(&["run", flow]);
    assert!(untimed(&second.stdout).contains("  1 fetched, 1 blocked\n"), "{}{}", second.stdout, second.stderr);
    // The fixtures' newest contact change: /Date(1739871132000+0000)/, 2025-02-18 09:32:12 UTC.
    assert_eq!(modified_since(&world), vec![Some("2025-02-18T09:32:12".to_string())]);
}
