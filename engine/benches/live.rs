//! The live benchmark: `cargo bench -p flowmap --bench live [-- --orders N --lines N --customers N --items N]`.
//!
//! A generated sandbox (2,000 customers, 5,000 items, 1,000 LNB orders of 5
//! lines by default), the release `flowmap` binary connected to it as an
//! operator would be, and the default LNB → Exact orders flow run twice on
//! fresh sandboxes: once with rate limits off (calls per order, wall time,
//! peak memory) and once under Exact's 60 calls a minute on a sandbox clock
//! 120 times fast (how long the run takes on Exact's clock).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::live::*;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";
const CLOCK_SPEED: f64 = 120.0;

struct Plan {
    customers: usize,
    items: usize,
    orders: usize,
    lines: usize,
}

fn main() {
    let plan = parse_args();
    println!(
        "live benchmark: {} LNB orders of {} lines; sandbox Exact with {} customers and {} items; concurrency 8\n",
        plan.orders, plan.lines, plan.customers, plan.items
    );

    let world = connected_world(&plan, Limits { enabled: false, ..Default::default() }, 1.0);
    let run = run_measured(&world);
    let counts = Counts::of(&world.sandbox.requests());
    let per = |n: usize| n as f64 / plan.orders as f64;
    println!("rate limits off");
    println!(
        "  Exact calls   {} ({:.3} per order): {} POST, {} existence checks, {} look-ups, {} bulk pages",
        counts.exact,
        per(counts.exact),
        counts.posts,
        counts.exists,
        counts.lookups,
        counts.bulk
    );
    println!("  LNB calls     {} ({:.3} per order), plus {} token call(s)", counts.lnb, per(counts.lnb), counts.lnb_tokens);
    println!("  wall time     {:.2} s ({:.0} orders/s)", run.wall.as_secs_f64(), plan.orders as f64 / run.wall.as_secs_f64());
    println!("  peak memory   {:.1} MB (flowmap's VmHWM)", run.peak_kib as f64 / 1024.0);
    println!("  summary       {}", run.summary_line);

    let world = connected_world(&plan, Limits::default(), CLOCK_SPEED);
    let started_ms = world.sandbox.now_ms();
    let run = run_measured(&world);
    let sandbox_minutes = (world.sandbox.now_ms() - started_ms) as f64 / 60_000.0;
    let requests = world.sandbox.requests();
    let counts = Counts::of(&requests);
    let answered = |status: u16| requests.iter().filter(|r| r.system == "exact" && r.status == status).count();
    // Tokens live 600 s: on a clock 120 times fast, calls in flight at an expiry get a 401 and go again.
    let (refused, expired) = (answered(429), answered(401));
    println!("\n60 calls a minute (sandbox clock x{CLOCK_SPEED})");
    println!(
        "  run took      {sandbox_minutes:.1} minutes on Exact's clock ({:.1} s real); {} Exact calls, {refused} answered 429, {expired} answered 401 (token expiry)",
        run.wall.as_secs_f64(),
        counts.exact
    );
    println!("  summary       {}", run.summary_line);
}

fn parse_args() -> Plan {
    let count = common::count_option;
    Plan { customers: count("--customers", 2000), items: count("--items", 5000), orders: count("--orders", 1000), lines: count("--lines", 5) }
}

/// A fresh sandbox with the generated data, connected; the request log starts empty.
fn connected_world(plan: &Plan, limits: Limits, clock_speed: f64) -> World {
    let generate = Generate { customers: plan.customers, items: plan.items, orders: plan.orders, lines: plan.lines, seed: 7 };
    let config = SandboxConfig { generate: Some(generate), limits, clock_speed, lnb_page_size: 500, ..Default::default() };
    let world = World::start(config, &format!("concurrency: 8\nclock_speed: {clock_speed}"));
    world.connect();
    world.sandbox.clear_requests();
    world
}

struct Measured {
    wall: Duration,
    peak_kib: u64,
    summary_line: String,
}

/// Runs the flow, sampling the child's peak resident memory until it ends.
fn run_measured(world: &World) -> Measured {
    let started = Instant::now();
    let mut child = world.spawn(&["run", ORDERS]);
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    // Drained aside so a long summary never blocks the child on a full pipe.
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        if let Some(hwm) = std::fs::read_to_string(&status_file).ok().and_then(|s| vm_hwm_kib(&s)) {
            peak_kib = peak_kib.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed();
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(status.success(), "the run failed:\n{out}\n{err}");
    let summary_line = out.lines().nth(1).unwrap_or("").trim().to_string();
    Measured { wall, peak_kib, summary_line }
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[derive(Default)]
struct Counts {
    exact: usize,
    posts: usize,
    exists: usize,
    lookups: usize,
    bulk: usize,
    lnb: usize,
    lnb_tokens: usize,
}

impl Counts {
    /// API calls by kind; token calls are not API calls (Exact does not count them either).
    fn of(requests: &[RecordedRequest]) -> Counts {
        let mut c = Counts::default();
        for r in requests {
            let token = r.path.contains("/oauth2/") || r.path.ends_with("/auth/token");
            match (r.system.as_str(), token) {
                ("exact", false) => {
                    c.exact += 1;
                    if r.method == "POST" {
                        c.posts += 1;
                    } else if r.path.contains("/bulk/") {
                        c.bulk += 1;
                    } else if r.path.contains("salesorder/SalesOrders") {
                        c.exists += 1;
                    } else {
                        c.lookups += 1;
                    }
                }
                ("lnb", false) => c.lnb += 1,
                ("lnb", true) => c.lnb_tokens += 1,
                _ => {}
            }
        }
        c
    }
}
