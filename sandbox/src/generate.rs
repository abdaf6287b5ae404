//! Generated test worlds for benchmarks: accounts `C000001…`, items `SKU-000001…` and LNB orders
//! in Invoicing that use them, all deterministic from the seed and shaped like the fixtures.

use serde_json::{Value, json};

use crate::config::Generate;
use crate::exact::store::Store;
use crate::random::SplitMix64;

/// The warehouses the default LNB → Exact flow settings name (fixtures/README.md); added when the
/// fixtures do not bring any, so generated orders can be sent without fixtures.
const WAREHOUSES: &[(&str, &str, &str, bool)] = &[
    ("28062cd0-893f-4bd7-9f73-e4a0f372a5b4", "1", "Main warehouse Amsterdam", true),
    ("950e7dc6-c918-40a5-9407-2505cfbadc91", "PRE", "Pre-order warehouse", false),
];
const APPAREL_GROUP: &str = "7f3fa9af-df50-4fa2-a163-583578406d3a";
const REVENUE_ACCOUNT: &str = "032da7d9-4223-440c-9f95-db82e5b4f085";
const FIRST_ORDER: u64 = 900_001;
/// 2025-03-01T00:00:00Z: generated records are dated around the fixtures' time.
const EPOCH_MS: i64 = 1_740_787_200_000;

/// A customer or item a generated order line can use.
struct Pick {
    code: String,
    name: String,
    price_cents: i64,
    barcode: String,
}

pub fn generate(plan: &Generate, division: i64, store: &mut Store, orders: &mut Vec<Value>) {
    let mut rng = SplitMix64::new(plan.seed);
    let customers: Vec<Pick> = (1..=plan.customers).map(|n| account(&mut rng, n, division, store)).collect();
    let items: Vec<Pick> = (1..=plan.items).map(|n| item(&mut rng, n, division, store)).collect();
    add_warehouses(division, store);
    let customers = if customers.is_empty() { existing(store, "crm/Accounts", "Name", "StandardSalesPrice") } else { customers };
    let items = if items.is_empty() { existing(store, "logistics/Items", "Description", "StandardSalesPrice") } else { items };
    // Orders need someone to order and something to order.
    if customers.is_empty() || items.is_empty() {
        return;
    }
    for n in 0..plan.orders as u64 {
        orders.push(order(&mut rng, FIRST_ORDER + n, plan.lines, &customers, &items));
    }
}

fn account(rng: &mut SplitMix64, n: usize, division: i64, store: &mut Store) -> Pick {
    let code = format!("C{n:06}");
    let name = format!("Generated Customer {n:06}");
    let record = json!({
        "ID": rng.guid(),
        "Code": format!("{code:>18}"),
        "Name": name,
        "Email": format!("orders@customer{n:06}.example"),
        "Phone": format!("+31 20 {:03} {:04}", rng.below(1000), rng.below(10_000)),
        "Status": "C",
        "IsSales": true,
        "IsSupplier": false,
        "AddressLine1": format!("Generated Street {}", 1 + rng.below(300)),
        "AddressLine2": null,
        "Postcode": format!("{} AB", 1000 + rng.below(9000)),
        "City": "Amsterdam",
        "Country": "NL",
        "VATNumber": format!("NL{:09}B01", rng.below(1_000_000_000)),
        "SalesVATCode": null,
        "PaymentConditionSales": "30",
        "Blocked": false,
        "Created": format!("/Date({EPOCH_MS})/"),
        "Modified": format!("/Date({EPOCH_MS})/"),
        "Division": division,
    });
    seed(store, "crm", "Accounts", record);
    Pick { code, name, price_cents: 0, barcode: String::new() }
}

fn item(rng: &mut SplitMix64, n: usize, division: i64, store: &mut Store) -> Pick {
    let code = format!("SKU-{n:06}");
    let name = format!("Generated item {n:06}");
    let price_cents = 500 + rng.below(14_500) as i64;
    let barcode = ean13(8_719_000_000_000 / 10 + n as u64);
    let id = rng.guid();
    let record = json!({
        "ID": id,
        "Code": code,
        "Description": name,
        "ExtraDescription": null,
        "Notes": null,
        "IsSalesItem": true,
        "IsStockItem": true,
        "IsPurchaseItem": true,
        "SalesVatCode": "2  ",
        "SalesVatCodeDescription": "VAT 21% high rate",
        "Unit": "pc",
        "UnitDescription": "Piece",
        "ItemGroup": APPAREL_GROUP,
        "ItemGroupCode": "APPAREL",
        "ItemGroupDescription": "Apparel",
        "Barcode": barcode,
        "StandardSalesPrice": cents(price_cents),
        "CostPriceStandard": cents(price_cents / 3),
        "GLRevenue": REVENUE_ACCOUNT,
        "GLCosts": null,
        "PictureUrl": null,
        "Created": format!("/Date({EPOCH_MS})/"),
        "Modified": format!("/Date({EPOCH_MS})/"),
        "Division": division,
    });
    seed(store, "logistics", "Items", record);
    Pick { code, name, price_cents, barcode }
}

fn add_warehouses(division: i64, store: &mut Store) {
    if store.by_path("inventory/Warehouses").is_some_and(|w| !w.records.is_empty()) {
        return;
    }
    for (id, code, description, main) in WAREHOUSES {
        seed(store, "inventory", "Warehouses", json!({ "ID": id, "Code": code, "Description": description, "Main": main, "Division": division }));
    }
}

/// Customers or items already in the store (fixtures), when none are generated.
fn existing(store: &Store, path: &str, name_field: &str, price_field: &str) -> Vec<Pick> {
    let Some(entity) = store.by_path(path) else { return Vec::new() };
    entity
        .records
        .iter()
        .filter_map(|r| {
            let code = r.get("Code")?.as_str()?.trim().to_string();
            Some(Pick {
                code,
                name: r.get(name_field).and_then(Value::as_str).unwrap_or_default().to_string(),
                price_cents: r.get(price_field).and_then(Value::as_f64).map_or(0, |p| (p * 100.0).round() as i64),
                barcode: r.get("Barcode").and_then(Value::as_str).unwrap_or_default().to_string(),
            })
        })
        .collect()
}

fn order(rng: &mut SplitMix64, id: u64, line_count: usize, customers: &[Pick], items: &[Pick]) -> Value {
    let customer = &customers[rng.below(customers.len())];
    let preorder = rng.next_f64() < 0.2;
    let mut total_cents = 0;
    let lines: Vec<Value> = (0..line_count)
        .map(|_| {
            let item = &items[rng.below(items.len())];
            let quantity = 1 + rng.below(24) as i64;
            total_cents += quantity * item.price_cents;
            json!({ "sku": item.code, "name": item.name, "ean13": item.barcode, "quantity": quantity, "unit_price": cents(item.price_cents) })
        })
        .collect();
    let created_ms = EPOCH_MS + (id - FIRST_ORDER) as i64 * 420_000;
    let created_on = chrono::DateTime::from_timestamp_millis(created_ms).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default();
    json!({
        "id": id,
        "reference": id.to_string(),
        "status": "Invoicing",
        "created_on": created_on,
        "currency": "EUR",
        "purchase_order_reference": format!("GEN-{id}"),
        "amount_total": cents(total_cents),
        "retailer": { "reference": customer.code, "name": customer.name },
        "line": { "id": id, "name": if preorder { "AW25 Pre-order" } else { "SS25 Collection" }, "preorder": preorder },
        "lines": lines,
    })
}

fn seed(store: &mut Store, service: &str, entity: &str, record: Value) {
    // Generated records are objects by construction, so seeding cannot fail.
    let _ = store.seed(service, entity, vec![record]);
}

pub(crate) fn cents(amount: i64) -> Value {
    let value = amount as f64 / 100.0;
    if amount % 100 == 0 { json!(amount / 100) } else { json!(value) }
}

/// A 13-digit barcode with a valid check digit, from 12 digits.
pub(crate) fn ean13(first_twelve: u64) -> String {
    let digits = format!("{:012}", first_twelve % 1_000_000_000_000);
    let sum: u32 = digits.chars().filter_map(|c| c.to_digit(10)).enumerate().map(|(i, d)| if i % 2 == 0 { d } else { d * 3 }).sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean13_check_digit() {
        assert_eq!(ean13(871_932_510_001), "8719325100013");
    }

    #[test]
    fn generated_world_is_deterministic_and_consistent() {
        let plan = Generate { customers: 3, items: 4, orders: 2, lines: 5, seed: 9 };
        let run = || {
            let (mut store, mut orders) = (Store::new(), Vec::new());
            generate(&plan, 3_012_345, &mut store, &mut orders);
            (store, orders)
        };
        let ((store, orders), (_, again)) = (run(), run());
        assert_eq!(orders, again);
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[0]["reference"], "900001");
        assert_eq!(orders[0]["lines"].as_array().map(Vec::len), Some(5));
        let accounts = store.by_path("crm/Accounts").unwrap();
        assert_eq!(accounts.records[0]["Code"], "           C000001");
        let retailer = orders[0]["retailer"]["reference"].as_str().unwrap();
        assert!(accounts.records.iter().any(|a| a["Code"].as_str().map(str::trim) == Some(retailer)));
        assert_eq!(store.by_path("inventory/Warehouses").unwrap().records.len(), 2);
    }
}
