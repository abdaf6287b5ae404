//! `flowmap runs` and `flowmap show FLOW KEY`: the audit trail, read back.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flowmap_state::State;

use super::live_setup::LiveOptions;
use super::{Failure, Out, paths};
use crate::http::format_utc;

fn open_state(root: Option<PathBuf>, options: &LiveOptions) -> Result<State, String> {
    let root = paths::project_root(root, None)?;
    let path = options.state_path(&root);
    if !path.exists() {
        return Err(format!("no state file at {}: nothing has run yet", path.display()));
    }
    State::open_to_read(&path).map_err(|e| e.to_string())
}

pub fn runs(root: Option<PathBuf>, options: &LiveOptions, flow: Option<String>, limit: usize, json: bool) -> Result<ExitCode, Failure> {
    let state = open_state(root, options)?;
    let rows = state.runs(flow.as_deref(), limit).map_err(|e| e.to_string())?;
    let mut out = if json { Out::raw() } else { Out::text() };
    if json {
        for r in &rows {
            out.json_line(r)?;
        }
        out.finish()?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        writeln!(out, "no runs")?;
    }
    for r in rows {
        let s = &r.summary;
        let n = |k: &str| s.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        writeln!(
            out,
            "{:>4}  {}  {:<8} {:<9} {}  sent {} · reconciled {} · skipped {} · blocked {} · ignored {} · failed {} · unknown {}",
            r.id,
            format_utc(r.started_at_ms),
            started_by(&r),
            r.status,
            r.flow,
            n("sent"),
            n("reconciled"),
            n("skipped"),
            n("blocked"),
            n("ignored"),
            n("failed"),
            n("unknown")
        )?;
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// How a run is named in the listing: `replay` for any replay, what started
/// it in a serving engine (`schedule`, `manual`, `webhook`), else `run`.
fn started_by(r: &flowmap_state::RunRow) -> &str {
    match r.origin.as_deref() {
        _ if r.mode == "replay" => "replay",
        Some(origin @ ("schedule" | "manual" | "webhook")) => origin,
        _ => "run",
    }
}

/// A record's whole history. FLOW is the flow's name or its file.
pub fn show(root: Option<PathBuf>, options: &LiveOptions, flow: String, key: String, json: bool) -> Result<ExitCode, Failure> {
    let state = open_state(root.clone(), options)?;
    let name = flow_name(root, &flow)?;
    let rows = state.history(&name, &key).map_err(|e| e.to_string())?;
    if rows.is_empty() {
        return Err(format!("the journal has nothing on `{key}` in flow {name}").into());
    }
    if json {
        let mut out = Out::raw();
        for r in &rows {
            out.json_line(r)?;
        }
        out.finish()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Out::text();
    if let Ok(Some(now)) = state.record_state(&name, &key) {
        let id = now.target_id.map(|t| format!(", target id {t}")).unwrap_or_default();
        writeln!(out, "{name} {key}: {} after {} delivery attempt(s){id}", now.status, now.attempts)?;
    }
    // A record read from a file says which (the first entry with its source has it).
    if let Some(file) = rows.iter().find_map(|r| r.source.as_ref()?.get("_file")?.get("path")?.as_str().map(str::to_string)) {
        writeln!(out, "  from file {file}")?;
    }
    for r in rows {
        let run = r.run.map(|r| format!("run {r}")).unwrap_or_default();
        let detail = r.detail.clone().map(|d| format!("  {d}")).unwrap_or_default();
        writeln!(out, "  {}  {run:<7} {:<17}{detail}", format_utc(r.at_ms), r.event)?;
        // An X12 group we sent: what the partner's 997 said of it.
        if matches!(r.event.as_str(), "sent" | "reconciled")
            && let Some(group) = r.answer.as_ref().and_then(|a| a.get("group")).map(|g| g.to_string())
        {
            match state.acknowledgement(&group).map_err(|e| e.to_string())? {
                Some(ack) => {
                    writeln!(out, "      997 for group {group}: {} ({})", ack.verdict.replace('_', " "), format_utc(ack.received_at_ms))?;
                    for problem in ack.detail.get("problems").and_then(|p| p.as_array()).into_iter().flatten() {
                        writeln!(out, "        - {}", problem.as_str().unwrap_or_default())?;
                    }
                }
                None => writeln!(out, "      997 for group {group}: none yet")?,
            }
        }
        for reason in &r.reasons {
            writeln!(out, "      - {reason}")?;
        }
        if let Some(id) = &r.target_id {
            writeln!(out, "      target id {id}")?;
        }
        if let Some(p) = &r.payload {
            writeln!(out, "      payload {p}")?;
        }
    }
    // The rest of the document's story: what every other flow did with it.
    if let Some(document) = state.document_of(&name, &key).map_err(|e| e.to_string())? {
        let others: Vec<_> =
            state.records_of_document(&document).map_err(|e| e.to_string())?.into_iter().filter(|r| !(r.flow == name && r.key == key)).collect();
        if !others.is_empty() {
            writeln!(out, "document {document}, in other flows:")?;
        }
        for r in others {
            let id = r.target_id.map(|t| format!(", target id {t}")).unwrap_or_default();
            writeln!(out, "  {} {}: {} {}{id}", r.flow, r.key, r.status, format_utc(r.updated_at_ms))?;
            for reason in &r.reasons {
                writeln!(out, "      - {reason}")?;
            }
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// `lnb-orders-to-exact`, or the name inside a flow file.
pub fn flow_name(root: Option<PathBuf>, flow: &str) -> Result<String, Failure> {
    let path = Path::new(flow);
    if !path.is_file() {
        return Ok(flow.to_string());
    }
    let root = paths::project_root(root, Some(path))?;
    let project = paths::load_project(&root).map_err(Failure::problems)?;
    super::live_setup::compile(&project, path).map(|c| c.name)
}

/// `flowmap connections [--check]`: what is stored per connection (never the secrets), and whether each works.
pub fn connections(root: Option<PathBuf>, options: &LiveOptions, check: bool, json: bool) -> Result<ExitCode, Failure> {
    let setup = options.open(root, None, false)?;
    let mut out = if json { Out::raw() } else { Out::text() };
    let stored = setup.state.connections().map_err(|e| e.to_string())?;
    let rt = super::live_setup::runtime()?;
    let mut failed = false;
    for name in setup.registry.file.connections.keys() {
        let row = stored.iter().find(|r| &r.name == name);
        let secrets = row.map(|r| r.secrets.join(", ")).filter(|s| !s.is_empty()).unwrap_or_else(|| "no credentials".into());
        let needs_consent = row.and_then(|r| r.needs_consent.clone());
        let consent = needs_consent.as_ref().map(|c| format!("; needs consent ({c}); run \"flowmap connect {name}\"")).unwrap_or_default();
        // A connection known to need consent is not called: no call can succeed, and each refused one counts against the system's error budget.
        let verdict = if check && needs_consent.is_some() {
            failed = true;
            String::new()
        } else if check {
            match rt.block_on(setup.registry.check(name)) {
                Ok(url) => format!("; ok ({url})"),
                Err(e) => {
                    failed = true;
                    format!("; FAILED: {e}")
                }
            }
        } else {
            String::new()
        };
        if json {
            out.json_line(
                &serde_json::json!({"name": name, "secrets": secrets, "needs_consent": row.and_then(|r| r.needs_consent.clone()), "check": verdict.trim_start_matches("; ")}),
            )?;
        } else {
            writeln!(out, "{name}: {secrets}{consent}{verdict}")?;
        }
    }
    out.finish()?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
