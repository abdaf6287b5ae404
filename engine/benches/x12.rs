//! The X12 reader's benchmark: `cargo bench -p flowmap --bench x12 [-- --megabytes N]`.
//!
//! Generates a mailbag of 850s (default 100 MB: interchanges of 20 purchase
//! orders, 10 lines each, written by the codec's own writer) and reads it back
//! with the streaming reader: MB/s, sets, and the peak resident memory of the
//! read alone (VmHWM, reset before it), which stays flat in the file's size.
//! The yardstick, same file and machine: node-x12 (npm) streaming the same
//! file (tests/x12/bench/yardstick.js), run when `node` finds it — set
//! X12_YARDSTICK_NODE_PATH to the folder holding node_modules/node-x12.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;
use flowmap::format::x12::{ControlNumbers, Definitions, EnvelopeConfig, Reader, write_interchange};
use serde_json::{Value, json};

const SETS_PER_INTERCHANGE: usize = 20;
const LINES_PER_ORDER: usize = 10;

fn main() {
    let megabytes = std::env::args().skip_while(|a| a != "--megabytes").nth(1).and_then(|v| v.parse().ok()).unwrap_or(100u64);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let definitions = Definitions::load(&root.join("mappings/x12")).expect("the X12 definitions load");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mailbag.x12");

    let started = Instant::now();
    let (bytes, written) = generate(&path, megabytes * 1_000_000, &definitions);
    println!("generated {:.1} MB, {written} purchase orders in {:.1}s", bytes as f64 / 1e6, started.elapsed().as_secs_f64());

    // The peak of the read alone: VmHWM reset (Linux) after generating.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let input = BufReader::with_capacity(1 << 16, File::open(&path).expect("the mailbag"));
    let (mut sets, mut lines, mut errors) = (0usize, 0usize, 0usize);
    for item in Reader::new(input, "mailbag.x12", &definitions) {
        match item {
            Ok(set) => {
                sets += 1;
                lines += set.record["PO1"].as_array().map_or(0, Vec::len);
            }
            Err(_) => errors += 1,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!((sets, errors), (written, 0));
    let peak = flowmap::bench::peak_rss_kib().unwrap_or(0);
    println!(
        "{{\"parser\": \"flowmap\", \"seconds\": {seconds:.2}, \"sets\": {sets}, \"lines\": {lines}, \"mb_per_s\": {:.1}, \"peak_rss_kib\": {peak}}}",
        bytes as f64 / 1e6 / seconds
    );
    yardstick(&root, &path);
}

/// Writes interchanges of 850s until the file reaches `target` bytes.
fn generate(path: &Path, target: u64, definitions: &Definitions) -> (u64, usize) {
    let config: EnvelopeConfig = serde_json::from_value(json!({
        "sender_qualifier": "ZZ", "sender_id": "ACMEBUYER", "receiver_qualifier": "ZZ", "receiver_id": "SUPPLIERCO",
        "usage": "P", "line_break": true,
    }))
    .expect("a config");
    let at = NaiveDate::from_ymd_opt(2026, 1, 15).and_then(|d| d.and_hms_opt(9, 30, 0)).expect("a date");
    let mut out = BufWriter::new(File::create(path).expect("the mailbag file"));
    let (mut bytes, mut orders, mut interchange) = (0u64, 0usize, 0u64);
    while bytes < target {
        interchange += 1;
        let sets: Vec<Value> = (0..SETS_PER_INTERCHANGE).map(|i| order(orders + i)).collect();
        let mut buffer = Vec::new();
        write_interchange(&mut buffer, &config, ControlNumbers { interchange, group: interchange }, at, &sets, definitions).expect("it writes");
        out.write_all(&buffer).expect("write");
        bytes += buffer.len() as u64;
        orders += sets.len();
    }
    out.flush().expect("flush");
    (bytes, orders)
}

fn order(n: usize) -> Value {
    let lines: Vec<Value> = (1..=LINES_PER_ORDER)
        .map(|l| {
            json!({"PO101": l.to_string(), "PO102": (n + l) % 50 + 1, "PO103": "EA", "PO104": format!("{}.{:02}", n % 997, l),
                   "PO106": "VP", "PO107": format!("SKU-{:06}", (n * 7 + l) % 1_000_000),
                   "PID": [{"PID01": "F", "PID05": format!("Article {l} of order {n}")}]})
        })
        .collect();
    json!({
        "set": {"id": "850", "control_number": format!("{:04}", n % 10_000 + 1)},
        "BEG": {"BEG01": "00", "BEG02": "SA", "BEG03": format!("PO-{n}"), "BEG05": "20260114"},
        "REF": [{"REF01": "DP", "REF02": "038"}],
        "DTM": [{"DTM01": "002", "DTM02": "20260201"}],
        "N1": [
            {"N101": "ST", "N102": format!("Store {}", n % 500), "N103": "92", "N104": format!("ST-{}", n % 500),
             "N3": [{"N301": "Havenweg 12"}], "N4": {"N401": "Rotterdam", "N403": "3011AA", "N404": "NL"}},
            {"N101": "BT", "N102": "ACME Holding BV", "N103": "92", "N104": "HQ-01"},
        ],
        "PO1": lines,
        "CTT": {"CTT01": LINES_PER_ORDER},
    })
}

fn yardstick(root: &Path, mailbag: &Path) {
    let script = root.join("tests/x12/bench/yardstick.js");
    let node_path = std::env::var("X12_YARDSTICK_NODE_PATH").unwrap_or_default();
    let run = Command::new("node").arg(&script).arg(mailbag).env("NODE_PATH", Path::new(&node_path).join("node_modules")).output();
    match run {
        Ok(out) if out.status.success() => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Ok(out) => println!(
            "yardstick skipped (node-x12 not found? npm install node-x12 in $X12_YARDSTICK_NODE_PATH): {}",
            String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("")
        ),
        Err(e) => println!("yardstick skipped: node: {e}"),
    }
}
