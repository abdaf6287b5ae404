//! The inbox: records events asked for, kept until a run has taken them.

use flowmap_state::{JournalEntry, State};
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
    let run = state.start_run("orders", "v1", "run").unwrap();
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
    raw.execute_batch("DROP TABLE inbox; DROP TABLE deliveries; ALTER TABLE runs DROP COLUMN process; PRAGMA user_version = 1;").unwrap();
    drop(raw);

    let state = State::open(&path).unwrap();
    let version: i64 = Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, 4);
    assert_eq!(state.record_state("orders", "50001").unwrap().map(|r| r.status), Some("sent".to_string()));
    state.put_inbox("orders", "50002", "test").unwrap();
    assert_eq!(waiting(&state), vec![("orders".into(), "50002".into(), "test".into())]);
}

#[test]
fn a_state_file_of_schema_version_2_counts_events_and_keeps_what_waits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(State::open(&path).unwrap());
    // What a version-2 file looks like: the inbox without its event count, one record waiting.
    let raw = Connection::open(&path).unwrap();
    raw.execute_batch(
        "DROP TABLE inbox; DROP TABLE deliveries; ALTER TABLE runs DROP COLUMN process;
         CREATE TABLE inbox (flow TEXT NOT NULL, key TEXT NOT NULL, origin TEXT NOT NULL, received_at_ms INTEGER NOT NULL,
                             PRIMARY KEY (flow, key)) WITHOUT ROWID;
         INSERT INTO inbox VALUES ('cancellations', 'guid-1', 'exact SalesOrders Update', 1);
         PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(raw);

    let state = State::open(&path).unwrap();
    let rows = state.inbox().unwrap();
    assert_eq!(rows.iter().map(|r| (r.key.as_str(), r.events)).collect::<Vec<_>>(), vec![("guid-1", 1)]);
    state.put_inbox("cancellations", "guid-1", "exact SalesOrders Update").unwrap();
    assert_eq!(state.inbox_seen("cancellations", &["guid-1".to_string()]).unwrap(), vec![("guid-1".to_string(), 2)]);
}
