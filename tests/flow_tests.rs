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
