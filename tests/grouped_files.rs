//! One file per interchange per partner (issue 12): `target.group` gathers the
//! records of a batch with the same group value into ONE file — for X12 one
//! interchange, one functional group, one 850 set per purchase order — through
//! the folder transport (the TrueCommerce system of the repository, its
//! outbox a local folder). Deliveries in doubt are settled by looking for the
//! journaled file in the outbox; a run killed midway and run again writes
//! every record in exactly one file.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::live::copy_dir;
use common::{Run, flowmap, repo_root};
use pretty_assertions::assert_eq;

const FLOW: &str = "mappings/edi-demo/grouped-850.flow.yaml";
const OUTBOX: &str = "share/IntegrationFTP/Import/Acme";

/// The repository's mappings with TrueCommerce's folders on a local share, the grouped flow
/// beside the flow it extends, and the purchase orders of `tests/grouped-files/export.json`
/// (5 for two suppliers, and one whose number is too long for BEG03) waiting in the export share.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    copy_dir(&repo_root().join("mappings"), &root.join("mappings"));
    copy_dir(&repo_root().join("schemas"), &root.join("schemas"));
    let system = root.join("mappings/systems/truecommerce.yaml");
    let yaml = std::fs::read_to_string(&system).unwrap().replace("transport: sftp", "transport: folder");
    std::fs::write(&system, yaml).unwrap();
    std::fs::copy(repo_root().join("tests/grouped-files/grouped-850.flow.yaml"), root.join(FLOW)).unwrap();
    std::fs::write(
        root.join("connections.yaml"),
        "connections:\n  truecommerce:\n    folder: share\n    \
         x12: { sender_qualifier: ZZ, sender_id: ACMEMFG, receiver_qualifier: ZZ, receiver_id: TRUECOMMERCE, usage: T, line_break: true }\n  \
         exports:\n    folder: share\n",
    )
    .unwrap();
    for folder in [OUTBOX, "share/IntegrationFTP/Export/Acme", "share/purchase-orders", "share/acknowledgements"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    std::fs::copy(repo_root().join("tests/grouped-files/export.json"), root.join("share/purchase-orders/export.json")).unwrap();
    (dir, root)
}

fn run(root: &Path, args: &[&str]) -> Run {
    common::flowmap_project(root, args, &[])
}

/// The files in the outbox (temporary names too), sorted.
fn outbox(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join(OUTBOX)).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn read(root: &Path, name: &str) -> String {
    std::fs::read_to_string(root.join(OUTBOX).join(name)).unwrap()
}

/// The X12 text with the moment of writing (ISA09/10, GS04/05) masked, and with the control
/// numbers (ISA13, GS06, GE02, IEA02) masked too when `controls`.
fn masked(x12: &str, controls: bool) -> String {
    x12.lines()
        .map(|l| {
            let mut e: Vec<String> = l.split('*').map(str::to_string).collect();
            let mask = |e: &mut Vec<String>, i: usize| {
                if let Some(v) = e.get_mut(i) {
                    *v = "#".repeat(v.trim_end_matches('~').len()) + if v.ends_with('~') { "~" } else { "" };
                }
            };
            let fields: &[usize] = match (e[0].as_str(), controls) {
                ("ISA", false) => &[9, 10],
                ("ISA", true) => &[9, 10, 13],
                ("GS", false) => &[4, 5],
                ("GS", true) => &[4, 5, 6],
                ("GE" | "IEA", true) => &[2],
                _ => &[],
            };
            fields.iter().for_each(|&i| mask(&mut e, i));
            e.join("*")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const NORDFAST: &str = "\
ISA*00*          *00*          *ZZ*ACMEMFG        *ZZ*TRUECOMMERCE   *######*####*U*00401*000000001*0*T*>~
GS*PO*ACMEMFG*TRUECOMMERCE*########*####*1*X*004010~
ST*850*0001~
BEG*00*SA*PO-1**20261130~
N1*SU*Nordfast*92*NORDFAST~
PO1*1*10*EA*1.5**BP*SKU-1~
CTT*1~
SE*6*0001~
ST*850*0002~
BEG*00*SA*PO-3**20261130~
N1*SU*Nordfast*92*NORDFAST~
PO1*1*10*EA*1.5**BP*SKU-1~
PO1*2*10*EA*1.5**BP*SKU-2~
CTT*2~
SE*7*0002~
ST*850*0003~
BEG*00*SA*PO-5**20261130~
N1*SU*Nordfast*92*NORDFAST~
PO1*1*10*EA*1.5**BP*SKU-1~
CTT*1~
SE*6*0003~
GE*3*1~
IEA*1*000000001~";

const ACMEBOLT: &str = "\
ISA*00*          *00*          *ZZ*ACMEMFG        *ZZ*TRUECOMMERCE   *######*####*U*00401*000000002*0*T*>~
GS*PO*ACMEMFG*TRUECOMMERCE*########*####*2*X*004010~
ST*850*0001~
BEG*00*SA*PO-2**20261130~
N1*SU*Acmebolt*92*ACMEBOLT~
PO1*1*10*EA*1.5**BP*SKU-1~
CTT*1~
SE*6*0001~
ST*850*0002~
BEG*00*SA*PO-4**20261130~
N1*SU*Acmebolt*92*ACMEBOLT~
PO1*1*10*EA*1.5**BP*SKU-1~
CTT*1~
SE*6*0002~
GE*2*2~
IEA*1*000000002~";

const TOO_LONG: &str = "PO-6-THIS-NUMBER-IS-TOO-LONG-FOR-BEG03";

/// The journal's answer and target id of `key`'s last entry that has one.
fn sent_as(root: &Path, key: &str) -> (serde_json::Value, String) {
    let shown = run(root, &["show", "grouped-850", key, "--format", "json"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let last = shown.stdout.lines().rev().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).find(|e| e["target_id"].is_string());
    let last = last.unwrap_or_else(|| panic!("{key} was not sent: {}", shown.stdout));
    (last["answer"].clone(), last["target_id"].as_str().unwrap().to_string())
}

#[test]
fn five_orders_for_two_suppliers_become_two_interchanges_and_a_refused_order_is_blocked_alone() {
    let (_dir, root) = project();
    let dry = run(&root, &["dry-run", FLOW, "--input", "share/purchase-orders/export.json", "--format", "json"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let shown = common::dry_run_files(&dry.stdout);
    // One file per group, in the order the groups first appear; a dry-run allocates no numbers.
    let names: Vec<&str> = shown.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["/IntegrationFTP/Import/Acme/PO_NORDFAST_1.x12", "/IntegrationFTP/Import/Acme/PO_ACMEBOLT_1.x12"]);

    let live = run(&root, &["run", FLOW]);
    assert_eq!(live.code, 0, "{}{}", live.stdout, live.stderr);
    assert_eq!(
        common::live::untimed(&live.stdout),
        format!(
            "run 1 of grouped-850: completed in <t>\n  6 fetched, 5 sent, 1 blocked\n  blocked {TOO_LONG}\n    \
             - transaction set 850 0001: BEG: BEG03 is 38 characters long, its length is 1..22\n  API calls: none; waited 0.0 s on rate limits"
        )
    );
    // Two files, whole, no temporary name left; control numbers from the state file, consecutive.
    assert_eq!(outbox(&root), ["PO_ACMEBOLT_2.x12", "PO_NORDFAST_1.x12"]);
    assert_eq!(masked(&read(&root, "PO_NORDFAST_1.x12"), false), NORDFAST);
    assert_eq!(masked(&read(&root, "PO_ACMEBOLT_2.x12"), false), ACMEBOLT);
    // What the dry-run showed is what was written, but for the moment and the control numbers.
    assert_eq!(masked(&shown[0].1, true), masked(&read(&root, "PO_NORDFAST_1.x12"), true));
    assert_eq!(masked(&shown[1].1, true), masked(&read(&root, "PO_ACMEBOLT_2.x12"), true));

    // Each order's answer names its file, interchange, group and set; its target id is unique.
    let (answer, id) = sent_as(&root, "PO-3");
    assert_eq!(id, "PO_NORDFAST_1.x12#0002");
    let file = "/IntegrationFTP/Import/Acme/PO_NORDFAST_1.x12";
    assert_eq!(answer, serde_json::json!({"file": file, "bytes": 548, "interchange": 1, "group": 1, "set": "0002"}));
    assert_eq!(sent_as(&root, "PO-4").1, "PO_ACMEBOLT_2.x12#0002");
}

#[test]
fn a_file_in_doubt_is_looked_for_in_the_outbox_and_sent_again_with_the_same_bytes_when_it_is_not_there() {
    let (_dir, root) = project();
    // Someone else's file under the name the first interchange gets.
    std::fs::write(root.join(OUTBOX).join("PO_NORDFAST_1.x12"), "theirs\n").unwrap();
    let first = run(&root, &["run", FLOW]);
    assert!(first.stdout.contains("6 fetched, 2 sent, 1 blocked, 3 unknown"), "{}", first.stdout);
    assert!(first.stdout.contains("  unknown PO-1\n    - share/IntegrationFTP/Import/Acme/PO_NORDFAST_1.x12: not written: a file of that name exists already (a file is never overwritten)\n    - the file is not sent again: the next run looks for it in the outbox (move a file that is not ours away first)\n"), "{}", first.stdout);
    assert_eq!(read(&root, "PO_NORDFAST_1.x12"), "theirs\n");

    // Still someone else's: nothing is overwritten, the orders stay in doubt.
    let second = run(&root, &["run", FLOW]);
    assert!(second.stdout.contains("  3 unknown\n"), "{}", second.stdout);
    assert!(
        second.stdout.contains("  unknown PO-3\n    - /IntegrationFTP/Import/Acme/PO_NORDFAST_1.x12 in the outbox holds other bytes than were sent: delivered or not, nobody can tell\n"),
        "{}",
        second.stdout
    );
    assert_eq!(read(&root, "PO_NORDFAST_1.x12"), "theirs\n");

    // Moved away: the journaled bytes go again, unchanged (ISA13 1, not a new number).
    std::fs::remove_file(root.join(OUTBOX).join("PO_NORDFAST_1.x12")).unwrap();
    let third = run(&root, &["run", FLOW]);
    assert_eq!(third.code, 0, "{}{}", third.stdout, third.stderr);
    assert!(third.stdout.contains("  3 sent\n"), "{}", third.stdout);
    assert_eq!(outbox(&root), ["PO_ACMEBOLT_2.x12", "PO_NORDFAST_1.x12"]);
    assert_eq!(masked(&read(&root, "PO_NORDFAST_1.x12"), false), NORDFAST);
    assert_eq!(sent_as(&root, "PO-5").1, "PO_NORDFAST_1.x12#0003");

    // The next file takes the next number: none was spent on the resend.
    std::fs::write(root.join("share/purchase-orders/more.json"), r#"[{"number": "PO-9", "date": "2026-12-01", "supplier": {"name": "Nordfast", "edi_id": "NORDFAST"}, "lines": [{"line": 1, "sku": "SKU-1", "quantity": 1}]}]"#).unwrap();
    let fourth = run(&root, &["run", FLOW]);
    assert!(fourth.stdout.contains("  1 fetched, 1 sent\n"), "{}", fourth.stdout);
    assert_eq!(outbox(&root), ["PO_ACMEBOLT_2.x12", "PO_NORDFAST_1.x12", "PO_NORDFAST_3.x12"]);
}

#[test]
fn a_file_in_doubt_found_in_the_outbox_with_the_bytes_journaled_is_reconciled_not_sent_again() {
    let (_dir, root) = project();
    std::fs::write(root.join(OUTBOX).join("PO_NORDFAST_1.x12"), "theirs\n").unwrap();
    let first = run(&root, &["run", FLOW]);
    assert!(first.stdout.contains("3 unknown"), "{}", first.stdout);
    // The file's bytes are journaled with its first record: put there as if the upload had
    // been ours (its answer lost).
    let shown = run(&root, &["show", "grouped-850", "PO-1", "--format", "json"]);
    let sending: serde_json::Value =
        shown.stdout.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).find(|e| e["event"] == "sending").unwrap();
    let content = sending["answer"]["content"].as_str().unwrap().to_string();
    assert_eq!(masked(&content, false), NORDFAST);
    std::fs::write(root.join(OUTBOX).join("PO_NORDFAST_1.x12"), &content).unwrap();

    let again = run(&root, &["run", FLOW]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("  3 reconciled\n"), "{}", again.stdout);
    assert_eq!(outbox(&root), ["PO_ACMEBOLT_2.x12", "PO_NORDFAST_1.x12"]);
    assert_eq!(read(&root, "PO_NORDFAST_1.x12"), content);
    assert_eq!(sent_as(&root, "PO-1").1, "PO_NORDFAST_1.x12#0001");
}

/// 600 orders for 10 suppliers: 6 batches of 10 files. The run is killed (SIGKILL) once
/// some files are written; run again, every order is in exactly one file, and no two files
/// share an interchange number.
#[test]
fn a_run_killed_midway_then_run_again_writes_every_order_in_exactly_one_file() {
    let (_dir, root) = project();
    std::fs::remove_file(root.join("share/purchase-orders/export.json")).unwrap();
    let orders: Vec<serde_json::Value> = (0..600)
        .map(|i| {
            serde_json::json!({"number": format!("PO-{i}"), "date": "2026-11-30",
                "supplier": {"name": format!("S{}", i % 10), "edi_id": format!("SUP{:02}", i % 10)},
                "lines": [{"line": 1, "sku": format!("SKU-{i}"), "quantity": 1}]})
        })
        .collect();
    std::fs::write(root.join("share/purchase-orders/big.json"), serde_json::to_string(&orders).unwrap()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .args(["--color", "never", "--root", ".", "--connections", "connections.yaml", "--state", "state.db", "run", FLOW])
        .current_dir(&root)
        .env("FLOWMAP_KEY", "5a".repeat(32))
        .env("FLOWMAP_PROGRESS", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Mid-batch: the second batch's files are being written.
    while outbox(&root).iter().filter(|n| n.ends_with(".x12")).count() < 13 {
        assert!(started.elapsed() < Duration::from_secs(60), "the run did not get going");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let killed_at = outbox(&root).iter().filter(|n| n.ends_with(".x12")).count();
    assert!(killed_at < 60, "killed before the end: {killed_at} files");

    let again = run(&root, &["run", FLOW]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let files: Vec<String> = outbox(&root).into_iter().filter(|n| n.ends_with(".x12")).collect();
    assert_eq!(files.len(), 60, "{files:?}");
    let mut orders_written: Vec<String> = Vec::new();
    let mut interchanges: Vec<String> = Vec::new();
    for name in &files {
        let text = read(&root, name);
        interchanges.push(text.get(90..99).unwrap().to_string());
        orders_written.extend(text.lines().filter(|l| l.starts_with("BEG*")).map(|l| l.split('*').nth(3).unwrap().to_string()));
    }
    let count = orders_written.len();
    orders_written.sort();
    orders_written.dedup();
    assert_eq!((count, orders_written.len()), (600, 600), "an order written twice, or lost");
    interchanges.sort();
    interchanges.dedup();
    assert_eq!(interchanges.len(), 60, "two files with one interchange number");
}

/// `flowmap check FILE` fails and prints exactly `expected`.
fn check_fails_with(file: &str, expected: &str) {
    let run = flowmap(&["check", file]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, expected);
}

#[test]
fn check_refuses_a_group_on_an_http_target() {
    check_fails_with(
        "tests/broken/group-on-http.flow.yaml",
        r#"error: `group` gathers records into one file; `exact` is an http system
 --> tests/broken/group-on-http.flow.yaml:4:58
  |
4 | target: { system: exact, entity: salesorder/SalesOrders, group: order.retailer.reference }
  |                                                          ^^^^^

checked 1 flow: 1 error, 0 warnings
"#,
    );
}

#[test]
fn check_refuses_an_interchange_in_the_name_of_a_file_no_one_numbers() {
    check_fails_with(
        "tests/broken/group-interchange.flow.yaml",
        r#"error: `interchange` has no value here: `exports` does not number its files (only X12 does)
 --> tests/broken/group-interchange.flow.yaml:4:60
  |
4 | …get: { system: exports, entity: acknowledgements, file: 'ACK_{{ group }}_{{ interchange }}.json', group: ack.BAK.BAK03 }
  |                                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  = help: name the files by `group` (and the first record's values) instead

checked 1 flow: 1 error, 0 warnings
"#,
    );
}

#[test]
fn check_refuses_grouped_files_without_a_name_or_with_one_name_for_all() {
    check_fails_with(
        "tests/broken/group-unnamed.flow.yaml",
        r#"error: a grouped file needs a name: `group` without `file`
 --> tests/broken/group-unnamed.flow.yaml:4:48
  |
4 | target: { system: truecommerce, entity: "850", group: po.supplier.edi_id }
  |                                                ^^^^^
  = help: name each file with `file`, e.g. `PO_{{ group }}_{{ interchange }}.x12` (`group` and `interchange` are in scope)

checked 1 flow: 1 error, 0 warnings
"#,
    );
    check_fails_with(
        "tests/broken/group-names.flow.yaml",
        r#"error: every grouped file would be named `PO_{{ settings.prefix }}.x12`: the name reads neither `group`, `interchange` nor a record
 --> tests/broken/group-names.flow.yaml:5:54
  |
5 | target: { system: truecommerce, entity: "850", file: 'PO_{{ settings.prefix }}.x12', group: po.supplier.edi_id }
  |                                                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  = help: put `{{ group }}` or `{{ interchange }}` in the name, e.g. `PO_{{ group }}_{{ interchange }}.x12`

checked 1 flow: 1 error, 0 warnings
"#,
    );
}

/// JSON: the lines of one order in one file, an array whatever its size (the folder share of
/// tests/file-flows, its flow grouped by order).
#[test]
fn csv_lines_grouped_by_order_become_one_json_array_per_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    copy_dir(&repo_root().join("tests/file-flows"), &root);
    std::fs::create_dir_all(root.join("share/out")).unwrap();
    let flow = root.join("mappings/drop/lines.flow.yaml");
    let yaml = std::fs::read_to_string(&flow)
        .unwrap()
        .replace("file: 'line_{{ line.order }}_{{ line.sku }}.json' }", "file: 'order_{{ group }}.json', group: line.order }");
    std::fs::write(&flow, yaml).unwrap();
    std::fs::write(root.join("share/in/a.csv"), "order,sku,quantity\n1001,A-1,3\n1002,C-3,1\n1001,B-2,4\n").unwrap();
    let dry = run(&root, &["dry-run", "mappings/drop/lines.flow.yaml", "--input", "share/in/a.csv", "--format", "json"]);
    let shown = common::dry_run_files(&dry.stdout);
    let live = run(&root, &["run", "mappings/drop/lines.flow.yaml"]);
    assert_eq!(live.code, 0, "{}{}", live.stdout, live.stderr);
    assert!(live.stdout.contains("  3 fetched, 3 sent\n"), "{}", live.stdout);
    let written = |name: &str| std::fs::read_to_string(root.join("share/out").join(name)).unwrap();
    assert_eq!(
        written("order_1001.json"),
        "[\n  {\n    \"Order\": \"1001\",\n    \"Sku\": \"A-1\",\n    \"Qty\": 3\n  },\n  {\n    \"Order\": \"1001\",\n    \"Sku\": \"B-2\",\n    \"Qty\": 4\n  }\n]\n"
    );
    assert_eq!(written("order_1002.json"), "[\n  {\n    \"Order\": \"1002\",\n    \"Sku\": \"C-3\",\n    \"Qty\": 1\n  }\n]\n");
    assert_eq!(
        shown,
        [("/out/order_1001.json".to_string(), written("order_1001.json")), ("/out/order_1002.json".to_string(), written("order_1002.json"))]
    );
}
