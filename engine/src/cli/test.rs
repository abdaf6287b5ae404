use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use serde_json::json;

use super::{Failure, Format, Out, paths, print_diagnostics};
use crate::diagnostic::{Diagnostic, display_path, render_json};
use crate::project::Project;
use crate::testing::{CaseResult, run_test_file, update_file};

const GREEN: Style = AnsiColor::Green.on_default().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();

/// How a case ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Passed,
    Failed,
    /// Failed, and `--update` wrote what it got as its expectation.
    Updated,
}

#[derive(Default)]
struct Counts {
    passed: usize,
    failed: usize,
    updated: usize,
    broken: usize,
}

/// `flowmap test`: every case of every test file; a diff for each failure.
/// With `update`, a failing case's expectation becomes what it got.
pub fn run(root: Option<PathBuf>, files: Vec<PathBuf>, update: bool, format: Format) -> Result<ExitCode, Failure> {
    let root = paths::project_root(root, files.first().map(PathBuf::as_path))?;
    let tests = paths::collect(&root, &files, ".test.yaml")?;
    let project = paths::load_project(&root).map_err(Failure::problems)?;
    let mut report = Report { out: if format == Format::Text { Out::text() } else { Out::raw() }, format, counts: Counts::default() };
    for file in &tests {
        report.file(file)?;
        match run_and_update(&project, file, update) {
            Err(problems) => report.broken(file, &problems)?,
            Ok(cases) => {
                for (case, verdict) in &cases {
                    report.case(file, case, *verdict)?;
                }
            }
        }
    }
    let ok = report.counts.failed == 0 && report.counts.broken == 0;
    report.summary()?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Runs a file's cases; with `update`, writes the failing ones' results as
/// their expectations and runs the file again, so a case counts as updated
/// only when it now passes.
fn run_and_update(project: &Project, file: &Path, update: bool) -> Result<Vec<(CaseResult, Verdict)>, Vec<Diagnostic>> {
    let result = run_test_file(project, file)?;
    let failing = result.cases.iter().any(|c| c.failure.is_some());
    if !update || !failing {
        return Ok(result
            .cases
            .into_iter()
            .map(|c| {
                let verdict = if c.failure.is_some() { Verdict::Failed } else { Verdict::Passed };
                (c, verdict)
            })
            .collect());
    }
    let written = update_file(&result).map_err(|e| vec![Diagnostic::error(e)])?;
    let again = run_test_file(project, file)?;
    Ok(result
        .cases
        .into_iter()
        .zip(again.cases)
        .map(|(before, after)| {
            let verdict = match (&before.failure, &after.failure) {
                (None, _) => Verdict::Passed,
                (Some(_), None) if written.cases.contains(&before.name) => Verdict::Updated,
                _ => Verdict::Failed,
            };
            (before, verdict)
        })
        .collect())
}

/// What `flowmap test` writes: text for people or JSON lines.
struct Report {
    out: Out,
    format: Format,
    counts: Counts,
}

impl Report {
    fn file(&mut self, file: &Path) -> Result<(), Failure> {
        if self.format == Format::Text {
            writeln!(self.out, "{}", display_path(file))?;
        }
        Ok(())
    }

    fn broken(&mut self, file: &Path, problems: &[Diagnostic]) -> Result<(), Failure> {
        self.counts.broken += 1;
        match self.format {
            Format::Text => {
                self.out.flush()?;
                print_diagnostics(problems);
            }
            Format::Json => self.out.json_line(&json!({
                "file": display_path(file),
                "result": "broken",
                "diagnostics": problems.iter().map(render_json).collect::<Vec<_>>(),
            }))?,
        }
        Ok(())
    }

    fn case(&mut self, file: &Path, case: &CaseResult, verdict: Verdict) -> Result<(), Failure> {
        match verdict {
            Verdict::Passed => self.counts.passed += 1,
            Verdict::Failed => self.counts.failed += 1,
            Verdict::Updated => self.counts.updated += 1,
        }
        let failure = case.failure.as_deref();
        if self.format == Format::Json {
            let result = match verdict {
                Verdict::Passed => "passed",
                Verdict::Failed => "failed",
                Verdict::Updated => "updated",
            };
            let mut line = json!({"file": display_path(file), "case": case.name, "at": case.at, "result": result});
            if let Some(why) = failure {
                // The diff's colours are for terminals.
                line["failure"] = json!(anstream::adapter::strip_str(why).to_string());
            }
            return Ok(self.out.json_line(&line)?);
        }
        match verdict {
            Verdict::Passed => writeln!(self.out, "  {GREEN}✔{GREEN:#} {}", case.name)?,
            Verdict::Failed => writeln!(self.out, "  {RED}✘ {}{RED:#} ({})", case.name, case.at)?,
            Verdict::Updated => writeln!(self.out, "  {YELLOW}✎ {}{YELLOW:#} ({}): updated", case.name, case.at)?,
        }
        for line in failure.unwrap_or_default().lines() {
            writeln!(self.out, "      {line}")?;
        }
        Ok(())
    }

    fn summary(mut self) -> Result<(), Failure> {
        let c = &self.counts;
        match self.format {
            Format::Text => {
                let updated = if c.updated > 0 { format!(", {} updated", c.updated) } else { String::new() };
                let broken = if c.broken > 0 {
                    format!(" ({} test file{} could not run)", c.broken, if c.broken == 1 { "" } else { "s" })
                } else {
                    String::new()
                };
                writeln!(self.out, "\n{} passed, {} failed{updated}{broken}", c.passed, c.failed)?;
            }
            Format::Json => {
                let summary = json!({"summary": {"passed": c.passed, "failed": c.failed, "updated": c.updated, "broken": c.broken}});
                self.out.json_line(&summary)?;
            }
        }
        Ok(self.out.finish()?)
    }
}
