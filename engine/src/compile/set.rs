//! A set of flows, loaded by one rule for `flowmap check` and `flowmap serve`:
//! each file compiled, then what only the set as a whole can show (two flows
//! with one name, flows that can deliver the same records to one target). A
//! set `check` passes is a set `serve` starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{CompiledFlow, compile_files, shared_targets};
use crate::diagnostic::{Diagnostic, display_path};
use crate::project::Project;

/// One file's answer: its warnings (the flow is in the set's `flows`), or its problems.
pub type FileAnswer = Result<Vec<Diagnostic>, Vec<Diagnostic>>;

pub struct LoadedSet {
    /// Each file with its own answer, in the order given.
    pub files: Vec<(PathBuf, FileAnswer)>,
    /// The flows that compiled, by name (a second flow of one name is left out: it is an error of the set).
    pub flows: BTreeMap<String, Arc<CompiledFlow>>,
    /// Problems of the set as a whole: errors (a name taken twice) and warnings (shared targets).
    pub problems: Vec<Diagnostic>,
}

impl LoadedSet {
    /// Whether the set may be used: no file and no set-level problem is an error.
    pub fn is_clean(&self) -> bool {
        self.files.iter().all(|(_, r)| r.is_ok()) && !self.problems.iter().any(Diagnostic::is_error)
    }
}

/// Compiles `files` as one set.
pub fn load_set(project: &Project, files: Vec<PathBuf>) -> LoadedSet {
    let mut answers = Vec::with_capacity(files.len());
    let mut flows: BTreeMap<String, Arc<CompiledFlow>> = BTreeMap::new();
    let mut problems = Vec::new();
    // A warning about a file several flows extend (an edition-only field of the base flow) is
    // the same warning for each: it is shown once, with the first flow that met it.
    let mut warned = std::collections::HashSet::new();
    for (file, compiled) in compile_files(project, files) {
        let answer = match compiled {
            Ok((flow, mut warnings)) => {
                warnings.retain(|w| warned.insert(warning_key(w)));
                match flows.get(&flow.name) {
                    Some(first) => problems.push(name_taken(&flow, first)),
                    None => {
                        flows.insert(flow.name.clone(), Arc::new(flow));
                    }
                }
                Ok(warnings)
            }
            Err(found) => Err(found),
        };
        answers.push((file, answer));
    }
    problems.extend(shared_targets(flows.values().map(|f| &**f)));
    LoadedSet { files: answers, flows, problems }
}

/// What makes two warnings the same: the words and the place.
fn warning_key(w: &Diagnostic) -> (String, Option<String>) {
    (w.message.clone(), w.location.as_ref().map(|l| l.to_string()))
}

/// The later file's name is the error: the first file keeps it (files come sorted).
fn name_taken(flow: &CompiledFlow, first: &CompiledFlow) -> Diagnostic {
    Diagnostic::error(format!("two flows are named `{}`", flow.name))
        .at(flow.name_at.clone())
        .label(format!("also the name of the flow in {}", display_path(&first.path)))
        .help("a flow's name identifies it in the journal, in schedules and in the API: give each flow its own")
}

/// Flow files under `dir`, recursively and sorted; hidden folders and editor leftovers are skipped.
pub fn flow_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(dir, &mut out);
    out.sort();
    out
}

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
