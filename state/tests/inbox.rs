//! The inbox: records events asked for, kept until a run has taken them.

use flowmap_state::{GiveUp, InboxStatus, JournalEntry, Received, State};
use pretty_assertions::assert_eq;
use rusqlite::Connection;

fn waiting(state: &State) -> Vec<(String, String, String)> {
    state.inbox().unwrap().into_iter().map(|r| (r.flow, r.key, r.origin)).collect()
}

#[test]
fn records_wait_in_the_inbox_across_reopening_until_taken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Update").unwrap();
    state.put_inbox("cancellations", "guid-2", "exact SalesOrders Update").unwrap();
    // A second event for a record already waiting: it is run once.
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Delete").unwrap();
    state.put_inbox("items", "guid-1", "exact Items Update").unwrap();
    drop(state);

    let state = State::open(&path).unwrap();
    let mut rows = waiting(&state);
    rows.sort();
    assert_eq!(
        rows,
        vec![
            ("cancellations".into(), "guid-1".into(), "exact SalesOrders Update".into()),
            ("cancellations".into(), "guid-2".into(), "exact SalesOrders Update".into()),
            ("items".into(), "guid-1".into(), "exact Items Update".into()),
        ]
    );
    let seen = state.inbox_seen("cancellations", &["guid-1".to_string(), "never-there".to_string()]).unwrap();
    assert_eq!(seen, vec![("guid-1".to_string(), 2)], "two events for guid-1; nothing waits for never-there");
    state.take_inbox("cancellations", &seen).unwrap();
    let mut rows = waiting(&state);
    rows.sort();
    assert_eq!(
        rows,
        vec![
            ("cancellations".into(), "guid-2".into(), "exact SalesOrders Update".into()),
            ("items".into(), "guid-1".into(), "exact Items Update".into())
        ]
    );
}

#[test]
fn an_event_that_arrives_while_a_run_has_its_record_waits_for_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Update").unwrap();
    // A run starts for guid-1 and notes what it has seen …
    let seen = state.inbox_seen("cancellations", &["guid-1".to_string()]).unwrap();
    // … the record changes again and Exact says so while the run fetches it …
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Update").unwrap();
    // … and the run's end does not take the newer event away.
    state.take_inbox("cancellations", &seen).unwrap();
    let rows = state.inbox().unwrap();
    assert_eq!(rows.iter().map(|r| (r.key.as_str(), r.events)).collect::<Vec<_>>(), vec![("guid-1", 2)]);
    let seen = state.inbox_seen("cancellations", &["guid-1".to_string()]).unwrap();
    state.take_inbox("cancellations", &seen).unwrap();
    assert_eq!(waiting(&state), vec![]);
}

#[test]
fn a_state_file_of_schema_version_1_gains_the_inbox_and_keeps_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let run = state.start_run("orders", "v1", "run", "command").unwrap();
    let entry = JournalEntry {
        run: Some(run),
        flow: "orders".into(),
        key: "50001".into(),
        event: "sent".into(),
        status: Some("sent".into()),
        ..Default::default()
    };
    state.record(&[entry]).unwrap();
    drop(state);
    // What a version-1 file looks like: the same tables without the inbox.
    let raw = Connection::open(&path).unwrap();
    raw.execute_batch(
        "DROP INDEX records_by_document; ALTER TABLE records DROP COLUMN document; DROP TABLE acknowledgements_received; DROP TABLE watermarks; ALTER TABLE journal DROP COLUMN version; ALTER TABLE records DROP COLUMN sent_version; DROP TABLE interchanges_received; DROP TABLE files; DROP TABLE control_numbers; DROP TABLE inbox; DROP TABLE deliveries; DROP TABLE webhook_events; ALTER TABLE runs DROP COLUMN process; ALTER TABLE runs DROP COLUMN origin; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(raw);

    let state = State::open(&path).unwrap();
    let version: i64 = Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, 9);
    assert_eq!(state.record_state("orders", "50001").unwrap().map(|r| r.status), Some("sent".to_string()));
    state.put_inbox("orders", "50002", "test").unwrap();
    assert_eq!(waiting(&state), vec![("orders".into(), "50002".into(), "test".into())]);
}

#[test]
fn a_state_file_of_schema_version_2_counts_events_and_keeps_what_waits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    version_2_with_one_waiting(&path);

    let state = State::open(&path).unwrap();
    let rows = state.inbox().unwrap();
    assert_eq!(rows.iter().map(|r| (r.key.as_str(), r.events)).collect::<Vec<_>>(), vec![("guid-1", 1)]);
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Update").unwrap();
    assert_eq!(state.inbox_seen("cancellations", &["guid-1".to_string()]).unwrap(), vec![("guid-1".to_string(), 2)]);
}

#[test]
fn a_state_file_of_schema_version_2_keeps_what_waits_as_waiting_with_no_tries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    version_2_with_one_waiting(&path);
    let state = State::open(&path).unwrap();
    let rows = state.inbox_waiting().unwrap();
    assert_eq!(
        rows.iter().map(|r| (r.key.as_str(), r.status, r.attempts, r.last_error.clone())).collect::<Vec<_>>(),
        vec![("guid-1", InboxStatus::Waiting, 0, None)]
    );
}

fn statuses(state: &State) -> Vec<(String, InboxStatus, i64)> {
    state.inbox().unwrap().into_iter().map(|r| (r.key, r.status, r.attempts)).collect()
}

#[test]
fn tries_that_do_not_settle_a_record_are_counted_and_the_last_one_allowed_gives_it_up() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Update").unwrap();
    let seen = state.inbox_seen("cancellations", &["guid-1".to_string()]).unwrap();
    assert_eq!(state.inbox_tried("cancellations", &seen, "Exact is down", GiveUp::After(3)).unwrap(), Vec::<String>::new());
    assert_eq!(state.inbox_tried("cancellations", &seen, "Exact is down", GiveUp::After(3)).unwrap(), Vec::<String>::new());
    assert_eq!(statuses(&state), vec![("guid-1".into(), InboxStatus::Waiting, 2)]);
    assert_eq!(state.inbox_tried("cancellations", &seen, "Exact is still down", GiveUp::After(3)).unwrap(), vec!["guid-1".to_string()]);
    let row = &state.inbox().unwrap()[0];
    assert_eq!((row.status, row.attempts, row.last_error.as_deref()), (InboxStatus::Dead, 3, Some("Exact is still down")));
    assert!(row.last_try_at_ms.is_some());
    // Dead letters are not run by themselves …
    assert_eq!(state.inbox_waiting().unwrap(), vec![]);
    // … until an operator retries one: it waits again, its tries counted afresh.
    assert!(state.retry_inbox("cancellations", "guid-1").unwrap());
    assert_eq!(statuses(&state), vec![("guid-1".into(), InboxStatus::Waiting, 0)]);
    assert!(!state.retry_inbox("cancellations", "never-there").unwrap());
}

#[test]
fn a_refused_key_is_a_dead_letter_at_once_unless_a_newer_event_came_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Update").unwrap();
    state.put_inbox("cancellations", "guid-2", "exact SalesOrders Update").unwrap();
    let seen = state.inbox_seen("cancellations", &["guid-1".to_string(), "guid-2".to_string()]).unwrap();
    // guid-2 changes again while the run has it.
    state.put_inbox("cancellations", "guid-2", "exact SalesOrders Update").unwrap();
    let dead = state.inbox_tried("cancellations", &seen, "Exact refused to give it (HTTP 400)", GiveUp::Now).unwrap();
    assert_eq!(dead, vec!["guid-1".to_string()]);
    assert_eq!(statuses(&state), vec![("guid-1".into(), InboxStatus::Dead, 1), ("guid-2".into(), InboxStatus::Waiting, 1)]);
    // A new event for a dead letter revives it: the record changed, it may work now.
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Update").unwrap();
    assert_eq!(statuses(&state)[0], ("guid-1".into(), InboxStatus::Waiting, 0));
}

#[test]
fn records_are_dropped_one_by_one_or_every_dead_letter_of_a_flow() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    for key in ["guid-1", "guid-2", "guid-3"] {
        state.put_inbox("cancellations", key, "exact SalesOrders Update").unwrap();
    }
    state.put_inbox("items", "guid-1", "exact Items Update").unwrap();
    let seen = state.inbox_seen("cancellations", &["guid-1".to_string(), "guid-2".to_string()]).unwrap();
    state.inbox_tried("cancellations", &seen, "refused", GiveUp::Now).unwrap();
    let seen = state.inbox_seen("items", &["guid-1".to_string()]).unwrap();
    state.inbox_tried("items", &seen, "refused", GiveUp::Now).unwrap();
    assert_eq!(
        state.inbox_counts().unwrap(),
        vec![
            ("cancellations".into(), InboxStatus::Dead, 2),
            ("cancellations".into(), InboxStatus::Waiting, 1),
            ("items".into(), InboxStatus::Dead, 1)
        ]
    );
    assert!(state.drop_inbox("cancellations", "guid-3").unwrap());
    assert!(!state.drop_inbox("cancellations", "guid-3").unwrap());
    assert_eq!(state.drop_dead_inbox("cancellations").unwrap(), 2);
    assert_eq!(waiting(&state), vec![("items".into(), "guid-1".into(), "exact Items Update".into())], "another flow's dead letter stays");
}

#[test]
fn an_event_received_again_within_the_window_is_recognised_across_reopening_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let flows = vec!["cancellations".to_string(), "audit".to_string()];
    let state = State::open(&path).unwrap();
    assert_eq!(state.receive_event("event-1", 60_000, &flows, "guid-1", "exact SalesOrders Update").unwrap(), Received::New);
    let first: Vec<(String, i64)> = state.inbox().unwrap().into_iter().map(|r| (r.flow, r.events)).collect();
    assert_eq!(first, vec![("audit".to_string(), 1), ("cancellations".to_string(), 1)]);
    drop(state);

    let state = State::open(&path).unwrap();
    assert!(matches!(state.receive_event("event-1", 60_000, &flows, "guid-1", "exact SalesOrders Update").unwrap(), Received::Again { .. }));
    let again: Vec<(String, i64)> = state.inbox().unwrap().into_iter().map(|r| (r.flow, r.events)).collect();
    assert_eq!(again, first, "a repeated event is not counted");
    // Another event for the same record is.
    assert_eq!(state.receive_event("event-2", 60_000, &flows, "guid-1", "exact SalesOrders Update").unwrap(), Received::New);
    assert!(state.inbox().unwrap().iter().all(|r| r.events == 2));
}

#[test]
fn events_older_than_the_window_are_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let flows = vec!["cancellations".to_string()];
    state.receive_event("event-1", 60_000, &flows, "guid-1", "exact SalesOrders Update").unwrap();
    // The event was received two minutes ago.
    Connection::open(&path).unwrap().execute("UPDATE webhook_events SET received_at_ms = received_at_ms - 120000", []).unwrap();
    assert_eq!(state.receive_event("event-1", 60_000, &flows, "guid-1", "exact SalesOrders Update").unwrap(), Received::New);
    let count: i64 = Connection::open(&path).unwrap().query_row("SELECT count(*) FROM webhook_events", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 1, "the old one was pruned");
}

/// What a version-2 file looks like: the inbox without its event count, one record waiting.
fn version_2_with_one_waiting(path: &std::path::Path) {
    drop(State::open(path).unwrap());
    let raw = Connection::open(path).unwrap();
    raw.execute_batch(
        "DROP INDEX records_by_document; ALTER TABLE records DROP COLUMN document; DROP TABLE acknowledgements_received; DROP TABLE watermarks; ALTER TABLE journal DROP COLUMN version; ALTER TABLE records DROP COLUMN sent_version; DROP TABLE interchanges_received; DROP TABLE files; DROP TABLE control_numbers; DROP TABLE inbox; DROP TABLE deliveries; DROP TABLE webhook_events; ALTER TABLE runs DROP COLUMN process; ALTER TABLE runs DROP COLUMN origin;
         CREATE TABLE inbox (flow TEXT NOT NULL, key TEXT NOT NULL, origin TEXT NOT NULL, received_at_ms INTEGER NOT NULL,
                             PRIMARY KEY (flow, key)) WITHOUT ROWID;
         INSERT INTO inbox VALUES ('cancellations', 'guid-1', 'exact SalesOrders Update', 1);
         PRAGMA user_version = 2;",
    )
    .unwrap();
}
