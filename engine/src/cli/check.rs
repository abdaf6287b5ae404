use std::path::PathBuf;
use std::process::ExitCode;

use super::{Failure, Format, Out, paths};
use crate::compile::{flow_files, load_set};
use crate::diagnostic::{Diagnostic, render_json, render_text};

/// `flowmap check`: every problem of every flow in one pass.
pub fn run(root: Option<PathBuf>, files: Vec<PathBuf>, format: Format) -> Result<ExitCode, Failure> {
    let root = paths::project_root(root, files.first().map(PathBuf::as_path))?;
    // The default set is found as `flowmap serve` finds it.
    let flows = if files.is_empty() { flow_files(&root.join("mappings")) } else { paths::collect(&root, &files, ".flow.yaml")? };
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut results = Vec::new();
    match paths::load_project(&root) {
        Err(problems) => diagnostics.extend(problems),
        Ok(project) => {
            let set = load_set(&project, flows.clone());
            for (flow, answer) in set.files {
                results.push((flow, answer.is_ok()));
                diagnostics.extend(answer.unwrap_or_else(|problems| problems));
            }
            diagnostics.extend(set.problems);
        }
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    match format {
        Format::Text => {
            let mut out = Out::text();
            for d in &diagnostics {
                writeln!(out, "{}", render_text(d))?;
            }
            let flows_word = if flows.len() == 1 { "flow" } else { "flows" };
            let verdict = match (errors, warnings) {
                (0, 0) => "no problems".to_string(),
                (e, w) => format!("{e} error{}, {w} warning{}", plural(e), plural(w)),
            };
            writeln!(out, "checked {} {flows_word}: {verdict}", flows.len())?;
            out.finish()?;
        }
        Format::Json => {
            let doc = serde_json::json!({
                "flows": results.iter().map(|(f, ok)| serde_json::json!({"file": crate::diagnostic::display_path(f), "ok": ok})).collect::<Vec<_>>(),
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diagnostics.iter().map(render_json).collect::<Vec<_>>(),
            });
            let mut out = Out::raw();
            writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default())?;
            out.finish()?;
        }
    }
    Ok(if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
