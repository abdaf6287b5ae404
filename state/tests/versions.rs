//! Versions of records (delivered once per version) and watermarks (where the next run starts).

use flowmap_state::{JournalEntry, SentVersion, State};
use pretty_assertions::assert_eq;

fn entry(run: i64, key: &str, event: &str, status: &str, version: &str) -> JournalEntry {
    JournalEntry {
        run: Some(run),
        flow: "pos".into(),
        key: key.into(),
        event: event.into(),
        status: Some(status.into()),
        version: Some(version.into()),
        ..Default::default()
    }
}

#[test]
fn only_a_delivery_makes_a_version_the_sent_one() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let run = state.start_run("pos", "1", "run", "command").unwrap();
    state.record(&[entry(run, "PO-1", "sending", "sending", "v1")]).unwrap();
    // Sending is not sent: no version yet.
    assert_eq!(state.sent_versions("pos", &["PO-1".into()]).unwrap(), vec![]);
    state.record(&[JournalEntry { target_id: Some("f1#0001".into()), ..entry(run, "PO-1", "sent", "sent", "v1") }]).unwrap();
    // A later version blocked keeps v1 as the version last delivered.
    state.record(&[entry(run, "PO-1", "blocked", "blocked", "v2")]).unwrap();
    state.record(&[entry(run, "PO-2", "sent", "sent", "v7")]).unwrap();
    let keys = ["PO-1".to_string(), "PO-2".into(), "PO-3".into()];
    assert_eq!(
        state.sent_versions("pos", &keys).unwrap(),
        vec![
            SentVersion { key: "PO-1".into(), version: "v1".into(), target_id: Some("f1#0001".into()), run: Some(run) },
            SentVersion { key: "PO-2".into(), version: "v7".into(), target_id: None, run: Some(run) },
        ]
    );
    // The journal keeps each entry's version.
    let versions: Vec<_> = state.history("pos", "PO-1").unwrap().into_iter().map(|e| (e.event, e.version)).collect();
    assert_eq!(versions, vec![("sending".into(), Some("v1".into())), ("sent".into(), Some("v1".into())), ("blocked".into(), Some("v2".into()))]);
}

#[test]
fn a_watermark_is_kept_per_flow_and_moved_by_the_run_that_settled_up_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    assert_eq!(state.watermark("pos").unwrap(), None);
    let run = state.start_run("pos", "1", "run", "command").unwrap();
    state.set_watermark("pos", "/Date(1700000000000)/", Some(run)).unwrap();
    state.set_watermark("other", "2026-01-01", None).unwrap();
    let mark = state.watermark("pos").unwrap().unwrap();
    assert_eq!((mark.value.as_str(), mark.run), ("/Date(1700000000000)/", Some(run)));
    state.set_watermark("pos", "/Date(1700000001000)/", Some(run)).unwrap();
    assert_eq!(state.watermark("pos").unwrap().unwrap().value, "/Date(1700000001000)/");
    assert_eq!(state.watermark("other").unwrap().unwrap().value, "2026-01-01");
}

#[test]
fn a_state_file_of_schema_version_7_gains_versions_and_watermarks_and_keeps_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let run = state.start_run("pos", "1", "run", "command").unwrap();
    state.record(&[JournalEntry { version: None, ..entry(run, "PO-1", "sent", "sent", "x") }]).unwrap();
    drop(state);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP INDEX records_by_document; ALTER TABLE records DROP COLUMN document; DROP TABLE acknowledgements_received; DROP TABLE watermarks; ALTER TABLE journal DROP COLUMN version; ALTER TABLE records DROP COLUMN sent_version; PRAGMA user_version = 7;")
        .unwrap();

    let state = State::open(&path).unwrap();
    assert_eq!(state.record_state("pos", "PO-1").unwrap().map(|r| r.status), Some("sent".to_string()));
    // Sent before versions were kept: no version, so the next run decides by its existence check.
    assert_eq!(state.sent_versions("pos", &["PO-1".into()]).unwrap(), vec![]);
    state.set_watermark("pos", "w", Some(run)).unwrap();
}
