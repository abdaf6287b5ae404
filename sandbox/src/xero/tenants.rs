//! The organisations the sandbox user can connect: each a Xero tenant with its own books. The
//! fixtures are Acme Fashion (NL)'s; Demo Company (Global) starts empty, so a flow that picks the
//! wrong tenant finds nothing instead of the right data.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub const ACME: &str = "Acme Fashion (NL)";
pub const DEMO: &str = "Demo Company (Global)";

pub struct Tenant {
    pub id: &'static str,
    pub name: &'static str,
    /// The connection of this tenant to the sandbox app (`GET /connections` → `id`).
    pub connection_id: &'static str,
    /// Connected at the last consent, until `DELETE /connections/{id}`.
    pub connected: bool,
    pub auth_event_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub books: Books,
}

/// One organisation's records by entity, in the form Xero serves them.
#[derive(Clone, Default)]
pub struct Books {
    pub records: BTreeMap<String, Vec<Map<String, Value>>>,
    /// The last number Xero generated per entity (`INV-0001`, `CN-0001`).
    pub numbers: BTreeMap<String, u32>,
}

impl Books {
    pub fn of(&self, entity: &str) -> &[Map<String, Value>] {
        self.records.get(entity).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn of_mut(&mut self, entity: &str) -> &mut Vec<Map<String, Value>> {
        self.records.entry(entity.to_string()).or_default()
    }

    /// The next generated document number: `INV-0001` for invoices, `CN-0001` for credit notes.
    pub fn next_number(&mut self, entity: &str, prefix: &str, field: &str) -> String {
        let taken: Vec<String> = self.of(entity).iter().filter_map(|r| r.get(field).and_then(Value::as_str)).map(str::to_string).collect();
        let counter = self.numbers.entry(entity.to_string()).or_default();
        loop {
            *counter += 1;
            let number = format!("{prefix}-{:04}", *counter);
            if !taken.contains(&number) {
                return number;
            }
        }
    }
}

/// The two tenants, with fixed ids so that settings and tests can name them.
pub fn tenants(now_ms: i64) -> Vec<Tenant> {
    let tenant = |id, name, connection_id| Tenant {
        id,
        name,
        connection_id,
        connected: false,
        auth_event_id: crate::random::new_guid(),
        created_ms: now_ms,
        updated_ms: now_ms,
        books: Books::default(),
    };
    vec![
        tenant("4d7a1f0e-2b3c-4e5f-8a9b-0c1d2e3f4a5b", ACME, "b1f0e6a2-7c3d-4e8f-9a0b-1c2d3e4f5a6b"),
        tenant("9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", DEMO, "c2a1f7b3-8d4e-4f9a-8b1c-2d3e4f5a6b7c"),
    ]
}

/// A tenant named by its id or its name (the control API and `Sandbox` methods take either).
pub fn find<'t>(tenants: &'t mut [Tenant], id_or_name: &str) -> Option<&'t mut Tenant> {
    tenants.iter_mut().find(|t| t.id.eq_ignore_ascii_case(id_or_name) || t.name == id_or_name)
}
