//! Opening state files: new ones, foreign ones, newer ones, damaged rows.

use std::os::unix::fs::PermissionsExt;

use flowmap_state::{JournalEntry, State};
use pretty_assertions::assert_eq;
use rusqlite::Connection;

#[test]
fn a_new_state_file_is_created_with_its_directories_owner_only_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("var/lib/flowmap/state.db");
    let state = State::open(&path).unwrap();
    assert_eq!(state.path(), path);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);

    let raw = Connection::open(&path).unwrap();
    let mode: String = raw.pragma_query_value(None, "journal_mode", |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = raw.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, 9);
}

#[test]
fn opening_twice_at_once_and_again_later_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || State::open(&path).map(|_| ()))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    State::open(&path).unwrap();
    // Each opener made its own draft and linked it into place (or found one there):
    // none saw an empty or half-made file, and no draft is left behind.
    let drafts: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".new-"))
        .collect();
    assert_eq!(drafts, Vec::<String>::new());
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flows.yaml");
    let contents = "flow: orders\n".repeat(100);
    std::fs::write(&path, &contents).unwrap();
    let error = State::open(&path).unwrap_err().to_string();
    assert_eq!(error, format!("{} is not a flowmap state file: it is not an SQLite database (is the path right?)", path.display()));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), contents);
}

#[test]
fn another_programs_sqlite_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path).unwrap().execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');").unwrap();
    let before = std::fs::read(&path).unwrap();
    let error = State::open(&path).unwrap_err().to_string();
    assert_eq!(error, format!("{} is not a flowmap state file: it is an SQLite database of another program (left unchanged)", path.display()));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_state_file_from_a_newer_flowmap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(State::open(&path).unwrap());
    Connection::open(&path).unwrap().pragma_update(None, "user_version", 10).unwrap();
    let error = State::open(&path).unwrap_err().to_string();
    assert_eq!(error, format!("{} was written by a newer flowmap (schema version 10; this flowmap knows up to 9): upgrade flowmap", path.display()));
}

#[test]
fn damaged_rows_give_errors_that_name_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let entry = JournalEntry {
        flow: "orders".into(),
        key: "SO-1".into(),
        event: "fetched".into(),
        status: Some("fetched".into()),
        source: Some(serde_json::json!({"id": 1})),
        ..Default::default()
    };
    state.record(&[entry]).unwrap();

    let raw = Connection::open(&path).unwrap();
    raw.execute("UPDATE journal SET source = '{\"id\": 1', reasons = 'oops'", []).unwrap();
    raw.execute("UPDATE records SET reasons = '[1]'", []).unwrap();

    let error = state.history("orders", "SO-1").unwrap_err().to_string();
    assert_eq!(error, format!("{}: journal entry 1: damaged source: not valid JSON (line 1, column 8)", path.display()));
    let error = state.last_source("orders", "SO-1").unwrap_err().to_string();
    assert!(error.contains("journal entry 1: damaged source: not valid JSON"), "{error}");
    let error = state.record_state("orders", "SO-1").unwrap_err().to_string();
    assert_eq!(error, format!("{}: record SO-1 of orders: damaged reasons: not a list of texts", path.display()));

    raw.execute("UPDATE records SET attempts = 'many'", []).unwrap();
    let error = state.records("orders", &[]).unwrap_err().to_string();
    assert!(error.starts_with(&format!("{}: listing records of orders: ", path.display())), "{error}");
}

#[test]
fn an_empty_state_file_is_refused_not_taken_for_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, b"").unwrap();
    let error = State::open(&path).unwrap_err().to_string();
    let shown = path.display();
    assert_eq!(
        error,
        format!(
            "{shown} is empty (0 bytes): the journal and the credentials it held are gone. Restore it from a backup; \
             or, to start anew without them, remove it (`rm {shown}`) and connect again (`flowmap connect NAME`)"
        )
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as it was");
}

#[test]
fn a_state_file_with_damaged_pages_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    // Enough rows for the journal to span many pages.
    for chunk in 0..20 {
        let entries: Vec<JournalEntry> = (0..50)
            .map(|i| JournalEntry {
                flow: "orders".into(),
                key: format!("{chunk}-{i}"),
                event: "fetched".into(),
                status: Some("fetched".into()),
                source: Some(serde_json::json!({"id": i, "note": "x".repeat(200)})),
                ..Default::default()
            })
            .collect();
        state.record(&entries).unwrap();
    }
    drop(state);
    // Fold the WAL into the file, then write 64 bytes of noise in the middle of a page.
    Connection::open(&path).unwrap().pragma_update(None, "wal_checkpoint", "TRUNCATE").unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2 / 4096 * 4096 + 8;
    for (i, b) in bytes[middle..middle + 64].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(151).wrapping_add(7);
    }
    std::fs::write(&path, &bytes).unwrap();

    let error = State::open(&path).unwrap_err().to_string();
    let shown = path.display();
    assert!(error.starts_with(&format!("{shown} is damaged (")), "{error}");
    assert!(
        error.ends_with(&format!(
            "); nothing was run or changed. Restore it from a backup; or, to start anew without its journal and credentials, \
             move it away (`mv {shown} {shown}.damaged`) and connect again (`flowmap connect NAME`)"
        )),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it was");
}
