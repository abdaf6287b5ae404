//! The definitions are data: a partner's variant is a YAML change, and a
//! definition that cannot work is refused when it is loaded, by file.

use flowmap::format::x12::{ControlNumbers, Definitions, Reader, write_interchange};
use serde_json::json;

use super::support::root;
use super::writer::{at, config};

/// A copy of the shipped definitions with one text replaced in one file.
fn variant(file: &str, from: &str, to: &str) -> (tempfile::TempDir, Result<Definitions, String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(root().join("mappings/x12")).expect("the definitions") {
        let path = entry.expect("an entry").path();
        let mut text = std::fs::read_to_string(&path).expect("a definition");
        if path.file_name().is_some_and(|n| n == file) {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(dir.path().join(path.file_name().expect("a name")), text).expect("write");
    }
    let loaded = Definitions::load(dir.path()).map_err(|e| e.to_string());
    (dir, loaded)
}

#[test]
fn a_partner_variant_is_a_yaml_change() {
    // This partner's PO numbers are up to 30 characters.
    let (_dir, defs) = variant("segments.004010.yaml", "{id: BEG03, type: AN, min: 1, max: 22", "{id: BEG03, type: AN, min: 1, max: 30");
    let defs = defs.expect("the variant loads");
    let order =
        json!({"set": {"id": "850"}, "BEG": {"BEG01": "00", "BEG02": "SA", "BEG03": "P".repeat(30), "BEG05": "20260114"}, "PO1": [{"PO101": "1"}]});
    let mut out = Vec::new();
    write_interchange(&mut out, &config(), ControlNumbers { interchange: 1, group: 1 }, at(), &[order], &defs).expect("the variant accepts it");
    let read: Vec<_> = Reader::new(out.as_slice(), "v.x12", &defs).collect::<Result<_, _>>().expect("it reads back");
    assert_eq!(read[0].record["BEG"]["BEG03"], "P".repeat(30));
}

#[test]
fn a_definition_that_cannot_work_is_refused_at_load_naming_the_problem() {
    let cases = [
        ("850.yaml", "{segment: CUR}", "{segment: XYZ}", "set 850 (004010): segment XYZ is not in the segment dictionary"),
        ("850.yaml", "{segment: N9, min: 1}", "{segment: MSG, min: 1}", "set 850 (004010): loop N9 must start with segment N9"),
        ("850.yaml", "key: N101", "key: N109", "set 850 (004010): loop N1: key N109 is not an element of N1"),
        ("segments.005010.yaml", "base: \"004010\"", "base: \"003040\"", "version 005010: base version 003040 is not defined"),
    ];
    for (file, from, to, expected) in cases {
        let (dir, loaded) = variant(file, from, to);
        assert_eq!(loaded.unwrap_err(), format!("{}: {expected}", dir.path().display()));
    }
    let (dir, loaded) = variant("segments.004010.yaml", "{id: TDS01, type: N2", "{id: TDS01, type: X2");
    let path = dir.path().join("segments.004010.yaml");
    assert_eq!(loaded.unwrap_err(), format!("{}: unknown element type 'X2' (AN, ID, DT, TM, R, N0..N9)", path.display()));
}
