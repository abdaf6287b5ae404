//! Tokens that stop working while flowmap holds them (the sandbox revokes them
//! through its control API, as a restart of Exact's token store or a user
//! removing the app would): one refresh, one retry, then the run stops with
//! what to do, and its records wait for the next run.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::live::*;
use pretty_assertions::assert_eq;

const INVOICE: &str = "mappings/exact-send-modes/invoice.flow.yaml";
const FLOW: &str = "lnb-order-to-exact-as-invoice";

fn default_world() -> World {
    World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "")
}

/// `POST /_sandbox/{what}` with a JSON body, as an integrator drives the sandbox.
fn control(world: &World, base: &str, what: &str, body: &str) {
    let authority = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(authority).unwrap();
    write!(
        s,
        "POST /_sandbox/{what} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 204"), "{what}: {answer}");
    let _ = world;
}

fn revoke_exact(world: &World, body: &str) {
    control(world, &world.sandbox.exact_url(), "exact/revoke", body);
}

/// Exact's requests as `METHOD path status`, the division and query left out.
fn exact_log(world: &World) -> Vec<String> {
    world
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.system == "exact")
        .map(|r| format!("{} {} {}", r.method, r.path.replace("/api/v1/3012345/", ""), r.status))
        .collect()
}

#[test]
fn tokens_the_system_forgot_stop_the_run_at_once_and_leave_every_record() {
    let world = default_world();
    world.connect();
    // As after a restart of the sandbox: access and refresh tokens are unknown.
    revoke_exact(&world, r#"{"refresh_tokens": true}"#);
    world.sandbox.clear_requests();
    let run = world.flowmap(&["run", INVOICE]);
    let stopped = "connection `exact` needs consent again (the refresh was refused: invalid_grant); run \"flowmap connect exact\" and sign in";
    assert_eq!(
        untimed(&run.stdout),
        format!(
            "run 1 of {FLOW}: stopped in <t>\n  stopped: {stopped}\n  7 fetched, 7 left for the next run\n  \
             API calls: exact 1, lnb 1; waited 0.0 s on rate limits"
        )
    );
    assert_eq!(run.code, 1);
    // One call refused, one refresh refused; the calls waiting behind them were never sent.
    assert_eq!(exact_log(&world), ["GET crm/Accounts 401", "POST /api/oauth2/token 400"]);
    let check = world.flowmap(&["connections", "--check"]);
    assert_eq!(
        check.stdout,
        "exact: client_id, client_secret; needs consent (the refresh was refused: invalid_grant); run \"flowmap connect exact\"\n\
         lnb: client_id, client_secret; ok ("
            .to_string()
            + &world.sandbox.lnb_url()
            + "/apis/wholesale/v2)\n"
    );
    assert_eq!(check.code, 1);
    // Nothing failed, nothing was journaled or written back: the orders wait in Invoicing.
    let runs = world.flowmap(&["runs"]);
    assert!(
        runs.stdout.contains("stopped   lnb-order-to-exact-as-invoice  sent 0 · reconciled 0 · skipped 0 · blocked 0 · ignored 0 · failed 0"),
        "{}",
        runs.stdout
    );
    assert_eq!(world.lnb_statuses().values().filter(|s| *s == "Invoicing").count(), 7);
    // Known now: the next run calls nothing at Exact.
    world.sandbox.clear_requests();
    let again = world.flowmap(&["run", INVOICE]);
    assert!(untimed(&again.stdout).contains(&format!("  stopped: {stopped}\n  7 fetched, 7 left for the next run\n")), "{}", again.stdout);
    assert_eq!(exact_log(&world), Vec::<String>::new());
    // Consent again, and the next run sends them.
    world.connect();
    let after = world.flowmap(&["run", INVOICE]);
    assert_eq!(after.code, 0, "{}", after.stdout);
    assert!(untimed(&after.stdout).starts_with(&format!("run 3 of {FLOW}: completed in <t>\n  7 fetched, 5 sent, 2 blocked\n")), "{}", after.stdout);
}

#[test]
fn a_refused_access_token_is_refreshed_once_and_the_call_sent_once_more() {
    let world = default_world();
    world.connect();
    // Past the 570 s after which Exact allows a refresh, before the token expires.
    world.sandbox.advance_clock(575);
    revoke_exact(&world, "{}");
    world.sandbox.clear_requests();
    let run = world.flowmap(&["run", INVOICE]);
    assert!(untimed(&run.stdout).starts_with(&format!("run 1 of {FLOW}: completed in <t>\n  7 fetched, 5 sent, 2 blocked\n")), "{}", run.stdout);
    let log = exact_log(&world);
    assert_eq!(log[..3], ["GET crm/Accounts 401", "POST /api/oauth2/token 200", "GET crm/Accounts 200"]);
    assert_eq!(log.iter().filter(|l| l.ends_with(" 401") || l.contains("oauth2")).count(), 2, "{log:#?}");
}

#[test]
fn a_new_token_refused_too_marks_the_consent_lost_and_the_records_wait() {
    let world = default_world();
    world.connect();
    world.sandbox.advance_clock(575);
    revoke_exact(&world, r#"{"until_consent": true}"#);
    world.sandbox.clear_requests();
    let run = world.flowmap(&["run", INVOICE]);
    let stopped = "connection `exact` needs consent again (a new access token was refused too: Unauthorized (HTTP 401)); \
                   run \"flowmap connect exact\" and sign in";
    assert_eq!(
        untimed(&run.stdout),
        format!(
            "run 1 of {FLOW}: stopped in <t>\n  stopped: {stopped}\n  7 fetched, 7 left for the next run\n  \
             API calls: exact 2, lnb 1; waited 0.0 s on rate limits"
        )
    );
    assert_eq!(run.code, 1);
    // Exactly one refresh and one retry.
    assert_eq!(exact_log(&world), ["GET crm/Accounts 401", "POST /api/oauth2/token 200", "GET crm/Accounts 401"]);
    world.connect();
    let after = world.flowmap(&["run", INVOICE]);
    assert!(untimed(&after.stdout).starts_with(&format!("run 2 of {FLOW}: completed in <t>\n  7 fetched, 5 sent, 2 blocked\n")), "{}", after.stdout);
}

#[test]
fn consent_lost_while_sending_leaves_the_record_not_failed() {
    let world = default_world();
    world.connect();
    // The look-ups and existence checks pass; the first delivery finds the consent gone.
    revoke_exact(&world, r#"{"refresh_tokens": true, "after_requests": 3}"#);
    world.sandbox.clear_requests();
    let run = world.flowmap(&["run", INVOICE]);
    let stopped = "connection `exact` needs consent again (the refresh was refused: invalid_grant); run \"flowmap connect exact\" and sign in";
    let text = untimed(&run.stdout);
    assert!(
        text.starts_with(&format!("run 1 of {FLOW}: stopped in <t>\n  stopped: {stopped}\n  7 fetched, 2 blocked, 5 left for the next run\n")),
        "{text}"
    );
    assert_eq!(run.code, 1);
    // The deliveries already in flight (up to 4 at a time) were refused; one refresh, refused; no more.
    let log = exact_log(&world).split_off(3);
    let refused = log.iter().filter(|l| *l == "POST salesinvoice/SalesInvoices 401").count();
    assert!((1..=4).contains(&refused) && log.len() == refused + 1, "{log:#?}");
    assert_eq!(log.iter().filter(|l| *l == "POST /api/oauth2/token 400").count(), 1, "{log:#?}");
    let show = world.flowmap(&["show", FLOW, "50001"]);
    let lines: Vec<&str> = show.stdout.lines().collect();
    assert_eq!(lines[0], format!("{FLOW} 50001: left after 1 delivery attempt(s)"));
    assert!(lines[3].trim_end().ends_with("run 1   left"), "{}", show.stdout);
    assert_eq!(lines[4], format!("      - not sent: {stopped}"));
    let runs = world.flowmap(&["runs"]);
    assert!(
        runs.stdout.contains("stopped   lnb-order-to-exact-as-invoice  sent 0 · reconciled 0 · skipped 0 · blocked 2 · ignored 0 · failed 0"),
        "{}",
        runs.stdout
    );
    // After consent, the next run sends what was left (the blocked ones were written back as such).
    world.connect();
    let after = world.flowmap(&["run", INVOICE]);
    assert!(untimed(&after.stdout).starts_with(&format!("run 2 of {FLOW}: completed in <t>\n  5 fetched, 5 sent\n")), "{}", after.stdout);
    let shown = world.flowmap(&["show", FLOW, "50001"]).stdout;
    assert!(shown.starts_with(&format!("{FLOW} 50001: sent after 2 delivery attempt(s), target id ")), "{shown}");
}

#[test]
fn lnb_client_credentials_refused_stop_the_run_with_what_to_do() {
    let world = default_world();
    world.connect();
    let wrong = world.flowmap_env(&["connect", "lnb"], &[("FLOWMAP_CLIENT_SECRET", "rotated-at-lnb")]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    let run = world.flowmap(&["run", INVOICE]);
    assert_eq!(
        untimed(&run.stdout).lines().nth(1).unwrap_or(""),
        "  stopped: fetching lnb /orders: connection `lnb`: the token endpoint refused the client credentials: Invalid client credentials (HTTP 401); \
         run \"flowmap connect lnb\" with the current client id and secret"
    );
    assert_eq!(run.code, 1);
}
