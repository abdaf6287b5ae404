//! `flowmap dry-run`: the exact text a user sees, and the machine format.

mod common;

use common::flowmap;
use pretty_assertions::assert_eq;

/// The flow version is a hash of the flow; it changes whenever the flow does.
fn without_version(text: &str) -> String {
    match text.find("version ") {
        Some(i) => format!("{}version <hash>{}", &text[..i], &text[i + 8 + 16..]),
        None => text.to_string(),
    }
}

#[test]
fn shows_payloads_reasons_unreadable_lines_and_calls() {
    let run = flowmap(&["dry-run", "mappings/lnb-exact/orders.flow.yaml", "--input", "tests/inputs/orders.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, WAREHOUSE_EDITION);
    assert_eq!(
        without_version(&run.stdout),
        r#"dry-run of lnb-orders-to-exact (mappings/lnb-exact/orders.flow.yaml, version <hash>)

✔ ready    1  POST exact salesorder/SalesOrders
    {
      "OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe",
      "WarehouseID": "28062cd0-893f-4bd7-9f73-e4a0f372a5b4",
      "YourRef": "PO1",
      "SalesOrderLines": [
        {
          "Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1",
          "Quantity": 2,
          "UnitPrice": 19.95
        }
      ]
    }
    then POST lnb /orders/status {"reference":"1","status":"Closed"}
✘ unreadable tests/inputs/orders.jsonl:2:171: not JSON: key must be a string
✘ blocked  3
    - `order.retailer` is missing (lookup account)
    - Product NOPE-1 does not exist as an Item in Exact Online
    then POST lnb /orders/status {"reference":"3","status":"Blocked","reason":"`order.retailer` is missing (lookup account); Product NOPE-1 does not exist as an Item in Exact Online"}
✔ ready    4  POST exact salesorder/SalesOrders
    {
      "OrderedBy": "d9a878ce-963b-4019-bfa2-f2e30da288a7",
      "WarehouseID": "950e7dc6-c918-40a5-9407-2505cfbadc91",
      "YourRef": "PO4",
      "SalesOrderLines": [
        {
          "Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1",
          "Quantity": 1,
          "UnitPrice": 19.95
        }
      ]
    }
    then POST lnb /orders/status {"reference":"4","status":"Closed"}

4 records: 2 ready, 1 blocked, 0 skipped, 1 unreadable

API calls a live run would make (9 in all):
  lnb GET /orders                    fetch source        1  e.g. /orders?status=Invoicing
  exact GET crm/Accounts             lookup account      1  e.g. crm/Accounts?$filter=Code eq '             10023' or Code eq '           O''BRIEN'&$select=ID,Code
  exact GET logistics/Items          lookup item         1  e.g. logistics/Items?$filter=Code eq 'TSH-WHT-M' or Code eq 'NOPE-1'&$select=ID,Code
  exact GET salesorder/SalesOrders   exists              1  e.g. salesorder/SalesOrders?$filter=YourRef eq 'PO1' or YourRef eq 'PO3' or YourRef eq 'PO4'&$select=OrderID,OrderN…
  exact POST salesorder/SalesOrders  deliver             2  e.g. salesorder/SalesOrders
  lnb POST /orders/status            write back          3  e.g. /orders/status
"#
    );
}

#[test]
fn plus_on_text_and_a_number_names_file_line_and_field() {
    let run = flowmap(&["dry-run", "tests/flows/plus.flow.yaml", "--input", "tests/inputs/orders.jsonl"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stderr,
        r#"warning: `+` adds numbers; it fails when text meets a number
 --> tests/flows/plus.flow.yaml:6:20
  |
6 |   reference: '"PO" + order.line.id'
  |                    ^ use `~` to join text

"#
    );
    assert_eq!(
        without_version(&run.stdout),
        r#"dry-run of plus (tests/flows/plus.flow.yaml, version <hash>)

✘ blocked  1
    - reference (tests/flows/plus.flow.yaml:6:3): tried to use + operator on unsupported types string and number; use `~` to join text (e.g. "PO" ~ order.id)
✘ unreadable tests/inputs/orders.jsonl:2:171: not JSON: key must be a string
✘ blocked  3
    - reference (tests/flows/plus.flow.yaml:6:3): tried to use + operator on unsupported types string and number; use `~` to join text (e.g. "PO" ~ order.id)
✔ ready    4  POST lnb /orders/status
    {
      "reference": "PO4",
      "status": "Closed"
    }

4 records: 1 ready, 2 blocked, 0 skipped, 1 unreadable

API calls a live run would make (2 in all):
  lnb GET /orders          fetch source      1  e.g. /orders
  lnb POST /orders/status  deliver           1  e.g. /orders/status
"#
    );
}

#[test]
fn an_input_that_is_not_json_names_the_file_and_position() {
    let run = flowmap(&["dry-run", "mappings/lnb-exact/orders.flow.yaml", "--input", "tests/inputs/not-json.json"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, format!("{WAREHOUSE_EDITION}error: tests/inputs/not-json.json:4:14: not JSON: trailing comma\n"));
}

/// The orders flow's only warning, shown before a dry-run: WarehouseID is edition-only (tests/catalogue.rs).
const WAREHOUSE_EDITION: &str = "warning: `WarehouseID` of Exact SalesOrder exists only in some editions: Wholesale & Distribution, \
Manufacturing
  --> mappings/lnb-exact/orders.flow.yaml:58:3
   |
58 |   WarehouseID: settings.warehouse.preorder if order.line.preorder else settings.warehouse.in_stock
   |   ^^^^^^^^^^^
   = help: other editions do not have the field; send it only to an administration of one of these

";

#[test]
fn default_fixtures_give_every_story_and_batched_calls() {
    let run = flowmap(&["dry-run", "mappings/lnb-exact/orders.flow.yaml", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).expect("JSON lines")).collect();
    let (summary, records) = lines.split_last().expect("a summary line");
    let statuses: Vec<(&str, &str)> = records.iter().map(|r| (r["key"].as_str().unwrap(), r["status"].as_str().unwrap())).collect();
    assert_eq!(
        statuses,
        [
            ("50001", "ready"),
            ("50002", "ready"),
            ("50003", "skipped"),
            ("50004", "blocked"),
            ("50005", "blocked"),
            ("50006", "ready"),
            ("50008", "ready")
        ]
    );
    assert_eq!(summary["summary"], serde_json::json!({"ready": 4, "blocked": 2, "skipped": 1, "ignored": 0, "unreadable": 0}));
    let calls: Vec<(String, u64)> = summary["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                format!(
                    "{} {} {} ({})",
                    c["system"].as_str().unwrap(),
                    c["method"].as_str().unwrap(),
                    c["path"].as_str().unwrap(),
                    c["purpose"].as_str().unwrap()
                ),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    // Look-ups are batched and cached: one request per entity for the whole run.
    assert_eq!(
        calls,
        [
            ("lnb GET /orders (fetch source)".to_string(), 1),
            ("exact GET crm/Accounts (lookup account)".to_string(), 1),
            ("exact GET logistics/Items (lookup item)".to_string(), 1),
            ("exact GET salesorder/SalesOrders (exists)".to_string(), 1),
            ("exact POST salesorder/SalesOrders (deliver)".to_string(), 4),
            ("lnb POST /orders/status (write back)".to_string(), 7),
        ]
    );
    // The quote in O'BRIEN is doubled in the OData filter, and the code is padded to 18 characters.
    let account_query = summary["calls"][1]["example"].as_str().unwrap();
    assert!(account_query.contains("Code eq '           O''BRIEN'"), "{account_query}");
    assert!(account_query.starts_with("crm/Accounts?$filter=Code eq '             10023' or "), "{account_query}");
}

fn summary_of(args: &[&str]) -> serde_json::Value {
    let run = flowmap(args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let last = run.stdout.lines().last().expect("a summary line");
    serde_json::from_str::<serde_json::Value>(last).expect("JSON")["summary"].clone()
}

#[test]
fn inputs_in_every_shape() {
    // A JSON array (a recorded LNB answer): the record outside the source query is ignored.
    let array = summary_of(&["dry-run", "mappings/lnb-exact/orders.flow.yaml", "--input", "fixtures/lnb/orders.json", "--format", "json"]);
    assert_eq!(array, serde_json::json!({"ready": 4, "blocked": 2, "skipped": 1, "ignored": 1, "unreadable": 0}));
    // A JSON lines file with a single line is one record, not a response to unwrap.
    let one = summary_of(&["dry-run", "mappings/lnb-exact/orders.flow.yaml", "--input", "tests/inputs/one-order.jsonl", "--format", "json"]);
    assert_eq!(one, serde_json::json!({"ready": 1, "blocked": 0, "skipped": 0, "ignored": 0, "unreadable": 0}));
}

/// Issue 9: amounts with more digits than a binary float holds leave exactly
/// as read or computed (a float would write 1234567890123456.8 and
/// 99999999999999.98), a money result too long for a float orders against a
/// plain number by value, and a date moved past year 9999 blocks the record.
#[test]
fn long_amounts_leave_digit_for_digit() {
    let run = flowmap(&["dry-run", "tests/flows/amounts.flow.yaml", "--input", "tests/inputs/amounts.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(
        without_version(&run.stdout),
        r#"dry-run of amounts (tests/flows/amounts.flow.yaml, version <hash>)

✔ ready    1  POST exact salesorder/SalesOrders
    {
      "OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe",
      "YourRef": "PO1",
      "DeliveryDate": "2024-04-04",
      "Description": "third of the total: 411522630041152.26",
      "SalesOrderLines": [
        {
          "Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1",
          "Quantity": 1,
          "UnitPrice": 1234567890123456.78,
          "NetPrice": 1111111101111111.1,
          "Discount": 0.0333333333333333333333333333
        }
      ]
    }
✔ ready    2  POST exact salesorder/SalesOrders
    {
      "OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe",
      "YourRef": "PO2",
      "DeliveryDate": "2024-04-04",
      "Description": "third of the total: 33333333333333.33",
      "SalesOrderLines": [
        {
          "Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1",
          "Quantity": 1,
          "UnitPrice": 99999999999999.99,
          "NetPrice": 99999999999999.99,
          "Discount": 0
        }
      ]
    }
✘ blocked  3
    - The lines add up to 2469135780246913.56, not -1234567890123456.78
    - The total -1234567890123456.78 is not positive
✘ blocked  4
    - DeliveryDate (tests/flows/amounts.flow.yaml:14:3): "9999-12-15" plus 30 days is out of range (dates run from year 1 to 9999)

4 records: 2 ready, 2 blocked, 0 skipped

API calls a live run would make (3 in all):
  lnb GET /test-orders               fetch source      1  e.g. /test-orders
  exact POST salesorder/SalesOrders  deliver           2  e.g. salesorder/SalesOrders
"#
    );
    // The machine format carries the same digits.
    let json = flowmap(&["dry-run", "tests/flows/amounts.flow.yaml", "--input", "tests/inputs/amounts.jsonl", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let first = json.stdout.lines().next().unwrap_or_default();
    assert!(first.contains(r#""UnitPrice":1234567890123456.78,"NetPrice":1111111101111111.1,"Discount":0.0333333333333333333333333333}"#), "{first}");
    let second = json.stdout.lines().nth(1).unwrap_or_default();
    assert!(second.contains(r#""UnitPrice":99999999999999.99,"NetPrice":99999999999999.99,"#), "{second}");
}
