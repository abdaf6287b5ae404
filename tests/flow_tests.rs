//! `flowmap test`: shipped flow tests pass; failures show a diff.

mod common;

use common::flowmap;
use pretty_assertions::assert_eq;

#[test]
fn every_shipped_flow_test_passes() {
    let run = flowmap(&["test"]);
    assert_eq!(run.stderr, "");
    assert_eq!(run.code, 0, "{}", run.stdout);
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    assert!(!run.stdout.contains('✘'), "{}", run.stdout);
}

#[test]
fn failures_show_what_differs() {
    let run = flowmap(&["test", "tests/flow-tests/failing.test.yaml"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        r#"tests/flow-tests/failing.test.yaml
  ✘ payload differs in one line (tests/flow-tests/failing.test.yaml:5:5)
      payload differs (- expected, + actual):
        {
          "OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe",
          "WarehouseID": "28062cd0-893f-4bd7-9f73-e4a0f372a5b4",
          "YourRef": "PO50001",
          "Currency": "EUR",
          "SalesOrderLines": [
            {
              "Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1",
              "Quantity": 12,
              "UnitPrice": 19.95
            },
            {
              "Item": "59042853-55ee-4754-989e-ce0c8f20840a",
      -       "Quantity": 10,
      +       "Quantity": 12,
              "UnitPrice": 19.95
            },
            {
              "Item": "1032fcc9-64ca-42eb-ada7-0a6840efb32c",
              "Quantity": 6,
              "UnitPrice": 49
            }
          ]
        }
  ✘ expected ready but blocked (tests/flow-tests/failing.test.yaml:18:5)
      expected ready, got blocked:
        - Customer 99999 does not exist as an Account in Exact Online
  ✘ a reason is missing (tests/flow-tests/failing.test.yaml:23:5)
      block reasons differ (- expected, + actual):
        Product BAG-XXL-RED does not exist as an Item in Exact Online
      + Line SWT-NVY-L has quantity 0; it must be more than 0
  ✔ this one passes

1 passed, 3 failed
"#
    );
}

#[test]
fn engine_behaviour_cases_pass() {
    // Optional look-ups, fallbacks on empty keys, the source query on given
    // records, `found` in write-backs, table misses: see the test file.
    let run = flowmap(&["test", "tests/flow-tests/engine-features.test.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.ends_with("6 passed, 0 failed\n"), "{}", run.stdout);
}

#[test]
fn long_amounts_and_far_dates_cases_pass() {
    // Amounts too long for a float, in the record and in the expected
    // payload, compared digit for digit; a due date past year 9999: see the
    // test file. One cent off fails (a float could not tell them apart).
    let run = flowmap(&["test", "tests/flow-tests/amounts.test.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.ends_with("4 passed, 0 failed\n"), "{}", run.stdout);
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(common::repo_root().join("tests/flow-tests/amounts.test.yaml")).expect("the test file");
    let flow = common::repo_root().join("tests/flows/amounts.flow.yaml");
    let one_cent_off = text
        .replace("NetPrice: 99999999999999.99", "NetPrice: 99999999999999.98")
        .replace("flow: ../flows/amounts.flow.yaml", &format!("flow: {}", flow.display()));
    let file = dir.path().join("one-cent-off.test.yaml");
    std::fs::write(&file, one_cent_off).expect("written");
    let off = flowmap(&["test", file.to_str().expect("a UTF-8 path")]);
    assert_eq!(off.code, 1, "{}", off.stdout);
    assert!(off.stdout.contains("-       \"NetPrice\": 99999999999999.98,\n      +       \"NetPrice\": 99999999999999.99,\n"), "{}", off.stdout);
}

/// A test file beside a flow that blocks a number joined with `+`: the
/// cases below fail in each way a case can, and the last one passes.
const STALE_CASES: &str = r#"# Written by hand; `flowmap test --update` keeps this comment.
flow: FLOW
cases:
  # Keys in another order are no difference; the reference is.
  - name: keys in another order and a wrong reference
    record: { reference: "1", line: { id: "7" } }
    expect:
      ready:
        status: Closed
        reference: PO8

  - name: blocked, though the record goes through
    record: { reference: "2", line: { id: "9" } }
    expect: { blocked: [nothing is wrong] }

  - name: ready, though the record is blocked
    record: { reference: "3", line: { id: 3 } }
    expect:
      ready: { reference: PO3, status: Closed } # goes with the old expectation
  # The last case passes and stays as it is.
  - name: this one passes
    record: { reference: "4", line: { id: "4" } }
    expect:
      ready:
        reference: PO4
        status: Closed
"#;

const STALE_REPORT: &str = r#"<file>
  ✘ keys in another order and a wrong reference (<file>:5:5)
      payload differs (- expected, + actual):
        {
          "status": "Closed",
      -   "reference": "PO8"
      +   "reference": "PO7"
        }
  ✘ blocked, though the record goes through (<file>:12:5)
      expected blocked, got ready with payload:
        {
          "reference": "PO9",
          "status": "Closed"
        }
  ✘ ready, though the record is blocked (<file>:16:5)
      expected ready, got blocked:
        - reference (tests/flows/plus.flow.yaml:6:3): tried to use + operator on unsupported types string and number; use `~` to join text (e.g. "PO" ~ order.id)
  ✔ this one passes
"#;

fn stale_cases() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let flow = common::repo_root().join("tests/flows/plus.flow.yaml");
    let file = dir.path().join("plus.test.yaml");
    std::fs::write(&file, STALE_CASES.replace("FLOW", &flow.display().to_string())).expect("written");
    (dir, file)
}

#[test]
fn a_failure_shows_the_actual_result_and_key_order_is_no_difference() {
    let (_dir, file) = stale_cases();
    let path = file.to_str().expect("a UTF-8 path");
    let run = flowmap(&["test", path]);
    assert_eq!((run.code, run.stderr.as_str()), (1, ""));
    assert_eq!(run.stdout.replace(path, "<file>"), format!("{STALE_REPORT}\n1 passed, 3 failed\n"));
}

#[test]
fn update_writes_what_each_failing_case_got_and_keeps_the_rest() {
    let (_dir, file) = stale_cases();
    let path = file.to_str().expect("a UTF-8 path");
    let run = flowmap(&["test", "--update", path]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{}", run.stdout);
    let report = STALE_REPORT
        .replace("  ✘ ", "  ✎ ")
        .replace(":5:5)\n", ":5:5): updated\n")
        .replace(":12:5)\n", ":12:5): updated\n")
        .replace(":16:5)\n", ":16:5): updated\n");
    assert_eq!(run.stdout.replace(path, "<file>"), format!("{report}\n1 passed, 0 failed, 3 updated\n"));
    let written = std::fs::read_to_string(&file).expect("the test file");
    let flow = common::repo_root().join("tests/flows/plus.flow.yaml");
    assert_eq!(
        written,
        format!(
            r#"# Written by hand; `flowmap test --update` keeps this comment.
flow: {}
cases:
  # Keys in another order are no difference; the reference is.
  - name: keys in another order and a wrong reference
    record: {{ reference: "1", line: {{ id: "7" }} }}
    expect:
      ready:
        status: Closed
        reference: PO7

  - name: blocked, though the record goes through
    record: {{ reference: "2", line: {{ id: "9" }} }}
    expect:
      ready:
        reference: PO9
        status: Closed

  - name: ready, though the record is blocked
    record: {{ reference: "3", line: {{ id: 3 }} }}
    expect:
      blocked:
        - "reference (tests/flows/plus.flow.yaml:6:3): tried to use + operator on unsupported types string and number; use `~` to join text (e.g. \"PO\" ~ order.id)"
  # The last case passes and stays as it is.
  - name: this one passes
    record: {{ reference: "4", line: {{ id: "4" }} }}
    expect:
      ready:
        reference: PO4
        status: Closed
"#,
            flow.display()
        )
    );
    let again = flowmap(&["test", path]);
    assert_eq!((again.code, again.stdout.lines().last()), (0, Some("4 passed, 0 failed")));
}

#[test]
fn json_format_gives_a_line_per_case_and_a_summary() {
    let run = flowmap(&["test", "--format", "json", "tests/flow-tests/failing.test.yaml"]);
    assert_eq!((run.code, run.stderr.as_str()), (1, ""));
    let lines: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let results: Vec<(&str, &str)> = lines[..4].iter().map(|l| (l["case"].as_str().unwrap(), l["result"].as_str().unwrap())).collect();
    assert_eq!(
        results,
        [
            ("payload differs in one line", "failed"),
            ("expected ready but blocked", "failed"),
            ("a reason is missing", "failed"),
            ("this one passes", "passed")
        ]
    );
    assert_eq!(lines[0]["at"], "tests/flow-tests/failing.test.yaml:5:5");
    assert_eq!(lines[0]["file"], "tests/flow-tests/failing.test.yaml");
    assert_eq!(
        lines[2]["failure"],
        "block reasons differ (- expected, + actual):\n  Product BAG-XXL-RED does not exist as an Item in Exact Online\n+ Line SWT-NVY-L has quantity 0; it must be more than 0\n"
    );
    assert!(!lines[0]["failure"].as_str().unwrap().contains('\u{1b}'), "no colour in JSON");
    assert_eq!(lines[3].get("failure"), None);
    assert_eq!(lines[4], serde_json::json!({"summary": {"passed": 1, "failed": 3, "updated": 0, "broken": 0}}));
    assert_eq!(lines.len(), 5);
}
