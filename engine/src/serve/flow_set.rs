//! Every flow of a project, loaded and checked as one set: a set with any
//! error is never used, so an invalid edit cannot replace a working flow.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::compile::{CompiledFlow, compile_files};
use crate::diagnostic::Diagnostic;
use crate::project::Project;

pub struct FlowSet {
    pub project: Arc<Project>,
    /// By flow name.
    pub flows: BTreeMap<String, Arc<CompiledFlow>>,
    pub loaded_at: DateTime<Utc>,
}

impl FlowSet {
    /// Loads the project and every `*.flow.yaml` under `dir`; all problems, or the set.
    pub fn load(root: &Path, dir: &Path) -> Result<FlowSet, Vec<Diagnostic>> {
        let project = Project::load(root)?;
        let mut files = Vec::new();
        collect(dir, &mut files);
        files.sort();
        let mut problems = Vec::new();
        let mut flows: BTreeMap<String, Arc<CompiledFlow>> = BTreeMap::new();
        for (file, compiled) in compile_files(&project, files) {
            match compiled {
                Ok((flow, _warnings)) => {
                    if let Some(other) = flows.get(&flow.name) {
                        problems.push(Diagnostic::error(format!(
                            "two flows are named `{}`: {} and {}",
                            flow.name,
                            crate::diagnostic::display_path(&other.path),
                            crate::diagnostic::display_path(&file)
                        )));
                        continue;
                    }
                    flows.insert(flow.name.clone(), Arc::new(flow));
                }
                // A flow that others extend brings its problems into each of them: once is enough.
                Err(p) => {
                    for d in p.into_iter().filter(Diagnostic::is_error) {
                        if !problems.iter().any(|q| same_place(q, &d)) {
                            problems.push(d);
                        }
                    }
                }
            }
        }
        if problems.is_empty() {
            // Logged at each load: the set works, but an operator should know.
            for warning in crate::compile::shared_targets(flows.values().map(|f| &**f)) {
                tracing::warn!("{}", super::engine::plain_text(&warning).trim_end());
            }
        }
        if problems.is_empty() { Ok(FlowSet { project: Arc::new(project), flows, loaded_at: Utc::now() }) } else { Err(problems) }
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

/// Flow files under `dir`, recursively; hidden folders and editor leftovers are skipped.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else if name.ends_with(".flow.yaml") || name.ends_with(".flow.yml") {
            out.push(path);
        }
    }
}
