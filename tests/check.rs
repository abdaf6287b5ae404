//! `flowmap check` on broken flow files: the exact text a user sees.

mod common;

use common::flowmap;
use pretty_assertions::assert_eq;

/// `flowmap check FILE` fails and prints exactly `expected`.
fn check_fails_with(file: &str, expected: &str) {
    let run = flowmap(&["check", file]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, expected);
}

#[test]
fn quoted_plus() {
    check_fails_with(
        "tests/broken/quoted-plus.flow.yaml",
        r#"error: invalid YAML: invalid trailing content after double-quoted scalar
 --> tests/broken/quoted-plus.flow.yaml:5:17
  |
5 |   YourRef: "PO" + order.line.id
  |                 ^ the value goes on after the quoted string
  = help: quote the whole expression and join text with `~`: YourRef: '"PO" ~ order.line.id'

checked 1 flow: 1 error, 0 warnings
"#,
    );
}

#[test]
fn unknown_keys() {
    check_fails_with(
        "tests/broken/unknown-keys.flow.yaml",
        r#"error: unknown key `wher` in `source`
 --> tests/broken/unknown-keys.flow.yaml:2:71
  |
2 | source: { system: lnb, get: /orders, as: order, key: order.reference, wher: order.status }
  |                                                                       ^^^^ did you mean `where`?

error: missing `match` in `lookups.account`
 --> tests/broken/unknown-keys.flow.yaml:4:3
  |
4 |   account: { system: exact, entity: crm/Accounts, mach: Code, key: order.retailer.reference }
  |   ^^^^^^^

error: unknown key `mach` in `lookups.account`
 --> tests/broken/unknown-keys.flow.yaml:4:51
  |
4 |   account: { system: exact, entity: crm/Accounts, mach: Code, key: order.retailer.reference }
  |                                                   ^^^^ did you mean `match`?

error: unknown key `methd` in `target`
 --> tests/broken/unknown-keys.flow.yaml:5:58
  |
5 | target: { system: exact, entity: salesorder/SalesOrders, methd: POST }
  |                                                          ^^^^^ did you mean `method`?

error: unknown key `exits`
 --> tests/broken/unknown-keys.flow.yaml:8:1
  |
8 | exits: { system: exact }
  | ^^^^^ did you mean `exists`?

checked 1 flow: 5 errors, 0 warnings
"#,
    );
}

#[test]
fn wrong_types() {
    check_fails_with(
        "tests/broken/wrong-types.flow.yaml",
        r#"error: `source.key` must be text, found a list
 --> tests/broken/wrong-types.flow.yaml:6:8
  |
6 |   key: [order.reference]
  |        ^^^^^^^^^^^^^^^^

error: `lookups.item.batch` must be a whole number, found text
 --> tests/broken/wrong-types.flow.yaml:8:86
  |
8 |   item: { system: exact, entity: logistics/Items, match: Code, key: line.sku, batch: many }
  |                                                                                      ^^^^

error: `exists.then` must be one of `skip`, `update`
 --> tests/broken/wrong-types.flow.yaml:9:98
  |
9 | exists: { system: exact, entity: salesorder/SalesOrders, match: YourRef, key: out.YourRef, then: skipp }
  |                                                                                                  ^^^^^ did you mean `skip`?

checked 1 flow: 3 errors, 0 warnings
"#,
    );
}

#[test]
fn bad_expressions() {
    check_fails_with(
        "tests/broken/bad-expressions.flow.yaml",
        r#"error: unknown filter `exact_cod`
 --> tests/broken/bad-expressions.flow.yaml:6:96
  |
6 |   account: { system: exact, entity: crm/Accounts, match: Code, key: order.retailer.reference | exact_cod, select: ID }
  |                                                                                                ^^^^^^^^^ did you mean `exact_code`?

error: unknown lookup `acount`
 --> tests/broken/bad-expressions.flow.yaml:9:21
  |
9 |   OrderedBy: lookup.acount
  |                     ^^^^^^ did you mean `account`?

warning: `WarehouseID` of Exact SalesOrder exists only in some editions: Wholesale & Distribution, Manufacturing
  --> tests/broken/bad-expressions.flow.yaml:10:3
   |
10 |   WarehouseID: settings.warehous.in_stock
   |   ^^^^^^^^^^^
   = help: other editions do not have the field; send it only to an administration of one of these

error: unknown setting `warehous`
  --> tests/broken/bad-expressions.flow.yaml:10:25
   |
10 |   WarehouseID: settings.warehous.in_stock
   |                         ^^^^^^^^ did you mean `warehouse`?

error: unknown name `ordr`
  --> tests/broken/bad-expressions.flow.yaml:11:20
   |
11 |   YourRef: '"PO" ~ ordr.line.id'
   |                    ^^^^ did you mean `order`?

error: expression does not compile: unexpected end of input, expected expression
  --> tests/broken/bad-expressions.flow.yaml:12:25
   |
12 |   Description: order.id +
   |                         ^

checked 1 flow: 5 errors, 1 warning
"#,
    );
}

#[test]
fn unknown_references() {
    check_fails_with(
        "tests/broken/unknown-references.flow.yaml",
        r#"error: unknown system `lnbb`
 --> tests/broken/unknown-references.flow.yaml:2:19
  |
2 | source: { system: lnbb, get: /orders, as: order, key: order.reference }
  |                   ^^^^ did you mean `lnb`?

error: unknown entity `logistics/Item` in Exact Online
 --> tests/broken/unknown-references.flow.yaml:4:34
  |
4 |   item: { system: exact, entity: logistics/Item, match: Code, key: order.id }
  |                                  ^^^^^^^^^^^^^^ did you mean `logistics/Items`?

error: unknown field `YourRf` for Exact SalesOrder
 --> tests/broken/unknown-references.flow.yaml:9:3
  |
9 |   YourRf: order.reference
  |   ^^^^^^ did you mean `YourRef`?
  = help: the fields of Exact SalesOrder are listed in schemas/catalogue/exact.yaml

error: unknown field `Quantty` for `SalesOrderLines` of Exact SalesOrder
  --> tests/broken/unknown-references.flow.yaml:10:76
   |
10 |   SalesOrderLines: { each: order.lines, as: line, fields: { Item: line.id, Quantty: line.quantity } }
   |                                                                            ^^^^^^^ did you mean `Quantity`?
   = help: the fields of `SalesOrderLines` of Exact SalesOrder are listed in schemas/catalogue/exact.yaml

error: unknown field `YourReff` for Exact SalesOrder
 --> tests/broken/unknown-references.flow.yaml:5:65
  |
5 | exists: { system: exact, entity: salesorder/SalesOrders, match: YourReff, key: out.YourRef }
  |                                                                 ^^^^^^^^ did you mean `YourRef`?
  = help: the fields of Exact SalesOrder are listed in schemas/catalogue/exact.yaml

checked 1 flow: 5 errors, 0 warnings
"#,
    );
}

#[test]
fn extends_missing() {
    check_fails_with(
        "tests/broken/extends-missing.flow.yaml",
        r#"error: the extended flow `../../mappings/lnb-exact/order.flow.yaml` does not exist
 --> tests/broken/extends-missing.flow.yaml:1:10
  |
1 | extends: ../../mappings/lnb-exact/order.flow.yaml
  |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ no such file

checked 1 flow: 1 error, 0 warnings
"#,
    );
}

#[test]
fn extends_cycle() {
    check_fails_with(
        "tests/broken/cycle-a.flow.yaml",
        r#"error: `extends` forms a cycle: tests/broken/cycle-a.flow.yaml → tests/broken/cycle-b.flow.yaml → tests/broken/cycle-a.flow.yaml
 --> tests/broken/cycle-b.flow.yaml:1:10
  |
1 | extends: cycle-a.flow.yaml
  |          ^^^^^^^^^^^^^^^^^

checked 1 flow: 1 error, 0 warnings
"#,
    );
}

#[test]
fn bad_override_points_at_the_overriding_file() {
    check_fails_with(
        "tests/broken/bad-override.flow.yaml",
        r#"error: nothing to remove at `mapping.Curency` in the extended flow
 --> tests/broken/bad-override.flow.yaml:4:10
  |
4 | remove: [mapping.Curency]
  |          ^^^^^^^^^^^^^^^ did you mean `Currency`?

warning: `WarehouseID` of Exact SalesOrder exists only in some editions: Wholesale & Distribution, Manufacturing
  --> mappings/lnb-exact/orders.flow.yaml:58:3
   |
58 |   WarehouseID: settings.warehouse.preorder if order.line.preorder else settings.warehouse.in_stock
   |   ^^^^^^^^^^^
   = help: other editions do not have the field; send it only to an administration of one of these

warning: `+` adds numbers; it fails when text meets a number
 --> tests/broken/bad-override.flow.yaml:6:18
  |
6 |   YourRef: '"PO" + order.line.id'
  |                  ^ use `~` to join text

error: unknown field `Descripton` for Exact SalesOrder
 --> tests/broken/bad-override.flow.yaml:7:3
  |
7 |   Descripton: order.reference
  |   ^^^^^^^^^^ did you mean `Description`?
  = help: the fields of Exact SalesOrder are listed in schemas/catalogue/exact.yaml

checked 1 flow: 2 errors, 2 warnings
"#,
    );
}

#[test]
fn selected_and_shown_fields_are_checked() {
    check_fails_with(
        "tests/broken/select-fields.flow.yaml",
        r#"error: unknown field `IDD` for Exact Account
 --> tests/broken/select-fields.flow.yaml:5:23
  |
5 |   account: { select: [IDD, Name] }
  |                       ^^^ did you mean `ID`?
  = help: the fields of Exact Account are listed in schemas/catalogue/exact.yaml

warning: `WarehouseID` of Exact SalesOrder exists only in some editions: Wholesale & Distribution, Manufacturing
  --> mappings/lnb-exact/orders.flow.yaml:58:3
   |
58 |   WarehouseID: settings.warehouse.preorder if order.line.preorder else settings.warehouse.in_stock
   |   ^^^^^^^^^^^
   = help: other editions do not have the field; send it only to an administration of one of these

error: unknown field `OrderNumbr` for Exact SalesOrder
 --> tests/broken/select-fields.flow.yaml:6:27
  |
6 | exists: { show: [OrderID, OrderNumbr] }
  |                           ^^^^^^^^^^ did you mean `OrderNumber`?
  = help: the fields of Exact SalesOrder are listed in schemas/catalogue/exact.yaml

checked 1 flow: 2 errors, 1 warning
"#,
    );
}

#[test]
fn bad_triggers() {
    check_fails_with(
        "tests/broken/bad-triggers.flow.yaml",
        r#"warning: `WarehouseID` of Exact SalesOrder exists only in some editions: Wholesale & Distribution, Manufacturing
  --> mappings/lnb-exact/orders.flow.yaml:58:3
   |
58 |   WarehouseID: settings.warehouse.preorder if order.line.preorder else settings.warehouse.in_stock
   |   ^^^^^^^^^^^
   = help: other editions do not have the field; send it only to an administration of one of these

error: `*/15 7-19 * * Mon-Fry` is not a cron pattern: Pattern contains illegal characters: CronPattern contains illegal character 'F' in part '1-FRY'
 --> tests/broken/bad-triggers.flow.yaml:5:9
  |
5 |   cron: "*/15 7-19 * * Mon-Fry"
  |         ^^^^^^^^^^^^^^^^^^^^^^^
  = help: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, e.g. `*/15 7-19 * * 1-5`

error: unknown time zone `Europe/Amsterdm`
 --> tests/broken/bad-triggers.flow.yaml:6:13
  |
6 |   timezone: Europe/Amsterdm
  |             ^^^^^^^^^^^^^^^
  = help: did you mean `Europe/Amsterdam`?

error: the webhook comes from `exact` but the flow reads `lnb`
 --> tests/broken/bad-triggers.flow.yaml:7:20
  |
7 | webhook: { system: exact, topic: SalesOrders }
  |                    ^^^^^
  = help: an event names a record of the flow's source by its key

checked 1 flow: 3 errors, 1 warning
"#,
    );
}

/// Flows that take the same source records and create them in the same target,
/// matched on the same field, are named together: a warning, not an error.
#[test]
fn flows_that_can_deliver_the_same_records_to_one_target_are_named() {
    let run = flowmap(&[
        "check",
        "mappings/exact-send-modes/order.flow.yaml",
        "mappings/lnb-exact/orders.flow.yaml",
        "mappings/lnb-exact/invoices.flow.yaml",
    ]);
    assert_eq!(run.code, 0);
    // Before it, the two order flows' warnings that WarehouseID is edition-only (tests/catalogue.rs).
    let shared = run.stdout.find("warning: 2 flows").map(|at| &run.stdout[at..]);
    // Both order flows write it on the same line of the same file: it is shown once.
    assert_eq!(run.stdout.matches("exists only in some editions").count(), 1, "{}", run.stdout);
    assert_eq!(
        shared,
        Some(
            "warning: 2 flows can deliver the same records to one target: each takes lnb /orders and creates exact salesorder/SalesOrders \
matched on YourRef
 = help: flow `lnb-order-to-exact-as-order` in mappings/exact-send-modes/order.flow.yaml
 = help: flow `lnb-orders-to-exact` in mappings/lnb-exact/orders.flow.yaml
 = help: a record with the same YourRef is sent once, whichever flow runs first (it is reserved in the state file); a record \
the flows give different YourRefs is sent by each, and engines on separate state files do not see each other
 = help: run one of these flows per deployment, or give them sources that do not overlap

checked 3 flows: 0 errors, 2 warnings
"
        )
    );
}

#[test]
fn a_key_shape_the_source_system_does_not_declare() {
    check_fails_with(
        "tests/broken/bad-key-shape.flow.yaml",
        r#"error: system `exact` declares no key shape `gud`
 --> tests/broken/bad-key-shape.flow.yaml:4:22
  |
4 | source: { key_shape: gud }
  |                      ^^^
  = help: did you mean `guid`?

checked 1 flow: 1 error, 0 warnings
"#,
    );
}

/// A customer folder copied without renaming its flow: `check` fails at the
/// second file's name, naming the first, and `serve` refuses the set by the
/// same rule (the same diagnostic), so a green `check` means the deploy starts.
#[test]
fn two_flows_with_one_name_fail_check_as_they_fail_serve() {
    let dir = tempfile::tempdir().unwrap();
    let root = common::serve::project_copy(dir.path());
    let beta = root.join("mappings/customers/beta");
    std::fs::create_dir_all(&beta).unwrap();
    std::fs::write(beta.join("orders.flow.yaml"), "extends: ../../lnb-exact/orders.flow.yaml\nflow: beta-orders\n").unwrap();
    std::fs::write(beta.join("other.flow.yaml"), "# copied from orders.flow.yaml\nextends: ../../lnb-exact/orders.flow.yaml\nflow: beta-orders\n")
        .unwrap();
    let expected = "error: two flows are named `beta-orders`
 --> mappings/customers/beta/other.flow.yaml:3:7
  |
3 | flow: beta-orders
  |       ^^^^^^^^^^^ also the name of the flow in mappings/customers/beta/orders.flow.yaml
  = help: a flow's name identifies it in the journal, in schedules and in the API: give each flow its own
";
    let run = common::flowmap_in(&root, &["check"]);
    assert_eq!(run.code, 1);
    // After the files' own warnings (edition-only fields), before the set's other warnings.
    assert!(run.stdout.contains(&format!("\n\n{expected}\n")), "{}", run.stdout);
    assert!(run.stdout.ends_with("checked 22 flows: 1 error, 5 warnings\n"), "{}", run.stdout);

    let out = common::serve::serve_to_the_end(dir.path(), &root);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("{expected}\nerror: the flows do not load; nothing was started\n"));
}

/// Every path rooted at the source record is checked against its system's
/// catalogue entity (nested objects, list entries, `each` aliases in look-ups,
/// mappings and rules), every path into `settings` against the settings'
/// values (in expressions and messages), paths into look-ups against their
/// `select`; `optional: true` does not suppress the check.
#[test]
fn paths_into_the_record_the_settings_and_look_ups_are_checked_when_the_flow_loads() {
    check_fails_with(
        "tests/broken/source-paths.flow.yaml",
        r#"error: `order` has no field `created_onn`
 --> tests/broken/source-paths.flow.yaml:4:84
  |
4 | source: { system: lnb, get: /orders, as: order, key: order.reference, where: order.created_onn is defined }
  |                                                                                    ^^^^^^^^^^^ did you mean `created_on`?
  = help: the fields of LNB order are listed in schemas/catalogue/lnb.yaml (entity `orders`)

error: `order.retailer` has no field `referense`
 --> tests/broken/source-paths.flow.yaml:9:84
  |
9 |   account: { system: exact, entity: crm/Accounts, match: Code, key: order.retailer.referense, select: ID }
  |                                                                                    ^^^^^^^^^ did you mean `reference`?
  = help: the fields of LNB order are listed in schemas/catalogue/lnb.yaml (entity `orders`)

error: `line` has no field `skuu`
  --> tests/broken/source-paths.flow.yaml:10:103
   |
10 | …{ system: exact, entity: logistics/Items, match: Code, each: order.lines, as: line, key: line.skuu, select: [ID, Code] }
   |                                                                                                ^^^^ did you mean `sku`?
   = help: the fields of LNB order are listed in schemas/catalogue/lnb.yaml (entity `orders`)

error: `lookup.account` has no field `ID`
  --> tests/broken/source-paths.flow.yaml:13:29
   |
13 |   OrderedBy: lookup.account.ID
   |                             ^^
   = help: `lookup.account` is the `ID` look-up `account` selects, not a record (select a list of fields to read several)

warning: `WarehouseID` of Exact SalesOrder exists only in some editions: Wholesale & Distribution, Manufacturing
  --> tests/broken/source-paths.flow.yaml:14:3
   |
14 |   WarehouseID: settings.warehouse.preorder if order.line.preorder else settings.warehouse.instock
   |   ^^^^^^^^^^^
   = help: other editions do not have the field; send it only to an administration of one of these

error: unknown setting `warehouse.instock`
  --> tests/broken/source-paths.flow.yaml:14:91
   |
14 |   WarehouseID: settings.warehouse.preorder if order.line.preorder else settings.warehouse.instock
   |                                                                                           ^^^^^^^ did you mean `in_stock`?

error: `order` has no field `purchase_order_referense`
  --> tests/broken/source-paths.flow.yaml:16:31
   |
16 |   Description: { value: order.purchase_order_referense, optional: true }
   |                               ^^^^^^^^^^^^^^^^^^^^^^^^ did you mean `purchase_order_reference`?
   = help: the fields of LNB order are listed in schemas/catalogue/lnb.yaml (entity `orders`)

error: `lookup.item[line.sku].Description` is not selected
  --> tests/broken/source-paths.flow.yaml:23:42
   |
23 |       Description: lookup.item[line.sku].Description
   |                                          ^^^^^^^^^^^
   = help: look-up `item` selects only ID, Code: add it to its `select`

error: `line` has no field `unit_pric`
  --> tests/broken/source-paths.flow.yaml:25:23
   |
25 |       UnitPrice: line.unit_pric
   |                       ^^^^^^^^^ did you mean `unit_price`?
   = help: the fields of LNB order are listed in schemas/catalogue/lnb.yaml (entity `orders`)

error: `line` has no field `skuu`
  --> tests/broken/source-paths.flow.yaml:31:28
   |
31 |     message: "Line {{ line.skuu }} has quantity {{ line.quantity }}"
   |                            ^^^^ did you mean `sku`?
   = help: the fields of LNB order are listed in schemas/catalogue/lnb.yaml (entity `orders`)

error: unknown setting `warehouse.in_stok`
  --> tests/broken/source-paths.flow.yaml:34:46
   |
34 |     message: Configure {{ settings.warehouse.in_stok }}
   |                                              ^^^^^^^ did you mean `in_stock`?

checked 1 flow: 10 errors, 1 warning
"#,
    );
}

/// An OData `$select` in the source query: the system answers only those fields.
#[test]
fn a_source_select_narrows_the_fields_a_path_may_read() {
    check_fails_with(
        "tests/broken/source-select.flow.yaml",
        r#"error: `order` has no field `YourReff`
  --> tests/broken/source-select.flow.yaml:12:20
   |
12 |   reference: order.YourReff
   |                    ^^^^^^^^ did you mean `YourRef`?
   = help: the fields of Exact SalesOrder are listed in schemas/catalogue/exact.yaml (entity `salesorder/SalesOrders`)

error: `order.Description` is not selected
  --> tests/broken/source-select.flow.yaml:14:17
   |
14 |   reason: order.Description
   |                 ^^^^^^^^^^^
   = help: Exact Online answers only the fields the source query's `$select` names (OrderID, YourRef, Status): add it there

checked 1 flow: 2 errors, 0 warnings
"#,
    );
}

/// `source.entity` names the catalogue entity when `get` does not.
#[test]
fn source_entity_names_the_catalogue_entity_when_get_does_not() {
    check_fails_with(
        "tests/broken/source-entity.flow.yaml",
        r#"error: `order` has no field `statuss`
 --> tests/broken/source-entity.flow.yaml:7:17
  |
7 |   status: order.statuss
  |                 ^^^^^^^ did you mean `status`?
  = help: the fields of LNB order are listed in schemas/catalogue/lnb.yaml (entity `orders`)

checked 1 flow: 1 error, 0 warnings
"#,
    );
}

/// A file system (sftp, folder) gives records in files and takes them as files:
/// what only an API answers (`get_one`, `query`, a look-up, a target's `method`,
/// a write-back) is refused when the flow loads, at the key.
#[test]
fn what_only_an_api_answers_is_refused_for_file_systems_when_the_flow_loads() {
    check_fails_with(
        "tests/broken/file-transport.flow.yaml",
        r#"error: `get_one` asks an http API; `truecommerce` is an sftp system, whose records come in files
 --> tests/broken/file-transport.flow.yaml:8:3
  |
8 |   get_one: /acks/{key}
  |   ^^^^^^^

error: `query` asks an http API; `truecommerce` is an sftp system, whose records come in files
 --> tests/broken/file-transport.flow.yaml:9:3
  |
9 |   query: { status: open }
  |   ^^^^^

error: `method` is an http request's; `exports` is a folder system: name each record's file with `file`
  --> tests/broken/file-transport.flow.yaml:14:54
   |
14 | target: { system: exports, entity: acknowledgements, method: POST }
   |                                                      ^^^^^^

error: `exports` is a folder system: it answers no look-ups (its records come in files)
  --> tests/broken/file-transport.flow.yaml:13:9
   |
13 |   po: { system: exports, entity: purchase_orders, match: number, key: ack.BAK.BAK03 }
   |         ^^^^^^

error: `truecommerce` is an sftp system: a write-back is an http request
  --> tests/broken/file-transport.flow.yaml:18:11
   |
18 |   sent: { system: truecommerce, method: POST, path: /done, body: {} }
   |           ^^^^^^

checked 1 flow: 5 errors, 0 warnings
"#,
    );
}

/// A constant written to a field whose catalogue lists its values (Xero's enums) must be one of them,
/// however it is written: `{ const: … }`, a setting (the error points at the setting), `{ value: … }`.
/// A value read from the record (`CurrencyCode: invoice.currency`) is known only at run time and passes.
#[test]
fn a_constant_that_is_not_one_of_the_fields_values() {
    check_fails_with(
        "tests/broken/bad-values.flow.yaml",
        r#"error: `ACREC` is not a value of `Type` for Xero Invoice
 --> tests/broken/bad-values.flow.yaml:9:18
  |
9 |   Type: { const: ACREC }
  |                  ^^^^^ did you mean `ACCREC`?
  = help: `Type` takes one of: ACCPAY, ACCPAYCREDIT, APOVERPAYMENT, APPREPAYMENT, ACCREC, ACCRECCREDIT, AROVERPAYMENT, ARPREPAYMENT

error: `AUTHORIZED` is not a value of `Status` for Xero Invoice
 --> tests/broken/bad-values.flow.yaml:6:11
  |
6 |   status: AUTHORIZED
  |           ^^^^^^^^^^ did you mean `AUTHORISED`?
  = help: the mapping writes `settings.status` to `Status` at tests/broken/bad-values.flow.yaml:13:11
  = help: `Status` takes one of: DRAFT, SUBMITTED, DELETED, AUTHORISED, PAID, VOIDED

error: `exclusive` is not a value of `LineAmountTypes` for Xero Invoice
  --> tests/broken/bad-values.flow.yaml:14:29
   |
14 |   LineAmountTypes: { value: '"exclusive"' }
   |                             ^^^^^^^^^^^^^^ did you mean `Exclusive`?
   = help: `LineAmountTypes` takes one of: Exclusive, Inclusive, NoTax

checked 1 flow: 3 errors, 0 warnings
"#,
    );
}

/// Nested fields are checked too, and a quoted literal or a bare number; a value with no near one gets
/// no guess, and a list too long to print is named by where it is listed.
#[test]
fn a_constant_that_is_not_one_of_a_nested_or_long_list_of_values() {
    check_fails_with(
        "tests/broken/bad-nested-values.flow.yaml",
        r#"error: `1` is not a value of `ContactStatus` for Xero Contact
 --> tests/broken/bad-nested-values.flow.yaml:8:18
  |
8 |   ContactStatus: 1
  |                  ^
  = help: `ContactStatus` takes one of: ACTIVE, ARCHIVED, GDPRREQUEST

error: `eur` is not a value of `DefaultCurrency` for Xero Contact
 --> tests/broken/bad-nested-values.flow.yaml:9:29
  |
9 |   DefaultCurrency: { const: eur }
  |                             ^^^ did you mean `EUR`?
  = help: `DefaultCurrency` takes one of 168 values, listed in schemas/catalogue/xero.yaml

error: `HOME` is not a value of `AddressType` for `Addresses` of Xero Contact
  --> tests/broken/bad-nested-values.flow.yaml:14:29
   |
14 |       AddressType: { const: HOME }
   |                             ^^^^
   = help: `AddressType` takes one of: POBOX, STREET

error: `MOBIEL` is not a value of `PhoneType` for `Phones` of Xero Contact
  --> tests/broken/bad-nested-values.flow.yaml:20:18
   |
20 |       PhoneType: '"MOBIEL"'
   |                  ^^^^^^^^^^ did you mean `MOBILE`?
   = help: `PhoneType` takes one of: DEFAULT, DDI, MOBILE, FAX, OFFICE

checked 1 flow: 4 errors, 0 warnings
"#,
    );
}
