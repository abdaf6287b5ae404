use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use minijinja::Value;

use super::{Format, paths, print_diagnostics};
use crate::access::FixtureAccess;
use crate::compile::{CompiledFlow, compile_file};
use crate::fetch::{InputError, RecordReader, from_fixtures};
use crate::project::Project;
use crate::report::{render_outcome, render_summary};
use crate::run::{CallLog, Outcome, Runner, Summary};

/// Records are pushed through the stages this many at a time: enough to
/// batch look-ups well, small enough to keep memory flat on long inputs.
pub const BATCH: usize = 500;

/// `flowmap dry-run`: the flow over fixture or file records, touching nothing.
pub fn run(root: Option<PathBuf>, flow: PathBuf, input: Option<PathBuf>, fixtures: Option<PathBuf>, format: Format) -> Result<ExitCode, String> {
    let root = paths::project_root(root, Some(&flow))?;
    let project = match paths::load_project(&root) {
        Ok(p) => p,
        Err(problems) => {
            print_diagnostics(&problems);
            return Ok(ExitCode::FAILURE);
        }
    };
    let compiled = match compile_file(&project, &flow) {
        Ok((c, warnings)) => {
            print_diagnostics(&warnings);
            c
        }
        Err(problems) => {
            print_diagnostics(&problems);
            return Ok(ExitCode::FAILURE);
        }
    };
    let fixtures = fixtures.unwrap_or_else(|| project.fixtures_dir());
    // JSON carries no colour, so it bypasses anstream's escape-code filter.
    let mut out: Box<dyn Write> =
        if format == Format::Text { Box::new(anstream::stdout()) } else { Box::new(std::io::BufWriter::new(std::io::stdout().lock())) };
    let mut header = (format == Format::Text)
        .then(|| format!("dry-run of {} ({}, version {})\n\n", compiled.name, crate::diagnostic::display_path(&compiled.path), compiled.version));
    let mut emit = |o: Result<Outcome, InputError>| {
        if let Some(h) = header.take() {
            let _ = out.write_all(h.as_bytes());
        }
        let line = match (format, o) {
            (Format::Text, Ok(o)) => render_outcome(&o),
            (Format::Text, Err(e)) => format!("✘ unreadable {e}\n"),
            (_, Ok(o)) => {
                // Straight into the buffered output, without an intermediate string.
                let _ = serde_json::to_writer(&mut out, &o);
                let _ = out.write_all(b"\n");
                return;
            }
            (_, Err(e)) => serde_json::json!({"status": "unreadable", "error": e.0}).to_string() + "\n",
        };
        let _ = out.write_all(line.as_bytes());
    };
    let result = execute(&project, &compiled, input.as_deref(), &fixtures, &mut emit)?;
    match format {
        Format::Text => {
            let _ = write!(out, "{}", render_summary(&result.summary, &result.calls, result.unreadable));
        }
        Format::Jsonl | Format::Json => {
            let doc = serde_json::json!({
                "summary": {"ready": result.summary.ready, "blocked": result.summary.blocked, "skipped": result.summary.skipped, "ignored": result.summary.ignored, "unreadable": result.unreadable},
                "calls": result.calls.to_json(),
                "flow": compiled.name,
                "version": compiled.version,
            });
            let _ = writeln!(out, "{doc}");
        }
    }
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}

pub struct DryRunResult {
    pub summary: Summary,
    pub calls: CallLog,
    pub unreadable: u64,
}

/// Runs `flow` over the input (or the source's fixture), handing each outcome
/// to `emit` as soon as its batch is done.
pub fn execute(
    project: &Project,
    flow: &CompiledFlow,
    input: Option<&Path>,
    fixtures: &Path,
    emit: &mut dyn FnMut(Result<Outcome, InputError>),
) -> Result<DryRunResult, String> {
    let mut calls = CallLog::default();
    let records: Box<dyn Iterator<Item = Result<Value, InputError>>> = match input {
        Some(path) => Box::new(RecordReader::open(path, &flow.source.records).map_err(|e| e.0)?),
        None => Box::new(from_fixtures(flow, fixtures, &mut calls).map_err(|e| e.0)?.1.into_iter().map(Ok)),
    };
    let page_size = project.systems.get(&flow.source.system).and_then(|s| s.def.page_size).unwrap_or(100).max(1) as usize;
    let mut access = FixtureAccess::new(project, fixtures);
    let mut runner = Runner::new(flow, &mut access);
    runner.calls = calls;
    let mut result = DryRunResult { summary: Summary::default(), calls: CallLog::default(), unreadable: 0 };
    let mut batch = Vec::with_capacity(BATCH);
    for (i, item) in records.enumerate() {
        let position = i + 1;
        if input.is_some() && i % page_size == 0 {
            runner.calls.record(&flow.source.system, "GET", &flow.source.get, "fetch source", || crate::fetch::source_request(flow));
        }
        batch.push((position, item));
        if batch.len() == BATCH {
            run_batch(&mut runner, std::mem::take(&mut batch), &mut result, emit);
        }
    }
    run_batch(&mut runner, batch, &mut result, emit);
    result.calls = runner.calls;
    Ok(result)
}

/// Runs the readable records of a batch and emits every item in input
/// order, unreadable ones where they stood.
fn run_batch(
    runner: &mut Runner,
    batch: Vec<(usize, Result<Value, InputError>)>,
    result: &mut DryRunResult,
    emit: &mut dyn FnMut(Result<Outcome, InputError>),
) {
    let mut errors = Vec::new();
    let records: Vec<(usize, Value)> = batch
        .into_iter()
        .filter_map(|(p, item)| match item {
            Ok(r) => Some((p, r)),
            Err(e) => {
                errors.push((p, e));
                None
            }
        })
        .collect();
    let mut errors = errors.into_iter().peekable();
    for o in runner.run_batch(records) {
        while let Some((_, e)) = errors.next_if(|(p, _)| *p < o.position) {
            result.unreadable += 1;
            emit(Err(e));
        }
        result.summary.add(o.status);
        emit(Ok(o));
    }
    for (_, e) in errors {
        result.unreadable += 1;
        emit(Err(e));
    }
}
