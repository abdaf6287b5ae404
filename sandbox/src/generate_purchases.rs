//! Generated purchase orders for the EDI benchmark: suppliers with GLNs, purchase items and open
//! purchase orders on them, shaped like fixtures/exact (lines on cost centers 100 and 200, the
//! main warehouse, VAT 21%), deterministic from the seed. Added to a running sandbox with
//! `Sandbox::add_exact_records` beside the fixtures, which bring the cost centers, GL accounts
//! and journals the Exact ⇄ TrueCommerce flows look up.

use serde_json::{Value, json};

use crate::generate::{cents, ean13};
use crate::random::SplitMix64;

/// How many of each to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchasePlan {
    pub suppliers: usize,
    pub items: usize,
    pub orders: usize,
    /// Lines per purchase order.
    pub lines: usize,
    pub seed: u64,
}

/// Records for `crm/Accounts`, `logistics/Items` and `purchaseorder/PurchaseOrders`.
pub struct PurchaseWorld {
    pub suppliers: Vec<Value>,
    pub items: Vec<Value>,
    pub purchase_orders: Vec<Value>,
}

/// The main warehouse of fixtures/exact (and of the generated LNB world).
const WAREHOUSE: (&str, &str, &str) = ("28062cd0-893f-4bd7-9f73-e4a0f372a5b4", "1", "Main warehouse Amsterdam");
/// The cost centers of fixtures/exact that are active and have a GL account in the flows' settings.
const COST_CENTERS: [(&str, &str); 2] = [("100", "Production"), ("200", "Warehouse")];
/// Above the fixtures' suppliers (20001…) and purchase orders (30001…).
const FIRST_SUPPLIER: usize = 21_001;
const FIRST_ORDER: u64 = 40_001;
/// 2025-03-10T00:00:00Z, the fixtures' purchase orders' time.
const EPOCH_MS: i64 = 1_741_564_800_000;
const DAY_MS: i64 = 86_400_000;

/// A purchase item a generated line can order.
struct Item {
    id: String,
    code: String,
    description: String,
    price_cents: i64,
}

pub fn purchase_orders(plan: &PurchasePlan, division: i64) -> PurchaseWorld {
    let mut rng = SplitMix64::new(plan.seed);
    let suppliers: Vec<Value> = (0..plan.suppliers).map(|n| supplier(&mut rng, FIRST_SUPPLIER + n, division)).collect();
    let items: Vec<Item> = (1..=plan.items).map(|n| item(&mut rng, n)).collect();
    let purchase_orders = if suppliers.is_empty() || items.is_empty() {
        Vec::new()
    } else {
        (0..plan.orders as u64).map(|n| order(&mut rng, FIRST_ORDER + n, plan.lines, &suppliers, &items, division)).collect()
    };
    let items = items.iter().map(|i| item_record(i, division)).collect();
    PurchaseWorld { suppliers, items, purchase_orders }
}

fn supplier(rng: &mut SplitMix64, code: usize, division: i64) -> Value {
    json!({
        "ID": rng.guid(),
        "Code": format!("{code:>18}"),
        "Name": format!("Generated Supplier {code}"),
        "Email": format!("orders@supplier{code}.example"),
        "Phone": null,
        "Status": "A",
        "IsSales": false,
        "IsSupplier": true,
        "AddressLine1": format!("Industrieweg {}", 1 + rng.below(300)),
        "AddressLine2": null,
        "Postcode": format!("{} AB", 1000 + rng.below(9000)),
        "City": "Enschede",
        "Country": "NL",
        "VATNumber": format!("NL{:09}B01", rng.below(1_000_000_000)),
        // A GLN: our GS1 prefix and the supplier's code, with its check digit.
        "GlnNumber": ean13(871_234_500_000 + code as u64),
        "GLAccountPurchase": null,
        "PurchaseVATCode": "2  ",
        "PurchaseCurrency": "EUR",
        "PurchaseLeadDays": 14,
        "PaymentConditionPurchase": "30",
        "CodeAtSupplier": "ACME",
        "Blocked": false,
        "Created": format!("/Date({EPOCH_MS})/"),
        "Modified": format!("/Date({EPOCH_MS})/"),
        "Division": division,
    })
}

fn item(rng: &mut SplitMix64, n: usize) -> Item {
    Item { id: rng.guid(), code: format!("RAW-{n:05}"), description: format!("Generated material {n:05}"), price_cents: 50 + rng.below(5_000) as i64 }
}

fn item_record(item: &Item, division: i64) -> Value {
    json!({
        "ID": item.id,
        "Code": item.code,
        "Description": item.description,
        "IsSalesItem": false,
        "IsStockItem": true,
        "IsPurchaseItem": true,
        "Unit": "pc",
        "UnitDescription": "Piece",
        "CostPriceStandard": cents(item.price_cents),
        "Created": format!("/Date({EPOCH_MS})/"),
        "Modified": format!("/Date({EPOCH_MS})/"),
        "Division": division,
    })
}

fn order(rng: &mut SplitMix64, number: u64, line_count: usize, suppliers: &[Value], items: &[Item], division: i64) -> Value {
    let id = rng.guid();
    let supplier = &suppliers[rng.below(suppliers.len())];
    let n = (number - FIRST_ORDER) as i64;
    // One order a minute, so each has its own `Modified` (the 850 flow's watermark and version).
    let modified = EPOCH_MS + n * 60_000;
    let order_date = EPOCH_MS + (n / 100) * DAY_MS;
    let receipt_date = order_date + 14 * DAY_MS;
    let (mut total_cents, mut vat_cents) = (0, 0);
    let lines: Vec<Value> = (1..=line_count)
        .map(|line_number| {
            let item = &items[rng.below(items.len())];
            let quantity = 10 * (1 + rng.below(50)) as i64;
            let amount = quantity * item.price_cents;
            let vat = (amount * 21 + 50) / 100;
            total_cents += amount;
            vat_cents += vat;
            let (cost_center, cost_center_description) = COST_CENTERS[rng.below(COST_CENTERS.len())];
            json!({
                "ID": rng.guid(),
                "PurchaseOrderID": id,
                "LineNumber": line_number,
                "Item": item.id,
                "ItemCode": item.code,
                "ItemDescription": item.description,
                "SupplierItemCode": format!("S-{}", item.code),
                "Description": item.description,
                "QuantityInPurchaseUnits": quantity,
                "Quantity": quantity,
                "Unit": "pc",
                "UnitDescription": "Piece",
                "UnitPrice": cents(item.price_cents),
                "NetPrice": cents(item.price_cents),
                "Discount": 0,
                "AmountFC": cents(amount),
                "AmountDC": cents(amount),
                "VATCode": "2  ",
                "VATPercentage": 0.21,
                "VATAmount": cents(vat),
                "CostCenter": cost_center,
                "CostCenterDescription": cost_center_description,
                "ReceiptDate": format!("/Date({receipt_date})/"),
                "ReceivedQuantity": 0,
                "InvoicedQuantity": 0,
                "Division": division,
            })
        })
        .collect();
    json!({
        "PurchaseOrderID": id,
        "OrderNumber": number,
        "Supplier": supplier["ID"],
        "SupplierCode": supplier["Code"],
        "SupplierName": supplier["Name"],
        "OrderDate": format!("/Date({order_date})/"),
        "ReceiptDate": format!("/Date({receipt_date})/"),
        "Description": format!("Generated purchase order {number}"),
        "YourRef": format!("PLN-{number}"),
        "Currency": "EUR",
        "OrderStatus": 10,
        "ReceiptStatus": 10,
        "InvoiceStatus": 10,
        "Warehouse": WAREHOUSE.0,
        "WarehouseCode": WAREHOUSE.1,
        "WarehouseDescription": WAREHOUSE.2,
        "PaymentCondition": "30",
        "AmountFC": cents(total_cents),
        "AmountDC": cents(total_cents),
        "VATAmount": cents(vat_cents),
        "Source": 1,
        "PurchaseOrderLineCount": line_count,
        "Created": format!("/Date({modified})/"),
        "Modified": format!("/Date({modified})/"),
        "Division": division,
        "PurchaseOrderLines": { "results": lines },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_purchase_orders_are_deterministic_and_consistent() {
        let plan = PurchasePlan { suppliers: 3, items: 5, orders: 4, lines: 10, seed: 11 };
        let world = purchase_orders(&plan, 3_012_345);
        let again = purchase_orders(&plan, 3_012_345);
        assert_eq!(world.purchase_orders, again.purchase_orders);
        assert_eq!((world.suppliers.len(), world.items.len(), world.purchase_orders.len()), (3, 5, 4));
        assert_eq!(world.suppliers[0]["Code"], "             21001");
        assert_eq!(world.suppliers[0]["GlnNumber"].as_str().map(str::len), Some(13));
        let po = &world.purchase_orders[0];
        assert_eq!((po["OrderNumber"].clone(), po["OrderStatus"].clone()), (json!(40_001), json!(10)));
        assert!(world.suppliers.iter().any(|s| s["ID"] == po["Supplier"] && s["Code"] == po["SupplierCode"]));
        let lines = po["PurchaseOrderLines"]["results"].as_array().unwrap();
        assert_eq!(lines.len(), 10);
        assert!(lines.iter().all(|l| l["CostCenter"] == "100" || l["CostCenter"] == "200"));
        assert!(lines.iter().all(|l| world.items.iter().any(|i| i["ID"] == l["Item"] && i["Code"] == l["ItemCode"])));
        // The order's amount is the sum of its lines, to the cent.
        let sum: f64 = lines.iter().map(|l| l["AmountFC"].as_f64().unwrap()).sum();
        assert!((sum - po["AmountFC"].as_f64().unwrap()).abs() < 0.005);
    }
}
