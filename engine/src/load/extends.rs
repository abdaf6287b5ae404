use std::path::{Path, PathBuf};

use serde_json::Value;

use super::pointer::{pointer_child, pointer_from_dotted, pointer_keys, pointer_parent};
use super::schema_check::{SchemaKind, check_schema};
use super::span_index::SpanIndex;
use super::yaml::{Document, read_yaml};
use crate::diagnostic::{Diagnostic, did_you_mean};

/// A flow after its `extends` chain has been merged: one JSON value, and for
/// every node the file and span that wrote it.
#[derive(Debug, Clone)]
pub struct LoadedFlow {
    /// The file that was asked for (the most specific one).
    pub path: PathBuf,
    pub value: Value,
    pub spans: SpanIndex,
    /// Every file that took part, most specific first.
    pub files: Vec<PathBuf>,
    /// Problems found while merging (e.g. a `remove` of nothing) that do not
    /// stop the flow from being checked further.
    pub problems: Vec<Diagnostic>,
}

/// Loads a flow file and the chain of flows it extends, each checked against
/// the flow schema; the result is their merge.
pub fn load_flow(path: &Path) -> Result<LoadedFlow, Vec<Diagnostic>> {
    let flow = load_chain(path, &mut Vec::new())?;
    if flow.files.len() > 1 {
        // The files of a chain were checked leniently (an override restates
        // only what it changes); the merged flow must be complete.
        let problems = super::schema_check::check_merged_flow(&flow.value, &flow.spans);
        if !problems.is_empty() {
            return Err(flow.problems.into_iter().chain(problems).collect());
        }
    }
    Ok(flow)
}

fn load_chain(path: &Path, chain: &mut Vec<PathBuf>) -> Result<LoadedFlow, Vec<Diagnostic>> {
    let doc = read_yaml(path).map_err(|d| vec![d])?;
    let extends = doc.value.get("extends").is_some();
    let kind = if extends { SchemaKind::FlowOverride } else { SchemaKind::Flow };
    let mut problems = check_schema(kind, &doc.value, &doc.spans);
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    chain.push(canonical);

    let base = match doc.value.get("extends").and_then(Value::as_str) {
        None => None,
        Some(rel) => match resolve_base(path, rel, &doc, chain) {
            Ok(base_path) => match load_chain(&base_path, chain) {
                Ok(base) => Some(base),
                Err(mut base_problems) => {
                    problems.append(&mut base_problems);
                    None
                }
            },
            Err(d) => {
                problems.push(d);
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(problems);
    }

    let Document { value, spans, .. } = doc;
    let loaded = match base {
        None => LoadedFlow { path: path.to_path_buf(), value, spans, files: vec![path.to_path_buf()], problems: Vec::new() },
        Some(base) => merge(path, base, value, spans)?,
    };
    Ok(loaded)
}

fn resolve_base(path: &Path, rel: &str, doc: &Document, chain: &[PathBuf]) -> Result<PathBuf, Diagnostic> {
    let base_path = path.parent().unwrap_or(Path::new(".")).join(rel);
    let here = doc.spans.value_loc("/extends");
    let Ok(canonical) = base_path.canonicalize() else {
        return Err(Diagnostic::error(format!("the extended flow `{rel}` does not exist")).at(here).label("no such file"));
    };
    if chain.contains(&canonical) {
        let cycle: Vec<String> = chain.iter().chain(std::iter::once(&canonical)).map(|p| crate::diagnostic::display_path(p)).collect();
        return Err(Diagnostic::error(format!("`extends` forms a cycle: {}", cycle.join(" → "))).at(here));
    }
    // Each file of a chain is loaded one call deeper; a chain is a few files long.
    if chain.len() >= crate::limits::MAX_EXTENDS {
        return Err(Diagnostic::error(format!("`extends` chains more than {} files", crate::limits::MAX_EXTENDS)).at(here));
    }
    Ok(base_path)
}

/// Overlays `value` on `base`: mappings merge key by key, anything else is
/// replaced; then the overlay's `remove` paths are deleted.
fn merge(path: &Path, base: LoadedFlow, mut value: Value, spans: SpanIndex) -> Result<LoadedFlow, Vec<Diagnostic>> {
    // (Kept fallible: later merge rules may refuse a combination outright.)
    let removals: Vec<String> =
        value.get("remove").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.remove("extends");
        obj.remove("remove");
    }
    let LoadedFlow { value: mut merged, spans: mut merged_spans, mut files, mut problems, .. } = base;
    // When a flow runs by itself is not inherited: an adaptation of a flow
    // (another customer's variant, another send mode) runs only when it says
    // so, never beside its base on the same records by accident.
    for own in ["schedule", "webhook"] {
        if let Some(obj) = merged.as_object_mut() {
            obj.shift_remove(own);
        }
        merged_spans.remove_subtree(&format!("/{own}"));
    }
    overlay(&mut merged, value, "", &mut merged_spans);
    merged_spans.extend(without(&spans, &["/extends", "/remove"]));

    for (i, dotted) in removals.iter().enumerate() {
        let pointer = pointer_from_dotted(dotted);
        if !remove_at(&mut merged, &pointer) {
            let parent = pointer_parent(&pointer).unwrap_or("");
            let siblings: Vec<String> = merged.pointer(parent).and_then(Value::as_object).map(|o| o.keys().cloned().collect()).unwrap_or_default();
            let last = pointer_keys(&pointer).last().unwrap_or_default();
            let mut d =
                Diagnostic::error(format!("nothing to remove at `{dotted}` in the extended flow")).at(spans.value_loc(&format!("/remove/{i}")));
            if let Some(near) = did_you_mean(&last, siblings.iter().map(String::as_str)) {
                d = d.label(format!("did you mean `{near}`?"));
            }
            problems.push(d);
        } else {
            merged_spans.remove_subtree(&pointer);
        }
    }
    files.insert(0, path.to_path_buf());
    Ok(LoadedFlow { path: path.to_path_buf(), value: merged, spans: merged_spans, files, problems })
}

fn overlay(base: &mut Value, over: Value, pointer: &str, spans: &mut SpanIndex) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                let child = pointer_child(pointer, &k);
                match b.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => overlay(existing, v, &child, spans),
                    _ => {
                        spans.remove_subtree(&child);
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => {
            spans.remove_subtree(pointer);
            *b = o;
        }
    }
}

fn without(spans: &SpanIndex, pointers: &[&str]) -> SpanIndex {
    let mut s = spans.clone();
    for p in pointers {
        s.remove_subtree(p);
    }
    s
}

fn remove_at(value: &mut Value, pointer: &str) -> bool {
    let Some(parent) = pointer_parent(pointer) else { return false };
    let key = pointer_keys(pointer).last().unwrap_or_default();
    match value.pointer_mut(parent) {
        Some(Value::Object(o)) => o.shift_remove(&key).is_some(),
        _ => false,
    }
}
