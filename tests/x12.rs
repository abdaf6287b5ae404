//! The X12 codec on sample files written for the project (tests/x12/), each
//! reproducing what real-world files do: terminators `~`, newline and 0x15
//! with CR/LF after them, other element separators, a mailbag of interchanges
//! in 004010, 004010VICS and 005010, an 855 with IA/IR acknowledgments, an 810
//! with SAC/TDS implied decimals, an unpadded ISA, envelope faults. Plus the
//! writer's output and errors, a write → read round trip over generated
//! records, and a mutation fuzz that no input makes the reader panic. Then
//! acknowledging: receipts and the 997s written from them, and reading 997s.

#[path = "x12/acknowledge.rs"]
mod acknowledge;
#[path = "x12/acknowledged.rs"]
mod acknowledged;
#[path = "x12/definitions.rs"]
mod definitions;
#[path = "x12/fuzz.rs"]
mod fuzz;
#[path = "x12/roundtrip.rs"]
mod roundtrip;
#[path = "x12/support.rs"]
mod support;
#[path = "x12/writer.rs"]
mod writer;

use serde_json::{Value, json};
use support::{dec, read_sample};

#[test]
fn an_850_with_tilde_terminators_and_line_breaks_yields_its_segments_loops_and_envelopes() {
    let results = read_sample("850_tilde_lines.x12");
    assert_eq!(results.len(), 1);
    let set = results[0].as_ref().expect("the set reads");
    assert_eq!(
        (set.set_id.as_str(), set.set_control.as_str(), set.interchange_control.as_str(), set.group_control.as_str()),
        ("850", "0001", "000000101", "5001")
    );
    assert_eq!(set.position, 3);
    let po = &set.record;
    assert_eq!(
        po["interchange"],
        json!({"sender_qualifier": "ZZ", "sender_id": "ACMEBUYER", "receiver_qualifier": "ZZ", "receiver_id": "SUPPLIERCO",
               "date": "260115", "time": "0930", "version": "00401", "control_number": "000000101", "ack_requested": false, "usage": "P"})
    );
    assert_eq!(
        po["group"],
        json!({"functional_id": "PO", "application_sender": "ACMEBUYER", "application_receiver": "SUPPLIERCO", "date": "20260115",
               "time": "0930", "control_number": "5001", "agency": "X", "version": "004010"})
    );
    assert_eq!(po["set"], json!({"id": "850", "control_number": "0001"}));
    assert_eq!(po["BEG"], json!({"BEG01": "00", "BEG02": "SA", "BEG03": "PO-4711", "BEG05": "20260114"}));
    assert_eq!(po["CUR"]["CUR02"], "EUR");
    assert_eq!(po["REF"], json!([{"REF01": "DP", "REF02": "038"}, {"REF01": "IA", "REF02": "VEND-22"}]));
    assert_eq!(po["DTM"][0]["DTM02"], "20260201");
    // The N1 loop: a list of instances, and the same instances by N101.
    assert_eq!(po["N1"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        po["N1_by_N101"]["ST"],
        json!({"N101": "ST", "N102": "ACME Warehouse Rotterdam", "N103": "92", "N104": "WH-RTM",
               "N3": [{"N301": "Havenweg 12"}], "N4": {"N401": "Rotterdam", "N403": "3011AA", "N404": "NL"}})
    );
    assert_eq!(po["N1_by_N101"]["BT"]["N102"], "ACME Holding BV");
    // PO1 lines: the trigger's elements typed (R → numbers), children by name.
    let lines = po["PO1"].as_array().expect("PO1 is a list");
    assert_eq!(lines.len(), 2);
    assert_eq!((&lines[0]["PO101"], &lines[0]["PO102"], &lines[0]["PO104"]), (&json!("1"), &dec("12"), &dec("4.25")));
    assert_eq!(lines[0]["PO109"], "012345678905");
    assert_eq!(lines[0]["PID"], json!([{"PID01": "F", "PID05": "Blue widget, large"}]));
    assert_eq!((&lines[1]["PO102"], &lines[1]["PO103"], &lines[1]["PO104"]), (&dec("3.5"), &json!("CA"), &dec("110")));
    // A segment the definition does not know is kept where it appeared.
    assert_eq!(lines[1]["_unknown"], json!([{"segment": "ZZZ", "position": 19, "elements": ["custom", "segment"]}]));
    assert_eq!(po["CTT"], json!({"CTT01": dec("2"), "CTT02": dec("15.5"), "AMT": {"AMT01": "TT", "AMT02": dec("436")}}));
}

#[test]
fn an_855_with_0x15_terminators_crlf_and_bar_separators_yields_ia_and_ir_acknowledgments() {
    let results = read_sample("855_nak_crlf.x12");
    let set = results[0].as_ref().expect("the set reads");
    let ack = &set.record;
    assert_eq!(ack["interchange"]["sender_id"], "SUPPLIERCO");
    assert_eq!(ack["group"]["functional_id"], "PR");
    assert_eq!(ack["set"], json!({"id": "855", "control_number": "1294"}));
    assert_eq!(ack["BAK"], json!({"BAK01": "00", "BAK02": "AC", "BAK03": "PO-4711", "BAK04": "20260114", "BAK09": "20260116"}));
    assert_eq!(ack["N1_by_N101"]["SU"]["N104"], "SUP-9");
    let lines = ack["PO1"].as_array().expect("PO1 is a list");
    assert_eq!(lines[0]["ACK"], json!([{"ACK01": "IA", "ACK02": dec("12"), "ACK03": "EA", "ACK04": "068", "ACK05": "20260201"}]));
    assert_eq!(lines[1]["ACK"], json!([{"ACK01": "IR", "ACK02": dec("3.5"), "ACK03": "CA"}]));
    assert_eq!(ack["CTT"]["CTT01"], dec("2"));
    assert_eq!(results.len(), 1);
}

#[test]
fn an_810_with_newline_terminators_applies_implied_decimals_to_tds_and_sac() {
    let results = read_sample("810_newline.x12");
    let invoice = &results[0].as_ref().expect("the set reads").record;
    assert_eq!(invoice["BIG"], json!({"BIG01": "20260120", "BIG02": "INV-889", "BIG03": "20260114", "BIG04": "PO-4711", "BIG07": "DI"}));
    // TDS*843202 with TDS01 of type N2 is 8432.02.
    assert_eq!(invoice["TDS"], json!({"TDS01": dec("8432.02")}));
    assert_eq!(invoice["TDS"]["TDS01"].to_string(), "8432.02");
    // A line's charge (N2: 2500 is 25.00) and the summary allowance (-1575 is -15.75).
    assert_eq!(invoice["IT1"][1]["SAC"], json!([{"SAC01": "C", "SAC02": "D240", "SAC05": dec("25.00")}]));
    assert_eq!(invoice["SAC"], json!([{"SAC01": "A", "SAC02": "C310", "SAC05": dec("-15.75")}]));
    assert_eq!(invoice["ITD"], json!([{"ITD01": "01", "ITD02": "3", "ITD03": dec("2"), "ITD05": dec("10"), "ITD07": dec("30")}]));
    assert_eq!(invoice["IT1"][0]["IT102"], dec("12"));
    assert_eq!(invoice["CTT"]["CTT01"], dec("2"));
}

#[test]
fn a_mailbag_of_mixed_versions_and_separators_yields_every_set_and_reports_the_bad_one_in_place() {
    let results = read_sample("mailbag_mixed.x12");
    let shown: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(s) => format!(
                "{} {} {} in {}/{} ({})",
                s.set_id, s.set_control, s.record["group"]["version"], s.interchange_control, s.group_control, s.position
            ),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "850 0001 \"004010\" in 000001001/1 (3)",
            "850 0002 \"004010\" in 000001001/1 (10)",
            "997 0001 \"004010\" in 000001001/2 (18)",
            "850 0001 \"005010\" in 000001002/3 (28)",
            "mailbag_mixed.x12, interchange 000001003, segment 44 (SE): SE01 says 99 segments, transaction set 850 0001 has 6 (ST to SE)",
            "850 0002 \"004010VICS\" in 000001003/4 (45)",
        ]
    );
    let sets: Vec<&Value> = results.iter().filter_map(|r| r.as_ref().ok()).map(|s| &s.record).collect();
    assert_eq!(sets[2]["AK1"], json!({"AK101": "PR", "AK102": dec("10001")}));
    assert_eq!(sets[2]["AK2"], json!([{"AK201": "855", "AK202": "1294", "AK5": {"AK501": "A"}}]));
    assert_eq!(sets[2]["AK9"], json!({"AK901": "A", "AK902": dec("1"), "AK903": dec("1"), "AK904": dec("1")}));
    // 005010: ISA11 is the repetition separator, ST03 the convention; a REF after CTT is out of place and kept.
    assert_eq!(sets[3]["interchange"]["version"], "00501");
    assert_eq!(sets[3]["set"], json!({"id": "850", "control_number": "0001", "convention": "005010"}));
    assert_eq!(sets[3]["CTT"]["_unknown"][0]["segment"], "REF");
    assert_eq!(sets[4]["BEG"]["BEG03"], "PO-5");
}

#[test]
fn an_unpadded_isa_is_refused_naming_the_file_and_control_number_and_the_next_interchange_is_read() {
    let results = read_sample("unpadded_isa.x12");
    assert_eq!(results.len(), 2);
    assert_eq!(
        results[0].as_ref().map(|_| ()).unwrap_err().to_string(),
        "unpadded_isa.x12, interchange 000002001, segment 1 (ISA): the ISA segment is 95 characters, not 106: \
         its fields must be padded to their fixed widths (ISA06 is 9 characters, its fixed width is 15)"
    );
    let next = results[1].as_ref().expect("the next interchange reads");
    assert_eq!((next.interchange_control.as_str(), &next.record["BEG"]["BEG03"]), ("000002002", &json!("PO-7")));
}

#[test]
fn envelope_faults_are_reported_with_file_interchange_and_segment_and_good_sets_still_come_through() {
    let shown: Vec<String> = read_sample("envelope_faults.x12")
        .iter()
        .map(|r| match r {
            Ok(s) => format!("ok {} {}", s.set_id, s.set_control),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "envelope_faults.x12, interchange 000003001, segment 8 (SE): SE02 is 0009, its ST02 is 0001",
            "ok 850 0002",
            "envelope_faults.x12, interchange 000003001, segment 15 (GE): GE01 says 3 transaction sets, group 11 has 2",
            "envelope_faults.x12, interchange 000003001, segment 16 (IEA): IEA02 is 000003999, its ISA13 is 000003001",
        ]
    );
}

#[test]
fn block_padding_and_a_byte_order_mark_around_the_interchanges_are_not_data() {
    let defs = support::definitions();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(support::sample("810_newline.x12"));
    bytes.extend(b"    \0\0\x1A");
    bytes.extend(support::sample("850_tilde_lines.x12"));
    bytes.extend(b"                                        \r\n");
    let read: Vec<_> = flowmap::format::x12::Reader::new(bytes.as_slice(), "padded.x12", &defs).collect::<Result<_, _>>().expect("all sets read");
    assert_eq!(read.iter().map(|s| s.set_id.as_str()).collect::<Vec<_>>(), ["810", "850"]);
}

#[test]
fn structural_faults_name_what_is_missing() {
    let defs = support::definitions();
    let isa = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260115*0930*U*00401*000000042*0*T*>~";
    let cases = [
        (
            format!("{isa}GS*PO*A*B*20260115*0930*1*X*004010~ST*850*0001~BEG*00*SA*X**20260101~"),
            vec![
                "f.x12, interchange 000000042, segment 3 (ST): the file ends inside transaction set 850 0001 (no SE)",
                "f.x12, interchange 000000042: the file ends inside the interchange (no IEA)",
            ],
        ),
        (
            format!("{isa}GS*PO*A*B*20260115*0930*1*X*003050~ST*850*0001~SE*2*0001~GE*1*1~IEA*1*000000042~"),
            vec!["f.x12, interchange 000000042, segment 3 (ST): no X12 definitions for version 003050"],
        ),
        (
            format!("{isa}GS*PO*A*B*20260115*0930*1*X*004010~ST*850*0001~PO1*1*x*EA~SE*3*0001~GE*1*1~IEA*1*000000042~"),
            vec!["f.x12, interchange 000000042, segment 4 (PO1): PO102 'x' is not a number (type R)"],
        ),
        (
            format!("{isa}GS*PO*A*B*20260115*0930*1*X*004010~BEG*00~GE*0*1~IEA*1*000000042~"),
            vec!["f.x12, interchange 000000042, segment 3 (BEG): segment BEG is outside a transaction set (ST … SE)"],
        ),
        ("GS*PO~".to_string(), vec!["f.x12, segment 1: the file does not start with an ISA segment"]),
        (
            format!("{isa}GS*PO*A*B*20260115*0930*1*X*004010~ST*850*0001~BEG*00*SA*X**20260101"),
            vec![
                "f.x12, interchange 000000042, segment 4: the file ends inside a segment (no segment terminator)",
                "f.x12, interchange 000000042, segment 3 (ST): the file ends inside transaction set 850 0001 (no SE)",
                "f.x12, interchange 000000042: the file ends inside the interchange (no IEA)",
            ],
        ),
    ];
    for (input, expected) in cases {
        let shown: Vec<String> = flowmap::format::x12::Reader::new(input.as_bytes(), "f.x12", &defs)
            .map(|r| r.map(|s| format!("ok {}", s.set_id)).unwrap_or_else(|e| e.to_string()))
            .collect();
        assert_eq!(shown, expected, "{input}");
    }
}
