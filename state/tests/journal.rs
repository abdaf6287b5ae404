//! Runs, the journal and each record's current state.

use flowmap_state::{JournalEntry, RecordRow, State};
use pretty_assertions::assert_eq;
use serde_json::json;

fn entry(run: Option<i64>, key: &str, event: &str, status: Option<&str>) -> JournalEntry {
    JournalEntry { run, flow: "orders".into(), key: key.into(), event: event.into(), status: status.map(Into::into), ..Default::default() }
}

#[test]
fn sending_then_sent_updates_the_record_and_keeps_the_history_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let run = state.start_run("orders", "3", "run", "command").unwrap();

    let fetched = JournalEntry { source: Some(json!({"OrderNo": "SO-1", "Total": 12.5})), ..entry(Some(run), "SO-1", "fetched", None) };
    let sending = JournalEntry { payload: Some(json!({"Description": "SO-1"})), ..entry(Some(run), "SO-1", "sending", Some("sending")) };
    state.record(&[fetched, sending]).unwrap();
    // SO-1 was not seen before and "fetched" set no status: it got a row from "sending".
    let record = state.record_state("orders", "SO-1").unwrap().unwrap();
    assert_eq!((record.status.as_str(), record.attempts, record.target_id.as_deref()), ("sending", 1, None));
    assert_eq!(state.records("orders", &["sending"]).unwrap(), vec![record.clone()]);

    let sent = JournalEntry {
        answer: Some(json!({"OrderID": "guid-1"})),
        target_id: Some("guid-1".into()),
        ..entry(Some(run), "SO-1", "sent", Some("sent"))
    };
    state.record(&[sent]).unwrap();
    // A later entry without a target id (and without a status) keeps both.
    state.record(&[JournalEntry { detail: Some("write-back done".into()), ..entry(Some(run), "SO-1", "written_back", None) }]).unwrap();

    let record = state.record_state("orders", "SO-1").unwrap().unwrap();
    assert_eq!(
        record,
        RecordRow {
            flow: "orders".into(),
            key: "SO-1".into(),
            status: "sent".into(),
            attempts: 1,
            target_id: Some("guid-1".into()),
            reasons: vec![],
            last_run: Some(run),
            updated_at_ms: record.updated_at_ms,
            sent_version: None,
        }
    );
    assert!(state.records("orders", &["sending"]).unwrap().is_empty());

    let history = state.history("orders", "SO-1").unwrap();
    let events: Vec<_> = history.iter().map(|row| row.event.as_str()).collect();
    assert_eq!(events, ["fetched", "sending", "sent", "written_back"]);
    assert!(history.windows(2).all(|pair| pair[0].id < pair[1].id && pair[0].at_ms <= pair[1].at_ms));
    assert_eq!(history[1].payload, Some(json!({"Description": "SO-1"})));
    assert_eq!(history[2].answer, Some(json!({"OrderID": "guid-1"})));
    assert_eq!(history[2].target_id.as_deref(), Some("guid-1"));
    assert_eq!(history[3].detail.as_deref(), Some("write-back done"));
    assert!(history.iter().all(|row| row.run == Some(run)));
    assert_eq!(state.last_source("orders", "SO-1").unwrap(), Some(json!({"OrderNo": "SO-1", "Total": 12.5})));
}

#[test]
fn records_are_filtered_by_status_and_reasons_follow_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let blocked = JournalEntry { reasons: vec!["customer C-9 not found".into()], ..entry(None, "SO-2", "blocked", Some("blocked")) };
    let failed = JournalEntry { reasons: vec!["HTTP 400: VAT code unknown".into()], ..entry(None, "SO-3", "failed", Some("failed")) };
    state.record(&[entry(None, "SO-1", "sending", Some("sending")), blocked, failed]).unwrap();
    // An entry without a status for a record never seen goes to the journal only.
    state.record(&[entry(None, "SO-4", "fetched", None)]).unwrap();

    let keys = |statuses: &[&str]| state.records("orders", statuses).unwrap().into_iter().map(|row| row.key).collect::<Vec<_>>();
    assert_eq!(keys(&["failed", "blocked"]), ["SO-2", "SO-3"]);
    assert_eq!(keys(&["sending"]), ["SO-1"]);
    assert_eq!(keys(&[]), ["SO-1", "SO-2", "SO-3"]);
    assert!(state.records("invoices", &[]).unwrap().is_empty());
    assert_eq!(state.record_state("orders", "SO-4").unwrap(), None);
    assert_eq!(state.history("orders", "SO-4").unwrap().len(), 1);

    assert_eq!(state.record_state("orders", "SO-2").unwrap().unwrap().reasons, ["customer C-9 not found"]);
    state.record(&[entry(None, "SO-2", "sending", Some("sending"))]).unwrap();
    state.record(&[entry(None, "SO-2", "failed", Some("failed"))]).unwrap();
    state.record(&[entry(None, "SO-2", "sending", Some("sending"))]).unwrap();
    let record = state.record_state("orders", "SO-2").unwrap().unwrap();
    assert_eq!((record.status.as_str(), record.attempts, record.reasons.len()), ("sending", 2, 0));
}

#[test]
fn a_batch_is_written_entirely_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    // The second entry names a run that does not exist: the first must not stay.
    let error = state.record(&[entry(None, "SO-1", "sending", Some("sending")), entry(Some(42), "SO-2", "sending", Some("sending"))]).unwrap_err();
    assert!(error.to_string().contains("journaling sending of record SO-2 of orders: FOREIGN KEY constraint failed"), "{error}");
    assert!(state.history("orders", "SO-1").unwrap().is_empty());
    assert_eq!(state.record_state("orders", "SO-1").unwrap(), None);

    let error = state.record(&[entry(None, "SO-1", "delivered", Some("sent"))]).unwrap_err().to_string();
    assert!(error.contains("unknown journal event \"delivered\""), "{error}");
    assert!(state.history("orders", "SO-1").unwrap().is_empty());
}

#[test]
fn last_source_is_from_the_newest_entry_that_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    assert_eq!(state.last_source("orders", "SO-1").unwrap(), None);
    state.record(&[JournalEntry { source: Some(json!({"v": 1})), ..entry(None, "SO-1", "fetched", Some("fetched")) }]).unwrap();
    state.record(&[JournalEntry { source: Some(json!({"v": 2})), ..entry(None, "SO-1", "fetched", Some("fetched")) }]).unwrap();
    state.record(&[entry(None, "SO-1", "sending", Some("sending"))]).unwrap();
    assert_eq!(state.last_source("orders", "SO-1").unwrap(), Some(json!({"v": 2})));
}

#[test]
fn runs_are_listed_newest_first_and_finish_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let first = state.start_run("orders", "1", "run", "command").unwrap();
    let second = state.start_run("invoices", "1", "run", "webhook").unwrap();
    let third = state.start_run("orders", "2", "replay", "command").unwrap();

    let running = state.run(third).unwrap().unwrap();
    assert_eq!((running.status.as_str(), running.ended_at_ms, &running.summary), ("running", None, &serde_json::Value::Null));
    assert_eq!((running.mode.as_str(), running.origin.as_deref()), ("replay", Some("command")));
    assert_eq!(state.run(second).unwrap().unwrap().origin.as_deref(), Some("webhook"));

    let summary = json!({"sent": 10, "failed": 1, "calls": {"exact": 12}, "waits_ms": 250});
    state.finish_run(first, "completed", &summary).unwrap();
    let finished = state.run(first).unwrap().unwrap();
    assert_eq!((finished.status.as_str(), &finished.summary), ("completed", &summary));
    assert!(finished.ended_at_ms.unwrap() >= finished.started_at_ms);

    let ids = |flow: Option<&str>, limit: usize| state.runs(flow, limit).unwrap().into_iter().map(|run| run.id).collect::<Vec<_>>();
    assert_eq!(ids(None, 10), [third, second, first]);
    assert_eq!(ids(Some("orders"), 10), [third, first]);
    assert_eq!(ids(None, 2), [third, second]);
    assert_eq!(state.run(999).unwrap(), None);

    let again = state.finish_run(first, "failed", &json!({})).unwrap_err().to_string();
    assert!(again.ends_with(&format!("cannot finish run {first}: it has already ended (completed)")), "{again}");
    assert!(state.finish_run(999, "failed", &json!({})).unwrap_err().to_string().ends_with("there is no such run"));
    assert!(state.finish_run(second, "done", &json!({})).is_err());
    assert!(state.start_run("orders", "1", "dry-run", "command").is_err());
    let origin = state.start_run("orders", "1", "run", "cron").unwrap_err().to_string();
    assert!(origin.ends_with("unknown run origin \"cron\" (expected one of command, schedule, manual, replay, webhook)"), "{origin}");
}

#[test]
fn reopening_the_file_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let (run, history) = {
        let state = State::open(&path).unwrap();
        let run = state.start_run("orders", "1", "run", "command").unwrap();
        let sent = JournalEntry { target_id: Some("guid-1".into()), ..entry(Some(run), "SO-1", "sent", Some("sent")) };
        state.record(&[entry(Some(run), "SO-1", "sending", Some("sending")), sent]).unwrap();
        state.finish_run(run, "completed", &json!({"sent": 1})).unwrap();
        state.set_setting("exact", "division", "12345").unwrap();
        (run, state.history("orders", "SO-1").unwrap())
    };
    let state = State::open(&path).unwrap();
    assert_eq!(state.history("orders", "SO-1").unwrap(), history);
    assert_eq!(state.run(run).unwrap().unwrap().summary, json!({"sent": 1}));
    let record = state.record_state("orders", "SO-1").unwrap().unwrap();
    assert_eq!((record.status.as_str(), record.attempts, record.target_id.as_deref(), record.last_run), ("sent", 1, Some("guid-1"), Some(run)));
    assert_eq!(state.setting("exact", "division").unwrap().as_deref(), Some("12345"));
}

#[test]
fn rows_serialise_for_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    state.record(&[JournalEntry { reasons: vec!["no VAT code".into()], ..entry(None, "SO-1", "blocked", Some("blocked")) }]).unwrap();
    let record = serde_json::to_value(state.record_state("orders", "SO-1").unwrap().unwrap()).unwrap();
    assert_eq!(record["reasons"], json!(["no VAT code"]));
    assert_eq!(record["attempts"], json!(0));
    let row = serde_json::to_value(&state.history("orders", "SO-1").unwrap()[0]).unwrap();
    assert_eq!((row["event"].clone(), row["payload"].clone()), (json!("blocked"), json!(null)));
}
