//! The purchasing side of the sandbox's Exact, as the EDI flows read and write it: purchase orders
//! with their lines (`$expand`, `$select` of `Lines/Field`, the link when not expanded), the filters
//! and orderings a watermark needs, and purchase orders and entries refused as Exact refuses them.
//! Over loopback, through the engine's own connection, against the shipped fixtures.

mod common;

use std::sync::Arc;

use common::live::*;
use common::repo_root;
use flowmap::http::{CallError, Connection, Registry};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

// Fixture IDs (fixtures/README.md, "Purchasing").
const SUPPLIER_A: &str = "0f8f95ef-d1d4-4ea3-aa5e-39268248f803";
const CUSTOMER_LUNE: &str = "5df0d39f-7524-4add-9413-788062e10fbe";
const PO_30001: &str = "5002aab4-e1cc-49f1-a3b8-f9e529dcb79c";
const WAREHOUSE_MAIN: &str = "28062cd0-893f-4bd7-9f73-e4a0f372a5b4";
const ITEM_TSH_WHT_M: &str = "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1";
const GL_7000: &str = "797d76de-44dc-4a85-a1dd-598baa99e079";
const COST_CENTRE_100: &str = "99f916b1-3a46-48ee-801b-9fcda94c56b9";

/// The sandbox with the shipped fixtures, connected, and the engine's connection to its Exact.
fn exact() -> (World, Arc<Registry>, tokio::runtime::Runtime) {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    let project = flowmap::project::Project::load(&repo_root()).unwrap_or_else(|_| panic!("the project loads"));
    let state = Arc::new(flowmap_state::State::open(&world.state).unwrap());
    let vault = Arc::new(flowmap_state::Vault::load_from(None, &world.path("key"), false).unwrap());
    let registry = Registry::load(&project, &world.connections, state, Ok(vault)).unwrap_or_else(|_| panic!("connections load"));
    (world, Arc::new(registry), tokio::runtime::Runtime::new().unwrap())
}

fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// `d.results` of a list, or the refusal as (status, message).
async fn list(conn: &Connection, entity: &str, pairs: &[(&str, &str)]) -> Result<Vec<Value>, (u16, String)> {
    match conn.get(&conn.url(entity), &query(pairs)).await {
        Ok(answer) => Ok(answer.body["d"]["results"].as_array().cloned().unwrap_or_default()),
        Err(CallError::Refused { status, message }) => Err((status, message)),
        Err(other) => panic!("{entity}: {}", other.message()),
    }
}

async fn post(conn: &Connection, entity: &str, body: Value) -> Result<Value, (u16, String)> {
    match conn.call("POST", &conn.url(entity), &[], Some(&body)).await {
        Ok(answer) => Ok(answer.body["d"].clone()),
        Err(CallError::Refused { status, message }) => Err((status, message)),
        Err(other) => panic!("{entity}: {}", other.message()),
    }
}

/// `http://127.0.0.1:PORT/api/v1/DIVISION`, the base of every `__metadata.uri`.
fn api_base(conn: &Connection) -> String {
    conn.url("purchaseorder/PurchaseOrders").trim_end_matches("/purchaseorder/PurchaseOrders").to_string()
}

#[test]
fn expanded_lines_come_as_results_with_each_lines_metadata_and_only_the_selected_fields() {
    let (_world, registry, rt) = exact();
    rt.block_on(async {
        let conn = registry.connection("exact").await.unwrap();
        let select = "PurchaseOrderID,OrderNumber,PurchaseOrderLines/LineNumber,PurchaseOrderLines/ItemCode,PurchaseOrderLines/CostCenter";
        let pairs = [("$filter", "OrderNumber eq 30001"), ("$select", select), ("$expand", "PurchaseOrderLines")];
        let orders = list(&conn, "purchaseorder/PurchaseOrders", &pairs).await.unwrap();
        let api = api_base(&conn);
        let lines = orders[0]["PurchaseOrderLines"]["results"].as_array().cloned().unwrap_or_default();
        let line_ids: Vec<String> = lines
            .iter()
            .map(|l| l["__metadata"]["uri"].as_str().unwrap_or_default().split("guid'").nth(1).unwrap_or_default().trim_end_matches("')").to_string())
            .collect();
        let expected = json!([{
            "__metadata": { "uri": format!("{api}/purchaseorder/PurchaseOrders(guid'{PO_30001}')"), "type": "Exact.Web.Api.Models.PurchaseOrder" },
            "PurchaseOrderID": PO_30001,
            "OrderNumber": 30001,
            "PurchaseOrderLines": { "results": [
                { "__metadata": { "uri": format!("{api}/purchaseorder/PurchaseOrderLines(guid'{}')", line_ids[0]), "type": "Exact.Web.Api.Models.PurchaseOrderLine" },
                  "LineNumber": 1, "ItemCode": "TSH-WHT-M", "CostCenter": "100" },
                { "__metadata": { "uri": format!("{api}/purchaseorder/PurchaseOrderLines(guid'{}')", line_ids[1]), "type": "Exact.Web.Api.Models.PurchaseOrderLine" },
                  "LineNumber": 2, "ItemCode": "TSH-WHT-L", "CostCenter": "200" },
            ] },
        }]);
        assert_eq!(Value::Array(orders), expected);

        // `PurchaseOrderLines` in the `$select`: every line field.
        let pairs = [("$filter", "OrderNumber eq 30005"), ("$select", "OrderNumber,PurchaseOrderLines"), ("$expand", "PurchaseOrderLines")];
        let orders = list(&conn, "purchaseorder/PurchaseOrders", &pairs).await.unwrap();
        let lines = orders[0]["PurchaseOrderLines"]["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(lines.len(), 10);
        assert_eq!((lines[9]["QuantityInPurchaseUnits"].as_f64(), lines[9]["SupplierItemCode"].as_str()), (Some(90.0), Some("LB-CAP-BSB-OLV")));
    });
}

#[test]
fn lines_not_expanded_are_a_link_or_left_out_and_a_path_into_them_needs_the_expand() {
    let (_world, registry, rt) = exact();
    rt.block_on(async {
        let conn = registry.connection("exact").await.unwrap();
        let api = api_base(&conn);
        let order = |select: &'static str| [("$filter", "OrderNumber eq 30001"), ("$select", select)];
        let linked = list(&conn, "purchaseorder/PurchaseOrders", &order("OrderNumber,PurchaseOrderLines")).await.unwrap();
        let link = format!("{api}/purchaseorder/PurchaseOrders(guid'{PO_30001}')/PurchaseOrderLines");
        assert_eq!(linked[0]["PurchaseOrderLines"], json!({ "__deferred": { "uri": link } }));
        // The link answers the lines, as a client that loads them lazily reads them (picqer's Model::lazyLoad).
        let followed = list(&conn, &link, &[("$select", "LineNumber,ItemCode")]).await.unwrap();
        let shown: Vec<(i64, &str)> = followed.iter().filter_map(|l| Some((l["LineNumber"].as_i64()?, l["ItemCode"].as_str()?))).collect();
        assert_eq!(shown, [(1, "TSH-WHT-M"), (2, "TSH-WHT-L")]);
        assert_eq!(followed[0]["__metadata"]["type"], "Exact.Web.Api.Models.PurchaseOrderLine");
        let without = list(&conn, "purchaseorder/PurchaseOrders", &order("OrderNumber")).await.unwrap();
        assert_eq!(without[0].get("PurchaseOrderLines"), None, "a $select that does not name the lines leaves them out");

        let refused = list(&conn, "purchaseorder/PurchaseOrders", &order("OrderNumber,PurchaseOrderLines/Item")).await;
        let message = "Only properties specified in $expand can be traversed in $select query options. Property PurchaseOrderLines.";
        assert_eq!(refused, Err((400, message.to_string())));
        let unknown = [("$filter", "OrderNumber eq 30001"), ("$select", "PurchaseOrderLines/Colour"), ("$expand", "PurchaseOrderLines")];
        let message = "Could not find a property named 'Colour' on type 'Exact.Web.Api.Models.PurchaseOrderLine'.";
        assert_eq!(list(&conn, "purchaseorder/PurchaseOrders", &unknown).await, Err((400, message.to_string())));

        // Purchase entries and sales orders have their lines the same way.
        let pairs =
            [("$filter", "YourRef eq 'INV-OLD-1'"), ("$select", "EntryID,PurchaseEntryLines/GLAccountCode"), ("$expand", "PurchaseEntryLines")];
        let entries = list(&conn, "purchaseentry/PurchaseEntries", &pairs).await.unwrap();
        let codes: Vec<&str> =
            entries[0]["PurchaseEntryLines"]["results"].as_array().into_iter().flatten().filter_map(|l| l["GLAccountCode"].as_str()).collect();
        assert_eq!(codes, ["7000", "7100"]);
        let orders =
            list(&conn, "salesorder/SalesOrders", &[("$filter", "YourRef eq 'PO50003'"), ("$select", "OrderID,SalesOrderLines")]).await.unwrap();
        assert!(orders[0]["SalesOrderLines"]["__deferred"]["uri"].as_str().is_some_and(|u| u.ends_with("')/SalesOrderLines")), "{}", orders[0]);
    });
}

#[test]
fn a_modified_watermark_filters_and_orders_and_every_write_moves_it() {
    let (world, registry, rt) = exact();
    rt.block_on(async {
        let conn = registry.connection("exact").await.unwrap();
        let pairs = [("$filter", "Modified gt datetime'2025-03-10T10:00:00'"), ("$orderby", "Modified desc"), ("$select", "OrderNumber,Modified")];
        let numbers = |orders: Vec<Value>| orders.iter().filter_map(|o| o["OrderNumber"].as_i64()).collect::<Vec<_>>();
        assert_eq!(numbers(list(&conn, "purchaseorder/PurchaseOrders", &pairs).await.unwrap()), [30005, 30004, 30003, 30002]);

        // A new purchase order is stamped with the sandbox's clock, so it is after any earlier watermark.
        let order = json!({"Supplier": SUPPLIER_A, "Warehouse": WAREHOUSE_MAIN, "YourRef": "PLN-2025-036",
            "PurchaseOrderLines": [{"Item": ITEM_TSH_WHT_M, "QuantityInPurchaseUnits": 12, "UnitPrice": 6.4, "CostCenter": "100"}]});
        let created = post(&conn, "purchaseorder/PurchaseOrders", order).await.unwrap();
        let modified = created["Modified"].as_str().and_then(|d| d.strip_prefix("/Date(")?.strip_suffix(")/")?.parse::<i64>().ok()).unwrap();
        let now = world.sandbox.now_ms();
        assert!(modified <= now && modified > now - 60_000, "Modified is the sandbox's time of the write: {modified} vs {now}");
        let watermark = chrono::DateTime::from_timestamp_millis(modified - 1000).unwrap().format("%Y-%m-%dT%H:%M:%S").to_string();
        let since = format!("Modified gt datetime'{watermark}'");
        let pairs = [("$filter", since.as_str()), ("$orderby", "Modified"), ("$select", "OrderNumber,YourRef,OrderStatus,SupplierName,WarehouseCode,AmountFC")];
        let changed = list(&conn, "purchaseorder/PurchaseOrders", &pairs).await.unwrap();
        assert_eq!(changed.len(), 1, "{changed:?}");
        let expected = json!({"OrderNumber": 30006, "YourRef": "PLN-2025-036", "OrderStatus": 10, "SupplierName": "Textielfabriek Twente B.V.", "WarehouseCode": "1", "AmountFC": 76.8});
        assert_eq!(changed[0].as_object().map(|o| o.iter().filter(|(k, _)| *k != "__metadata").map(|(k, v)| (k.clone(), v.clone())).collect()), expected.as_object().cloned());
        // The POST answers the lines as a link (Exact's SDK reads the order again for them); a GET expands them.
        assert!(created["PurchaseOrderLines"]["__deferred"]["uri"].is_string(), "{created}");
        let pairs = [("$filter", "YourRef eq 'PLN-2025-036'"), ("$select", "PurchaseOrderLines/Quantity,PurchaseOrderLines/Unit,PurchaseOrderLines/AmountFC,PurchaseOrderLines/CostCenterDescription"), ("$expand", "PurchaseOrderLines")];
        let lines = list(&conn, "purchaseorder/PurchaseOrders", &pairs).await.unwrap()[0]["PurchaseOrderLines"]["results"].clone();
        let line = (lines[0]["Quantity"].as_f64(), lines[0]["Unit"].as_str(), lines[0]["AmountFC"].as_f64(), lines[0]["CostCenterDescription"].as_str());
        assert_eq!(line, (Some(12.0), Some("pc"), Some(76.8), Some("Production")));
    });
}

#[test]
fn filters_on_integers_padded_codes_and_guids() {
    let (_world, registry, rt) = exact();
    rt.block_on(async {
        let conn = registry.connection("exact").await.unwrap();
        let number = list(&conn, "purchaseorder/PurchaseOrders", &[("$filter", "OrderNumber eq 30003"), ("$select", "SupplierName")]).await.unwrap();
        assert_eq!(number[0]["SupplierName"], "Atelier Porto Lda.");
        let pairs = [("$filter", "Code eq '             20001' and IsSupplier eq true"), ("$select", "ID,GlnNumber")];
        let supplier = list(&conn, "crm/Accounts", &pairs).await.unwrap();
        assert_eq!((supplier[0]["ID"].as_str(), supplier[0]["GlnNumber"].as_str()), (Some(SUPPLIER_A), Some("8712345000011")));
        let unpadded = list(&conn, "crm/Accounts", &[("$filter", "Code eq '20001'"), ("$select", "ID")]).await.unwrap();
        assert_eq!(unpadded, Vec::<Value>::new(), "Exact finds a padded code only by the padded value");
        let filter = format!("ID eq guid'{}'", COST_CENTRE_100.to_uppercase());
        let centre = list(&conn, "hrm/Costcenters", &[("$filter", filter.as_str()), ("$select", "Code,Description,Active")]).await.unwrap();
        assert_eq!((centre[0]["Code"].as_str(), centre[0]["Active"].as_bool()), (Some("100"), Some(true)));
        let inactive = list(&conn, "hrm/Costcenters", &[("$filter", "Code eq '300'"), ("$select", "Active")]).await.unwrap();
        assert_eq!(inactive[0]["Active"], false);
    });
}

#[test]
fn purchase_orders_and_entries_are_refused_as_exact_refuses_them() {
    let (world, registry, rt) = exact();
    rt.block_on(async {
        let conn = registry.connection("exact").await.unwrap();
        // A customer is no supplier; a line without a quantity in purchase units. (Exact joins its
        // messages with CRLF; the engine shows them joined with "; ".)
        let order = json!({"Supplier": CUSTOMER_LUNE, "PurchaseOrderLines": [{"Item": ITEM_TSH_WHT_M, "Quantity": 5}]});
        let refused = post(&conn, "purchaseorder/PurchaseOrders", order).await;
        assert_eq!(refused, Err((500, "Ongeldige referentie: Leverancier; Verplicht: Aantal".to_string())));
        let order =
            json!({"Supplier": SUPPLIER_A, "PurchaseOrderLines": [{"Item": ITEM_TSH_WHT_M, "QuantityInPurchaseUnits": 5, "CostCenter": "999"}]});
        let refused = post(&conn, "purchaseorder/PurchaseOrders", order).await;
        assert_eq!(refused, Err((500, "Ongeldige referentie: Kostenplaats".to_string())), "a line's cost centre is an existing code");
        let refused = post(&conn, "purchaseorder/PurchaseOrders", json!({"Description": "no supplier, no lines"})).await;
        assert_eq!(refused, Err((400, "Verplicht: Leverancier; Verplicht: Orderregels".to_string())));

        // The sales journal is no purchase journal; a line needs a GL account that exists and an amount.
        let entry = json!({"Supplier": SUPPLIER_A, "Journal": "70", "YourRef": "INV-2025-881",
            "PurchaseEntryLines": [{"GLAccount": "1c8e7b4e-55aa-4c2f-9f0e-3b7c1d2e4f60"}]});
        let refused = post(&conn, "purchaseentry/PurchaseEntries", entry).await;
        assert_eq!(refused, Err((500, "Ongeldige referentie: Journals; Ongeldige referentie: Grootboekrekening; Verplicht: Bedrag".to_string())));
        let refused = post(&conn, "purchaseentry/PurchaseEntries", json!({"YourRef": "INV-2025-881"})).await;
        assert_eq!(refused, Err((400, "Verplicht: Leverancier; Verplicht: Dagboek; Verplicht: Boekingsregels".to_string())));

        let entry = json!({"Supplier": SUPPLIER_A, "Journal": "60", "YourRef": "INV-2025-881",
            "PurchaseEntryLines": [{"GLAccount": GL_7000, "AmountFC": 120.5, "VATCode": "2  ", "CostCenter": "100"}]});
        let created = post(&conn, "purchaseentry/PurchaseEntries", entry).await.unwrap();
        let shown = ["SupplierName", "JournalDescription", "Type", "Status", "AmountFC"].map(|f| created[f].clone());
        assert_eq!(shown, [json!("Textielfabriek Twente B.V."), json!("Inkoopboek"), json!(30), json!(20), json!(120.5)]);
    });
    let stored = world.sandbox.exact_records("purchaseentry/PurchaseEntries");
    let booked = stored.iter().find(|e| e["YourRef"] == "INV-2025-881").expect("the entry is stored");
    assert_eq!(booked["PurchaseEntryLines"]["results"][0]["GLAccountCode"], "7000", "the control API shows the lines expanded");
}
