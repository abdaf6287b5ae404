use std::collections::HashMap;
use std::path::{Path, PathBuf};

use minijinja::Value;

use super::{Access, AccessError, FindQuery};
use crate::project::Project;
use crate::value::key_text;

/// Answers queries from recorded API answers: `fixtures/<system>/<entity>.json`
/// (with `/` in the entity path written as `_`), in the system's own response
/// envelope, unwrapped with the system's `records` selector. Each file is read
/// once and indexed per matched field, so a query costs a hash look-up.
pub struct FixtureAccess {
    dir: PathBuf,
    selectors: HashMap<String, jmespath::Expression<'static>>,
    records: HashMap<(String, String), Result<Vec<Value>, AccessError>>,
    index: HashMap<(String, String, String), HashMap<String, Vec<usize>>>,
}

impl FixtureAccess {
    pub fn new(project: &Project, dir: &Path) -> Self {
        let selectors = project.systems.iter().map(|(n, s)| (n.clone(), s.records.clone())).collect();
        FixtureAccess { dir: dir.to_path_buf(), selectors, records: HashMap::new(), index: HashMap::new() }
    }

    /// The fixture file of an entity.
    pub fn file_of(dir: &Path, system: &str, entity: &str) -> PathBuf {
        dir.join(system).join(format!("{}.json", entity.trim_start_matches('/').replace('/', "_")))
    }

    fn load(&mut self, system: &str, entity: &str) -> Result<&Vec<Value>, AccessError> {
        let k = (system.to_string(), entity.to_string());
        if !self.records.contains_key(&k) {
            let file = Self::file_of(&self.dir, system, entity);
            let loaded = read_records(&file, self.selectors.get(system));
            self.records.insert(k.clone(), loaded);
        }
        self.records[&k].as_ref().map_err(Clone::clone)
    }
}

/// Reads a recorded answer and unwraps its records.
pub fn read_records(file: &Path, selector: Option<&jmespath::Expression<'static>>) -> Result<Vec<Value>, AccessError> {
    let shown = crate::diagnostic::display_path(file);
    let text = std::fs::read_to_string(file).map_err(|_| AccessError::unavailable(format!("no fixture file {shown}")))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| AccessError::unavailable(format!("{shown}:{}:{}: invalid JSON: {e}", e.line(), e.column())))?;
    let list = match (&json, selector) {
        (serde_json::Value::Array(_), _) | (_, None) => json,
        (_, Some(sel)) => {
            let found = crate::value::search(sel, &json).map_err(|e| AccessError::unavailable(format!("{shown}: {e}")))?;
            serde_json::to_value(&*found).unwrap_or_default()
        }
    };
    match list {
        serde_json::Value::Array(items) => Ok(items.iter().map(crate::value::from_json).collect()),
        _ => Err(AccessError::unavailable(format!("{shown}: no list of records in the file"))),
    }
}

impl Access for FixtureAccess {
    /// Recorded answers are not changed: the record is answered as the system would create it.
    fn create(&mut self, target: &crate::compile::CompiledTarget, request: &crate::deliver::PlannedRequest) -> Result<Value, AccessError> {
        Ok(super::created_as_planned(target, request))
    }

    fn find(&mut self, q: &FindQuery) -> Result<Vec<Value>, AccessError> {
        let ik = (q.system.to_string(), q.entity.to_string(), q.field.to_string());
        if !self.index.contains_key(&ik) {
            let mut idx: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, r) in self.load(q.system, q.entity)?.iter().enumerate() {
                if let Ok(v) = r.get_attr(q.field)
                    && !v.is_undefined()
                    && !v.is_none()
                {
                    idx.entry(key_text(&v)).or_default().push(i);
                }
            }
            self.index.insert(ik.clone(), idx);
        }
        self.load(q.system, q.entity)?;
        let records = self.records[&(q.system.to_string(), q.entity.to_string())].as_ref().map_err(Clone::clone)?;
        let idx = &self.index[&ik];
        Ok(q.keys.iter().filter_map(|k| idx.get(k)).flatten().map(|&i| records[i].clone()).collect())
    }
}
