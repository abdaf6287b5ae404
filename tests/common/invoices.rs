//! Invoices for live tests and benchmarks: LNB's (the shipped fixtures with generated invoices
//! added) and QuickBooks' (generated, added to the sandbox).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::live::copy_dir;
use super::repo_root;

/// An LNB invoice of `lines` lines of SKUs Xero knows, at 21%.
pub fn invoice(number: &str, retailer: &str, name: &str, lines: usize) -> Value {
    let skus = ["TSH-WHT-M", "TSH-WHT-L", "SWT-NVY-M", "DRS-LIN-S"];
    let lines: Vec<Value> = (0..lines)
        .map(|i| json!({"sku": skus[i % skus.len()], "name": format!("Line {}", i + 1), "quantity": 2, "unit_price": 10.5, "amount_tax_excl": 21.0}))
        .collect();
    json!({
        "reference_number": number, "type": "invoice", "integration_status": "Ready",
        "created_on": "2026-11-30", "due_on": "2026-12-30", "currency": "EUR", "tax_rate": 21,
        "order": {"id": 70001}, "retailer": {"reference": retailer, "name": name}, "lines": lines,
        "amount_total": 21.0 * lines.len() as f64, "amount_tax": 4.41 * lines.len() as f64,
        "amount_total_tax_inclusive": 25.41 * lines.len() as f64
    })
}

/// The shipped fixtures with `extra` LNB invoices added, in `dir`.
pub fn invoices_fixtures(dir: &Path, extra: &[Value]) -> PathBuf {
    let root = dir.join("fixtures");
    copy_dir(&repo_root().join("fixtures"), &root);
    let file = root.join("lnb/invoices.json");
    let mut list: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    list.extend(extra.iter().cloned());
    std::fs::write(&file, serde_json::to_string_pretty(&list).unwrap()).unwrap();
    root
}

/// `n` generated invoices INV-9xxxxx, a tenth of them for retailers Xero does not know yet.
pub fn generated(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let (retailer, name) =
                if i % 10 == 0 { (format!("2{i:04}"), format!("New retailer {i}")) } else { ("10023".into(), "Boutique Lune".into()) };
            invoice(&format!("INV-9{i:05}"), &retailer, &name, 1 + i % 3)
        })
        .collect()
}

/// `n` paid QuickBooks invoices, DocNumber 7xxxx, of a customer Exact knows, 1–3 lines of items
/// Exact knows (the tee, the scarf, the tote).
pub fn qbo_invoices(n: usize) -> Vec<Value> {
    let items = [("7", "Organic cotton tee white M", 29.95), ("14", "Lambswool scarf grey melange", 39.9), ("13", "Canvas tote natural", 34.5)];
    (0..n)
        .map(|i| {
            let mut lines: Vec<Value> = items[..1 + i % 3]
                .iter()
                .enumerate()
                .map(|(l, (id, name, price))| {
                    json!({"Id": (l + 1).to_string(), "LineNum": l + 1, "Description": name, "Amount": price * 2.0, "DetailType": "SalesItemLineDetail",
                           "SalesItemLineDetail": {"ItemRef": {"value": id, "name": name}, "Qty": 2, "UnitPrice": price}})
                })
                .collect();
            let subtotal: f64 = items[..1 + i % 3].iter().map(|(_, _, p)| p * 2.0).sum();
            lines.push(json!({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}));
            let total = (subtotal * 1.21 * 100.0).round() / 100.0;
            json!({
                "Id": (5000 + i).to_string(), "SyncToken": "0", "DocNumber": format!("7{i:04}"), "TxnDate": "2026-11-30",
                "CurrencyRef": {"value": "EUR"}, "CustomerRef": {"value": "58"}, "BillEmail": {"Address": "inkoop@groenhart-interiors.nl"},
                "SalesTermRef": {"value": "3"}, "Balance": 0, "TotalAmt": total, "Line": lines,
                "MetaData": {"CreateTime": "2026-11-30T09:00:00-08:00", "LastUpdatedTime": "2026-11-30T09:00:00-08:00"}
            })
        })
        .collect()
}
