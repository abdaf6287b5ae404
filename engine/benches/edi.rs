//! The EDI benchmark: `cargo bench -p flowmap --bench edi [-- --orders N --lines N --suppliers N --items N]`.
//!
//! A sandbox with the shipped Exact fixtures (cost centers, GL accounts, journals) and, in place
//! of the fixtures' purchase orders, 1,000 generated open purchase orders of 10 lines on 20
//! suppliers with GLNs (`flowmap_sandbox::purchase_orders`). The release `flowmap` binary,
//! connected as an operator would be (Exact by consent, TrueCommerce by password), runs the
//! shipped flows live with rate limits off:
//! - purchase-orders-to-850: Exact calls, files and interchanges uploaded, wall time;
//! - the partner simulator answers every 850 (997, 855, 810);
//! - 855-to-exact and 810-to-purchase-entries: Exact calls per document, wall time.
//!
//! The duration under Exact's 60 calls a minute is worked out from the calls made (calls / 60
//! minutes): every Exact call counts against the limit, the engine paces to it (the live benchmark
//! measured 17.6–18.3 minutes on the sandbox's clock for a 17.45-minute floor), and the time
//! spent computing is seconds against minutes of waiting.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::live::*;
use flowmap_sandbox::{PurchasePlan, purchase_orders};

const TO_850: &str = "mappings/exact-truecommerce/purchase-orders-to-850.flow.yaml";
const FROM_855: &str = "mappings/exact-truecommerce/855-to-exact.flow.yaml";
const FROM_810: &str = "mappings/exact-truecommerce/810-to-purchase-entries.flow.yaml";
const DIVISION: i64 = 3_012_345;
/// Exact Online's rate limit per division, calls a minute.
const EXACT_PER_MINUTE: f64 = 60.0;
/// Exact's page of a plain (not bulk) GET.
const EXACT_PAGE: f64 = 60.0;

struct Plan {
    orders: usize,
    lines: usize,
    suppliers: usize,
    items: usize,
}

fn main() {
    let plan = parse_args();
    println!(
        "EDI benchmark: {} Exact purchase orders of {} lines on {} suppliers ({} items), rate limits off, concurrency 8\n",
        plan.orders, plan.lines, plan.suppliers, plan.items
    );
    let world = edi_world(&plan);

    let out = measure(&world, TO_850);
    let received = world.truecommerce_tick().0;
    let sets: usize = received.iter().map(|f| f.set_ids.iter().filter(|s| *s == "850").count()).sum();
    let answers = world.sandbox.truecommerce_sent();
    let answered = |id: &str| answers.iter().map(|f| f.set_ids.iter().filter(|s| *s == id).count()).sum::<usize>();
    let acks = measure(&world, FROM_855);
    let invoices = measure(&world, FROM_810);
    let booked = world.sandbox.exact_records("purchaseentry/PurchaseEntries").iter().filter(|e| e["YourRef"] != "INV-OLD-1").count();

    println!("purchase-orders-to-850: {}", out.summary);
    let suppliers: std::collections::BTreeSet<&str> = received.iter().filter_map(|f| f.name.split('_').nth(1)).collect();
    println!("  uploaded      {} files = {} interchanges for {} suppliers, {sets} 850s", received.len(), received.len(), suppliers.len());
    println!("  partner       answered {} 997s, {} 855s, {} 810s", answered("997"), answered("855"), answered("810"));
    println!("855-to-exact: {}", acks.summary);
    println!("810-to-purchase-entries: {}", invoices.summary);
    println!("  booked        {booked} purchase entries\n");

    println!("| flow | documents | Exact calls | per document | floor per document | wall time, limits off | at 60 calls/min |");
    println!("|---|---|---|---|---|---|---|");
    row("850 out (POs read)", plan.orders, &out, 0.0);
    row("855 in (documents)", acks.sent, &acks, 1.0);
    row("810 in (purchase entries)", invoices.sent, &invoices, 1.0);
    let total = out.calls.total + acks.calls.total + invoices.calls.total;
    println!(
        "\nall three: {total} Exact calls, {:.1} s wall time with limits off, {} at 60 calls a minute",
        (out.wall + acks.wall + invoices.wall).as_secs_f64(),
        minutes(total)
    );
    for (name, m) in [("850", &out), ("855", &acks), ("810", &invoices)] {
        println!("  {name}: {}", m.calls.breakdown());
    }
}

/// One table row. The floor: the document's share of the read pages (60 to a page) and
/// `writes` Exact writes per document.
fn row(name: &str, documents: usize, m: &Measured, writes: f64) {
    let per = |n: usize| n as f64 / documents.max(1) as f64;
    let floor = 1.0 / EXACT_PAGE + writes;
    println!(
        "| {name} | {documents} | {} | {:.3} | {floor:.3} | {:.2} s ({:.0}/s) | {} |",
        m.calls.total,
        per(m.calls.total),
        m.wall.as_secs_f64(),
        documents as f64 / m.wall.as_secs_f64(),
        minutes(m.calls.total)
    );
}

/// How long `calls` take under Exact's limit: a minute per 60 calls, the last minute's calls
/// going out at its start.
fn minutes(calls: usize) -> String {
    let m = calls as f64 / EXACT_PER_MINUTE;
    if m < 90.0 { format!("{m:.1} min") } else { format!("{:.1} h", m / 60.0) }
}

fn parse_args() -> Plan {
    let count = common::count_option;
    Plan { orders: count("--orders", 1000), lines: count("--lines", 10), suppliers: count("--suppliers", 20), items: count("--items", 500) }
}

/// The shipped fixtures without their purchase orders, the generated ones added, both
/// connections made; the request log starts empty.
fn edi_world(plan: &Plan) -> World {
    let staging = tempfile::tempdir().expect("temp dir");
    let fixtures = staging.path().join("fixtures");
    copy_dir(&common::live::fixtures(), &fixtures);
    std::fs::write(fixtures.join("exact/purchaseorder_PurchaseOrders.json"), r#"{"d": {"results": []}}"#).expect("fixtures");
    let config = SandboxConfig { fixtures: Some(fixtures), limits: Limits { enabled: false, ..Default::default() }, ..Default::default() };
    let world = World::start(config, "concurrency: 8");
    world.connect();
    world.add_truecommerce_connection();
    let connect = world.flowmap_env(&["connect", "truecommerce"], &[("FLOWMAP_PASSWORD", "sandbox-password")]);
    assert_eq!(connect.code, 0, "{}{}", connect.stdout, connect.stderr);

    let generated =
        purchase_orders(&PurchasePlan { suppliers: plan.suppliers, items: plan.items, orders: plan.orders, lines: plan.lines, seed: 12 }, DIVISION);
    for (entity, records) in
        [("crm/Accounts", generated.suppliers), ("logistics/Items", generated.items), ("purchaseorder/PurchaseOrders", generated.purchase_orders)]
    {
        world.sandbox.add_exact_records(entity, records).expect("generated records");
    }
    world.sandbox.clear_requests();
    world
}

struct Measured {
    wall: Duration,
    summary: String,
    /// Records delivered (the summary's `N sent`).
    sent: usize,
    calls: Calls,
}

/// Runs a flow to the end and counts the Exact calls it made.
fn measure(world: &World, flow: &str) -> Measured {
    world.sandbox.clear_requests();
    let started = Instant::now();
    let run = world.flowmap(&["run", flow]);
    let wall = started.elapsed();
    assert_eq!(run.code, 0, "{flow} failed:\n{}{}", run.stdout, run.stderr);
    let summary = run.stdout.lines().nth(1).unwrap_or("").trim().to_string();
    let sent = summary.split(", ").find_map(|part| part.strip_suffix(" sent")?.parse().ok()).unwrap_or(0);
    Measured { wall, summary, sent, calls: Calls::of(&world.sandbox.requests()) }
}

/// Exact API calls by what they are; token calls are not API calls (Exact does not count them).
#[derive(Default)]
struct Calls {
    total: usize,
    writes: usize,
    /// GETs by entity path (`purchaseorder/PurchaseOrders`), in first-seen order.
    reads: Vec<(String, usize)>,
}

impl Calls {
    fn of(requests: &[RecordedRequest]) -> Calls {
        let mut c = Calls::default();
        for r in requests.iter().filter(|r| r.system == "exact" && !r.path.contains("/oauth2/")) {
            c.total += 1;
            if r.method == "GET" {
                let entity = entity_of(&r.path);
                match c.reads.iter_mut().find(|(e, _)| *e == entity) {
                    Some((_, n)) => *n += 1,
                    None => c.reads.push((entity, 1)),
                }
            } else {
                c.writes += 1;
            }
        }
        c
    }

    fn breakdown(&self) -> String {
        let reads: Vec<String> = self.reads.iter().map(|(e, n)| format!("{n} GET {e}")).collect();
        format!("{} calls: {} writes; {}", self.total, self.writes, if reads.is_empty() { "no reads".to_string() } else { reads.join(", ") })
    }
}

/// `/api/v1/3012345/purchaseorder/PurchaseOrders` → `purchaseorder/PurchaseOrders`.
fn entity_of(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let start = parts.iter().position(|p| p.parse::<i64>().is_ok()).map_or(0, |i| i + 1);
    parts[start..].join("/")
}
