//! The history port: what the journal says a record's last delivered version
//! was, for flows with `source.version` (a record is delivered once per
//! version). A live run asks the state file; a dry-run or a flow test has no
//! history, so every record is new to it.

use std::collections::HashMap;

use flowmap_state::State;
use minijinja::Value;

/// A record's last delivery, as the mapping sees it in `previous`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    pub version: String,
    /// The record's id at the target (the file and set of an X12 delivery).
    pub target_id: Option<String>,
    pub run: Option<i64>,
}

impl Previous {
    pub fn to_value(&self) -> Value {
        crate::value::map([
            ("version", Value::from(self.version.clone())),
            ("target_id", self.target_id.clone().map(Value::from).unwrap_or(Value::from(()))),
            ("run", self.run.map(Value::from).unwrap_or(Value::from(()))),
        ])
    }
}

pub trait History {
    /// The last delivered version of those of `keys` delivered before.
    fn previous(&self, flow: &str, keys: &[String]) -> Result<HashMap<String, Previous>, String>;
}

/// The live history: the journal in the state file.
pub struct JournalHistory<'a>(pub &'a State);

impl History for JournalHistory<'_> {
    fn previous(&self, flow: &str, keys: &[String]) -> Result<HashMap<String, Previous>, String> {
        let sent = self.0.sent_versions(flow, keys).map_err(|e| format!("the journal could not be read: {e}"))?;
        Ok(sent.into_iter().map(|s| (s.key, Previous { version: s.version, target_id: s.target_id, run: s.run })).collect())
    }
}
