//! The entities the emulator serves: their names (case-sensitive in queries, lower case in paths,
//! notes §2–§3) and what QBO lets a client do with each.

pub struct Entity {
    pub name: &'static str,
    /// Name lists (Customer, Item, Term, PaymentMethod, Account) are never deleted, only made
    /// inactive (`Active: false`), and queries leave inactive ones out unless asked (notes §2, §3).
    pub name_list: bool,
    /// Account is read here: the sandbox company's chart of accounts is fixed.
    pub writable: bool,
    /// The field unique among the entity's records (6240 Duplicate Name Exists Error).
    pub unique_name: Option<&'static str>,
}

pub const ENTITIES: &[Entity] = &[
    Entity { name: "Customer", name_list: true, writable: true, unique_name: Some("DisplayName") },
    Entity { name: "Item", name_list: true, writable: true, unique_name: Some("Name") },
    Entity { name: "Term", name_list: true, writable: true, unique_name: Some("Name") },
    Entity { name: "PaymentMethod", name_list: true, writable: true, unique_name: Some("Name") },
    Entity { name: "Account", name_list: true, writable: false, unique_name: Some("Name") },
    Entity { name: "Invoice", name_list: false, writable: true, unique_name: None },
    Entity { name: "SalesReceipt", name_list: false, writable: true, unique_name: None },
    Entity { name: "Attachable", name_list: false, writable: true, unique_name: None },
];

/// By its name as a query writes it (`Item`; `item` is not an entity there).
pub fn by_name(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name == name)
}

/// By its path segment (`item`, `salesreceipt`; Intuit's paths are lower case).
pub fn by_path(segment: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name.eq_ignore_ascii_case(segment))
}
