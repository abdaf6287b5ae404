//! The Exact catalogue (`schemas/catalogue/exact.yaml`): every field of the entities the shipped flows
//! touch, what `flowmap check` says of read-only, edition-only and unknown fields, and the sandbox's
//! Exact reading the same catalogue (full-field POSTs taken, read-only fields skipped, unfiltered
//! lists of accounts and items refused as Exact refuses them).

mod common;

use std::sync::Arc;

use common::live::*;
use common::{flowmap, repo_root};
use flowmap::http::{CallError, Registry};
use flowmap::model::{EntityDef, FieldDef, FieldType};
use pretty_assertions::assert_eq;
use serde_json::{Map, Value, json};

#[test]
fn a_real_field_the_catalogue_once_lacked_maps_fine() {
    let run = flowmap(&["check", "tests/catalogue/remarks.flow.yaml"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "checked 1 flow: no problems\n"), "{}", run.stderr);
}

#[test]
fn a_read_only_field_is_a_check_error() {
    let run = flowmap(&["check", "tests/catalogue/read-only.flow.yaml"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, READ_ONLY);
}

const READ_ONLY: &str = r#"error: `InvoiceDate` is read-only for Exact SalesInvoice: it is returned, never sent
 --> tests/catalogue/read-only.flow.yaml:8:3
  |
8 |   InvoiceDate: invoice.created_on
  |   ^^^^^^^^^^^
  = help: the system keeps its own value and skips this one without an error: remove the field from the mapping

error: `ItemDescription` is read-only for `SalesInvoiceLines` of Exact SalesInvoice: it is returned, never sent
  --> tests/catalogue/read-only.flow.yaml:14:7
   |
14 |       ItemDescription: line.sku
   |       ^^^^^^^^^^^^^^^
   = help: the system keeps its own value and skips this one without an error: remove the field from the mapping

checked 1 flow: 2 errors, 0 warnings
"#;

#[test]
fn an_edition_only_field_is_a_warning_where_it_is_written() {
    let run = flowmap(&["check", "tests/catalogue/edition.flow.yaml"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, EDITION);
}

const EDITION: &str = r#"warning: `WarehouseID` of Exact SalesOrder exists only in some editions: Wholesale & Distribution, Manufacturing
 --> tests/catalogue/edition.flow.yaml:7:3
  |
7 |   WarehouseID: '"28062cd0-893f-4bd7-9f73-e4a0f372a5b4"'
  |   ^^^^^^^^^^^
  = help: other editions do not have the field; send it only to an administration of one of these

checked 1 flow: 0 errors, 1 warning
"#;

#[test]
fn an_unknown_field_says_where_the_catalogue_lives() {
    let run = flowmap(&["check", "tests/catalogue/unknown.flow.yaml"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, UNKNOWN);
}

const UNKNOWN: &str = r#"error: unknown field `Identifier` for Exact Account
 --> tests/catalogue/unknown.flow.yaml:5:103
  |
5 |   account: { system: exact, entity: crm/Accounts, match: Code, key: order.retailer.reference, select: Identifier }
  |                                                                                                       ^^^^^^^^^^
  = help: the fields of Exact Account are listed in schemas/catalogue/exact.yaml

error: unknown field `Remark` for Exact SalesOrder
 --> tests/catalogue/unknown.flow.yaml:9:3
  |
9 |   Remark: '"Deliver before noon"'
  |   ^^^^^^ did you mean `Remarks`?
  = help: the fields of Exact SalesOrder are listed in schemas/catalogue/exact.yaml

checked 1 flow: 2 errors, 0 warnings
"#;

/// Exact's answer to a list of accounts without `$filter` (picqer/exact-php-client #591).
const ACCOUNTS_NEED_A_FILTER: &str = "This endpoint has mandatory filtering applied. A GET request for this endpoint must have a $filter \
     parameter with one of the following fields in the url:Accountant,AccountManager,AddressLine1,AddressLine2,AddressLine3,Blocked,BRIN,\
     BSN,ChamberOfCommerce,City,Classification1,Classification2,Classification3,Classification4,Classification5,Classification6,\
     Classification7,Classification8,Classification,Code,CodeAtSupplier,Country,Created,Email,EndDate,Fax,ID,InvoiceAccount,IsAccountant,\
     IsReseller,IsSales,IsSupplier,MainContact,Modified,Name,Parent,Phone,Postcode,PriceList,Reseller,RSIN,SearchCode,StartDate,Status,\
     Type,VATNumber.";

/// The sandbox with the shipped fixtures, connected, and the engine's own connection to its Exact.
fn exact() -> (World, flowmap::project::Project, Arc<Registry>, tokio::runtime::Runtime) {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    let project = flowmap::project::Project::load(&repo_root()).unwrap_or_else(|_| panic!("the project loads"));
    let state = Arc::new(flowmap_state::State::open(&world.state).unwrap());
    let vault = Arc::new(flowmap_state::Vault::load_from(None, &world.path("key"), false).unwrap());
    let registry = Registry::load(&project, &world.connections, state, Ok(vault)).unwrap_or_else(|_| panic!("connections load"));
    (world, project, Arc::new(registry), tokio::runtime::Runtime::new().unwrap())
}

fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn exact_refuses_unfiltered_lists_of_accounts_and_items_on_the_regular_endpoint() {
    let (_world, _project, registry, rt) = exact();
    rt.block_on(async {
        let conn = registry.connection("exact").await.unwrap();
        let unfiltered = conn.get(&conn.url("crm/Accounts"), &query(&[("$select", "ID")])).await;
        match unfiltered {
            Err(CallError::Refused { status: 400, message }) => assert_eq!(message, ACCOUNTS_NEED_A_FILTER),
            other => panic!("an unfiltered list of accounts must be refused: {:?}", other.map(|a| a.status)),
        }
        let items = conn.get(&conn.url("logistics/Items"), &query(&[("$select", "ID"), ("$top", "1")])).await;
        match items {
            Err(CallError::Refused { status: 400, message }) => {
                assert!(message.starts_with("This endpoint has mandatory filtering applied."), "{message}")
            }
            other => panic!("an unfiltered list of items must be refused: {:?}", other.map(|a| a.status)),
        }
        // A look-up filters; a listing uses the bulk endpoint: both are answered.
        let filtered = conn.get(&conn.url("crm/Accounts"), &query(&[("$filter", "Code eq '             10023'"), ("$select", "ID")])).await;
        assert_eq!(filtered.map(|a| a.body["d"]["results"].as_array().map(Vec::len)).ok(), Some(Some(1)));
        let bulk = conn.get(&conn.url("bulk/Logistics/Items"), &query(&[("$select", "ID,Code")])).await;
        assert_eq!(bulk.map(|a| a.status).ok(), Some(200));
    });
}

/// A value of the field's type; references point at records the fixtures have (fixtures/README.md).
fn value_for(name: &str, def: &FieldDef) -> Option<Value> {
    Some(match (name, def.kind) {
        ("OrderedBy" | "DeliverTo" | "InvoiceTo", _) => json!("5df0d39f-7524-4add-9413-788062e10fbe"),
        ("WarehouseID" | "Warehouse", _) => json!("28062cd0-893f-4bd7-9f73-e4a0f372a5b4"),
        ("Item", _) => json!("e53fcc59-2b78-47a3-80c9-0f2554cf1bd1"),
        // Supplier A, the purchase journal, purchase cost account 7000, cost centre 100.
        ("Supplier", _) => json!("0f8f95ef-d1d4-4ea3-aa5e-39268248f803"),
        ("Journal", _) => json!("60"),
        ("GLAccount", _) => json!("797d76de-44dc-4a85-a1dd-598baa99e079"),
        ("CostCenter", _) => json!("100"),
        ("Currency", _) => json!("EUR"),
        ("VATCode", _) => json!("2  "),
        (_, FieldType::Guid) => json!("1c8e7b4e-55aa-4c2f-9f0e-3b7c1d2e4f60"),
        (_, FieldType::String) => json!(format!("{name} text").chars().take(def.max_length.unwrap_or(30) as usize).collect::<String>()),
        (_, FieldType::Number) => json!(2.5),
        (_, FieldType::Integer) => json!(3),
        (_, FieldType::Boolean) => json!(true),
        (_, FieldType::Date) => json!("2025-03-04"),
        (_, FieldType::Datetime) => json!("2025-03-04T10:15:00Z"),
        (_, FieldType::Object | FieldType::List) => return None,
    })
}

/// Every field a mapping may write, with a value; the lines as one line of every such field.
fn full_body(entity: &EntityDef) -> Map<String, Value> {
    let mut body = Map::new();
    for (name, def) in entity.fields.iter().filter(|(_, d)| !d.read_only) {
        match (&def.fields, def.kind) {
            (Some(line_fields), FieldType::List) => {
                let line: Map<String, Value> =
                    line_fields.iter().filter(|(_, d)| !d.read_only).filter_map(|(n, d)| Some((n.clone(), value_for(n, d)?))).collect();
                body.insert(name.clone(), json!([line]));
            }
            _ => {
                if let Some(value) = value_for(name, def) {
                    body.insert(name.clone(), value);
                }
            }
        }
    }
    body
}

#[test]
fn exact_takes_every_writable_field_and_skips_read_only_ones_as_exact_does() {
    let (world, project, registry, rt) = exact();
    let orders = project.systems["exact"].entity("salesorder/SalesOrders").unwrap();
    let mut body = full_body(orders);
    assert!(body.len() >= 30, "{} writable fields", body.len());
    assert_eq!(body["Remarks"], "Remarks text");
    // Read-only: Exact keeps its own value and says nothing.
    body.insert("Status".into(), json!(45));
    body.insert("AmountFC".into(), json!(1_000_000));
    rt.block_on(async {
        let conn = registry.connection("exact").await.unwrap();
        let created = conn.call("POST", &conn.url("salesorder/SalesOrders"), &[], Some(&Value::Object(body.clone()))).await;
        let created = created.unwrap_or_else(|e| panic!("a POST of every writable field is taken: {}", e.message()));
        assert_eq!(created.status, 201);
        let order = &created.body["d"];
        assert_eq!((order["Remarks"].as_str(), order["Status"].as_i64()), (Some("Remarks text"), Some(12)));
        assert!(order.get("AmountFC").is_none_or(|a| a != 1_000_000), "{order}");

        let unknown = json!({"OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe", "Colour": "red",
            "SalesOrderLines": [{"Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1"}]});
        match conn.call("POST", &conn.url("salesorder/SalesOrders"), &[], Some(&unknown)).await {
            Err(CallError::Refused { status: 400, message }) => assert_eq!(
                message,
                "Error processing request stream. The property name 'Colour' specified for type 'Exact.Web.Api.Models.SalesOrder' is not valid."
            ),
            other => panic!("an unknown property is refused: {:?}", other.map(|a| a.status)),
        }
    });
    let stored = world.sandbox.exact_records("salesorder/SalesOrders");
    assert!(stored.iter().any(|o| o["Remarks"] == "Remarks text" && o["Status"] == 12), "the order is stored with Exact's own status");
}

#[test]
fn a_purchase_entry_with_lines_takes_every_writable_field_and_skips_read_only_ones() {
    let (world, project, registry, rt) = exact();
    let entries = project.systems["exact"].entity("purchaseentry/PurchaseEntries").unwrap();
    let mut body = full_body(entries);
    assert_eq!(body.len(), 23, "writable header fields, the lines among them");
    assert_eq!(body["PurchaseEntryLines"][0].as_object().map(Map::len), Some(31), "writable line fields");
    // Read-only on the header and on a line: Exact keeps its own value and says nothing.
    body.insert("Status".into(), json!(50));
    body["PurchaseEntryLines"][0]["VATAmountDC"] = json!(1_000_000);
    rt.block_on(async {
        let conn = registry.connection("exact").await.unwrap();
        let created = conn.call("POST", &conn.url("purchaseentry/PurchaseEntries"), &[], Some(&Value::Object(body.clone()))).await;
        let created = created.unwrap_or_else(|e| panic!("a POST of every writable field is taken: {}", e.message()));
        assert_eq!(created.status, 201);
        let entry = &created.body["d"];
        assert_eq!(entry["YourRef"], "YourRef text");
        assert!(entry.get("Status").is_none_or(|s| s != 50), "{entry}");
        // A POST answers the lines as a link; a GET with `$expand` shows them.
        assert!(entry["PurchaseEntryLines"]["__deferred"]["uri"].is_string(), "{entry}");
        let expand = query(&[("$filter", "YourRef eq 'YourRef text'"), ("$select", "PurchaseEntryLines"), ("$expand", "PurchaseEntryLines")]);
        let read = conn.get(&conn.url("purchaseentry/PurchaseEntries"), &expand).await.unwrap_or_else(|e| panic!("{}", e.message()));
        let line = &read.body["d"]["results"][0]["PurchaseEntryLines"]["results"][0];
        assert_eq!((line["GLAccount"].as_str(), line["GLAccountCode"].as_str()), (Some("797d76de-44dc-4a85-a1dd-598baa99e079"), Some("7000")));
        assert!(line.get("VATAmountDC").is_none_or(|a| a != 1_000_000), "{line}");
    });
    let stored = world.sandbox.exact_records("purchaseentry/PurchaseEntries");
    assert!(stored.iter().any(|e| e["YourRef"] == "YourRef text" && e["Status"] != 50), "the entry is stored without the read-only status");
}
