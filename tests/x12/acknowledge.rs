//! Acknowledging received files: the receipt the reader builds alongside its
//! records, and the 997 written from it for each group (exact text, fixed
//! date and control numbers), for a good file, set errors, envelope faults,
//! truncated files and unreadable ISAs; plus a mutation fuzz.

use flowmap::format::x12::{
    ControlNumbers, Definitions, EnvelopeConfig, FileReceipt, GroupVerdict, NotAcknowledgedReason, Reader, SetVerdict, acknowledgement, receive,
    write_interchange,
};
use serde_json::json;

use super::fuzz::mutate;
use super::roundtrip::Rng;
use super::support::{definitions, sample};
use super::writer::at;

fn reply_envelope() -> EnvelopeConfig {
    serde_json::from_value(json!({
        "sender_qualifier": "ZZ", "sender_id": "ACMEBUYER", "receiver_qualifier": "ZZ", "receiver_id": "PARTNER",
        "usage": "P", "line_break": true,
    }))
    .expect("a config")
}

fn receipt_of(bytes: &[u8], name: &str) -> FileReceipt {
    receive(bytes, name, &definitions())
}

/// Each group's 997 as written (interchange 900 + i, group 900 + i), one segment a line.
fn written_997s(receipt: &FileReceipt) -> Vec<String> {
    let defs = definitions();
    receipt
        .groups()
        .enumerate()
        .map(|(i, (_, group))| {
            let record = acknowledgement(group, &reply_envelope()).expect("the group can be acknowledged");
            let controls = ControlNumbers { interchange: 900 + i as u64, group: 900 + i as u64 };
            let mut out = Vec::new();
            write_interchange(&mut out, &reply_envelope(), controls, at(), &[record], &defs).expect("the 997 writes");
            String::from_utf8(out).expect("ASCII")
        })
        .collect()
}

/// The segments between ST and SE of a written 997, one a line.
fn body(text: &str) -> String {
    text.lines().filter(|l| !["ISA", "GS*", "ST*", "SE*", "GE*", "IEA"].iter().any(|p| l.starts_with(p))).collect::<Vec<_>>().join("\n")
}

#[test]
fn a_good_file_with_two_groups_is_acknowledged_by_two_accepting_997s() {
    let receipt = receipt_of(&sample("ack_two_groups.x12"), "ack_two_groups.x12");
    assert!(receipt.not_acknowledged.is_empty());
    let interchange = &receipt.interchanges[0];
    assert_eq!(
        (
            interchange.sender.qualifier.as_str(),
            interchange.sender.id.as_str(),
            interchange.receiver.id.as_str(),
            interchange.control_number.as_str()
        ),
        ("ZZ", "PARTNER", "ACMEBUYER", "000000501")
    );
    let groups: Vec<_> =
        interchange.groups.iter().map(|g| (g.functional_id.as_str(), g.control_number.as_str(), g.version.as_str(), g.sets.len())).collect();
    assert_eq!(groups, [("PO", "71", "004010", 1), ("PO", "72", "004010", 2)]);
    assert_eq!(
        written_997s(&receipt),
        [
            "ISA*00*          *00*          *ZZ*ACMEBUYER      *ZZ*PARTNER        *260115*0930*U*00401*000000900*0*P*>~\n\
             GS*FA*ACMEBUYER*PARTNER*20260115*0930*900*X*004010~\n\
             ST*997*0001~\nAK1*PO*71~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0001~\n\
             GE*1*900~\nIEA*1*000000900~\n"
                .to_string(),
            "ISA*00*          *00*          *ZZ*ACMEBUYER      *ZZ*PARTNER        *260115*0930*U*00401*000000901*0*P*>~\n\
             GS*FA*ACMEBUYER*PARTNER*20260115*0930*901*X*004010~\n\
             ST*997*0001~\nAK1*PO*72~\nAK2*850*0001~\nAK5*A~\nAK2*850*0002~\nAK5*A~\nAK9*A*2*2*2~\nSE*8*0001~\n\
             GE*1*901~\nIEA*1*000000901~\n"
                .to_string(),
        ]
    );
}

#[test]
fn set_errors_become_ak3_ak4_and_ak5_and_the_group_is_partially_accepted() {
    let receipt = receipt_of(&sample("ack_set_errors.x12"), "ack_set_errors.x12");
    let group = &receipt.interchanges[0].groups[0];
    let verdicts: Vec<_> = group.sets.iter().map(|s| (s.control_number.as_str(), s.verdict())).collect();
    assert_eq!(verdicts, [("0001", SetVerdict::Rejected), ("0002", SetVerdict::Rejected), ("0003", SetVerdict::AcceptedWithErrors)]);
    assert_eq!(group.verdict(), GroupVerdict::PartiallyAccepted);
    assert_eq!(
        body(&written_997s(&receipt)[0]),
        "AK1*PO*73~\n\
         AK2*850*0001~\nAK3*BEG*2**8~\nAK4*3**1~\nAK5*R*5~\n\
         AK2*850*0002~\nAK3*BEG*2**8~\nAK4*5**8*20260230~\nAK3*PO1*3*PO1*8~\nAK4*2**6*x~\nAK3*CTT*5*CTT*8~\nAK4*8**3*EXTRA~\nAK5*R*5~\n\
         AK2*850*0003~\nAK3*BEG*2**8~\nAK4*3**5*PO-6-WITH-A-VERY-LONG-NUMBER~\nAK5*E~\n\
         AK9*P*3*3*1~"
    );
    // The reader's records are what they were: lenient on the missing BEG03 and
    // the long one, refusing PO102 'x'.
    let defs = definitions();
    let bytes = sample("ack_set_errors.x12");
    let read: Vec<_> = Reader::new(bytes.as_slice(), "f", &defs).map(|r| r.map(|s| s.set_control).map_err(|e| e.to_string())).collect();
    assert_eq!(
        read,
        [
            Ok("0001".to_string()),
            Err("f, interchange 000000502, segment 10 (PO1): PO102 'x' is not a number (type R)".to_string()),
            Ok("0003".to_string())
        ]
    );
}

#[test]
fn envelope_faults_reject_the_set_and_the_group_with_their_codes() {
    // SE02 0009 for ST02 0001; GE01 says 3 sets, the group has 2; IEA02 differs from ISA13.
    let receipt = receipt_of(&sample("envelope_faults.x12"), "envelope_faults.x12");
    assert_eq!(body(&written_997s(&receipt)[0]), "AK1*PO*11~\nAK2*850*0001~\nAK5*R*3~\nAK2*850*0002~\nAK5*A~\nAK9*R*3*2*0*5~");
    // The interchange's own fault is kept for the operator: no 997 element says it.
    let faults: Vec<String> = receipt.interchanges[0].faults.iter().map(ToString::to_string).collect();
    assert_eq!(faults, ["envelope_faults.x12, interchange 000003001, segment 16 (IEA): IEA02 is 000003999, its ISA13 is 000003001"]);
}

#[test]
fn structure_faults_name_the_segment_and_where_it_was_due() {
    let isa = "ISA*00*          *00*          *ZZ*PARTNER        *ZZ*ACMEBUYER      *260201*1015*U*00401*000000042*0*T*>~";
    let file = format!(
        "{isa}GS*PO*PARTNER*ACMEBUYER*20260201*1015*5*X*004010~\
         ST*850*0001~CUR*BY*EUR~BEG*00*SA*P**20260101~PO1*1*1*EA~ZZZ*custom~BAK*00*AC*P*20260101~CTT*1~CTT*2~SE*9*0001~\
         ST*850*0002~BEG*00*SA*P**20260101~BEG*00*SA*P**20260101~CTT*1~SE*5*0002~\
         ST*855*0003~SE*2*0003~GE*3*5~IEA*1*000000042~"
    );
    let receipt = receipt_of(file.as_bytes(), "f.x12");
    assert_eq!(
        body(&written_997s(&receipt)[0]),
        "AK1*PO*5~\n\
         AK2*850*0001~\nAK3*BEG*2**3~\nAK3*BEG*3**7~\nAK3*ZZZ*5*PO1*1~\nAK3*BAK*6*PO1*6~\nAK3*CTT*8*CTT*4~\nAK5*R*5~\n\
         AK2*850*0002~\nAK3*BEG*3**5~\nAK3*PO1*4**3~\nAK5*R*5~\n\
         AK2*855*0003~\nAK3*BAK*2**3~\nAK5*R*5~\n\
         AK9*R*3*3*0~"
    );
}

#[test]
fn a_file_cut_inside_a_set_is_acknowledged_as_rejected_for_the_group_read() {
    let whole = String::from_utf8(sample("ack_two_groups.x12")).expect("text");
    let cut = &whole[..whole.find("PO1*1*4*CA").expect("the third set's line")];
    let receipt = receipt_of(cut.as_bytes(), "cut.x12");
    let written = written_997s(&receipt);
    assert_eq!(written.len(), 2);
    assert_eq!(body(&written[0]), "AK1*PO*71~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~");
    assert_eq!(body(&written[1]), "AK1*PO*72~\nAK2*850*0001~\nAK5*A~\nAK2*850*0002~\nAK5*R*2~\nAK9*R*2*2*0*3~");
    let faults: Vec<String> = receipt.interchanges[0].faults.iter().map(ToString::to_string).collect();
    assert_eq!(faults, ["cut.x12, interchange 000000501: the file ends inside the interchange (no IEA)"]);
    // Cut inside a segment: the same, and the tokenizer's error is kept.
    let mid = &whole[..whole.find("PO-3").expect("a value")];
    assert_eq!(body(&written_997s(&receipt_of(mid.as_bytes(), "mid.x12"))[1]), body(&written[1]));
    // Without its IEA only: every group was whole, so both are accepted; the
    // missing IEA is the interchange's fault.
    let no_iea = &whole[..whole.find("IEA").expect("an IEA")];
    let receipt = receipt_of(no_iea.as_bytes(), "no_iea.x12");
    assert_eq!(receipt.groups().map(|(_, g)| g.verdict()).collect::<Vec<_>>(), [GroupVerdict::Accepted, GroupVerdict::Accepted]);
    assert_eq!(receipt.interchanges[0].faults.len(), 1);
}

#[test]
fn an_unreadable_isa_cannot_be_acknowledged_and_says_so() {
    // An unpadded ISA: its interchange is not read, the next one is.
    let receipt = receipt_of(&sample("unpadded_isa.x12"), "unpadded_isa.x12");
    let refused: Vec<_> = receipt.not_acknowledged.iter().map(|n| (n.reason, n.error.to_string())).collect();
    assert_eq!(
        refused,
        [(
            NotAcknowledgedReason::UnreadableInterchangeHeader,
            "unpadded_isa.x12, interchange 000002001, segment 1 (ISA): the ISA segment is 95 characters, not 106: \
             its fields must be padded to their fixed widths (ISA06 is 9 characters, its fixed width is 15)"
                .to_string()
        )]
    );
    assert_eq!(receipt.interchanges.iter().map(|i| i.control_number.as_str()).collect::<Vec<_>>(), ["000002002"]);
    // Not X12 at all; an ISA cut short.
    for (bytes, expected) in [
        ("GS*PO*A~", "f.x12, segment 1: the file does not start with an ISA segment"),
        ("ISA*00*    *00", "f.x12, segment 1: the file ends inside the ISA segment"),
    ] {
        let receipt = receipt_of(bytes.as_bytes(), "f.x12");
        assert!(receipt.interchanges.is_empty());
        let refused: Vec<_> = receipt.not_acknowledged.iter().map(|n| (n.reason, n.error.to_string())).collect();
        assert_eq!(refused, [(NotAcknowledgedReason::UnreadableInterchangeHeader, expected.to_string())]);
    }
}

#[test]
fn a_group_whose_control_number_a_997_cannot_carry_is_a_typed_error() {
    let whole = String::from_utf8(sample("ack_two_groups.x12")).expect("text").replace("*71*X*", "*A71*X*").replace("GE*1*71", "GE*1*A71");
    let receipt = receipt_of(whole.as_bytes(), "f.x12");
    let (_, group) = receipt.groups().next().expect("a group");
    let error = acknowledgement(group, &reply_envelope()).expect_err("AK102 is numeric");
    assert_eq!(error.to_string(), "group 'PO' 'A71' cannot be acknowledged: a 997 names a group by GS01 (two characters) and GS06 (1 to 9 digits)");
}

/// What the engine relies on: a set the receipt accepts is a record the reader gave.
fn accepted_sets_were_read(bytes: &[u8], name: &str, defs: &Definitions) {
    let mut reader = Reader::new(bytes, name, defs).with_receipt();
    let read: Vec<(String, String, usize)> =
        reader.by_ref().filter_map(Result::ok).map(|s| (s.interchange_control, s.group_control, s.position)).collect();
    let receipt = reader.into_receipt().expect("a receipt");
    for (interchange, group) in receipt.groups() {
        for set in group.sets.iter().filter(|s| s.verdict() != SetVerdict::Rejected) {
            let key = (interchange.control_number.clone(), group.control_number.clone(), set.position);
            assert!(read.contains(&key), "{name}: set {} {} at {} is accepted but was not read", set.id, set.control_number, set.position);
        }
    }
}

#[test]
fn the_reader_gives_the_same_items_with_a_receipt_and_every_set_accepted_was_read() {
    let defs = definitions();
    for name in SAMPLES {
        let bytes = sample(name);
        let plain: Vec<_> = Reader::new(bytes.as_slice(), name, &defs).collect();
        let with: Vec<_> = Reader::new(bytes.as_slice(), name, &defs).with_receipt().collect();
        assert_eq!(plain, with, "{name}");
        accepted_sets_were_read(&bytes, name, &defs);
    }
}

const SAMPLES: [&str; 8] = [
    "850_tilde_lines.x12",
    "855_nak_crlf.x12",
    "810_newline.x12",
    "mailbag_mixed.x12",
    "unpadded_isa.x12",
    "envelope_faults.x12",
    "ack_two_groups.x12",
    "ack_set_errors.x12",
];

#[test]
fn no_mutation_makes_acknowledging_panic_and_every_997_writes() {
    let defs = definitions();
    let mut rng = Rng(0xACC0_5EED_0000_0997);
    let mut groups = 0;
    for name in SAMPLES {
        let original = sample(name);
        for _ in 0..250 {
            let mut bytes = original.clone();
            mutate(&mut rng, &mut bytes);
            accepted_sets_were_read(&bytes, name, &defs);
            let receipt = receive(bytes.as_slice(), name, &defs);
            for (_, group) in receipt.groups() {
                // A group that cannot be named is a typed error; any other's 997 must write.
                let Ok(record) = acknowledgement(group, &reply_envelope()) else { continue };
                let controls = ControlNumbers { interchange: 1, group: 1 };
                let mut out = Vec::new();
                write_interchange(&mut out, &reply_envelope(), controls, at(), std::slice::from_ref(&record), &defs)
                    .unwrap_or_else(|e| panic!("{name}: {e}\n{record:#}\n{}", String::from_utf8_lossy(&bytes)));
                groups += 1;
            }
        }
    }
    assert!(groups > 1000, "{groups} groups acknowledged");
}

#[test]
fn a_segment_that_cannot_be_read_rejects_its_set() {
    let isa = "ISA*00*          *00*          *ZZ*PARTNER        *ZZ*ACMEBUYER      *260201*1015*U*00401*000000043*0*T*>~";
    let file = format!(
        "{isa}GS*PO*PARTNER*ACMEBUYER*20260201*1015*6*X*004010~\
         ST*850*0001~BEG*00*SA*P**20260101~b@d*x~PO1*1*1*EA~SE*5*0001~GE*1*6~IEA*1*000000043~"
    );
    let receipt = receipt_of(file.as_bytes(), "f.x12");
    let set = &receipt.interchanges[0].groups[0].sets[0];
    assert_eq!((set.segment_errors[0].position, set.segment_errors[0].code), (3, flowmap::format::x12::SegmentSyntaxError::UnrecognizedSegmentId));
    // AK301 cannot carry an id that is not one: the AK5 says it.
    assert_eq!(body(&written_997s(&receipt)[0]), "AK1*PO*6~\nAK2*850*0001~\nAK5*R*5~\nAK9*R*1*1*0~");
}
