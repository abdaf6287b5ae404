//! Invoices and credit notes as Xero builds them from a valid request: the contact found (or
//! created from a Name alone), every line checked against the organisation's items, accounts and
//! tax rates, amounts computed (LineAmount, TaxAmount, SubTotal, TotalTax, Total, AmountDue or
//! RemainingCredit), dates in Xero's form, ids and numbers assigned.
//!
//! Messages confirmed in Xero's own material: "Invoice # must be unique." (xero_accounting.yaml,
//! createInvoices 400), "The Contact must contain at least 1 of the following elements…"
//! (same file), "The TaxType code … does not exist or cannot be used for this type of
//! transaction." (XeroAPI/Xero-Java #336), "Account code '…' is not a valid code for this
//! document." and "Item code '…' is not valid." (seen in Xero answers; developer.xero.com is not
//! reachable from here to confirm). The others are the sandbox's wording of Xero's documented rules.

use serde_json::{Map, Value, json};

use super::envelope::{date_string, parse_date, xero_date};
use super::tenants::Books;

type Record = Map<String, Value>;

/// What differs between the two documents.
pub struct Document {
    pub entity: &'static str,
    pub key: &'static str,
    pub number: &'static str,
    /// Generated numbers: `INV-0001`, `CN-0001`.
    pub prefix: &'static str,
    /// The sales type, whose numbers Xero keeps unique (`ACCREC`).
    pub receivable: &'static str,
    pub noun: &'static str,
}

pub const INVOICES: Document =
    Document { entity: "Invoices", key: "InvoiceID", number: "InvoiceNumber", prefix: "INV", receivable: "ACCREC", noun: "invoice" };
pub const CREDIT_NOTES: Document = Document {
    entity: "CreditNotes",
    key: "CreditNoteID",
    number: "CreditNoteNumber",
    prefix: "CN",
    receivable: "ACCRECCREDIT",
    noun: "credit note",
};

/// Builds the stored record from `element` (merged over `existing` for an update) into `books`.
/// `Err`: the element's ValidationErrors; `books` is then unchanged.
pub fn build(
    doc: &Document,
    books: &mut Books,
    element: &Map<String, Value>,
    existing: Option<&Map<String, Value>>,
    now_ms: i64,
) -> Result<Map<String, Value>, Vec<String>> {
    let mut record = existing.cloned().unwrap_or_default();
    for (name, value) in element {
        record.insert(name.clone(), value.clone());
    }
    let mut errors = Vec::new();
    let text = |record: &Map<String, Value>, name: &str| record.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    // Paid, voided and deleted documents are final (Xero's answer to a change of one).
    if let Some(before) = existing
        && matches!(text(before, "Status").as_str(), "PAID" | "VOIDED" | "DELETED")
    {
        let noun = if doc.entity == INVOICES.entity { "Invoice" } else { "Credit note" };
        return Err(vec![format!("{noun} not of valid status for modification")]);
    }
    let kind = text(&record, "Type");
    let status = match text(&record, "Status") {
        s if s.is_empty() => "DRAFT".to_string(),
        s => s,
    };
    if existing.is_none() && !matches!(status.as_str(), "DRAFT" | "SUBMITTED" | "AUTHORISED") {
        errors.push(format!("A new {} can only be DRAFT, SUBMITTED or AUTHORISED, not {status}.", doc.noun));
    }
    if doc.entity == INVOICES.entity && matches!(status.as_str(), "SUBMITTED" | "AUTHORISED") && record.get("DueDate").is_none_or(Value::is_null) {
        errors.push("Due Date is required for a SUBMITTED or AUTHORISED invoice.".into());
    }
    let own_id = text(&record, doc.key);
    let number = text(&record, doc.number);
    if kind == doc.receivable && doc.entity == INVOICES.entity && !number.is_empty() {
        let taken =
            books.of(doc.entity).iter().any(|r| r.get(doc.number).and_then(Value::as_str) == Some(number.as_str()) && text(r, doc.key) != own_id);
        if taken {
            errors.push("Invoice # must be unique.".into());
        }
    }
    let contact = match record.get("Contact").and_then(Value::as_object) {
        Some(given) => match resolve_contact(books, given, &kind, now_ms) {
            Ok(contact) => Some(contact),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    let amounts = lines(books, &mut record, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let (sub_total, total_tax) = amounts;
    let total = round2(sub_total + total_tax);
    if let Some((summary, new_contact)) = contact {
        record.insert("Contact".into(), Value::Object(summary));
        if let Some(new_contact) = new_contact {
            books.of_mut("Contacts").push(new_contact);
        }
    }
    if own_id.is_empty() {
        record.insert(doc.key.into(), Value::String(crate::random::new_guid()));
    }
    if number.is_empty() && (kind == doc.receivable || doc.entity == CREDIT_NOTES.entity) {
        record.insert(doc.number.into(), Value::String(books.next_number(doc.entity, doc.prefix, doc.number)));
    }
    record.insert("Status".into(), Value::String(status));
    record.entry("LineAmountTypes").or_insert(json!("Exclusive"));
    let today = now_ms - now_ms.rem_euclid(86_400_000);
    let date = record.get("Date").and_then(Value::as_str).and_then(parse_date).unwrap_or(today);
    set_date(&mut record, "Date", Some(date));
    let due = record.get("DueDate").and_then(Value::as_str).and_then(parse_date);
    set_date(&mut record, "DueDate", due);
    record.insert("SubTotal".into(), json!(sub_total));
    record.insert("TotalTax".into(), json!(total_tax));
    record.insert("Total".into(), json!(total));
    if doc.entity == INVOICES.entity {
        let paid = record.get("AmountPaid").and_then(Value::as_f64).unwrap_or(0.0);
        record.insert("AmountDue".into(), json!(round2(total - paid)));
        record.insert("AmountPaid".into(), json!(paid));
        record.entry("AmountCredited").or_insert(json!(0));
    } else {
        record.insert("RemainingCredit".into(), json!(total));
    }
    record.entry("CurrencyCode").or_insert(json!("EUR"));
    record.entry("CurrencyRate").or_insert(json!(1));
    record.entry("HasAttachments").or_insert(json!(false));
    record.insert("UpdatedDateUTC".into(), Value::String(xero_date(now_ms)));
    Ok(record)
}

/// `Date` as `/Date(ms+0000)/` plus `DateString`; a missing `DueDate` stays missing.
fn set_date(record: &mut Map<String, Value>, field: &str, ms: Option<i64>) {
    match ms {
        Some(ms) => {
            record.insert(field.into(), Value::String(xero_date(ms)));
            record.insert(format!("{field}String"), Value::String(date_string(ms)));
        }
        None => {
            record.remove(field);
        }
    }
}

/// To cents, halves away from zero. The nudge keeps a binary near-half (14.595 is stored as
/// 14.59499…) rounding as the decimal amount does.
pub fn round2(amount: f64) -> f64 {
    let cents = amount * 100.0;
    (cents + cents.signum() * 1e-6).round() / 100.0
}

/// Checks and computes every line; the document's (SubTotal, TotalTax).
fn lines(books: &Books, record: &mut Map<String, Value>, errors: &mut Vec<String>) -> (f64, f64) {
    let mode = record.get("LineAmountTypes").and_then(Value::as_str).unwrap_or("Exclusive").to_string();
    let Some(Value::Array(lines)) = record.get_mut("LineItems") else {
        return (0.0, 0.0);
    };
    let exists = |entity: &str, field: &str, value: &str| books.of(entity).iter().any(|r| r.get(field).and_then(Value::as_str) == Some(value));
    let (mut sub_total, mut total_tax) = (0.0, 0.0);
    for line in lines.iter_mut().filter_map(Value::as_object_mut) {
        let text = |name: &str| line.get(name).and_then(Value::as_str).map(str::to_string);
        let item_code = text("ItemCode");
        if let Some(code) = &item_code
            && !exists("Items", "Code", code)
        {
            errors.push(format!("Item code '{code}' is not valid."));
        }
        if text("Description").is_some_and(|d| d.trim().is_empty()) {
            errors.push("Description must be at least 1 character long.".into());
        }
        if let Some(code) = text("AccountCode")
            && !exists("Accounts", "Code", &code)
        {
            errors.push(format!("Account code '{code}' is not a valid code for this document."));
        }
        let tax_type = text("TaxType");
        let rate = match &tax_type {
            Some(tax_type) => match books.of("TaxRates").iter().find(|r| r.get("TaxType").and_then(Value::as_str) == Some(tax_type.as_str())) {
                Some(rate) => rate.get("EffectiveRate").and_then(Value::as_f64).unwrap_or(0.0) / 100.0,
                None => {
                    errors.push(format!("The TaxType code {tax_type} does not exist or cannot be used for this type of transaction."));
                    0.0
                }
            },
            None => 0.0,
        };
        let number = |name: &str| line.get(name).and_then(Value::as_f64);
        let (quantity, unit, discount) = (number("Quantity"), number("UnitAmount"), number("DiscountRate").unwrap_or(0.0));
        let computed = match (quantity, unit) {
            (Some(q), Some(u)) => Some(round2(q * u * (1.0 - discount / 100.0))),
            _ => None,
        };
        let line_amount = match (number("LineAmount"), computed) {
            (Some(given), Some(computed)) if (given - computed).abs() > 0.005 => {
                errors.push(format!("The LineAmount {given} does not equal Quantity × UnitAmount less discount ({computed})."));
                given
            }
            (Some(given), _) => given,
            (None, Some(computed)) => computed,
            (None, None) => 0.0,
        };
        let tax = match number("TaxAmount") {
            Some(given) => given,
            None => match mode.as_str() {
                "NoTax" => 0.0,
                "Inclusive" => round2(line_amount - line_amount / (1.0 + rate)),
                _ => round2(line_amount * rate),
            },
        };
        sub_total += if mode == "Inclusive" { line_amount - tax } else { line_amount };
        total_tax += tax;
        line.insert("LineAmount".into(), json!(line_amount));
        line.insert("TaxAmount".into(), json!(tax));
        if let Some(quantity) = quantity {
            line.insert("Quantity".into(), json!(quantity));
        }
        line.entry("LineItemID").or_insert_with(|| Value::String(crate::random::new_guid()));
        line.entry("Tracking").or_insert(json!([]));
    }
    (round2(sub_total), round2(total_tax))
}

/// The contact a document names: by ContactID, else ContactNumber, else Name; a Name that is not
/// found creates a contact, as Xero does. `Ok((summary, new contact to store))`.
fn resolve_contact(books: &Books, given: &Map<String, Value>, kind: &str, now_ms: i64) -> Result<(Record, Option<Record>), String> {
    let text = |name: &str| given.get(name).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
    let contacts = books.of("Contacts");
    let found = if let Some(id) = text("ContactID") {
        Some(
            contacts
                .iter()
                .find(|c| c.get("ContactID").and_then(Value::as_str).is_some_and(|c| c.eq_ignore_ascii_case(id)))
                .ok_or(format!("Contact with ContactID {id} does not exist."))?,
        )
    } else if let Some(number) = text("ContactNumber") {
        match contacts.iter().find(|c| c.get("ContactNumber").and_then(Value::as_str) == Some(number)) {
            Some(contact) => Some(contact),
            None if text("Name").is_none() => return Err(format!("Contact with ContactNumber {number} does not exist.")),
            None => by_name(contacts, text("Name")),
        }
    } else if text("Name").is_some() {
        by_name(contacts, text("Name"))
    } else {
        return Err("The Contact must contain at least 1 of the following elements to identify the contact: Name, ContactID, ContactNumber".into());
    };
    if let Some(contact) = found {
        return Ok((summary(contact), None));
    }
    let mut contact = Map::new();
    contact.insert("ContactID".into(), Value::String(crate::random::new_guid()));
    if let Some(number) = text("ContactNumber") {
        contact.insert("ContactNumber".into(), json!(number));
    }
    contact.insert("ContactStatus".into(), json!("ACTIVE"));
    contact.insert("Name".into(), json!(text("Name").unwrap_or_default()));
    contact.insert("IsSupplier".into(), json!(kind.starts_with("ACCPAY")));
    contact.insert("IsCustomer".into(), json!(kind.starts_with("ACCREC")));
    contact.insert("UpdatedDateUTC".into(), Value::String(xero_date(now_ms)));
    contact.insert("ContactGroups".into(), json!([]));
    contact.insert("HasAttachments".into(), json!(false));
    contact.insert("HasValidationErrors".into(), json!(false));
    Ok((summary(&contact), Some(contact)))
}

fn by_name<'c>(contacts: &'c [Map<String, Value>], name: Option<&str>) -> Option<&'c Map<String, Value>> {
    let name = name?;
    contacts.iter().find(|c| {
        c.get("ContactStatus").and_then(Value::as_str) != Some("ARCHIVED")
            && c.get("Name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

fn summary(contact: &Map<String, Value>) -> Map<String, Value> {
    ["ContactID", "ContactNumber", "Name"].iter().filter_map(|f| contact.get(*f).map(|v| (f.to_string(), v.clone()))).collect()
}
