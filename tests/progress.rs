//! What `flowmap run` shows while it goes: records done and, while calls
//! wait, why and for how long. `FLOWMAP_PROGRESS=lines` prints it as lines
//! (a bar is drawn only on a terminal).

mod common;

use common::live::*;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";

#[test]
fn a_run_held_up_by_a_spent_minute_says_so_while_it_waits() {
    // The sandbox's minute lasts 2 s here, and Exact allows 3 calls in it: the run must wait.
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), clock_speed: 30.0, ..Default::default() }, "clock_speed: 30");
    world.connect();
    world.sandbox.set_limits(Limits { minutely: 3, daily: 5000, enabled: true });
    let run = world.flowmap_env(&["run", ORDERS], &[("FLOWMAP_PROGRESS", "lines")]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let waits: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("waiting")).collect();
    assert!(!waits.is_empty(), "no wait was shown:\n{}", run.stderr);
    let re = regex::Regex::new(r"^waiting for Exact Online's minutely rate limit to reset, [1-3] s$").unwrap();
    assert!(waits.iter().all(|l| re.is_match(l)), "{waits:#?}");
    assert!(run.stderr.lines().any(|l| l == "7/7 records"), "{}", run.stderr);
    // Without it, piped output shows no progress.
    let quiet = world.flowmap(&["run", ORDERS]);
    assert_eq!(common::past_warnings(&quiet.stderr), "", "{}", quiet.stderr);
}
