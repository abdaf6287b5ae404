//! The accounting benchmark: `cargo bench -p flowmap --bench accounting [-- --invoices N]`.
//!
//! Generated LNB invoices (a tenth for retailers Xero does not know yet, 1–3 lines each), the
//! release `flowmap` binary connected to the sandbox's LNB and Xero as an operator would be, and
//! the LNB → Xero invoices flow run twice on fresh sandboxes: once with rate limits off (calls per
//! invoice against the floor of one PUT each, wall time) and once under Xero's published limits
//! (60 calls a minute and 5 in flight per tenant) on a sandbox clock 120 times fast, which gives
//! how long the run takes on Xero's clock. Then the same for generated paid QuickBooks invoices →
//! Exact sales orders, the second run under Exact's 60 calls a minute (QuickBooks allows 500).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::invoices::{generated, invoices_fixtures};
use common::live::*;

const INVOICES: &str = "mappings/lnb-xero/invoices.flow.yaml";
const QBO_ORDERS: &str = "mappings/qbo-exact/orders.flow.yaml";
const CLOCK_SPEED: f64 = 120.0;

fn main() {
    let n = common::count_option("--invoices", 500);
    println!("accounting benchmark: {n} LNB invoices → Xero (a tenth for retailers new to Xero), 1–3 lines each\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = invoices_fixtures(dir.path(), &generated(n));

    let off = Limits { enabled: false, ..Default::default() };
    let world = xero_world(&fixtures, off, 1.0);
    let (wall, summary) = run(&world);
    let calls = Calls::of(&world.sandbox.requests());
    let per = |c: usize| c as f64 / n as f64;
    println!("rate limits off");
    println!(
        "  Xero calls    {} ({:.3} per invoice; floor 1.000, one PUT each): {} PUT invoices, {} PUT contacts, {} look-ups and existence checks",
        calls.xero,
        per(calls.xero),
        calls.invoices,
        calls.contacts,
        calls.xero - calls.invoices - calls.contacts
    );
    println!("  LNB calls     {} ({:.3} per invoice: listing pages and one write-back each)", calls.lnb, per(calls.lnb));
    println!("  wall time     {:.2} s ({:.0} invoices/s)", wall.as_secs_f64(), n as f64 / wall.as_secs_f64());
    println!("  summary       {summary}");

    let world = xero_world(&fixtures, Limits::default(), CLOCK_SPEED);
    let started_ms = world.sandbox.now_ms();
    let (wall, summary) = run(&world);
    let minutes = (world.sandbox.now_ms() - started_ms) as f64 / 60_000.0;
    let requests = world.sandbox.requests();
    let calls = Calls::of(&requests);
    let refused = requests.iter().filter(|r| r.system == "xero" && r.status == 429).count();
    // At 60 calls a minute, the calls made cannot take less than this.
    let floor = calls.xero as f64 / 60.0;
    println!("\nXero's limits: 60 calls a minute, 5 in flight (sandbox clock x{CLOCK_SPEED})");
    println!(
        "  run took      {minutes:.1} minutes on Xero's clock ({:.1} s real); {} Xero calls, floor {floor:.1} minutes ({:.2}x); {refused} answered 429",
        wall.as_secs_f64(),
        calls.xero,
        minutes / floor
    );
    println!("  summary       {summary}");

    quickbooks_to_exact(n);
}

/// `n` generated paid QuickBooks invoices (1–3 lines of items Exact knows) → Exact sales orders.
fn quickbooks_to_exact(n: usize) {
    println!("\n{n} paid QuickBooks invoices → Exact sales orders, 1–3 lines each");
    let off = Limits { enabled: false, ..Default::default() };
    let world = qbo_world(n, off, 1.0);
    let (wall, summary) = run_flow(&world, QBO_ORDERS);
    let calls = Calls::of(&world.sandbox.requests());
    let per = |c: usize| c as f64 / n as f64;
    println!("rate limits off");
    println!("  Exact calls   {} ({:.3} per invoice; floor 1.000, one POST each)", calls.exact, per(calls.exact));
    println!("  QuickBooks    {} calls ({:.3} per invoice: query pages and look-ups)", calls.qbo, per(calls.qbo));
    println!("  wall time     {:.2} s ({:.0} invoices/s)", wall.as_secs_f64(), n as f64 / wall.as_secs_f64());
    println!("  summary       {summary}");

    let world = qbo_world(n, Limits::default(), CLOCK_SPEED);
    let started_ms = world.sandbox.now_ms();
    let (wall, summary) = run_flow(&world, QBO_ORDERS);
    let minutes = (world.sandbox.now_ms() - started_ms) as f64 / 60_000.0;
    let calls = Calls::of(&world.sandbox.requests());
    let floor = calls.exact as f64 / 60.0;
    println!("\nExact's limit: 60 calls a minute (QuickBooks: 500 a minute, 10 in flight; sandbox clock x{CLOCK_SPEED})");
    println!(
        "  run took      {minutes:.1} minutes on the sandbox clock ({:.1} s real); {} Exact calls, floor {floor:.1} minutes ({:.2}x); {} QuickBooks calls",
        wall.as_secs_f64(),
        calls.exact,
        minutes / floor,
        calls.qbo
    );
    println!("  summary       {summary}");
}

/// A fresh sandbox with `n` generated QuickBooks invoices, Exact and QuickBooks connected.
fn qbo_world(n: usize, limits: Limits, clock_speed: f64) -> World {
    let config = SandboxConfig { fixtures: Some(fixtures()), limits, qbo_limits: limits, clock_speed, ..Default::default() };
    let world = World::start(config, &format!("clock_speed: {clock_speed}\nconcurrency: 4"));
    world.consent("exact", "/api/oauth2/auth");
    world.connect_qbo(&format!("clock_speed: {clock_speed}\nconcurrency: 10"));
    world.sandbox.add_qbo_records("Invoice", common::invoices::qbo_invoices(n)).expect("invoices added");
    world.sandbox.clear_requests();
    world
}

/// A fresh sandbox seeded from `fixtures`, LNB and Xero connected; the request log starts empty.
fn xero_world(fixtures: &std::path::Path, limits: Limits, clock_speed: f64) -> World {
    let config = SandboxConfig { fixtures: Some(fixtures.to_path_buf()), xero_limits: limits, clock_speed, ..Default::default() };
    let world = World::start(config, &format!("clock_speed: {clock_speed}"));
    world.connect();
    world.connect_xero(&format!("concurrency: 5\nclock_speed: {clock_speed}"));
    world.sandbox.clear_requests();
    world
}

/// Runs the flow; its wall time and the summary's counts line.
fn run(world: &World) -> (Duration, String) {
    run_flow(world, INVOICES)
}

/// Runs `flow`; its wall time and the summary's counts line.
fn run_flow(world: &World, flow: &str) -> (Duration, String) {
    let started = Instant::now();
    let out = world.flowmap(&["run", flow]);
    let wall = started.elapsed();
    assert_eq!(out.code, 0, "the run failed:\n{}\n{}", out.stdout, out.stderr);
    (wall, out.stdout.lines().nth(1).unwrap_or("").trim().to_string())
}

#[derive(Default)]
struct Calls {
    xero: usize,
    invoices: usize,
    contacts: usize,
    lnb: usize,
    exact: usize,
    qbo: usize,
}

impl Calls {
    /// API calls by kind; token calls are not API calls.
    fn of(requests: &[RecordedRequest]) -> Calls {
        let mut c = Calls::default();
        for r in requests {
            let token = r.path.contains("/connect/token") || r.path.ends_with("/auth/token") || r.path.contains("/oauth2/");
            match (r.system.as_str(), token) {
                ("xero", false) => {
                    c.xero += 1;
                    match (r.method.as_str(), r.path.rsplit('/').next()) {
                        ("PUT", Some("Invoices")) => c.invoices += 1,
                        ("PUT", Some("Contacts")) => c.contacts += 1,
                        _ => {}
                    }
                }
                ("lnb", false) => c.lnb += 1,
                ("exact", false) => c.exact += 1,
                ("qbo", false) => c.qbo += 1,
                _ => {}
            }
        }
        c
    }
}
