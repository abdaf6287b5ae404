use std::path::PathBuf;
use std::process::ExitCode;

use super::{Failure, Format, Out, paths};
use crate::compile::{compile_files, shared_targets};
use crate::diagnostic::{Diagnostic, render_json, render_text};

/// `flowmap check`: every problem of every flow in one pass.
pub fn run(root: Option<PathBuf>, files: Vec<PathBuf>, format: Format) -> Result<ExitCode, Failure> {
    let root = paths::project_root(root, files.first().map(PathBuf::as_path))?;
    let flows = paths::collect(&root, &files, ".flow.yaml")?;
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut results = Vec::new();
    match paths::load_project(&root) {
        Err(problems) => diagnostics.extend(problems),
        Ok(project) => {
            let mut compiled_flows = Vec::new();
            for (flow, compiled) in compile_files(&project, flows.clone()) {
                let (ok, mut found) = match compiled {
                    Ok((compiled, warnings)) => {
                        compiled_flows.push(compiled);
                        (true, warnings)
                    }
                    Err(problems) => (false, problems),
                };
                results.push((flow, ok));
                diagnostics.append(&mut found);
            }
            diagnostics.extend(shared_targets(&compiled_flows));
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
