//! Reliability of the Exact ⇄ TrueCommerce flows, live against the sandbox: a
//! run killed midway (SIGKILL) and run again, a fifth of calls failing on both
//! sides, and files from the partner that cannot be read — every purchase
//! order goes out once, every invoice is booked once, every file taken is
//! archived once and answered with one 997.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::live::*;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const TO_850: &str = "mappings/exact-truecommerce/purchase-orders-to-850.flow.yaml";
const FROM_810: &str = "mappings/exact-truecommerce/810-to-purchase-entries.flow.yaml";
const PURCHASE_ORDERS: &str = "purchaseorder/PurchaseOrders";
const PURCHASE_ENTRIES: &str = "purchaseentry/PurchaseEntries";
/// The fixtures' orders that go out (the others are blocked for their reasons).
const FIXTURE_ORDERS_SENT: [&str; 2] = ["30001", "30005"];
/// Generated purchase orders are numbered from here.
const FIRST_ORDER: u32 = 40001;

/// A world with the shipped fixtures, both connections made, no rate limits (the runs make
/// hundreds of calls; the limits have their own tests) and `orders` more purchase orders.
fn world(orders: u32, tuning: &str) -> World {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, tuning);
    world.connect();
    world.add_truecommerce_connection();
    let connect = world.flowmap_env(&["connect", "truecommerce"], &[("FLOWMAP_PASSWORD", "sandbox-password")]);
    assert_eq!(connect.code, 0, "{}{}", connect.stdout, connect.stderr);
    world.sandbox.set_limits(Limits { minutely: 60, daily: 5000, enabled: false });
    world.sandbox.add_exact_records(PURCHASE_ORDERS, generated_orders(&world, orders)).unwrap();
    world
}

/// Open purchase orders like the fixtures' 30001: its two lines (cost centers 100 and 200, its
/// items), for suppliers 20001 and 20002 in turn (both have a GLN), each changed later than the last.
fn generated_orders(world: &World, count: u32) -> Vec<Value> {
    let template = world.sandbox.exact_records(PURCHASE_ORDERS).into_iter().find(|o| o["OrderNumber"] == 30001).expect("order 30001");
    let suppliers = [
        ("0f8f95ef-d1d4-4ea3-aa5e-39268248f803", "             20001", "Textielfabriek Twente B.V."),
        ("174a554f-fd4c-4fcb-9b1f-7199f25bc8cf", "             20002", "Lanificio Biella S.p.A."),
    ];
    (0..count)
        .map(|i| {
            let id = format!("7e570000-0000-4000-8000-{:012x}", i);
            let (supplier, code, name) = suppliers[i as usize % 2];
            let mut order = template.clone();
            order["PurchaseOrderID"] = json!(id);
            order["OrderNumber"] = json!(FIRST_ORDER + i);
            order["Supplier"] = json!(supplier);
            order["SupplierCode"] = json!(code);
            order["SupplierName"] = json!(name);
            order["YourRef"] = json!(format!("PLN-{}", FIRST_ORDER + i));
            order["Modified"] = json!(format!("/Date({})/", 1_750_000_000_000u64 + u64::from(i) * 1000));
            order.as_object_mut().unwrap().remove("__metadata");
            for (n, line) in order["PurchaseOrderLines"]["results"].as_array_mut().unwrap().iter_mut().enumerate() {
                line["ID"] = json!(format!("7e571111-{n:04x}-4000-8000-{:012x}", i));
                line["PurchaseOrderID"] = json!(id);
                line.as_object_mut().unwrap().remove("__metadata");
            }
            order
        })
        .collect()
}

/// Every order number that should go out: the fixtures' two and the generated ones.
fn orders_to_send(count: u32) -> Vec<String> {
    let mut all: Vec<String> = FIXTURE_ORDERS_SENT.iter().map(|s| s.to_string()).collect();
    all.extend((0..count).map(|i| (FIRST_ORDER + i).to_string()));
    all.sort();
    all
}

fn import_dir(world: &World) -> PathBuf {
    world.truecommerce_root().join("IntegrationFTP/Import/Acme")
}

fn export_dir(world: &World) -> PathBuf {
    world.truecommerce_root().join("IntegrationFTP/Export/Acme")
}

/// The names in a folder that match `keep`, sorted (none when the folder does not exist).
fn names_in(dir: &std::path::Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| keep(n)).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// How many times each purchase order number went out in an 850 the partner took.
fn beg03_counts(world: &World) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for file in world.truecommerce_received() {
        for line in file.text.lines() {
            if let Some(beg) = line.strip_prefix("BEG*") {
                *counts.entry(beg.split('*').nth(2).unwrap_or_default().trim_end_matches('~').to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// The 850s went out once each, in interchanges no two of which share a control number.
fn assert_every_order_sent_once(world: &World, count: u32) {
    let counts = beg03_counts(world);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert_eq!(twice, Vec::<(&String, &usize)>::new(), "orders sent more than once");
    assert_eq!(counts.keys().cloned().collect::<Vec<_>>(), orders_to_send(count));
    let ours: Vec<String> = world.truecommerce_received().iter().filter(|f| f.set_ids.iter().any(|s| s == "850")).map(|f| f.isa13.clone()).collect();
    let mut unique = ours.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ours.len(), "two interchanges with one ISA13: {ours:?}");
}

/// Runs `flow` until a run completes with nothing failed or in doubt (at most `tries` runs); each
/// run's summary goes to the test's output (shown when it fails).
fn run_until_clean(world: &World, flow: &str, tries: usize) -> Vec<common::Run> {
    let mut runs = Vec::new();
    for _ in 0..tries {
        let run = world.flowmap(&["run", flow]);
        eprintln!("{}", untimed(&run.stdout));
        let clean = run.code == 0 && !run.stdout.contains(" failed") && !run.stdout.contains(" unknown") && !run.stdout.contains("stopped");
        runs.push(run);
        if clean {
            return runs;
        }
    }
    let last = runs.last().unwrap();
    panic!("no clean run of {flow} in {tries}: the last said\n{}{}", last.stdout, last.stderr);
}

/// Sends the orders (run clean), and lets the partner take them and answer: an 855 and an 810 per order.
fn orders_sent_and_invoiced(world: &World, count: u32) -> Vec<String> {
    run_until_clean(world, TO_850, 1);
    world.truecommerce_tick();
    let invoices = names_in(&export_dir(world), |n| n.starts_with("810_"));
    assert_eq!(invoices.len(), count as usize + FIXTURE_ORDERS_SENT.len(), "one 810 per order");
    invoices
}

/// Purchase entries booked from 810s (the fixture's INV-OLD-1 left out), by YourRef.
fn entries_by_invoice(world: &World) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for e in world.sandbox.exact_records(PURCHASE_ENTRIES) {
        let r = e["YourRef"].as_str().unwrap_or_default().to_string();
        if r != "INV-OLD-1" {
            *count.entry(r).or_insert(0) += 1;
        }
    }
    count
}

/// BIG02 of each 810 the partner sent.
fn invoices_sent(world: &World) -> Vec<String> {
    let mut all: Vec<String> = world
        .sandbox
        .truecommerce_sent()
        .iter()
        .filter(|f| f.set_ids.iter().any(|s| s == "810"))
        .flat_map(|f| {
            f.text.lines().filter_map(|l| l.strip_prefix("BIG*").map(|b| b.split('*').nth(1).unwrap_or_default().to_string())).collect::<Vec<_>>()
        })
        .collect();
    all.sort();
    all
}

/// Every 810 booked once, its file archived once and gone from the inbox, its group answered by one 997.
fn assert_every_invoice_booked_once(world: &World, files: &[String]) {
    let booked = entries_by_invoice(world);
    let twice: Vec<_> = booked.iter().filter(|(_, n)| **n != 1).collect();
    assert_eq!(twice, Vec::<(&String, &usize)>::new(), "invoices booked more than once");
    assert_eq!(booked.keys().cloned().collect::<Vec<_>>(), invoices_sent(world));
    assert_eq!(names_in(&export_dir(world), |n| n.starts_with("810_")), Vec::<String>::new(), "810s left in the inbox");
    assert_eq!(names_in(&export_dir(world).join("processed"), |n| n.starts_with("810_")), files, "each 810 archived once");
    // Our 997s, taken by the partner: each of its 810 groups acknowledged exactly once, accepted.
    world.truecommerce_tick();
    let mut acknowledged: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ack in world.truecommerce_received().iter().flat_map(|f| f.acknowledgments.clone()) {
        if let Some(file) = ack.file.filter(|f| f.starts_with("810_")) {
            acknowledged.entry(file).or_default().push(ack.code);
        }
    }
    let not_once: Vec<_> = acknowledged.iter().filter(|(_, codes)| codes.as_slice() != ["A"]).collect();
    assert_eq!(not_once, Vec::<(&String, &Vec<String>)>::new(), "810 groups answered other than once, accepted");
    assert_eq!(acknowledged.keys().cloned().collect::<Vec<_>>(), files);
}

/// Waits (at most a minute) until `progress` says the run is midway, then kills it with SIGKILL.
fn kill_midway(mut child: std::process::Child, progress: impl Fn() -> bool) {
    let started = Instant::now();
    while !progress() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut out = String::new();
            std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
            panic!("the run ended ({status}) before it could be killed midway:\n{out}");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the run did not get going");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
}

#[test]
fn an_850_run_killed_midway_then_run_again_sends_every_order_once() {
    let orders = 1200;
    let world = world(orders, "");
    let child = world.spawn_env(&["run", TO_850], &[("FLOWMAP_PROGRESS", "off")]);
    // Exact pages hold 60 orders: two files (one per supplier) per page. Killed after the 8th.
    kill_midway(child, || names_in(&import_dir(&world), |n| n.ends_with(".x12") && !n.starts_with('.')).len() >= 8);
    let after_kill = names_in(&import_dir(&world), |n| n.ends_with(".x12") && !n.starts_with('.'));
    assert!(after_kill.len() < 40, "killed before the end: {after_kill:?}");

    let again = world.flowmap(&["run", TO_850]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(!again.stdout.contains("unknown") && !again.stdout.contains("failed"), "{}", again.stdout);
    world.truecommerce_tick();
    assert_every_order_sent_once(&world, orders);
    // A run after that sends nothing.
    let last = world.flowmap(&["run", TO_850]);
    assert!(untimed(&last.stdout).contains(" fetched, 1 ignored\n"), "{}", last.stdout);
    assert_eq!(world.truecommerce_tick().0.iter().filter(|f| f.set_ids.iter().any(|s| s == "850")).count(), 0);
}

#[test]
fn an_810_run_killed_midway_then_run_again_books_every_invoice_once() {
    let orders = 200;
    let world = world(orders, "");
    let files = orders_sent_and_invoiced(&world, orders);
    let child = world.spawn_env(&["run", FROM_810], &[("FLOWMAP_PROGRESS", "off")]);
    kill_midway(child, || entries_by_invoice(&world).len() >= 40);
    let after_kill = entries_by_invoice(&world);
    assert!(after_kill.len() < files.len(), "killed before the end: {} booked", after_kill.len());
    assert!(after_kill.values().all(|&n| n == 1), "{after_kill:?}");

    let again = world.flowmap(&["run", FROM_810]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_every_invoice_booked_once(&world, &files);
}

#[test]
fn with_a_fifth_of_calls_failing_on_both_sides_runs_again_send_and_book_everything_once() {
    let orders = 20;
    let world = world(orders, "timeout_seconds: 0.5\nretries: 2");
    let exact_faults = || Faults {
        rate: 0.2,
        kinds: vec![FaultKind::TooManyRequests, FaultKind::ServiceUnavailable, FaultKind::Timeout, FaultKind::DropAfterWrite],
        seed: 9,
        hang_ms: 1000,
    };
    // SFTP as patient as Exact: a dropped connection is retried soon and often (a fifth of all
    // requests drop, and an upload is six of them).
    let connections = std::fs::read_to_string(&world.connections).unwrap();
    let patient = connections.replacen("\" }", "\", retries: 10, retry_backoff_seconds: 0.05, request_timeout_seconds: 1 }", 1);
    assert_ne!(patient, connections);
    std::fs::write(&world.connections, patient).unwrap();
    world.sandbox.set_faults(exact_faults());
    world.sandbox.set_truecommerce_faults(flowmap_sandbox::SftpFaults { drop_rate: 0.2, seed: 5 });
    run_until_clean(&world, TO_850, 20);
    world.sandbox.set_truecommerce_faults(flowmap_sandbox::SftpFaults { drop_rate: 0.0, seed: 5 });
    world.truecommerce_tick();
    assert_every_order_sent_once(&world, orders);
    let files = names_in(&export_dir(&world), |n| n.starts_with("810_"));
    assert_eq!(files.len(), orders as usize + 2);

    world.sandbox.set_truecommerce_faults(flowmap_sandbox::SftpFaults { drop_rate: 0.2, seed: 6 });
    run_until_clean(&world, FROM_810, 20);
    let (requests, dropped) = world.sandbox.truecommerce_fault_counts();
    world.sandbox.set_truecommerce_faults(flowmap_sandbox::SftpFaults { drop_rate: 0.0, seed: 6 });
    world.sandbox.set_faults(Faults { rate: 0.0, ..exact_faults() });
    assert!(dropped > 0, "no SFTP connection was dropped in {requests} requests");
    let hit: Vec<String> = world.sandbox.requests().iter().filter_map(|r| r.fault.clone()).collect();
    for kind in ["429", "503", "timeout", "drop_after_write"] {
        assert!(hit.iter().any(|f| f == kind), "no {kind} was injected: {hit:?}");
    }
    assert_every_invoice_booked_once(&world, &files);
}

#[test]
fn a_truncated_810_and_a_garbage_file_are_rejected_kept_and_named_and_the_others_carry_on() {
    let world = world(2, "");
    let files = orders_sent_and_invoiced(&world, 2);
    let export = export_dir(&world);
    // The partner's 810 for 30005 cut inside its set (after its first IT1); a file that is not X12 at all.
    let cut_name = files.iter().find(|n| n.starts_with("810_30005_")).unwrap().clone();
    let whole = std::fs::read_to_string(export.join(&cut_name)).unwrap();
    let cut = &whole[..whole.find("IT1*").unwrap() + whole[whole.find("IT1*").unwrap()..].find('\n').unwrap() + 1];
    std::fs::write(export.join(&cut_name), cut).unwrap();
    std::fs::write(export.join("810_0000_garbage.x12"), "this is not an invoice\n").unwrap();

    let run = world.flowmap(&["run", FROM_810]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let inbox = "/IntegrationFTP/Export/Acme";
    let isa13 = cut_name.trim_start_matches("810_30005_").trim_end_matches(".x12");
    assert_eq!(
        untimed(&run.stdout),
        format!(
            "run 2 of truecommerce-810-to-purchase-entries: completed in <t>
  6 fetched, 3 sent, 3 failed
  failed #1
    - {inbox}/810_0000_garbage.x12, segment 1: the file does not start with an ISA segment
  failed #3
    - {inbox}/{cut_name}, interchange {isa13}, segment 3 (ST): the file ends inside transaction set 810 0001 (no SE)
  failed #4
    - {inbox}/{cut_name}, interchange {isa13}: the file ends inside the interchange (no IEA)
  API calls: exact 6; waited 0.0 s on rate limits"
        )
    );
    // The other three invoices are booked; the corrupt files are kept (archived, never deleted).
    let booked: Vec<String> = entries_by_invoice(&world).into_keys().collect();
    let cut_invoice = cut.lines().find_map(|l| l.strip_prefix("BIG*")).unwrap().split('*').nth(1).unwrap().to_string();
    assert_eq!(booked, invoices_sent(&world).into_iter().filter(|i| *i != cut_invoice).collect::<Vec<_>>());
    assert_eq!(booked.len(), 3);
    let processed = export.join("processed");
    assert_eq!(std::fs::read_to_string(processed.join(&cut_name)).unwrap(), cut);
    assert_eq!(std::fs::read_to_string(processed.join("810_0000_garbage.x12")).unwrap(), "this is not an invoice\n");

    // What could be read is answered: the cut set rejected (AK5 R 2: its trailer is missing), its
    // group too (AK9 R … 3: no GE); the whole ones accepted; nothing for the file that is not X12.
    world.truecommerce_tick();
    let ours: Vec<_> = world.truecommerce_received().into_iter().filter(|f| f.set_ids.iter().all(|s| s == "997")).collect();
    let verdicts: Vec<(String, String)> =
        ours.iter().flat_map(|f| f.acknowledgments.iter().map(|a| (a.file.clone().unwrap_or_default(), a.code.clone()))).collect();
    let mut expected: Vec<(String, String)> = files.iter().map(|n| (n.clone(), if *n == cut_name { "R" } else { "A" }.to_string())).collect();
    expected.sort();
    let mut verdicts_sorted = verdicts.clone();
    verdicts_sorted.sort();
    assert_eq!(verdicts_sorted, expected);
    let rejecting = ours.iter().find(|f| f.acknowledgments[0].code == "R").unwrap();
    let body: Vec<&str> = rejecting.text.lines().filter(|l| l.starts_with("AK")).collect();
    let group = isa13.trim_start_matches('0');
    assert_eq!(body, [format!("AK1*IN*{group}~").as_str(), "AK2*810*0001~", "AK5*R*2~", "AK9*R*1*1*0*3~"]);

    // A run after that takes nothing again: the corrupt files stay where they were kept.
    let again = world.flowmap(&["run", FROM_810]);
    assert!(untimed(&again.stdout).contains("no records"), "{}", again.stdout);
    assert!(processed.join(&cut_name).exists() && processed.join("810_0000_garbage.x12").exists());
}

/// A file taken, booked and answered whose move to the archive fails stays in the inbox: the
/// runs after it move it when they can, and never answer its groups again (the partner would
/// get a second 997 for one group each run).
#[test]
fn an_810_processed_but_not_archived_is_not_answered_again_by_the_runs_after() {
    let world = world(0, "");
    let files = orders_sent_and_invoiced(&world, 0);
    let export = export_dir(&world);
    // The archive already holds a file of the first 810's name: its move is refused.
    std::fs::create_dir_all(export.join("processed")).unwrap();
    std::fs::write(export.join("processed").join(&files[0]), "someone else's\n").unwrap();

    let first = world.flowmap(&["run", FROM_810]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    let second = world.flowmap(&["run", FROM_810]);
    let third = world.flowmap(&["run", FROM_810]);
    assert!(untimed(&second.stdout).contains("  no records\n") && untimed(&third.stdout).contains("  no records\n"), "{}", third.stdout);
    assert_eq!(names_in(&export, |n| n.starts_with("810_")), [files[0].clone()]);

    world.truecommerce_tick();
    let answers: Vec<String> = world
        .truecommerce_received()
        .iter()
        .flat_map(|f| f.acknowledgments.clone())
        .filter_map(|a| a.file.filter(|f| f.starts_with("810_")))
        .collect();
    assert_eq!(answers, files, "each 810 group answered once");
    // Once the archive has room, the next run moves it, still without answering it again.
    std::fs::remove_file(export.join("processed").join(&files[0])).unwrap();
    world.flowmap(&["run", FROM_810]);
    assert_eq!(names_in(&export, |n| n.starts_with("810_")), Vec::<String>::new());
    assert_eq!(world.truecommerce_tick().0.len(), 0, "nothing more was answered");
}

/// The partner names its files `810_<PO>_<ISA13>.x12`: purchase order 40997's invoice matches
/// the 997 pattern (`*997*.x12`) the 850 flow takes acknowledgements by. Taken there, it was
/// answered, archived, and its interchange noted as received: the 810 flow never saw it.
#[test]
fn an_invoice_whose_name_matches_the_997_pattern_is_left_to_the_810_flow() {
    let world = world(0, "");
    let mut order = generated_orders(&world, 1).remove(0);
    order["OrderNumber"] = json!(40997);
    world.sandbox.add_exact_records(PURCHASE_ORDERS, vec![order]).unwrap();
    run_until_clean(&world, TO_850, 1);
    world.truecommerce_tick();
    let invoice = names_in(&export_dir(&world), |n| n.starts_with("810_40997_"));
    assert_eq!(invoice.len(), 1);

    // The next run of the 850 flow takes the partner's 997s first, and only those.
    let next = world.flowmap(&["run", TO_850]);
    assert_eq!(next.code, 0, "{}{}", next.stdout, next.stderr);
    assert_eq!(names_in(&export_dir(&world), |n| n.starts_with("810_")).len(), 3, "{}", next.stdout);
    assert_eq!(names_in(&export_dir(&world), |n| n.starts_with("997_")), Vec::<String>::new());

    let invoices = world.flowmap(&["run", FROM_810]);
    assert!(untimed(&invoices.stdout).contains("  3 fetched, 3 sent\n"), "{}{}", invoices.stdout, invoices.stderr);
    assert_eq!(entries_by_invoice(&world).into_keys().collect::<Vec<_>>(), invoices_sent(&world));
}

/// The same for the flows: `855_40810_….x12` matches the 810 flow's `*810*.x12`, and
/// `810_40855_….x12` the 855 flow's `*855*.x12`. A flow takes only files holding its sets.
#[test]
fn each_flow_takes_only_the_files_that_hold_its_sets_whatever_their_names_say() {
    let world = world(0, "");
    let mut orders = generated_orders(&world, 2);
    orders[0]["OrderNumber"] = json!(40810);
    orders[1]["OrderNumber"] = json!(40855);
    world.sandbox.add_exact_records(PURCHASE_ORDERS, orders).unwrap();
    let invoices = orders_sent_and_invoiced(&world, 2);

    let acks = world.flowmap(&["run", "mappings/exact-truecommerce/855-to-exact.flow.yaml"]);
    assert!(untimed(&acks.stdout).contains("  4 fetched, 4 sent\n"), "{}{}", acks.stdout, acks.stderr);
    assert_eq!(names_in(&export_dir(&world), |n| n.starts_with("810_")), invoices);
    let booked = world.flowmap(&["run", FROM_810]);
    assert!(untimed(&booked.stdout).contains("  4 fetched, 4 sent\n"), "{}{}", booked.stdout, booked.stderr);
    assert_eq!(entries_by_invoice(&world).into_keys().collect::<Vec<_>>(), invoices_sent(&world));
    assert_eq!(names_in(&export_dir(&world), |n| n.ends_with(".x12") && !n.starts_with("997_")), Vec::<String>::new());
}
