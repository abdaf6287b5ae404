//! The rules of name-list records beyond the catalogue (notes §3, §9; Intuit's Finance.xsd notes):
//! Customer's DisplayName made from the name parts when omitted; an Item's account refs, what each
//! Type requires, its place under a Category (`SubItem` + `ParentRef`) with `FullyQualifiedName`
//! and `Level`; a Term's Type. Names are unique per entity, compared without case (6240).

use serde_json::{Map, Value, json};

use super::company::{Company, id_of};
use super::entities::Entity;
use super::envelope::FaultError;
use super::refs;

fn required(name: &str) -> FaultError {
    FaultError::new(
        "2020",
        "Required param missing, need to supply the required value for the API",
        format!("Required parameter {name} is missing in the request"),
    )
    .on(name.to_string())
}

fn text<'r>(record: &'r Map<String, Value>, field: &str) -> &'r str {
    record.get(field).and_then(Value::as_str).unwrap_or_default()
}

pub fn apply(company: &Company, entity: &Entity, record: &mut Map<String, Value>) -> Result<(), FaultError> {
    match entity.name {
        "Customer" => customer(record)?,
        "Item" => item(company, record)?,
        "Term" => {
            let kind = if record.get("DueDays").is_some_and(|v| !v.is_null()) { "Standard" } else { "DateDriven" };
            record.insert("Type".into(), json!(kind));
        }
        "PaymentMethod" => {
            record.entry("Type").or_insert(json!("NON_CREDIT_CARD"));
        }
        "Attachable" => attachable(company, record)?,
        _ => {}
    }
    if entity.name_list {
        record.entry("Active").or_insert(json!(true));
    }
    if let Some(field) = entity.unique_name {
        let name = text(record, field).to_lowercase();
        let id = id_of(record).unwrap_or_default();
        if company.of(entity.name).iter().any(|other| id_of(other) != Some(id) && text(other, field).to_lowercase() == name) {
            // VCR error/validation.yml: no `element` in Intuit's answer; ours is "" as elsewhere.
            return Err(FaultError::new("6240", "Duplicate Name Exists Error", "The name supplied already exists. : null"));
        }
    }
    Ok(())
}

fn customer(record: &mut Map<String, Value>) -> Result<(), FaultError> {
    if text(record, "DisplayName").is_empty() {
        let parts: Vec<&str> =
            ["Title", "GivenName", "MiddleName", "FamilyName", "Suffix"].iter().map(|f| text(record, f)).filter(|p| !p.is_empty()).collect();
        let name = if parts.is_empty() { text(record, "CompanyName").to_string() } else { parts.join(" ") };
        if name.is_empty() {
            return Err(required("DisplayName"));
        }
        record.insert("DisplayName".into(), json!(name));
    }
    let display = record["DisplayName"].clone();
    record.insert("FullyQualifiedName".into(), display.clone());
    record.entry("PrintOnCheckName").or_insert(display);
    for (field, default) in [("Balance", json!(0)), ("BalanceWithJobs", json!(0)), ("Job", json!(false)), ("BillWithParent", json!(false))] {
        record.entry(field).or_insert(default);
    }
    Ok(())
}

fn item(company: &Company, record: &mut Map<String, Value>) -> Result<(), FaultError> {
    let kind = text(record, "Type").to_string();
    let needs: &[&str] = match kind.as_str() {
        "Service" | "NonInventory" => &["IncomeAccountRef"],
        "Inventory" => &["IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef", "QtyOnHand", "InvStartDate"],
        _ => &[],
    };
    if let Some(missing) = needs.iter().find(|f| record.get(**f).is_none_or(Value::is_null)) {
        return Err(required(missing));
    }
    if kind == "Inventory" {
        record.insert("TrackQtyOnHand".into(), json!(true));
    }
    for field in ["IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"] {
        refs::fill(company, record, field, "Account", Some("Name"), field)?;
    }
    let name = text(record, "Name").to_string();
    let sub_item = record.get("SubItem") == Some(&Value::Bool(true));
    let parent = if sub_item {
        if record.get("ParentRef").is_none_or(Value::is_null) {
            return Err(required("ParentRef"));
        }
        refs::fill(company, record, "ParentRef", "Item", Some("Name"), "ParentRef")?
    } else {
        record.remove("ParentRef");
        None
    };
    match parent {
        // Sellable items are leaves: only a Category takes children (item-hierarchies-using-categories).
        Some(parent) if text(&parent, "Type") != "Category" => {
            return Err(FaultError::new(
                "6000",
                "A business validation error has occurred while processing your request",
                "Business Validation Error: The parent of an item must be a category.",
            )
            .on("ParentRef"));
        }
        Some(parent) => {
            let level = parent.get("Level").and_then(Value::as_i64).unwrap_or_default() + 1;
            record.insert("FullyQualifiedName".into(), json!(format!("{}:{name}", text(&parent, "FullyQualifiedName"))));
            record.insert("Level".into(), json!(level));
        }
        None => {
            record.insert("FullyQualifiedName".into(), json!(name));
            record.insert("SubItem".into(), json!(false));
            record.insert("Level".into(), json!(0));
        }
    }
    Ok(())
}

/// What an Attachable is attached to must exist (VCR attachment/error_estimate.yml: 6000).
fn attachable(company: &Company, record: &Map<String, Value>) -> Result<(), FaultError> {
    for reference in record.get("AttachableRef").and_then(Value::as_array).into_iter().flatten() {
        let (kind, id) =
            (reference.pointer("/EntityRef/type").and_then(Value::as_str), reference.pointer("/EntityRef/value").and_then(Value::as_str));
        let (Some(kind), Some(id)) = (kind, id) else { continue };
        if company.find(kind, id).is_none() {
            return Err(FaultError::new(
                "6000",
                "A business validation error has occurred while processing your request",
                format!("Business Validation Error: The entity {kind} {id} that you are trying to link does not exist. {kind} {id}"),
            ));
        }
    }
    Ok(())
}
