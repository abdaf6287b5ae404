//! 997s received for the X12 groups we sent, and the sent records still waiting for one.

use flowmap_state::{Acknowledgement, JournalEntry, State, Unacknowledged};
use pretty_assertions::assert_eq;
use serde_json::json;

fn sent(run: i64, key: &str, group: u32, file: &str) -> JournalEntry {
    JournalEntry {
        run: Some(run),
        flow: "po-out".into(),
        key: key.into(),
        event: "sent".into(),
        status: Some("sent".into()),
        answer: Some(json!({"file": file, "interchange": group, "group": group, "set": "0001"})),
        ..Default::default()
    }
}

fn ack(group: &str, verdict: &str) -> Acknowledgement {
    Acknowledgement {
        partner: "ZZ:TRUECOMMERCE".into(),
        functional_id: "PO".into(),
        group_control: group.into(),
        verdict: verdict.into(),
        detail: json!({"sets": [{"control": "0001", "verdict": verdict}]}),
        file: None,
        received_at_ms: 0,
    }
}

#[test]
fn a_sent_group_waits_for_its_997_and_a_later_997_replaces_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let run = state.start_run("po-out", "1", "run", "command").unwrap();
    state.record(&[sent(run, "PO-1", 7, "/out/a.x12"), sent(run, "PO-2", 8, "/out/b.x12"), sent(run, "PO-3", 8, "/out/b.x12")]).unwrap();
    let far = i64::MAX;
    let waiting = |state: &State| state.unacknowledged("po-out", far).unwrap().into_iter().map(|u| u.key).collect::<Vec<_>>();
    assert_eq!(waiting(&state), vec!["PO-1", "PO-2", "PO-3"]);
    // Sent after the moment asked about: not overdue yet.
    assert_eq!(state.unacknowledged("po-out", 0).unwrap(), Vec::<Unacknowledged>::new());

    state.receive_acknowledgement(&ack("8", "rejected")).unwrap();
    assert_eq!(waiting(&state), vec!["PO-1"]);
    assert_eq!(state.acknowledgement("8").unwrap().map(|a| a.verdict), Some("rejected".into()));
    state.receive_acknowledgement(&ack("8", "accepted")).unwrap();
    let got = state.acknowledgement("8").unwrap().unwrap();
    assert_eq!((got.verdict.as_str(), got.detail["sets"][0]["verdict"].as_str()), ("accepted", Some("accepted")));
    assert_eq!(state.acknowledgement("7").unwrap(), None);
    assert_eq!(
        state.unacknowledged("po-out", far).unwrap(),
        vec![Unacknowledged {
            flow: "po-out".into(),
            key: "PO-1".into(),
            group_control: "7".into(),
            file: Some("/out/a.x12".into()),
            sent_at_ms: state.unacknowledged("po-out", far).unwrap()[0].sent_at_ms
        }]
    );
}

#[test]
fn records_of_every_flow_about_one_document_are_found_together() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let run = state.start_run("po-out", "1", "run", "command").unwrap();
    state.record(&[sent(run, "guid-1", 1, "/out/a.x12"), sent(run, "guid-2", 1, "/out/a.x12")]).unwrap();
    let blocked =
        JournalEntry { flow: "acks-in".into(), event: "blocked".into(), status: Some("blocked".into()), ..sent(run, "30001@7/0001", 2, "x") };
    state.record(&[blocked]).unwrap();
    state.note_documents("po-out", &[("guid-1".into(), "30001".into()), ("guid-2".into(), "30002".into())]).unwrap();
    state.note_documents("acks-in", &[("30001@7/0001".into(), "30001".into())]).unwrap();
    let story: Vec<(String, String, String)> = state.records_of_document("30001").unwrap().into_iter().map(|r| (r.flow, r.key, r.status)).collect();
    assert_eq!(story, vec![("po-out".into(), "guid-1".into(), "sent".into()), ("acks-in".into(), "30001@7/0001".into(), "blocked".into())]);
    assert_eq!(state.document_of("po-out", "guid-2").unwrap(), Some("30002".into()));
    assert_eq!(state.document_of("po-out", "guid-9").unwrap(), None);
}
