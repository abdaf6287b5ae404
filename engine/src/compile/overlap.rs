//! Flows of one set that can deliver the same records to the same target.
//!
//! The state file keeps such flows from sending one identity twice (each
//! creation reserves its identity at the target first), but only runs on the
//! same state file see each other, and records the flows identify differently
//! (another YourRef scheme) are sent by each. So a set with such flows says
//! so when it is checked or served: usually one of them is meant to run.

use std::collections::BTreeMap;

use super::CompiledFlow;
use crate::diagnostic::{Diagnostic, display_path};

/// One warning per group of two or more flows that take records from the same
/// source endpoint and create them in the same target entity, matched on the
/// same field.
pub fn shared_targets<'a>(flows: impl IntoIterator<Item = &'a CompiledFlow>) -> Vec<Diagnostic> {
    let mut groups: BTreeMap<(&str, &str, &str, &str, &str), Vec<&CompiledFlow>> = BTreeMap::new();
    for flow in flows {
        if let Some(x) = &flow.exists {
            let key = (flow.source.system.as_str(), flow.source.get.as_str(), x.system.as_str(), x.entity.as_str(), x.match_field.as_str());
            groups.entry(key).or_default().push(flow);
        }
    }
    groups
        .into_iter()
        .filter(|(_, flows)| flows.len() > 1)
        .map(|((source, get, system, entity, field), flows)| {
            // The flows one a line: a message is kept short (diagnostics cap what they quote).
            let mut warning = Diagnostic::warning(format!(
                "{} flows can deliver the same records to one target: each takes {source} {get} and creates {system} {entity} matched on {field}",
                flows.len()
            ));
            for flow in &flows {
                warning = warning.help(format!("flow `{}` in {}", flow.name, display_path(&flow.path)));
            }
            warning
                .help(format!(
                    "a record with the same {field} is sent once, whichever flow runs first (it is reserved in the state file); \
                     a record the flows give different {field}s is sent by each, and engines on separate state files do not see each other"
                ))
                .help("run one of these flows per deployment, or give them sources that do not overlap")
        })
        .collect()
}
