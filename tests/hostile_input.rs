//! Input that must not stop the process, through the real binary: flow files
//! nested or long enough to overflow a parser's stack, widths that would
//! allocate without end, bytes that are not UTF-8, a 10 MB scalar, and
//! standard output that nobody can write to. Each is refused with a located
//! diagnostic (or a block reason, or a status), and `flowmap serve` keeps
//! its flows when such a file is saved under it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::live::{SandboxConfig, World, fixtures};
use common::serve::{Served, TOKEN, project_copy};
use common::{Run, flowmap_in, repo_root};
use pretty_assertions::assert_eq;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";
const YOUR_REF: &str = r#"YourRef: '"PO" ~ order.line.id'"#;

/// A copy of the project (kept while the folder lives) with its orders flow rewritten by `edit`.
fn project_with(edit: impl FnOnce(&str) -> Vec<u8>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    without_edition_warning(&root);
    let flow = root.join(ORDERS);
    let text = std::fs::read_to_string(&flow).unwrap();
    std::fs::write(&flow, edit(&text)).unwrap();
    (dir, root)
}

/// The copy's orders flow without its `WarehouseID` (commented out, so every line keeps its number):
/// the field's edition warning (tests/catalogue.rs) is not what these tests are about.
fn without_edition_warning(root: &Path) {
    let flow = root.join(ORDERS);
    let text = std::fs::read_to_string(&flow).unwrap();
    assert!(text.contains("\n  WarehouseID: "));
    std::fs::write(&flow, text.replace("\n  WarehouseID: ", "\n  # WarehouseID: ")).unwrap();
}

/// The orders flow with `YourRef` set to `expr` (written as is after `YourRef: `).
fn your_ref(text: &str, expr: &str) -> Vec<u8> {
    assert!(text.contains(YOUR_REF));
    text.replace(YOUR_REF, &format!("YourRef: {expr}")).into_bytes()
}

/// The orders flow with `settings.deep` holding `levels` block sequences, one inside the other (`- - - … x`).
fn deep_settings(text: &str, levels: usize) -> Vec<u8> {
    text.replacen("settings:\n", &format!("settings:\n  deep:\n    {}x\n", "- ".repeat(levels)), 1).into_bytes()
}

fn check(root: &Path) -> Run {
    flowmap_in(root, &["check", ORDERS])
}

const DEEP_TEXT: &str = "error: the YAML nests more than 64 levels deep
  --> mappings/lnb-exact/orders.flow.yaml:22:129
   |
22 | …- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - …
   |                                          ^ level 65
";

#[test]
fn yaml_nested_thousands_of_levels_deep_is_a_located_error() {
    // 3,000 levels in block style overflowed the loader's stack (SIGABRT) from about 410.
    let (_dir, root) = project_with(|t| deep_settings(t, 3_000));
    let run = check(&root);
    assert_eq!((run.code, run.stdout.as_str()), (1, format!("{DEEP_TEXT}\nchecked 1 flow: 1 error, 0 warnings\n").as_str()), "{}", run.stderr);

    // Indented mappings, as the tester wrote them: the same error at the 65th level.
    let (_dir, root) = project_with(|t| {
        let levels: String = (0..2_500).map(|i| format!("{}k:\n", "  ".repeat(i + 2))).collect();
        t.replacen("settings:\n", &format!("settings:\n  deep:\n{levels}"), 1).into_bytes()
    });
    let run = check(&root);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("error: the YAML nests more than 64 levels deep\n  --> mappings/lnb-exact/orders.flow.yaml:84:129\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_expression_of_thousands_of_terms_is_a_located_error() {
    // 5,000 `~` terms overflowed the expression compiler's stack from about 1,000.
    let long = format!("'\"PO\"{}'", " ~ order.line.id".repeat(5_000));
    let (_dir, root) = project_with(|t| your_ref(t, &long));
    let run = check(&root);
    assert_eq!(
        run.stdout,
        "error: the expression is longer than 4,096 characters
  --> mappings/lnb-exact/orders.flow.yaml:59:4109
   |
59 | …rder.line.id ~ order.line.id ~ order.line.id ~ order.line.id ~ order.line.id ~ order.line.id ~ order.line.id ~ order.lin…
   |                                          ^ the rest of the expression starts here
   = help: split it up: a table in `settings` for `translate`, or a filter in the system's YAML

checked 1 flow: 1 error, 0 warnings
"
    );
    assert_eq!(run.code, 1);

    // Short, but more parts than any parser should recurse over; and brackets nested too deep.
    let (_dir, root) = project_with(|t| your_ref(t, &format!("'{}'", vec!["order.id"; 101].join("~"))));
    assert_eq!(
        check(&root).stdout,
        "error: the expression has more than 300 parts (names, values, operators)
  --> mappings/lnb-exact/orders.flow.yaml:59:688
   |
59 | ….id~order.id~order.id~order.id~order.id~order.id~order.id~order.id~order.id~order.id~order.id~order.id~order.id~order.id…
   |                                          ^ part 301
   = help: split it up: a table in `settings` for `translate`, or a filter in the system's YAML

checked 1 flow: 1 error, 0 warnings
"
    );
    let (_dir, root) = project_with(|t| your_ref(t, &format!("'{}order.id{}'", "(".repeat(40), ")".repeat(40))));
    assert!(
        check(&root).stdout.starts_with("error: the expression nests more than 32 brackets deep\n  --> mappings/lnb-exact/orders.flow.yaml:59:45\n"),
        "{}",
        check(&root).stdout
    );
}

#[test]
fn bytes_that_are_not_utf8_are_located_at_the_first_one() {
    let (_dir, root) = project_with(|t| {
        let mut bytes = t.as_bytes().to_vec();
        let at = t.find("LNB orders in Invoicing").unwrap() + "LNB orders ".len();
        bytes.splice(at..at, [0xff, 0xfe]);
        bytes
    });
    let run = check(&root);
    assert_eq!(
        run.stdout,
        "error: the file is not UTF-8 text: byte 0xFF cannot stand here
 --> mappings/lnb-exact/orders.flow.yaml:6:25
  |
6 | description: LNB orders ��in Invoicing → Exact sales orders; LNB order Closed or Blocked.
  |                         ^ not UTF-8
  = help: save the file as UTF-8

checked 1 flow: 1 error, 0 warnings
"
    );
}

#[test]
fn a_10_mb_scalar_is_refused_quickly_and_quoted_in_a_line() {
    // It took 19 s and printed about 30 MB: the name three times, whole, in the message, the line and the carets.
    let (_dir, root) = project_with(|t| your_ref(t, &"x".repeat(10_000_000)));
    let started = Instant::now();
    let run = check(&root);
    println!("check of a 10 MB scalar: {:?}", started.elapsed());
    let xs = |n: usize| "x".repeat(n);
    assert_eq!(
        run.stdout,
        format!(
            "error: the expression is longer than 4,096 characters
  --> mappings/lnb-exact/orders.flow.yaml:59:4108
   |
59 | …{}…
   |                                          ^ the rest of the expression starts here
   = help: split it up: a table in `settings` for `translate`, or a filter in the system's YAML

checked 1 flow: 1 error, 0 warnings
",
            xs(120)
        )
    );
}

#[test]
fn a_hundred_problems_are_shown_and_the_rest_counted() {
    // 1,000 unknown keys on one line: each would be printed with the whole line.
    let (_dir, root) = project_with(|t| {
        let keys: String = (0..1_000).map(|i| format!(", X{i}: 1")).collect();
        t.replacen(
            "target:\n  system: exact\n  entity: salesorder/SalesOrders\n",
            &format!("target: {{system: exact, entity: salesorder/SalesOrders{keys}}}\n"),
            1,
        )
        .into_bytes()
    });
    let run = check(&root);
    assert_eq!(run.stdout.matches("error: unknown key `X").count(), 100, "{}", run.stdout);
    assert!(
        run.stdout
            .ends_with("error: 900 more problems in mappings/lnb-exact/orders.flow.yaml are not shown\n\nchecked 1 flow: 101 errors, 0 warnings\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.len() < 40_000, "{} bytes", run.stdout.len());
}

#[test]
fn a_width_or_repetition_too_large_is_a_check_error_when_written_and_blocks_the_record_when_read() {
    let (_dir, root) = project_with(|t| your_ref(t, "'order.line.id | lpad(9223372036854775807)'"));
    assert_eq!(
        check(&root).stdout,
        "error: lpad width 9223372036854775807 is more than 10000, the largest flowmap allows
  --> mappings/lnb-exact/orders.flow.yaml:59:34
   |
59 |   YourRef: 'order.line.id | lpad(9223372036854775807)'
   |                                  ^^^^^^^^^^^^^^^^^^^

checked 1 flow: 1 error, 0 warnings
"
    );

    let (_dir, root) = project_with(|t| your_ref(t, r#""'-' * 9223372036854775807""#));
    assert_eq!(
        check(&root).stdout,
        "error: the expression fails for every record: `*` would make 9223372036854775807 characters (1 × 9223372036854775807), more than 10000, the largest flowmap allows
  --> mappings/lnb-exact/orders.flow.yaml:59:13
   |
59 |   YourRef: \"'-' * 9223372036854775807\"
   |             ^^^^^^^^^^^^^^^^^^^^^^^^^

checked 1 flow: 1 error, 0 warnings
"
    );

    // From the record: the record is blocked, the field and its line named; the others go on.
    // (A numeric field the LNB catalogue has, so the flow checks clean: paths into the record are checked.)
    let (dir, root) = project_with(|t| your_ref(t, "'order.line.id | lpad(order.amount_total) ~ \"-\" * order.amount_total'"));
    let mut orders: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(fixtures().join("lnb/orders.json")).unwrap()).unwrap();
    orders[0]["amount_total"] = serde_json::json!(i64::MAX);
    orders[1]["amount_total"] = serde_json::json!(8);
    let input = dir.path().join("orders.json");
    std::fs::write(&input, serde_json::to_string(&orders[..2]).unwrap()).unwrap();
    let run =
        flowmap_in(&root, &["dry-run", ORDERS, "--format", "jsonl", "--input", input.to_str().unwrap(), "--fixtures", fixtures().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outcomes: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        outcomes[0]["reasons"],
        serde_json::json!([
            "YourRef (mappings/lnb-exact/orders.flow.yaml:59:3): lpad width 9223372036854775807 is more than 10000, the largest flowmap allows"
        ])
    );
    assert_eq!(outcomes[1]["request"]["body"]["YourRef"], "   50002--------");
}

#[test]
fn serve_does_not_start_on_a_file_too_deep_and_says_why() {
    let (dir, root) = project_with(|t| deep_settings(t, 3_000));
    let out = common::serve::serve_to_the_end(dir.path(), &root);
    // Every flow that extends the orders flow names the same line once.
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()), (Some(1), ""));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("{DEEP_TEXT}\nerror: the flows do not load; nothing was started\n"));
}

#[test]
fn serve_refuses_hostile_saves_and_keeps_its_flows() {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let mut served = Served::start(&world, &root, &["--clock-start", "2026-01-04T12:00:00Z"], &[]);
    let flow = root.join(ORDERS);
    let original = std::fs::read_to_string(&flow).unwrap();
    let version = || served.get("/flows/lnb-orders-to-exact").1["version"].as_str().unwrap_or_default().to_string();
    let failed_reloads = || {
        let metrics = served.call("GET", "/metrics", Some(TOKEN), "").1.as_str().unwrap_or_default().to_string();
        metrics.lines().find_map(|l| l.strip_prefix("flowmap_reloads_total{result=\"failed\"} ").map(str::to_string)).unwrap_or_default()
    };
    let v1 = version();

    let mut not_utf8 = original.clone().into_bytes();
    let at = original.find("LNB orders in").unwrap() + "LNB ".len();
    not_utf8.insert(at, 0xff);
    let saves = [
        ("3,000 levels of YAML", deep_settings(&original, 3_000), DEEP_TEXT),
        (
            "5,000 `~` terms",
            your_ref(&original, &format!("'\"PO\"{}'", " ~ order.line.id".repeat(5_000))),
            "error: the expression is longer than 4,096 characters\n  --> mappings/lnb-exact/orders.flow.yaml:59:4109\n",
        ),
        (
            "a byte that is not UTF-8",
            not_utf8,
            "error: the file is not UTF-8 text: byte 0xFF cannot stand here\n --> mappings/lnb-exact/orders.flow.yaml:6:18\n",
        ),
        (
            "a width of 2^63",
            your_ref(&original, "'order.line.id | lpad(9223372036854775807)'"),
            "error: lpad width 9223372036854775807 is more than 10000, the largest flowmap allows\n  --> mappings/lnb-exact/orders.flow.yaml:59:34\n",
        ),
    ];
    for (n, (what, bytes, expected)) in saves.into_iter().enumerate() {
        std::fs::write(&flow, &bytes).unwrap();
        served.wait_for(&format!("the reload of {what} to be refused"), Duration::from_secs(30), || failed_reloads() == (n + 1).to_string());
        let text = served.get("/flows").1["last_reload_error"]["text"].as_str().unwrap_or_default().to_string();
        // The engine runs elsewhere: it shows the project's files by their whole path.
        let text = text.replace(&format!("{}/", root.canonicalize().unwrap().display()), "");
        assert!(text.starts_with(expected), "{what}:\n{text}");
        assert_eq!(version(), v1, "{what}: the flows in force keep running");
        assert_eq!(served.get("/health").0, 200, "{what}: the engine answers");
    }

    // Saved as it was: it loads again.
    std::fs::write(&flow, original.replace(YOUR_REF, r#"YourRef: '"FIX" ~ order.line.id'"#)).unwrap();
    served.wait_for("the fixed flow to load", Duration::from_secs(30), || version() != v1);
    assert!(served.get("/flows").1["last_reload_error"].is_null());
    assert!(served.terminate().success(), "{}", served.log.lock().unwrap());
}

/// A project with a state file that has one run and one record's history.
fn audited_project() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    without_edition_warning(&root);
    let state_path = dir.path().join("state.db");
    let state = flowmap_state::State::open(&state_path).unwrap();
    let run = state.start_run("lnb-orders-to-exact", "0123456789abcdef", "run", "command").unwrap();
    let entry = |event: &str, status: &str| flowmap_state::JournalEntry {
        run: Some(run),
        flow: "lnb-orders-to-exact".into(),
        key: "50001".into(),
        event: event.into(),
        status: Some(status.into()),
        ..Default::default()
    };
    state.record(&[entry("fetched", "fetched"), entry("blocked", "blocked")]).unwrap();
    state.finish_run(run, "completed", &serde_json::json!({"blocked": 1})).unwrap();
    (dir, root, state_path)
}

enum Sink {
    Full,
    ClosedPipe,
}

/// The command with its standard output on `/dev/full` or on a pipe whose reading end is already closed.
fn with_stdout(root: &Path, args: &[&str], sink: Sink) -> (Option<i32>, String) {
    let stdout: Stdio = match sink {
        Sink::Full => std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap().into(),
        Sink::ClosedPipe => {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            writer.into()
        }
    };
    let out = Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .args(["--color", "never"])
        .args(args)
        .current_dir(root)
        .env_remove("CLICOLOR_FORCE")
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn output_that_cannot_be_written_ends_the_command_with_a_status_never_a_panic() {
    let (_dir, root, state) = audited_project();
    let state = state.to_str().unwrap().to_string();
    let fixtures = repo_root().join("fixtures");
    let commands: Vec<Vec<&str>> = vec![
        vec!["runs", "--state", &state],
        vec!["runs", "--format", "json", "--state", &state],
        vec!["show", "lnb-orders-to-exact", "50001", "--state", &state],
        vec!["connections", "--state", &state],
        vec!["check"],
        vec!["check", "--format", "json"],
        vec!["test", "mappings/lnb-exact/orders.test.yaml"],
        vec!["dry-run", ORDERS, "--fixtures", fixtures.to_str().unwrap()],
        vec!["dry-run", ORDERS, "--format", "jsonl", "--fixtures", fixtures.to_str().unwrap()],
    ];
    for args in &commands {
        // A full disk is said, with a non-zero status.
        assert_eq!(
            with_stdout(&root, args, Sink::Full),
            (Some(2), "error: cannot write the output: No space left on device (os error 28)\n".to_string()),
            "flowmap {}",
            args.join(" ")
        );
        // A reader that went away: quiet, with the status of a process ended by SIGPIPE.
        assert_eq!(with_stdout(&root, args, Sink::ClosedPipe), (Some(141), String::new()), "flowmap {}", args.join(" "));
    }
}
