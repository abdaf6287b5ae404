use std::path::PathBuf;
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};

use super::{Failure, Out, paths, print_diagnostics};
use crate::testing::run_test_file;

const GREEN: Style = AnsiColor::Green.on_default().bold();
const RED: Style = AnsiColor::Red.on_default().bold();

/// `flowmap test`: every case of every test file; a diff for each failure.
pub fn run(root: Option<PathBuf>, files: Vec<PathBuf>) -> Result<ExitCode, Failure> {
    let root = paths::project_root(root, files.first().map(PathBuf::as_path))?;
    let tests = paths::collect(&root, &files, ".test.yaml")?;
    let project = match paths::load_project(&root) {
        Ok(p) => p,
        Err(problems) => {
            print_diagnostics(&problems);
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut out = Out::text();
    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for file in &tests {
        writeln!(out, "{}", crate::diagnostic::display_path(file))?;
        match run_test_file(&project, file) {
            Err(problems) => {
                broken += 1;
                out.flush()?;
                print_diagnostics(&problems);
            }
            Ok(result) => {
                for case in &result.cases {
                    match &case.failure {
                        None => {
                            passed += 1;
                            writeln!(out, "  {GREEN}✔{GREEN:#} {}", case.name)?;
                        }
                        Some(why) => {
                            failed += 1;
                            writeln!(out, "  {RED}✘ {}{RED:#} ({})", case.name, case.at)?;
                            for line in why.lines() {
                                writeln!(out, "      {line}")?;
                            }
                        }
                    }
                }
            }
        }
    }
    let broken_note = if broken > 0 { format!(" ({broken} test file{} could not run)", if broken == 1 { "" } else { "s" }) } else { String::new() };
    writeln!(out, "\n{passed} passed, {failed} failed{broken_note}")?;
    out.finish()?;
    Ok(if failed > 0 || broken > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
