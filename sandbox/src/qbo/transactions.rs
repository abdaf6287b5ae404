//! Invoice and SalesReceipt as QBO completes them (notes §8; VCR create/invoice.yml; Intuit's
//! Finance.xsd): the SubTotal line it appends (sent ones are dropped), line Ids and numbers, the
//! item's name, price and income account on each sales line, `Amount = Qty × UnitPrice` (6070
//! otherwise), bundles counted through their components, the discount line (a percentage of the
//! lines above, or its Amount), `TotalAmt` = lines − discount + TotalTax, `Balance` (TotalAmt for an
//! invoice, 0 for a receipt), the next DocNumber when none (or AUTO_GENERATE) is sent, TxnDate today,
//! DueDate from the term, and the names of the customer and payment method. SalesTermRef is
//! answered with `value` alone, as Intuit's invoice answers carry it.

use serde_json::{Map, Value, json};

use super::company::{Company, at};
use super::envelope::{FaultError, company_date};
use super::refs;

/// Undeposited Funds: where a receipt's money goes when DepositToAccountRef is omitted.
const UNDEPOSITED_FUNDS: &str = "4";

fn round2(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

fn number(value: Option<&Value>) -> Option<f64> {
    value.and_then(Value::as_f64)
}

pub fn complete(company: &Company, entity: &str, record: &mut Map<String, Value>, now_ms: i64) -> Result<(), FaultError> {
    record.entry("TxnDate").or_insert_with(|| json!(company_date(now_ms)));
    refs::fill(company, record, "CustomerRef", "Customer", Some("DisplayName"), "CustomerRef")?;
    if let Some(term) = refs::fill(company, record, "SalesTermRef", "Term", None, "SalesTermRef")?
        && record.get("DueDate").is_none_or(Value::is_null)
        && let (Some(days), Some(date)) = (term.get("DueDays").and_then(Value::as_i64), record.get("TxnDate").and_then(Value::as_str))
        && let Ok(date) = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
    {
        record.insert("DueDate".into(), json!((date + chrono::Duration::days(days)).format("%Y-%m-%d").to_string()));
    }
    refs::fill(company, record, "PaymentMethodRef", "PaymentMethod", Some("Name"), "PaymentMethodRef")?;
    if entity == "SalesReceipt" && record.get("DepositToAccountRef").is_none_or(Value::is_null) {
        record.insert("DepositToAccountRef".into(), json!({ "value": UNDEPOSITED_FUNDS }));
    }
    refs::fill(company, record, "DepositToAccountRef", "Account", Some("Name"), "DepositToAccountRef")?;

    let sent = record.get("Line").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut lines = Vec::with_capacity(sent.len() + 1);
    let (mut subtotal, mut discount) = (0.0, 0.0);
    for (index, line) in sent.into_iter().enumerate() {
        let Value::Object(mut line) = line else { continue };
        let detail = line.get("DetailType").and_then(Value::as_str).unwrap_or_default().to_string();
        if detail == "SubTotalLineDetail" {
            continue;
        }
        let path = format!("Line[{index}]");
        let line_num = lines.len() + 1;
        line.entry("Id").or_insert(json!(line_num.to_string()));
        line.insert("LineNum".into(), json!(line_num));
        match detail.as_str() {
            "SalesItemLineDetail" => subtotal += sales_line(company, &mut line, &path)?,
            "GroupLineDetail" => {
                let mut components = at(&line, "/GroupLineDetail/Line").and_then(Value::as_array).cloned().unwrap_or_default();
                let mut sum = 0.0;
                for (c, component) in components.iter_mut().enumerate() {
                    if let Some(component) = component.as_object_mut() {
                        sum += sales_line(company, component, &format!("{path}.GroupLineDetail.Line[{c}]"))?;
                    }
                }
                if let Some(group) = line.get_mut("GroupLineDetail").and_then(Value::as_object_mut) {
                    refs::fill(company, group, "GroupItemRef", "Item", Some("Name"), &format!("{path}.GroupLineDetail.GroupItemRef"))?;
                    group.insert("Line".into(), Value::Array(components));
                }
                line.insert("Amount".into(), json!(round2(sum)));
                subtotal += sum;
            }
            "DiscountLineDetail" => {
                let percent_based = at(&line, "/DiscountLineDetail/PercentBased") == Some(&Value::Bool(true));
                let amount = if percent_based {
                    round2(subtotal * number(at(&line, "/DiscountLineDetail/DiscountPercent")).unwrap_or_default() / 100.0)
                } else {
                    number(line.get("Amount")).unwrap_or_default()
                };
                line.insert("Amount".into(), json!(amount));
                discount += amount;
            }
            _ => {}
        }
        lines.push(Value::Object(line));
    }
    let subtotal = round2(subtotal);
    lines.push(json!({ "Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {} }));
    record.insert("Line".into(), Value::Array(lines));

    let tax = number(at(record, "/TxnTaxDetail/TotalTax")).unwrap_or_default();
    let tax_detail = record.entry("TxnTaxDetail").or_insert_with(|| json!({}));
    if let Some(tax_detail) = tax_detail.as_object_mut() {
        tax_detail.insert("TotalTax".into(), json!(tax));
    }
    let total = round2(subtotal - discount + tax);
    record.insert("TotalAmt".into(), json!(total));
    record.insert("Balance".into(), json!(if entity == "SalesReceipt" { 0.0 } else { total }));
    let doc_number = record.get("DocNumber").and_then(Value::as_str).unwrap_or_default();
    if doc_number.is_empty() || doc_number == "AUTO_GENERATE" {
        record.insert("DocNumber".into(), json!(next_doc_number(company, entity)));
    }
    Ok(())
}

/// A product or service line: the item's name, price and account; its amount (for the subtotal).
fn sales_line(company: &Company, line: &mut Map<String, Value>, path: &str) -> Result<f64, FaultError> {
    let given = number(line.get("Amount"));
    let Some(detail) = line.get_mut("SalesItemLineDetail").and_then(Value::as_object_mut) else {
        return Ok(given.unwrap_or_default());
    };
    let item_path = format!("{path}.SalesItemLineDetail.ItemRef");
    // A line without an item is documentation: its Amount is not counted (Finance.xsd ItemLineDetail.ItemRef).
    let Some(item) = refs::fill(company, detail, "ItemRef", "Item", Some("Name"), &item_path)? else {
        return Ok(0.0);
    };
    if item.get("Type").and_then(Value::as_str) == Some("Category") {
        // A category only groups items; it is not sold.
        return Err(FaultError::new("2500", "Invalid Reference Id", format!("Invalid Reference Id : {item_path}")).on(item_path));
    }
    if let Some(account) = item.get("IncomeAccountRef") {
        detail.insert("ItemAccountRef".into(), account.clone());
    }
    if detail.get("UnitPrice").is_none_or(Value::is_null)
        && let Some(price) = item.get("UnitPrice")
    {
        detail.insert("UnitPrice".into(), price.clone());
    }
    let (qty, price) = (number(detail.get("Qty")), number(detail.get("UnitPrice")));
    let computed = match (qty, price) {
        (Some(qty), Some(price)) => Some(round2(qty * price)),
        _ => None,
    };
    let amount = match (given, computed) {
        (Some(given), Some(computed)) if (given - computed).abs() > 0.005 => {
            // As quoted from Intuit's answer in intuit/QuickBooks-V3-PHP-SDK #445: the element is
            // `Line.Amount` whichever line it is.
            return Err(FaultError::new(
                "6070",
                "Amount calculation incorrect in the request.",
                format!("Amount is not equal to UnitPrice * Qty. Supplied value:{given}"),
            )
            .on("Line.Amount"));
        }
        (Some(given), _) => given,
        (None, Some(computed)) => computed,
        (None, None) => 0.0,
    };
    line.insert("Amount".into(), json!(amount));
    Ok(amount)
}

fn next_doc_number(company: &Company, entity: &str) -> String {
    let highest = company.of(entity).iter().filter_map(|r| r.get("DocNumber").and_then(Value::as_str)?.parse::<u64>().ok()).max();
    (highest.unwrap_or(1000) + 1).to_string()
}
