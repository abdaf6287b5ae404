//! The Exact → LNB cancellations flow against the sandbox: an order cancelled
//! in Exact is cancelled in LNB once; a second run finds it Canceled there
//! and sends nothing.

mod common;

use common::flowmap_in;
use common::live::*;
use common::serve::project_copy;
use pretty_assertions::assert_eq;

const FLOW: &str = "mappings/exact-lnb/order-cancellations.flow.yaml";

/// Run output with the elapsed time replaced by `<t>`.
fn untimed(out: &str) -> String {
    let re = regex::Regex::new(r"in \d+\.\d s").unwrap();
    re.replace_all(out, "in <t>").into_owned()
}

#[test]
fn a_second_run_sends_nothing_for_an_order_already_canceled_in_lnb() {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();

    let first = world.flowmap(&["run", FLOW]);
    assert_eq!(
        (first.code, untimed(&first.stdout).as_str()),
        (
            0,
            "run 1 of exact-order-cancellations-to-lnb: completed in <t>
  1 fetched, 1 sent
  API calls: exact 1, lnb 2; waited 0.0 s on rate limits
"
        ),
        "{}",
        first.stderr
    );
    assert_eq!(world.lnb_statuses()["50007"], "Canceled");
    assert_eq!(world.requests_to("lnb", "POST", "/orders/status").len(), 1);

    let second = world.flowmap(&["run", FLOW]);
    assert_eq!(
        (second.code, untimed(&second.stdout).as_str()),
        (
            0,
            "run 2 of exact-order-cancellations-to-lnb: completed in <t>
  1 fetched, 1 skipped
  API calls: exact 1, lnb 1; waited 0.0 s on rate limits
"
        ),
        "{}",
        second.stderr
    );
    assert_eq!(world.requests_to("lnb", "POST", "/orders/status").len(), 1, "nothing was sent again");
    let show = world.flowmap(&["show", "exact-order-cancellations-to-lnb", "c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10"]);
    assert!(show.stdout.contains("LNB order 50007 is already Canceled"), "{}", show.stdout);
}

#[test]
fn check_refuses_a_when_that_reads_an_unknown_or_unfetched_field_of_the_record_found() {
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let flow = root.join(FLOW);
    let text = std::fs::read_to_string(&flow).unwrap();
    let broken = text.replace(r#"when: found.status == "Canceled""#, r#"when: found.statu == "Canceled" or found.created_on is defined"#);
    assert_ne!(broken, text);
    std::fs::write(&flow, broken).unwrap();
    let check = flowmap_in(&root, &["check", FLOW]);
    assert_eq!(
        (check.code, check.stdout.as_str()),
        (
            1,
            "error: unknown field `statu` for LNB order
  --> mappings/exact-lnb/order-cancellations.flow.yaml:33:9
   |
33 |   when: found.statu == \"Canceled\" or found.created_on is defined
   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ did you mean `status`?
   = help: the fields of LNB order are listed in schemas/catalogue/lnb.yaml

error: `when` reads `found.created_on`, which `show` does not fetch: add `created_on` to `show`
  --> mappings/exact-lnb/order-cancellations.flow.yaml:33:9
   |
33 |   when: found.statu == \"Canceled\" or found.created_on is defined
   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

checked 1 flow: 2 errors, 0 warnings
"
        ),
        "{}",
        check.stderr
    );
}
