use std::path::{Path, PathBuf};
use std::process::ExitCode;

use minijinja::Value;

use super::{Failure, Format, Out, paths, print_diagnostics};
use crate::access::FixtureAccess;
use crate::compile::{CompiledFlow, compile_file};
use crate::fetch::{InputError, RecordReader, from_fixtures};
use crate::project::Project;
use crate::report::{render_outcome, render_summary};
use crate::run::{CallLog, Outcome, Reason, Runner, Summary};

/// Records are pushed through the stages this many at a time: enough to
/// batch look-ups well, small enough to keep memory flat on long inputs.
pub const BATCH: usize = 500;

/// `flowmap dry-run`: the flow over fixture or file records, touching nothing;
/// with `fail_on_blocked`, a blocked record is a failure (status 1).
pub fn run(
    root: Option<PathBuf>,
    flow: PathBuf,
    input: Option<PathBuf>,
    fixtures: Option<PathBuf>,
    format: Format,
    fail_on_blocked: bool,
) -> Result<ExitCode, Failure> {
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
    let mut out = if format == Format::Text { Out::text() } else { Out::raw() };
    let mut header = (format == Format::Text)
        .then(|| format!("dry-run of {} ({}, version {})\n\n", compiled.name, crate::diagnostic::display_path(&compiled.path), compiled.version));
    // An output that cannot be written stops the run: nobody would see the rest.
    let mut emit = |o: Result<Outcome, InputError>| -> Result<(), Failure> {
        if let Some(h) = header.take() {
            out.write_all(h.as_bytes())?;
        }
        match (format, o) {
            (Format::Text, Ok(o)) => out.write_all(render_outcome(&o).as_bytes())?,
            (Format::Text, Err(e)) => writeln!(out, "✘ unreadable {e}")?,
            // Straight into the buffered output, without an intermediate string.
            (_, Ok(o)) => out.json_line(&o)?,
            (_, Err(e)) => out.json_line(&serde_json::json!({"status": "unreadable", "error": e.0}))?,
        }
        Ok(())
    };
    let result = execute(&project, &compiled, input.as_deref(), &fixtures, &mut emit)?;
    if let Some(stop) = &result.stopped {
        if let Some(h) = header.take() {
            out.write_all(h.as_bytes())?;
        }
        return stopped(out, format, stop);
    }
    match format {
        Format::Text => {
            write!(out, "{}", render_summary(&result.summary, &result.calls, result.unreadable))?;
        }
        Format::Json => {
            let doc = serde_json::json!({
                "summary": {"ready": result.summary.ready, "blocked": result.summary.blocked, "skipped": result.summary.skipped, "ignored": result.summary.ignored, "unreadable": result.unreadable},
                "calls": result.calls.to_json(),
                "flow": compiled.name,
                "version": compiled.version,
            });
            writeln!(out, "{doc}")?;
        }
    }
    out.finish()?;
    Ok(if fail_on_blocked && result.summary.blocked > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub struct DryRunResult {
    pub summary: Summary,
    pub calls: CallLog,
    pub unreadable: u64,
    /// A mistake in the flow stopped the run at this record, as it stops a live run.
    pub stopped: Option<Stopped>,
}

pub struct Stopped {
    pub position: usize,
    pub key: String,
    pub error: Reason,
}

/// The configuration error, once, where it is in the flow (not as a block
/// reason of every record); the records before it were shown. Exit status 1.
fn stopped(mut out: Out, format: Format, stop: &Stopped) -> Result<ExitCode, Failure> {
    match format {
        Format::Text => {
            writeln!(out, "✘ stopped at record {} (#{}): a mistake in the flow, not in the record", stop.key, stop.position)?;
        }
        Format::Json => {
            let doc = serde_json::json!({"stopped": {
                "configuration_error": stop.error.text,
                "at": stop.error.origin,
                "record": {"position": stop.position, "key": stop.key},
            }});
            writeln!(out, "{doc}")?;
        }
    }
    out.finish()?;
    print_diagnostics(&[configuration_diagnostic(&stop.error)]);
    Ok(ExitCode::FAILURE)
}

/// The error as `check` shows one: the message, `file:line:col` and the line of the flow.
fn configuration_diagnostic(error: &Reason) -> crate::diagnostic::Diagnostic {
    use crate::diagnostic::{Diagnostic, Location, SourceFile, Span};
    // The origin is a `Location` written out (`file:line:col`, the file as shown from here).
    let location = error.origin.as_deref().and_then(|at| {
        let mut parts = at.rsplitn(3, ':');
        let col: usize = parts.next()?.parse().ok()?;
        let line: usize = parts.next()?.parse().ok()?;
        let path = parts.next()?;
        let text = std::fs::read_to_string(path).ok()?;
        let file = SourceFile::new(path, text);
        // The caret under the key the origin names (`warehouses_configured`, `WarehouseID`).
        let start = col.saturating_sub(1);
        let width = file.line(line).map_or(1, |l| l.chars().skip(start).take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-')).count());
        let mut span = Span::point(line, start);
        span.end.col = start + width.max(1);
        Some(Location::new(&file, span))
    });
    Diagnostic::error(format!("configuration error: {}", error.text))
        .at(location)
        .help("a mistake in the flow, not in the record: no record is reported blocked for it, and a live run stops here and writes nothing back")
}

/// Runs `flow` over the input (or the source's fixture), handing each outcome
/// to `emit` as soon as its batch is done; an error from `emit` stops the run.
pub fn execute<E: From<String>>(
    project: &Project,
    flow: &CompiledFlow,
    input: Option<&Path>,
    fixtures: &Path,
    emit: &mut dyn FnMut(Result<Outcome, InputError>) -> Result<(), E>,
) -> Result<DryRunResult, E> {
    let mut calls = CallLog::default();
    let records: Box<dyn Iterator<Item = Result<Value, InputError>>> = match input {
        Some(path) => Box::new(RecordReader::open(path, &flow.source.records).map_err(|e| e.0)?),
        None => Box::new(from_fixtures(flow, fixtures, &mut calls).map_err(|e| e.message)?.1.into_iter().map(Ok)),
    };
    let page_size = project.systems.get(&flow.source.system).and_then(|s| s.def.page_size).unwrap_or(100).max(1) as usize;
    let mut access = FixtureAccess::new(project, fixtures);
    let mut runner = Runner::new(flow, &mut access);
    runner.calls = calls;
    let mut result = DryRunResult { summary: Summary::default(), calls: CallLog::default(), unreadable: 0, stopped: None };
    let mut batch = Vec::with_capacity(BATCH);
    for (i, item) in records.enumerate() {
        let position = i + 1;
        if input.is_some() && i % page_size == 0 {
            runner.calls.record(&flow.source.system, "GET", &flow.source.get, "fetch source", || crate::fetch::source_request(flow));
        }
        batch.push((position, item));
        if batch.len() == BATCH {
            run_batch(&mut runner, std::mem::take(&mut batch), &mut result, emit)?;
            if result.stopped.is_some() {
                break;
            }
        }
    }
    if result.stopped.is_none() {
        run_batch(&mut runner, batch, &mut result, emit)?;
    }
    result.calls = runner.calls;
    Ok(result)
}

/// Runs the readable records of a batch and emits every item in input
/// order, unreadable ones where they stood.
fn run_batch<E>(
    runner: &mut Runner,
    batch: Vec<(usize, Result<Value, InputError>)>,
    result: &mut DryRunResult,
    emit: &mut dyn FnMut(Result<Outcome, InputError>) -> Result<(), E>,
) -> Result<(), E> {
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
            emit(Err(e))?;
        }
        if let Some(error) = o.configuration_error() {
            result.stopped = Some(Stopped { position: o.position, key: o.key.clone(), error: error.clone() });
            return Ok(());
        }
        result.summary.add(o.status);
        emit(Ok(o))?;
    }
    for (_, e) in errors {
        result.unreadable += 1;
        emit(Err(e))?;
    }
    Ok(())
}
