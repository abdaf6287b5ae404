//! Write → read round trip over generated records (a seeded generator, so a
//! failure names its case and replays): whatever the writer accepts, the
//! reader gives back, for 850s and 810s, both versions, many separators.

use flowmap::format::x12::{ControlNumbers, EnvelopeConfig, Reader, Usage, X12Version, write_interchange};
use serde_json::{Map, Value, json};

use super::support::{dec, definitions};
use super::writer::{at, config};

/// xorshift64*: small, seeded, good enough to pick test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn text(&mut self, min: usize, max: usize) -> String {
        const ALPHABET: &[u8] = b"ABCXYZabc0123456789 -./#&";
        let len = min + self.below(max - min + 1);
        (0..len).map(|_| *self.pick(ALPHABET) as char).collect()
    }
    fn digits(&mut self, len: usize) -> String {
        (0..len).map(|_| (b'0' + self.below(10) as u8) as char).collect()
    }
    /// A decimal without leading or trailing zeros, as R is written.
    fn real(&mut self) -> Value {
        let int = self.below(100_000);
        let frac = self.below(1000);
        let text = if frac == 0 { int.to_string() } else { format!("{int}.{frac:03}").trim_end_matches('0').to_string() };
        dec(&text)
    }
    fn cents(&mut self) -> Value {
        let sign = if self.below(5) == 0 { "-" } else { "" };
        dec(&format!("{sign}{}.{:02}", self.below(1_000_000), self.below(100)))
    }
}

fn lines(rng: &mut Rng, trigger: &str) -> Vec<Value> {
    (1..=1 + rng.below(4))
        .map(|i| {
            let mut line = Map::new();
            line.insert(format!("{trigger}01"), json!(i.to_string()));
            line.insert(format!("{trigger}02"), rng.real());
            line.insert(format!("{trigger}03"), json!(rng.pick(&["EA", "CA", "PK"])));
            line.insert(format!("{trigger}04"), rng.real());
            if rng.below(2) == 0 {
                line.insert("PID".into(), json!([{"PID01": "F", "PID05": rng.text(1, 80)}]));
            }
            Value::Object(line)
        })
        .collect()
}

fn parties(rng: &mut Rng) -> Vec<Value> {
    let mut qualifiers = vec!["ST", "BT", "BY", "SU"];
    (0..rng.below(4))
        .map(|_| {
            let q = qualifiers.remove(rng.below(qualifiers.len()));
            json!({"N101": q, "N102": rng.text(1, 60), "N103": "92", "N104": rng.text(2, 20), "N4": {"N401": rng.text(2, 30), "N404": "NL"}})
        })
        .collect()
}

fn record(rng: &mut Rng, invoice: bool) -> Value {
    let mut r = Map::new();
    if invoice {
        r.insert("set".into(), json!({"id": "810"}));
        r.insert("BIG".into(), json!({"BIG01": rng.digits(8), "BIG02": rng.text(1, 22)}));
        let n1 = parties(rng);
        if !n1.is_empty() {
            r.insert("N1".into(), Value::Array(n1));
        }
        r.insert("IT1".into(), Value::Array(lines(rng, "IT1")));
        r.insert("TDS".into(), json!({"TDS01": rng.cents()}));
        r.insert("SAC".into(), json!([{"SAC01": "C", "SAC02": "D240", "SAC05": rng.cents()}]));
    } else {
        r.insert("set".into(), json!({"id": "850"}));
        r.insert("BEG".into(), json!({"BEG01": rng.pick(&["00", "05"]), "BEG02": "SA", "BEG03": rng.text(1, 22), "BEG05": rng.digits(8)}));
        if rng.below(2) == 0 {
            r.insert("REF".into(), json!([{"REF01": "DP", "REF02": rng.text(1, 30)}]));
        }
        let n1 = parties(rng);
        if !n1.is_empty() {
            r.insert("N1".into(), Value::Array(n1));
        }
        let po1 = lines(rng, "PO1");
        r.insert("CTT".into(), json!({"CTT01": po1.len()}));
        r.insert("PO1".into(), Value::Array(po1));
    }
    Value::Object(r)
}

/// The record as read, without the envelope facts and the by-qualifier views.
fn body(record: &Value) -> Map<String, Value> {
    let mut map = record.as_object().cloned().unwrap_or_default();
    map.retain(|k, _| !matches!(k.as_str(), "interchange" | "group" | "set") && !k.contains("_by_"));
    map
}

#[test]
fn what_the_writer_writes_the_reader_reads_back_unchanged() {
    let defs = definitions();
    for case in 0..300u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (case + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let invoice = rng.below(2) == 0;
        let sets: Vec<Value> = (0..1 + rng.below(3)).map(|_| record(&mut rng, invoice)).collect();
        let config = EnvelopeConfig {
            version: *rng.pick(&[X12Version::V4010, X12Version::V5010]),
            usage: *rng.pick(&[Usage::Test, Usage::Production]),
            element_separator: *rng.pick(&['*', '|', '!']),
            component_separator: *rng.pick(&['>', ':', '\\']),
            segment_terminator: *rng.pick(&['~', '\n', '\u{15}', '\'']),
            line_break: rng.below(2) == 0,
            ..config()
        };
        let controls = ControlNumbers { interchange: 1 + rng.below(999_999_998) as u64, group: 1 + rng.below(99_999) as u64 };
        let mut out = Vec::new();
        write_interchange(&mut out, &config, controls, at(), &sets, &defs).unwrap_or_else(|e| panic!("case {case}: {e}\n{sets:#?}"));
        let read: Vec<_> = Reader::new(out.as_slice(), "rt.x12", &defs)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{}", String::from_utf8_lossy(&out)));
        assert_eq!(read.len(), sets.len(), "case {case}");
        for (written, got) in sets.iter().zip(&read) {
            assert_eq!(body(&got.record), body(written), "case {case}\n{}", String::from_utf8_lossy(&out));
            assert_eq!(got.record["set"]["id"], written["set"]["id"]);
            assert_eq!(got.interchange_control, format!("{:09}", controls.interchange));
            assert_eq!(got.group_control, controls.group.to_string());
            assert_eq!(got.record["interchange"]["usage"], if config.usage == Usage::Test { "T" } else { "P" });
            assert_eq!(got.record["group"]["version"], config.version.gs08());
            for party in got.record["N1"].as_array().into_iter().flatten() {
                assert_eq!(&got.record["N1_by_N101"][party["N101"].as_str().unwrap_or_default()], party);
            }
        }
    }
}
