//! Deliveries reserved by identity: one holder at a time, whatever flow or
//! run; a holder whose process or run is gone is taken over, and the taker
//! is told to ask the target first.

use flowmap_state::{Delivered, DeliveryEnd, JournalEntry, Reservation, State};
use pretty_assertions::assert_eq;

const TARGET: &str = "exact salesorder/SalesOrders YourRef";

fn sending(flow: &str, key: &str, run: i64) -> JournalEntry {
    JournalEntry { run: Some(run), flow: flow.into(), key: key.into(), event: "sending".into(), status: Some("sending".into()), ..Default::default() }
}

fn by(flow: &str, key: &str, run: i64, status: &str, target_id: Option<&str>) -> Delivered {
    Delivered { flow: flow.into(), key: key.into(), run, status: status.into(), target_id: target_id.map(str::to_string) }
}

#[test]
fn one_holder_at_a_time_then_whoever_comes_next_asks_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let a = state.start_run("orders", "v1", "run", "command").unwrap();
    let b = state.start_run("orders-as-order", "v1", "run", "command").unwrap();

    let first = state.reserve_delivery(TARGET, "PO1", "orders", "1", a, &[sending("orders", "1", a)]).unwrap();
    assert_eq!(first, Reservation::Fresh);
    // The sending entry went in with the reservation.
    assert_eq!(state.record_state("orders", "1").unwrap().map(|r| (r.status, r.attempts)), Some(("sending".into(), 1)));

    // Another flow's run, alive in this process: it waits.
    let second = state.reserve_delivery(TARGET, "PO1", "orders-as-order", "1", b, &[sending("orders-as-order", "1", b)]).unwrap();
    assert_eq!(second, Reservation::Held(by("orders", "1", a, "holding", None)));
    assert_eq!(state.record_state("orders-as-order", "1").unwrap(), None, "nothing journaled for a held identity");

    state.end_delivery(TARGET, "PO1", a, &DeliveryEnd::Sent(Some("guid-1".into())), &[]).unwrap();
    let third = state.reserve_delivery(TARGET, "PO1", "orders-as-order", "1", b, &[sending("orders-as-order", "1", b)]).unwrap();
    assert_eq!(third, Reservation::Confirm(by("orders", "1", a, "sent", Some("guid-1"))));
    assert_eq!(state.delivery(TARGET, "PO1").unwrap(), Some(by("orders-as-order", "1", b, "holding", Some("guid-1"))));

    // Other identities are not held up.
    assert_eq!(state.reserve_delivery(TARGET, "PO2", "orders-as-order", "2", b, &[]).unwrap(), Reservation::Fresh);
    // Given up (the target refused it): the next one delivers without asking.
    state.end_delivery(TARGET, "PO2", b, &DeliveryEnd::NotDelivered, &[]).unwrap();
    assert_eq!(state.delivery(TARGET, "PO2").unwrap(), None);
    assert_eq!(state.reserve_delivery(TARGET, "PO2", "orders", "2", a, &[]).unwrap(), Reservation::Fresh);
}

#[test]
fn a_holder_whose_run_ended_or_whose_process_died_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let dead = State::open(&path).unwrap();
    let run = dead.start_run("orders", "v1", "run", "command").unwrap();
    assert_eq!(dead.reserve_delivery(TARGET, "PO1", "orders", "1", run, &[]).unwrap(), Reservation::Fresh);
    assert_eq!(dead.reserve_delivery(TARGET, "PO2", "orders", "2", run, &[]).unwrap(), Reservation::Fresh);

    let other = State::open(&path).unwrap();
    let mine = other.start_run("orders-as-order", "v1", "run", "command").unwrap();
    assert_eq!(
        other.reserve_delivery(TARGET, "PO1", "orders-as-order", "1", mine, &[]).unwrap(),
        Reservation::Held(by("orders", "1", run, "holding", None))
    );
    // The holding process goes away (its lock file is released, as at SIGKILL).
    drop(dead);
    assert_eq!(
        other.reserve_delivery(TARGET, "PO1", "orders-as-order", "1", mine, &[]).unwrap(),
        Reservation::Confirm(by("orders", "1", run, "holding", None))
    );
    // Its run is still `running` in the journal until someone closes it.
    assert_eq!(other.close_dead_runs().unwrap(), vec![run]);
    assert_eq!(other.run(run).unwrap().map(|r| r.status), Some("crashed".to_string()));
    assert_eq!(other.close_dead_runs().unwrap(), Vec::<i64>::new(), "a live run is never closed");
    assert_eq!(other.run(mine).unwrap().map(|r| r.status), Some("running".to_string()));

    // A run that ended (here: finished normally) holds nothing either, even in a live process.
    let third = other.start_run("orders", "v1", "run", "command").unwrap();
    assert_eq!(other.reserve_delivery(TARGET, "PO3", "orders", "3", third, &[]).unwrap(), Reservation::Fresh);
    other.finish_run(third, "completed", &serde_json::json!({})).unwrap();
    assert_eq!(
        other.reserve_delivery(TARGET, "PO3", "orders-as-order", "3", mine, &[]).unwrap(),
        Reservation::Confirm(by("orders", "3", third, "holding", None))
    );
}

#[test]
fn a_delivery_left_in_doubt_is_confirmed_by_whoever_comes_next() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let a = state.start_run("orders", "v1", "run", "command").unwrap();
    let b = state.start_run("orders", "v1", "run", "command").unwrap();
    state.reserve_delivery(TARGET, "PO1", "orders", "1", a, &[]).unwrap();
    state.end_delivery(TARGET, "PO1", a, &DeliveryEnd::Doubt, &[]).unwrap();
    assert_eq!(state.reserve_delivery(TARGET, "PO1", "orders", "1", b, &[]).unwrap(), Reservation::Confirm(by("orders", "1", a, "doubt", None)));
    // An end by a run that no longer holds it changes nothing.
    state.end_delivery(TARGET, "PO1", a, &DeliveryEnd::NotDelivered, &[]).unwrap();
    assert_eq!(state.delivery(TARGET, "PO1").unwrap(), Some(by("orders", "1", b, "holding", None)));
}

#[test]
fn a_killed_run_is_closed_with_the_counts_its_journal_shows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let dead = State::open(&path).unwrap();
    let run = dead.start_run("orders", "v1", "run", "command").unwrap();
    let entry = |key: &str, event: &str| JournalEntry {
        run: Some(run),
        flow: "orders".into(),
        key: key.into(),
        event: event.into(),
        status: Some(if event == "written_back" { "sent".into() } else { event.into() }),
        ..Default::default()
    };
    dead.record(&[entry("1", "sending"), entry("1", "sent"), entry("1", "written_back")]).unwrap();
    dead.record(&[entry("2", "blocked"), entry("3", "sending"), entry("4", "skipped"), entry("5", "sending"), entry("5", "sent")]).unwrap();
    drop(dead);
    let state = State::open(&path).unwrap();
    assert_eq!(state.close_dead_runs().unwrap(), vec![run]);
    let row = state.run(run).unwrap().unwrap();
    assert_eq!(row.status, "crashed");
    assert!(row.ended_at_ms.is_some());
    assert_eq!(
        row.summary,
        serde_json::json!({
            "run": run, "sent": 2, "reconciled": 0, "skipped": 1, "blocked": 1, "failed": 0, "unknown": 1,
            "stopped": "the process running it ended before the run finished (killed or crashed); \
                        1 record(s) were in delivery and are settled by the next run (the existence check decides)"
        })
    );
}
