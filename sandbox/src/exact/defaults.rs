//! What Exact fills in itself when a record is created: numbers, statuses, names and codes of what
//! the record refers to, dates, amounts of purchase lines.

use serde_json::{Value, json};

use super::store::{Record, Store};
use super::write::ms_value;

const DAY_MS: i64 = 86_400_000;

/// Defaults Exact assigns on creation, per entity.
pub fn fill_in(store: &Store, path: &str, record: &mut Record, now_ms: i64) {
    let today = ms_value(now_ms - now_ms.rem_euclid(DAY_MS));
    let referred = |entity: &str, field: &str, wanted: &str| {
        let key = record.get(field).and_then(Value::as_str)?;
        store.by_path(entity)?.get(key)?.get(wanted).cloned()
    };
    let account_name = |field: &str| referred("crm/Accounts", field, "Name");
    let lines_total = |property: &str| -> Value {
        let lines = record.get(property).and_then(|l| l.get("results")).and_then(Value::as_array);
        let cents: f64 = lines.into_iter().flatten().filter_map(|l| l.get("AmountFC")?.as_f64()).map(|a| (a * 100.0).round()).sum();
        json!(cents / 100.0)
    };
    let mut defaults: Vec<(&str, Value)> = Vec::new();
    // Set by Exact whatever was sent (read-only fields).
    let mut fixed: Vec<(&str, Option<Value>)> = Vec::new();
    match path {
        "salesorder/SalesOrders" => {
            defaults.push(("OrderNumber", json!(next_number(store, path, "OrderNumber"))));
            defaults.push(("OrderedByName", account_name("OrderedBy").unwrap_or(Value::Null)));
            defaults.push(("DeliverTo", record.get("OrderedBy").cloned().unwrap_or(Value::Null)));
            defaults.push(("InvoiceTo", record.get("OrderedBy").cloned().unwrap_or(Value::Null)));
            defaults.push(("OrderDate", today));
            defaults.push(("Currency", json!("EUR")));
            record.insert("Status".into(), json!(12));
            record.insert("StatusDescription".into(), json!("Open"));
        }
        "salesinvoice/SalesInvoices" => {
            defaults.push(("InvoiceNumber", json!(next_number(store, path, "InvoiceNumber"))));
            defaults.push(("Type", json!(8020)));
            defaults.push(("OrderedByName", account_name("OrderedBy").unwrap_or(Value::Null)));
            defaults.push(("InvoiceTo", record.get("OrderedBy").cloned().unwrap_or(Value::Null)));
            defaults.push(("DeliverTo", record.get("OrderedBy").cloned().unwrap_or(Value::Null)));
            defaults.push(("InvoiceDate", today));
            defaults.push(("Currency", json!("EUR")));
            record.insert("Status".into(), json!(20));
            record.insert("StatusDescription".into(), json!("Open"));
        }
        "salesentry/SalesEntries" => {
            let number = record.get("InvoiceNumber").cloned().unwrap_or_else(|| json!(next_number(store, path, "EntryNumber")));
            defaults.push(("EntryNumber", number.clone()));
            defaults.push(("InvoiceNumber", number));
            defaults.push(("Type", json!(20)));
            defaults.push(("CustomerName", account_name("Customer").unwrap_or(Value::Null)));
            defaults.push(("EntryDate", today));
            defaults.push(("Currency", json!("EUR")));
            record.insert("Status".into(), json!(20));
        }
        "purchaseorder/PurchaseOrders" => {
            defaults.push(("OrderNumber", json!(next_number(store, path, "OrderNumber"))));
            defaults.push(("OrderDate", today));
            defaults.push(("Currency", json!("EUR")));
            fixed.push(("SupplierCode", referred("crm/Accounts", "Supplier", "Code")));
            fixed.push(("SupplierName", account_name("Supplier")));
            fixed.push(("WarehouseCode", referred("inventory/Warehouses", "Warehouse", "Code")));
            fixed.push(("WarehouseDescription", referred("inventory/Warehouses", "Warehouse", "Description")));
            fixed.push(("AmountFC", Some(lines_total("PurchaseOrderLines"))));
            for status in ["OrderStatus", "ReceiptStatus", "InvoiceStatus"] {
                fixed.push((status, Some(json!(10))));
            }
            fixed.push(("Source", Some(json!(11))));
        }
        "purchaseentry/PurchaseEntries" => {
            defaults.push(("EntryNumber", json!(next_number(store, path, "EntryNumber"))));
            defaults.push(("EntryDate", today));
            defaults.push(("Currency", json!("EUR")));
            fixed.push(("SupplierName", account_name("Supplier")));
            let journal = record.get("Journal").and_then(Value::as_str).map(str::trim).unwrap_or_default();
            let journals = store.by_path("financial/Journals").map(|e| e.records.as_slice()).unwrap_or_default();
            let journal = journals.iter().find(|j| j.get("Code").and_then(Value::as_str).map(str::trim) == Some(journal));
            fixed.push(("JournalDescription", journal.and_then(|j| j.get("Description").cloned())));
            fixed.push(("AmountFC", Some(lines_total("PurchaseEntryLines"))));
            fixed.push(("Type", Some(json!(30))));
            fixed.push(("TypeDescription", Some(json!("Purchase entry"))));
            fixed.push(("Status", Some(json!(20))));
            fixed.push(("StatusDescription", Some(json!("Open"))));
        }
        "crm/Accounts" => {
            // Exact keeps account codes right-aligned in 18 characters.
            if let Some(code) = record.get("Code").and_then(Value::as_str) {
                let padded = format!("{:>18}", code.trim());
                record.insert("Code".into(), Value::String(padded));
            }
        }
        _ => {}
    }
    for (name, value) in fixed {
        record.insert(name.to_string(), value.unwrap_or(Value::Null));
    }
    for (name, value) in defaults {
        if record.get(name).is_none_or(Value::is_null) {
            record.insert(name.to_string(), value);
        }
    }
}

/// One more than the highest number the entity holds (seeded or created).
fn next_number(store: &Store, path: &str, field: &str) -> i64 {
    let highest = store.by_path(path).and_then(|e| e.records.iter().filter_map(|r| r.get(field)?.as_i64()).max());
    highest.unwrap_or(0) + 1
}

/// A new line's derived fields: for a purchase order line, the quantity in item units, the unit
/// and the amount; its GL account's code and description; its cost centre's description.
pub fn fill_line(store: &Store, line: &mut Record, item: Option<&Record>) {
    let centre = line.get("CostCenter").and_then(Value::as_str).map(str::trim).and_then(|code| {
        let centres = store.by_path("hrm/Costcenters")?;
        centres.records.iter().find(|c| c.get("Code").and_then(Value::as_str) == Some(code))?.get("Description").cloned()
    });
    if let Some(description) = centre {
        line.insert("CostCenterDescription".into(), description);
    }
    if let Some(quantity) = line.get("QuantityInPurchaseUnits").and_then(Value::as_f64) {
        line.entry("Quantity").or_insert(json!(quantity));
        if let Some(unit) = item.and_then(|i| i.get("Unit")) {
            line.entry("Unit").or_insert(unit.clone());
        }
        let price = line.get("NetPrice").or_else(|| line.get("UnitPrice")).and_then(Value::as_f64);
        if let Some(price) = price {
            line.entry("NetPrice").or_insert(json!(price));
            line.entry("AmountFC").or_insert(json!((quantity * price * 100.0).round() / 100.0));
        }
    }
    let account = line.get("GLAccount").and_then(Value::as_str).and_then(|key| store.by_path("financial/GLAccounts")?.get(key));
    if let Some(account) = account {
        line.insert("GLAccountCode".into(), account.get("Code").cloned().unwrap_or(Value::Null));
        line.insert("GLAccountDescription".into(), account.get("Description").cloned().unwrap_or(Value::Null));
    }
}
