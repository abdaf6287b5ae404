//! `flowmap runs`: every count a run has (ignored records too), and what
//! started each run — a command, or a webhook in a serving engine.

mod common;

use common::live::*;
use common::serve::*;
use pretty_assertions::assert_eq;

const SECRET: &str = "sandbox-webhook-secret";
const CANCELLED: &str = "c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10";
const CANCELLATIONS: &str = "exact-order-cancellations-to-lnb";
/// A Sunday: the shipped weekday schedules do not fire while the test runs.
const SUNDAY: &str = "2026-01-04T12:00:00Z";

/// The listing with each run's start time replaced by `<t>`.
fn untimed(listing: &str) -> String {
    let re = regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC").unwrap();
    re.replace_all(listing, "<t>").into_owned()
}

#[test]
fn runs_lists_ignored_records_and_names_a_webhook_run() {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    // A command's run: 6 invoices, one of them ignored by the flow's `where`.
    let invoices = world.flowmap(&["run", "mappings/lnb-exact/invoices.flow.yaml"]);
    assert_eq!(invoices.code, 0, "{}{}", invoices.stdout, invoices.stderr);

    // Exact tells a serving engine that an order was cancelled.
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let served = Served::start(&world, &root, &["--clock-start", SUNDAY], &[("FLOWMAP_WEBHOOK_SECRET", SECRET)]);
    let event = signed(&exact_event("SalesOrders", CANCELLED, "Update", "2026-01-04T12:00:00"), SECRET);
    let (status, answer) = served.call("POST", "/webhooks/exact", None, &event);
    assert_eq!(status, 202, "{answer}");
    let run = served.finished_run(CANCELLATIONS, 2);
    assert_eq!(run["origin"], "webhook", "{run}");

    let listed = world.flowmap(&["runs"]);
    assert_eq!(
        (listed.code, untimed(&listed.stdout).as_str()),
        (
            0,
            "   2  <t>  webhook  completed exact-order-cancellations-to-lnb  \
             sent 1 · reconciled 0 · skipped 0 · blocked 0 · ignored 0 · failed 0 · unknown 0
   1  <t>  run      completed lnb-invoices-to-exact  \
             sent 3 · reconciled 0 · skipped 1 · blocked 1 · ignored 1 · failed 0 · unknown 0
"
        ),
        "{}",
        listed.stderr
    );
}
