use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Failure, Format, Out, paths, print_diagnostics};
use crate::access::FixtureAccess;
use crate::compile::{CompiledFlow, compile_file};
use crate::deliver::{Recorded, RecordingTarget, RecordingWriteBack};
use crate::fetch::{FixtureSource, InputError, Source};
use crate::project::Project;
use crate::report::{render_outcome, render_summary};
use crate::run::{Batch, CallLog, Driven, Driver, DrySettle, Go, Outcome, Reason, Runner, Settler, Summary};

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
/// The pipeline is a live run's: the source port (here over fixtures or the
/// input file), the stages, and settlement against the recording ports.
pub fn execute<E: From<String>>(
    project: &Project,
    flow: &CompiledFlow,
    input: Option<&Path>,
    fixtures: &Path,
    emit: &mut dyn FnMut(Result<Outcome, InputError>) -> Result<(), E>,
) -> Result<DryRunResult, E> {
    let page_size = project.systems.get(&flow.source.system).and_then(|s| s.def.page_size).unwrap_or(100).max(1) as usize;
    let source = match input {
        Some(path) => FixtureSource::input(project, flow, path, page_size),
        None => FixtureSource::fixtures(project, flow, fixtures, page_size),
    };
    let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| E::from(format!("cannot start the runtime: {e}")))?;
    let mut access = FixtureAccess::new(project, fixtures);
    let mut runner = Runner::new(flow, &mut access);
    let recorded = Recorded::default();
    let envelope = crate::format::x12::project_envelope(project, &flow.target.system);
    let target = RecordingTarget::of(project, flow, &recorded, envelope.as_ref());
    let write_back = RecordingWriteBack { recorded: &recorded };
    let dry = DrySettle { flow, settings: runner.settings().clone(), target: &target, write_back: &write_back, recorded: &recorded, rt: rt.handle() };
    let mut settler =
        Shown { dry, emit, result: DryRunResult { summary: Summary::default(), calls: CallLog::default(), unreadable: 0, stopped: None } };
    let mut driver = Driver { runner: &mut runner, rt: rt.handle(), batch: BATCH, position: 0, fetched: 0 };
    let mut pages = source.list();
    if let Driven::SourceFailed(e) = driver.drive(&mut *pages, &mut settler)? {
        return Err(E::from(e.0));
    }
    let mut result = settler.result;
    result.calls = std::mem::take(&mut runner.calls);
    Ok(result)
}

/// The dry-run's settler: each outcome settled against the recording ports
/// and emitted in input order, unreadable items where they stood.
struct Shown<'a, 'e, E> {
    dry: DrySettle<'a>,
    emit: &'e mut dyn FnMut(Result<Outcome, InputError>) -> Result<(), E>,
    result: DryRunResult,
}

impl<E> Settler for Shown<'_, '_, E> {
    type Error = E;

    fn settle(&mut self, batch: Batch, calls: &mut CallLog) -> Result<Go, E> {
        let mut errors = batch.unreadable.into_iter().peekable();
        let mut outcomes = batch.outcomes;
        // A file target's records gathered into its files (with `target.group`), as a live run does.
        self.dry.files(&mut outcomes);
        for mut o in outcomes {
            while let Some((_, e)) = errors.next_if(|(p, _)| *p < o.position) {
                self.result.unreadable += 1;
                (self.emit)(Err(e))?;
            }
            if let Some(error) = o.configuration_error() {
                self.result.stopped = Some(Stopped { position: o.position, key: o.key.clone(), error: error.clone() });
                return Ok(Go::Stop);
            }
            self.dry.outcome(&mut o);
            // A mistake in the flow found while settling (a `sent` write-back) stops it too.
            if let Some(error) = o.configuration_error() {
                self.dry.count(calls);
                self.result.stopped = Some(Stopped { position: o.position, key: o.key.clone(), error: error.clone() });
                return Ok(Go::Stop);
            }
            self.result.summary.add(o.status);
            (self.emit)(Ok(o))?;
        }
        for (_, e) in errors {
            self.result.unreadable += 1;
            (self.emit)(Err(e))?;
        }
        self.dry.count(calls);
        Ok(Go::On)
    }
}
