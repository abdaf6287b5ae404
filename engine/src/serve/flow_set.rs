//! Every flow of a project, loaded and checked as one set: a set with any
//! error is never used, so an invalid edit cannot replace a working flow.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::compile::{CompiledFlow, flow_files, load_set};
use crate::diagnostic::Diagnostic;
use crate::project::Project;

pub struct FlowSet {
    pub project: Arc<Project>,
    /// By flow name.
    pub flows: BTreeMap<String, Arc<CompiledFlow>>,
    pub loaded_at: DateTime<Utc>,
}

impl FlowSet {
    /// Loads the project and every `*.flow.yaml` under `dir` by the rules of
    /// `flowmap check` (`compile::load_set`); all problems, or the set.
    pub fn load(root: &Path, dir: &Path) -> Result<FlowSet, Vec<Diagnostic>> {
        let project = Project::load(root)?;
        let set = load_set(&project, flow_files(dir));
        let mut problems: Vec<Diagnostic> = Vec::new();
        // A flow that others extend brings its problems into each of them: once is enough.
        for d in set.files.into_iter().filter_map(|(_, answer)| answer.err()).flatten().filter(Diagnostic::is_error) {
            if !problems.iter().any(|q| same_place(q, &d)) {
                problems.push(d);
            }
        }
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = set.problems.into_iter().partition(Diagnostic::is_error);
        problems.extend(errors);
        if !problems.is_empty() {
            return Err(problems);
        }
        // Logged at each load: the set works, but an operator should know.
        for warning in warnings {
            tracing::warn!("{}", super::engine::plain_text(&warning).trim_end());
        }
        Ok(FlowSet { project: Arc::new(project), flows: set.flows, loaded_at: Utc::now() })
    }
}

fn same_place(a: &Diagnostic, b: &Diagnostic) -> bool {
    a.message == b.message
        && match (&a.location, &b.location) {
            (Some(x), Some(y)) => x.file.path == y.file.path && x.span == y.span,
            (None, None) => true,
            _ => false,
        }
}
