//! The writer: exact bytes of an interchange, and the errors a record that
//! does not fit its definition gets.

use chrono::NaiveDate;
use flowmap::format::x12::{ControlNumbers, EnvelopeConfig, Reader, Usage, X12Version, write_interchange};
use serde_json::{Value, json};

use super::support::{dec, definitions};

pub fn config() -> EnvelopeConfig {
    serde_json::from_value(json!({
        "sender_qualifier": "ZZ", "sender_id": "ACMEBUYER", "receiver_qualifier": "01", "receiver_id": "123456789",
        "usage": "T",
    }))
    .expect("a config")
}

pub fn at() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 15).and_then(|d| d.and_hms_opt(9, 30, 0)).expect("a date")
}

fn order() -> Value {
    json!({
        "set": {"id": "850"},
        "BEG": {"BEG01": "00", "BEG02": "SA", "BEG03": "PO-1", "BEG05": "20260114"},
        "N1": [{"N101": "ST", "N102": "Store", "N3": [{"N301": "Main St 1"}]}],
        "PO1": [{"PO101": "1", "PO102": 12, "PO103": "EA", "PO104": "4.250", "PID": [{"PID01": "F", "PID05": "Widget"}]}],
        "CTT": {"CTT01": 1},
    })
}

fn write(config: &EnvelopeConfig, sets: &[Value]) -> Result<String, String> {
    let mut out = Vec::new();
    write_interchange(&mut out, config, ControlNumbers { interchange: 905, group: 17 }, at(), sets, &definitions()).map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out).expect("ASCII"))
}

#[test]
fn an_850_is_written_with_padded_isa_computed_counts_and_typed_values() {
    let text = write(&config(), &[order()]).expect("it writes");
    assert_eq!(
        text,
        "ISA*00*          *00*          *ZZ*ACMEBUYER      *01*123456789      *260115*0930*U*00401*000000905*0*T*>~\
         GS*PO*ACMEBUYER*123456789*20260115*0930*17*X*004010~\
         ST*850*0001~BEG*00*SA*PO-1**20260114~N1*ST*Store~N3*Main St 1~PO1*1*12*EA*4.25~PID*F****Widget~CTT*1~SE*8*0001~\
         GE*1*17~IEA*1*000000905~"
    );
    assert_eq!(text.find("GS").expect("a GS"), 106);
}

#[test]
fn a_005010_interchange_with_other_separators_and_line_breaks_reads_back() {
    let config = EnvelopeConfig {
        version: X12Version::V5010,
        usage: Usage::Production,
        element_separator: '|',
        component_separator: ':',
        segment_terminator: '\u{15}',
        line_break: true,
        ..config()
    };
    let invoice = json!({
        "set": {"id": "810", "control_number": "12345"},
        "BIG": {"BIG01": "20260120", "BIG02": "INV-1"},
        "TDS": {"TDS01": dec("8432.02")},
        "SAC": [{"SAC01": "C", "SAC02": "D240", "SAC05": "25"}],
    });
    let text = write(&config, &[invoice, json!({"set": {"id": "810"}, "BIG": {"BIG01": "20260121", "BIG02": "INV-2"}, "TDS": {"TDS01": 1}})])
        .expect("it writes");
    assert!(text.contains("|^|00501|000000905|0|P|:\u{15}\n"), "{text}");
    assert!(text.contains("TDS|843202\u{15}\nSAC|C|D240|||2500\u{15}\n"), "{text}");
    assert!(text.contains("ST|810|0002\u{15}\nBIG|20260121|INV-2\u{15}\nTDS|100\u{15}\n"), "{text}");
    let defs = definitions();
    let read: Vec<_> = Reader::new(text.as_bytes(), "out.x12", &defs).collect::<Result<_, _>>().expect("it reads back");
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].record["TDS"]["TDS01"], dec("8432.02"));
    assert_eq!(read[0].record["SAC"][0]["SAC05"], dec("25.00"));
    assert_eq!(read[1].record["group"]["version"], "005010");
}

#[test]
fn values_that_do_not_fit_their_definition_are_refused_naming_segment_and_element() {
    let cases = [
        (
            json!({"BEG": {"BEG01": "00", "BEG02": "SA", "BEG03": "X".repeat(23), "BEG05": "20260114"}}),
            "transaction set 850 0001: BEG: BEG03 is 23 characters long, its length is 1..22",
        ),
        (
            json!({"BEG": {"BEG01": "99", "BEG02": "SA", "BEG03": "P", "BEG05": "20260114"}}),
            "transaction set 850 0001: BEG: BEG01 '99' is not one of its codes (00, 01, 04, 05, 06, 07)",
        ),
        (json!({"BEG": {"BEG01": "00", "BEG02": "SA", "BEG03": "P"}}), "transaction set 850 0001: BEG: BEG05 is required"),
        (
            json!({"BEG": {"BEG01": "00", "BEG02": "SA", "BEG03": "P*1", "BEG05": "20260114"}}),
            "transaction set 850 0001: BEG: BEG03 'P*1' contains '*', a separator of this interchange",
        ),
        (json!({"BEG": null}), "transaction set 850 0001: BEG is required"),
        (json!({"BEGX": {}}), "transaction set 850 0001: 'BEGX' is not a segment, loop or element here"),
        (json!({"PO1": [{"PO101": "1", "PO102": "1.5.1"}]}), "transaction set 850 0001: PO1[0]: PO102 '1.5.1' is not a decimal number"),
        (
            json!({"PO1": [{"PO101": "1", "PID": [{"PID01": "F", "PID99": "x"}]}]}),
            "transaction set 850 0001: PO1[0] > PID[0]: 'PID99' is not an element of PID",
        ),
        (json!({"REF": vec![json!({"REF01": "IA"}); 13]}), "transaction set 850 0001: REF occurs 13 times, at most 12"),
        (json!({"CTT": {"CTT01": 1.5}}), "transaction set 850 0001: CTT: CTT01 1.5 has more than 0 decimals (type N0)"),
    ];
    for (change, expected) in cases {
        let mut record = order();
        for (k, v) in change.as_object().expect("an object") {
            record[k] = v.clone();
        }
        assert_eq!(write(&config(), &[record]).unwrap_err(), expected);
    }
    let invoice = json!({"set": {"id": "810"}, "BIG": {"BIG01": "20260120", "BIG02": "I"}, "TDS": {"TDS01": "8432.015"}});
    assert_eq!(write(&config(), &[invoice]).unwrap_err(), "transaction set 810 0001: TDS: TDS01 8432.015 has more than 2 decimals (type N2)");
    let long = EnvelopeConfig { sender_id: "A-SENDER-ID-LONGER-THAN-15".into(), ..config() };
    assert_eq!(write(&long, &[order()]).unwrap_err(), "ISA06 'A-SENDER-ID-LONGER-THAN-15' must be at most 15 ASCII characters");
    let mixed = [order(), json!({"set": {"id": "810"}})];
    assert_eq!(write(&config(), &mixed).unwrap_err(), "sets of functional groups PO and IN cannot share one group");
}
