//! The accounting endpoints the emulator serves, with the fields that name a record.

pub struct Entity {
    pub name: &'static str,
    /// The singular, as Xero names the type in query errors.
    pub singular: &'static str,
    /// The id a record is fetched and updated by.
    pub key: &'static str,
    /// The other field `GET /{Entity}/{x}` finds a record by (`InvoiceNumber`, an item's `Code`).
    pub alternate: Option<&'static str>,
    /// The list parameter of those (`InvoiceNumbers`).
    pub alternates_param: Option<&'static str>,
    /// PUT and POST are served (Accounts and TaxRates are master data the sandbox is seeded with).
    pub writable: bool,
}

pub const ENTITIES: &[Entity] = &[
    Entity {
        name: "Invoices",
        singular: "Invoice",
        key: "InvoiceID",
        alternate: Some("InvoiceNumber"),
        alternates_param: Some("InvoiceNumbers"),
        writable: true,
    },
    Entity {
        name: "CreditNotes",
        singular: "CreditNote",
        key: "CreditNoteID",
        alternate: Some("CreditNoteNumber"),
        alternates_param: Some("CreditNoteNumbers"),
        writable: true,
    },
    Entity { name: "Contacts", singular: "Contact", key: "ContactID", alternate: Some("ContactNumber"), alternates_param: None, writable: true },
    Entity { name: "Items", singular: "Item", key: "ItemID", alternate: Some("Code"), alternates_param: None, writable: true },
    Entity { name: "Accounts", singular: "Account", key: "AccountID", alternate: Some("Code"), alternates_param: None, writable: false },
    Entity { name: "TaxRates", singular: "TaxRate", key: "TaxType", alternate: None, alternates_param: None, writable: false },
];

/// Xero's paths are not case-sensitive (`/invoices` is `/Invoices`).
pub fn find(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name.eq_ignore_ascii_case(name))
}
