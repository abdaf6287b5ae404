//! Reading a partner's 997: which group it acknowledges, the verdicts, and
//! the AK3/AK4 errors as text; and our own 997s read back the same way.

use flowmap::format::x12::{
    Acknowledged, ControlNumbers, ElementSyntaxError, GroupSyntaxError, GroupVerdict, Reader, SetSyntaxError, SetVerdict, acknowledgement,
    read_acknowledgement, receive, write_interchange,
};
use serde_json::json;

use super::support::{definitions, read_sample, sample};
use super::writer::at;

fn received(name: &str) -> Vec<Acknowledged> {
    read_sample(name)
        .into_iter()
        .filter_map(|r| r.ok())
        .filter(|s| s.set_id == "997")
        .map(|s| read_acknowledgement(&s.record).expect("a readable 997"))
        .collect()
}

#[test]
fn an_accepting_997_names_the_group_and_its_sets() {
    let acks = received("mailbag_mixed.x12");
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    assert_eq!((ack.functional_id.as_str(), ack.group_control.as_str(), ack.verdict), ("PR", "10001", GroupVerdict::Accepted));
    assert_eq!((ack.included, ack.received, ack.accepted), (Some(1), Some(1), Some(1)));
    let sets: Vec<_> = ack.sets.iter().map(|s| (s.set_id.as_str(), s.control_number.as_str(), s.verdict)).collect();
    assert_eq!(sets, [("855", "1294", SetVerdict::Accepted)]);
    assert!(ack.problems().is_empty());
}

#[test]
fn a_partially_accepting_997_reads_its_errors_as_text() {
    let acks = received("received_997.x12");
    let partial = &acks[0];
    assert_eq!((partial.functional_id.as_str(), partial.group_control.as_str(), partial.verdict), ("PO", "17", GroupVerdict::PartiallyAccepted));
    let verdicts: Vec<_> = partial.sets.iter().map(|s| (s.control_number.as_str(), s.verdict)).collect();
    assert_eq!(verdicts, [("0001", SetVerdict::Accepted), ("0002", SetVerdict::Rejected)]);
    let rejected = &partial.sets[1];
    assert_eq!(rejected.errors, [SetSyntaxError::OneOrMoreSegmentsInError]);
    assert_eq!(rejected.segments[0].elements[0].error, Some(ElementSyntaxError::MandatoryDataElementMissing));
    assert_eq!(rejected.segments[0].elements[0].reference, Some(330));
    assert_eq!(
        partial.problems(),
        [
            "set 850 0002: segment PO1 at 7: mandatory element PO102 missing",
            "set 850 0002: segment PO1 at 7: element PO104 '4,25': invalid character in element",
            "set 850 0002: segment DTM at 12: segment not in proper sequence",
        ]
    );
}

#[test]
fn a_rejecting_997_reads_its_group_and_set_codes() {
    let acks = received("received_997.x12");
    let rejected = &acks[1];
    assert_eq!((rejected.group_control.as_str(), rejected.verdict), ("18", GroupVerdict::Rejected));
    assert_eq!(rejected.errors, [GroupSyntaxError::SetCountDoesNotMatch]);
    assert_eq!((rejected.included, rejected.received, rejected.accepted), (Some(2), Some(1), Some(0)));
    assert_eq!(
        rejected.problems(),
        [
            "group PO 18: number of included transaction sets does not match actual count",
            "set 850 0001: number of included segments does not match actual count",
        ]
    );
}

#[test]
fn a_record_that_is_not_a_997_is_refused() {
    assert_eq!(read_acknowledgement(&json!({"set": {"id": "850"}})).unwrap_err().to_string(), "not a readable 997: it is transaction set 850");
    assert_eq!(
        read_acknowledgement(&json!({"set": {"id": "997"}, "AK1": {"AK101": "PO", "AK102": 1}, "AK9": {"AK901": "Q"}})).unwrap_err().to_string(),
        "not a readable 997: AK901 'Q' is not a group verdict"
    );
}

#[test]
fn our_own_997s_read_back_as_the_receipt_said() {
    let defs = definitions();
    let receipt = receive(sample("ack_set_errors.x12").as_slice(), "ack_set_errors.x12", &defs);
    let (_, group) = receipt.groups().next().expect("a group");
    let envelope = serde_json::from_value(
        json!({"sender_qualifier": "ZZ", "sender_id": "ACMEBUYER", "receiver_qualifier": "ZZ", "receiver_id": "PARTNER", "usage": "T"}),
    )
    .expect("an envelope");
    let record = acknowledgement(group, &envelope).expect("a 997");
    let mut out = Vec::new();
    write_interchange(&mut out, &envelope, ControlNumbers { interchange: 1, group: 1 }, at(), &[record], &defs).expect("it writes");
    let read = Reader::new(out.as_slice(), "997.x12", &defs).next().expect("a set").expect("it reads");
    let ack = read_acknowledgement(&read.record).expect("a readable 997");
    assert_eq!(ack.verdict, group.verdict());
    assert_eq!(ack.sets.iter().map(|s| s.verdict).collect::<Vec<_>>(), group.sets.iter().map(|s| s.verdict()).collect::<Vec<_>>());
    assert_eq!(
        ack.problems(),
        [
            "set 850 0001: segment BEG at 2: mandatory element BEG03 missing",
            "set 850 0002: segment BEG at 2: element BEG05 '20260230': invalid date",
            "set 850 0002: segment PO1 at 3: element PO102 'x': invalid character in element",
            "set 850 0002: segment CTT at 5: too many elements (CTT08 'EXTRA' is past the last)",
            "set 850 0003: segment BEG at 2: element BEG03 'PO-6-WITH-A-VERY-LONG-NUMBER': element too long",
        ]
    );
}
