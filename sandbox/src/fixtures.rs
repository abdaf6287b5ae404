//! Reads the fixture folder: `exact/{service}_{Entity}.json` (OData list answers) and
//! `lnb/{orders,invoices}.json` (bare arrays) and `xero/{Entity}.json` (Xero list answers). A
//! broken file stops the start with its name.

use std::io;
use std::path::Path;

use serde_json::Value;

use crate::exact::store::Store;

pub struct LnbData {
    pub orders: Vec<Value>,
    pub invoices: Vec<Value>,
}

pub fn load_exact(root: &Path, store: &mut Store) -> io::Result<()> {
    let dir = root.join("exact");
    if !dir.is_dir() {
        return Ok(());
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    // Sorted, so seed order (and with it paging) is the same on every machine.
    files.sort();
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        // The first `_` separates service and entity: crm_Accounts → crm/Accounts.
        let Some((service, entity)) = stem.split_once('_') else {
            return Err(bad(file, "name it {service}_{Entity}.json"));
        };
        let body = read_json(file)?;
        let Some(Value::Array(records)) = body.pointer("/d/results").cloned() else {
            return Err(bad(file, "expected an OData list answer {\"d\":{\"results\":[…]}}"));
        };
        store.seed(service, entity, records).map_err(|e| bad(file, &e))?;
    }
    Ok(())
}

pub fn load_lnb(root: &Path) -> io::Result<LnbData> {
    let list = |name: &str| -> io::Result<Vec<Value>> {
        let file = root.join("lnb").join(name);
        if !file.is_file() {
            return Ok(Vec::new());
        }
        match read_json(&file)? {
            Value::Array(records) => Ok(records),
            _ => Err(bad(&file, "expected a JSON array")),
        }
    };
    Ok(LnbData { orders: list("orders.json")?, invoices: list("invoices.json")? })
}

/// `xero/{Entity}.json`, each a Xero list answer `{"Id",…,"{Entity}":[…]}`: the records by entity.
pub fn load_xero(root: &Path) -> io::Result<Vec<(String, Vec<Value>)>> {
    let dir = root.join("xero");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut out = Vec::new();
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let entity = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let Some(Value::Array(records)) = read_json(file)?.get(&entity).cloned() else {
            return Err(bad(file, &format!("expected a Xero list answer {{\"{entity}\":[…]}}")));
        };
        out.push((entity, records));
    }
    Ok(out)
}

fn read_json(file: &Path) -> io::Result<Value> {
    let text = std::fs::read_to_string(file).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file.display())))?;
    serde_json::from_str(&text).map_err(|e| bad(file, &e.to_string()))
}

fn bad(file: &Path, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("fixture {}: {why}", file.display()))
}
