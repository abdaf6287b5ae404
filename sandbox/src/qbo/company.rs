//! The sandbox company's books: records by entity as QBO serves them, the deleted transactions
//! (CDC reports them), and the Id sequence. Seeded from `fixtures/qbo/{Entity}.json`, each a query
//! answer `{"QueryResponse":{"<Entity>":[…]}}` (`{Entity}.{part}.json` adds more of that entity).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde_json::{Map, Value};

/// The realm (company id) of the sandbox company, in every API path.
pub const REALM: &str = "9341453050298765";

#[derive(Default)]
pub struct Company {
    records: BTreeMap<String, Vec<Map<String, Value>>>,
    /// Deleted transactions: entity, `{"domain","status":"Deleted","Id","MetaData"}`.
    pub deleted: Vec<(String, Map<String, Value>)>,
    last_id: u64,
}

impl Company {
    pub fn of(&self, entity: &str) -> &[Map<String, Value>] {
        self.records.get(entity).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn of_mut(&mut self, entity: &str) -> &mut Vec<Map<String, Value>> {
        self.records.entry(entity.to_string()).or_default()
    }

    pub fn find(&self, entity: &str, id: &str) -> Option<&Map<String, Value>> {
        self.of(entity).iter().find(|r| id_of(r) == Some(id))
    }

    pub fn position(&self, entity: &str, id: &str) -> Option<usize> {
        self.of(entity).iter().position(|r| id_of(r) == Some(id))
    }

    /// Adds records as stored; the Id sequence moves past the largest numeric Id seen.
    pub fn seed(&mut self, entity: &str, records: Vec<Map<String, Value>>) {
        for record in &records {
            if let Some(n) = id_of(record).and_then(|id| id.parse::<u64>().ok()) {
                self.last_id = self.last_id.max(n);
            }
        }
        self.of_mut(entity).extend(records);
    }

    /// The next Id: numeric strings, one sequence for the company (ids in QBO are per company).
    pub fn next_id(&mut self) -> String {
        self.last_id += 1;
        self.last_id.to_string()
    }
}

pub fn id_of(record: &Map<String, Value>) -> Option<&str> {
    record.get("Id").and_then(Value::as_str)
}

/// `qbo/{Entity}.json` and `qbo/{Entity}.{part}.json` under the fixture folder: records by entity, files in name order.
pub fn load_fixtures(root: &Path) -> io::Result<Vec<(String, Vec<Value>)>> {
    let dir = root.join("qbo");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut out = Vec::new();
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        // `Item.older.json` holds more Items: the entity is the name up to its first dot.
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let entity = stem.split('.').next().unwrap_or_default().to_string();
        let bad = |why: String| io::Error::new(io::ErrorKind::InvalidData, format!("fixture {}: {why}", file.display()));
        let text = std::fs::read_to_string(file).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file.display())))?;
        let body: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let Some(Value::Array(records)) = body.pointer(&format!("/QueryResponse/{entity}")).cloned() else {
            return Err(bad(format!("expected a query answer {{\"QueryResponse\":{{\"{entity}\":[…]}}}}")));
        };
        out.push((entity, records));
    }
    Ok(out)
}

/// A JSON pointer into a record (`/MetaData/LastUpdatedTime`), as `Value::pointer` has it.
pub fn at<'r>(record: &'r Map<String, Value>, pointer: &str) -> Option<&'r Value> {
    let pointer = pointer.strip_prefix('/')?;
    match pointer.split_once('/') {
        Some((first, rest)) => record.get(first)?.pointer(&format!("/{rest}")),
        None => record.get(pointer),
    }
}
