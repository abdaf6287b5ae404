use indexmap::IndexMap;

/// The API calls a run makes (or, in a dry-run, would make), grouped by
/// system, method, path and purpose, with one example of each.
#[derive(Debug, Default, Clone)]
pub struct CallLog {
    pub stats: IndexMap<(String, String, String, String), CallStat>,
}

#[derive(Debug, Clone)]
pub struct CallStat {
    pub count: u64,
    pub example: String,
}

impl CallLog {
    /// Counts one call; `example` is only computed for the first of its group.
    /// There are a handful of groups, so a scan without allocating beats hashing.
    pub fn record(&mut self, system: &str, method: &str, path: &str, purpose: &str, example: impl FnOnce() -> String) {
        let found = self.stats.iter_mut().find(|((s, m, p, u), _)| s == system && m == method && p == path && u == purpose);
        match found {
            Some((_, s)) => s.count += 1,
            None => {
                let key = (system.to_string(), method.to_string(), path.to_string(), purpose.to_string());
                self.stats.insert(key, CallStat { count: 1, example: example() });
            }
        }
    }

    /// Adds another summary's calls, in its order.
    pub fn absorb(&mut self, other: CallLog) {
        for (key, stat) in other.stats {
            match self.stats.get_mut(&key) {
                Some(s) => s.count += stat.count,
                None => {
                    self.stats.insert(key, stat);
                }
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.stats.values().map(|s| s.count).sum()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.stats
                .iter()
                .map(|((system, method, path, purpose), s)| serde_json::json!({"system": system, "method": method, "path": path, "purpose": purpose, "count": s.count, "example": s.example}))
                .collect(),
        )
    }
}
