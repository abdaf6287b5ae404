//! Exact's business checks on a new record, with its Dutch messages: `Verplicht: …` for a missing
//! field (400) and `Ongeldige referentie: …` / `Ongeldig: …` for a bad reference (500). All
//! problems are reported at once, joined with CRLF, as Exact does.

use serde_json::Value;

use super::store::{Record, Store};

/// A required field and, when it refers to another entity, that entity.
struct Field {
    name: &'static str,
    label: &'static str,
    refers_to: Option<Reference>,
}

/// What a field's value must name: a record of `entity`, found by its key or by `by`, that
/// `accepts` (a supplier account, a purchase journal).
#[derive(Clone, Copy)]
struct Reference {
    entity: &'static str,
    by: Option<&'static str>,
    accepts: Option<fn(&Record) -> bool>,
    /// The label of Exact's refusal when it is not the field's own (`Ongeldige referentie: Journals`).
    label: Option<&'static str>,
}

const fn to(entity: &'static str) -> Option<Reference> {
    Some(Reference { entity, by: None, accepts: None, label: None })
}

const fn required(name: &'static str, label: &'static str, refers_to: Option<Reference>) -> Field {
    Field { name, label, refers_to }
}

const ACCOUNTS: Option<Reference> = to("crm/Accounts");
const ITEMS: Option<Reference> = to("logistics/Items");
const GL_ACCOUNTS: Option<Reference> = to("financial/GLAccounts");
const WAREHOUSES: Option<Reference> = to("inventory/Warehouses");
/// A line's cost centre is its code (an Edm.String in Exact's metadata, where references by ID are Edm.Guid).
const COST_CENTRES: Option<Reference> = Some(Reference { entity: "hrm/Costcenters", by: Some("Code"), accepts: None, label: None });
/// An account marked as a supplier: Exact finds no supplier by a customer's ID.
const SUPPLIERS: Option<Reference> = Some(Reference { entity: "crm/Accounts", by: None, accepts: Some(is_supplier), label: None });
/// A purchase journal (type 22) by its code; Exact names the refusal after the entity set (#31).
const PURCHASE_JOURNALS: Option<Reference> =
    Some(Reference { entity: "financial/Journals", by: Some("Code"), accepts: Some(is_purchase_journal), label: Some("Journals") });

/// A document type that documents can be made of (documents/DocumentTypes DocumentIsCreatable).
const CREATABLE_DOCUMENT_TYPES: Option<Reference> =
    Some(Reference { entity: "documents/DocumentTypes", by: None, accepts: Some(is_creatable), label: None });

fn is_creatable(document_type: &Record) -> bool {
    document_type.get("DocumentIsCreatable") == Some(&Value::Bool(true))
}

fn is_supplier(account: &Record) -> bool {
    account.get("IsSupplier") == Some(&Value::Bool(true))
}

fn is_purchase_journal(journal: &Record) -> bool {
    journal.get("Type").and_then(Value::as_i64) == Some(22)
}

struct Rules {
    entity: &'static str,
    header: &'static [Field],
    /// Optional references: checked only when sent.
    references: &'static [Field],
    /// The line collection, the label used when it is missing or empty (`None`: lines optional),
    /// and the line's required fields.
    lines: Option<(&'static str, Option<&'static str>, &'static [Field])>,
}

const RULES: &[Rules] = &[
    Rules {
        entity: "salesorder/SalesOrders",
        header: &[required("OrderedBy", "Besteld door", ACCOUNTS)],
        references: &[
            required("DeliverTo", "Afleveren aan", ACCOUNTS),
            required("InvoiceTo", "Factuur voor", ACCOUNTS),
            required("WarehouseID", "Magazijn", WAREHOUSES),
        ],
        lines: Some(("SalesOrderLines", Some("Orderregels"), &[required("Item", "Artikel", ITEMS)])),
    },
    Rules {
        entity: "salesinvoice/SalesInvoices",
        header: &[required("OrderedBy", "Besteld door", ACCOUNTS), required("Journal", "Dagboek", None)],
        references: &[
            required("DeliverTo", "Afleveren aan", ACCOUNTS),
            required("InvoiceTo", "Factuur voor", ACCOUNTS),
            required("Warehouse", "Magazijn", WAREHOUSES),
        ],
        lines: Some(("SalesInvoiceLines", None, &[])),
    },
    Rules {
        entity: "salesentry/SalesEntries",
        header: &[required("Customer", "Klant", ACCOUNTS), required("Journal", "Dagboek", None)],
        references: &[],
        lines: Some(("SalesEntryLines", Some("Boekingsregels"), &[required("GLAccount", "Grootboekrekening", GL_ACCOUNTS)])),
    },
    // Purchasing: the catalogue's required fields (picqer's and Exact's SDK models) and the
    // quantity Exact takes on a purchase order line (QuantityInPurchaseUnits; Quantity is derived).
    Rules {
        entity: "purchaseorder/PurchaseOrders",
        header: &[required("Supplier", "Leverancier", SUPPLIERS)],
        references: &[required("Warehouse", "Magazijn", WAREHOUSES)],
        lines: Some((
            "PurchaseOrderLines",
            Some("Orderregels"),
            &[required("Item", "Artikel", ITEMS), required("QuantityInPurchaseUnits", "Aantal", None)],
        )),
    },
    Rules {
        entity: "purchaseentry/PurchaseEntries",
        header: &[required("Supplier", "Leverancier", SUPPLIERS), required("Journal", "Dagboek", PURCHASE_JOURNALS)],
        references: &[],
        lines: Some((
            "PurchaseEntryLines",
            Some("Boekingsregels"),
            &[required("GLAccount", "Grootboekrekening", GL_ACCOUNTS), required("AmountFC", "Bedrag", None)],
        )),
    },
    // A document needs a subject and a type that exists and takes new documents (DocumentIsCreatable).
    Rules {
        entity: "documents/Documents",
        header: &[required("Subject", "Onderwerp", None), required("Type", "Soort", CREATABLE_DOCUMENT_TYPES)],
        references: &[required("Account", "Relatie", ACCOUNTS)],
        lines: None,
    },
    Rules { entity: "crm/Accounts", header: &[required("Name", "Naam", None)], references: &[], lines: None },
    Rules {
        entity: "crm/Contacts",
        header: &[required("Account", "Relatie", ACCOUNTS), required("LastName", "Achternaam", None)],
        references: &[],
        lines: None,
    },
    Rules {
        entity: "logistics/Items",
        header: &[required("Code", "Code", None), required("Description", "Omschrijving", None)],
        references: &[required("ItemGroup", "Artikelgroep", to("logistics/ItemGroups"))],
        lines: None,
    },
];

/// Line references that are optional but must exist when sent (invoice lines may omit the item).
const OPTIONAL_LINE_REFERENCES: &[Field] = &[
    required("Item", "Artikel", ITEMS),
    required("GLAccount", "Grootboekrekening", GL_ACCOUNTS),
    required("CostCenter", "Kostenplaats", COST_CENTRES),
];

/// GL account types an entry line cannot book on: receivables, payables, VAT.
const NOT_REVENUE_TYPES: &[i64] = &[20, 22, 24];

#[derive(Default, Debug, PartialEq, Eq)]
pub struct Problems {
    pub messages: Vec<String>,
    /// A bad reference: Exact answers 500 for these, 400 for missing fields only.
    pub server_error: bool,
}

impl Problems {
    fn missing(&mut self, label: &str) {
        self.add(format!("Verplicht: {label}"));
    }

    fn invalid_reference(&mut self, label: &str) {
        self.server_error = true;
        self.add(format!("Ongeldige referentie: {label}"));
    }

    fn invalid(&mut self, label: &str) {
        self.server_error = true;
        self.add(format!("Ongeldig: {label}"));
    }

    fn add(&mut self, message: String) {
        if !self.messages.contains(&message) {
            self.messages.push(message);
        }
    }
}

/// Checks a new record of `entity` (`service/Entity` in catalogue casing).
pub fn check_new(store: &Store, entity: &str, record: &Record) -> Problems {
    let mut problems = Problems::default();
    let Some(rules) = RULES.iter().find(|r| r.entity.eq_ignore_ascii_case(entity)) else {
        return problems;
    };
    for field in rules.header {
        check_field(store, record, field, true, &mut problems);
    }
    for field in rules.references {
        check_field(store, record, field, false, &mut problems);
    }
    // A journal is a code ("70"); a GUID there is Exact's classic mistake (#31).
    if record.get("Journal").and_then(Value::as_str).is_some_and(crate::random::is_guid) {
        problems.invalid_reference("Journals");
    }
    if let Some((property, label, line_fields)) = rules.lines {
        let lines = record.get(property).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if let (true, Some(label)) = (lines.is_empty(), label) {
            problems.missing(label);
        }
        for line in lines.iter().filter_map(Value::as_object) {
            for field in line_fields {
                check_field(store, line, field, true, &mut problems);
            }
            for field in OPTIONAL_LINE_REFERENCES {
                check_field(store, line, field, false, &mut problems);
            }
            check_account_type(store, line, &mut problems);
        }
    }
    problems
}

fn check_field(store: &Store, record: &Record, field: &Field, is_required: bool, problems: &mut Problems) {
    match record.get(field.name).filter(|v| !is_blank(v)) {
        None if is_required => problems.missing(field.label),
        None => {}
        Some(value) => {
            // A reference is a GUID or code (text), or a number (a document type).
            let key = value.as_str().map(str::to_string).or_else(|| value.as_i64().map(|n| n.to_string()));
            if let Some(reference) = field.refers_to
                && !key.is_some_and(|key| refers(store, &reference, &key))
            {
                problems.invalid_reference(reference.label.unwrap_or(field.label));
            }
        }
    }
}

/// Whether `key` names a record of the reference's entity that it accepts.
fn refers(store: &Store, reference: &Reference, key: &str) -> bool {
    let Some(entity) = store.by_path(reference.entity) else { return false };
    let found = match reference.by {
        None => entity.get(key),
        Some(field) => entity.records.iter().find(|r| r.get(field).and_then(Value::as_str).map(str::trim) == Some(key.trim())),
    };
    found.is_some_and(|record| reference.accepts.is_none_or(|accepts| accepts(record)))
}

/// Entry lines book revenue or costs: an AR, AP or VAT account is refused (#121).
fn check_account_type(store: &Store, line: &Record, problems: &mut Problems) {
    let account = line.get("GLAccount").and_then(Value::as_str).and_then(|key| store.by_path("financial/GLAccounts")?.get(key));
    if let Some(kind) = account.and_then(|a| a.get("Type")).and_then(Value::as_i64)
        && NOT_REVENUE_TYPES.contains(&kind)
    {
        problems.invalid("Grootboekrekeningtype");
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> Store {
        let mut store = Store::new();
        store.seed("crm", "Accounts", vec![json!({"ID": "5df0d39f-7524-4add-9413-788062e10fbe", "Name": "Lune"})]).unwrap();
        store.seed("logistics", "Items", vec![json!({"ID": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1", "Code": "TSH"})]).unwrap();
        store.seed("financial", "GLAccounts", vec![json!({"ID": "5f82d570-02fd-4a4e-ab19-b91ba371cb55", "Type": 20})]).unwrap();
        store.seed("crm", "Accounts", vec![json!({"ID": SUPPLIER, "Name": "Twente", "IsSupplier": true})]).unwrap();
        store.seed("financial", "Journals", vec![json!({"Code": "60", "Type": 22}), json!({"Code": "70", "Type": 20})]).unwrap();
        store
    }

    const SUPPLIER: &str = "0b6f6f1e-3d0a-4a43-8f55-1d2f1c7a9e01";

    fn check(entity: &str, record: Value) -> Problems {
        check_new(&store(), entity, record.as_object().unwrap())
    }

    #[test]
    fn missing_fields_are_listed_together_and_are_client_errors() {
        let problems = check("salesinvoice/SalesInvoices", json!({"YourRef": "x"}));
        assert_eq!(problems, Problems { messages: vec!["Verplicht: Besteld door".into(), "Verplicht: Dagboek".into()], server_error: false });
    }

    #[test]
    fn unknown_references_are_server_errors() {
        let order =
            json!({"OrderedBy": "aad12b0b-d65d-4277-9525-c99cf4e7580c", "SalesOrderLines": [{"Item": "8445cccf-7677-4ac2-9d6d-fbd7b865add7"}]});
        let problems = check("salesorder/SalesOrders", order);
        assert!(problems.server_error);
        assert_eq!(problems.messages, vec!["Ongeldige referentie: Besteld door", "Ongeldige referentie: Artikel"]);
    }

    #[test]
    fn a_valid_order_passes() {
        let order =
            json!({"OrderedBy": "5DF0D39F-7524-4add-9413-788062e10fbe", "SalesOrderLines": [{"Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1"}]});
        assert_eq!(check("salesorder/SalesOrders", order), Problems::default());
    }

    #[test]
    fn sales_entries_refuse_journal_guids_and_receivable_accounts() {
        let entry = json!({"Customer": "5df0d39f-7524-4add-9413-788062e10fbe", "Journal": "5df0d39f-7524-4add-9413-788062e10fbe",
            "SalesEntryLines": [{"GLAccount": "5f82d570-02fd-4a4e-ab19-b91ba371cb55", "AmountFC": 1}]});
        let problems = check("salesentry/SalesEntries", entry);
        assert_eq!(problems.messages, vec!["Ongeldige referentie: Journals", "Ongeldig: Grootboekrekeningtype"]);
    }

    #[test]
    fn purchase_orders_need_a_supplier_account_and_items_with_quantities() {
        let order =
            json!({"Supplier": "5df0d39f-7524-4add-9413-788062e10fbe", "PurchaseOrderLines": [{"Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1"}]});
        let problems = check("purchaseorder/PurchaseOrders", order);
        assert_eq!(problems.messages, vec!["Ongeldige referentie: Leverancier", "Verplicht: Aantal"], "a customer is no supplier");
        assert_eq!(check("purchaseorder/PurchaseOrders", json!({})).messages, vec!["Verplicht: Leverancier", "Verplicht: Orderregels"]);
        let order =
            json!({"Supplier": SUPPLIER, "PurchaseOrderLines": [{"Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1", "QuantityInPurchaseUnits": 0}]});
        assert_eq!(check("purchaseorder/PurchaseOrders", order), Problems::default());
    }

    #[test]
    fn purchase_entries_need_a_purchase_journal_code() {
        let line = json!([{"GLAccount": "5f82d570-02fd-4a4e-ab19-b91ba371cb55", "AmountFC": 10}]);
        for journal in ["70", "61", "5df0d39f-7524-4add-9413-788062e10fbe"] {
            let entry = json!({"Supplier": SUPPLIER, "Journal": journal, "PurchaseEntryLines": line});
            assert_eq!(check("purchaseentry/PurchaseEntries", entry).messages[0], "Ongeldige referentie: Journals", "{journal}");
        }
        let entry = json!({"Supplier": SUPPLIER, "Journal": "60", "PurchaseEntryLines": [{"GLAccount": "5f82d570-02fd-4a4e-ab19-b91ba371cb55"}]});
        assert_eq!(check("purchaseentry/PurchaseEntries", entry).messages, vec!["Verplicht: Bedrag", "Ongeldig: Grootboekrekeningtype"]);
    }
}
