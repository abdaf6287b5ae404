use std::path::{Path, PathBuf};

use serde_json::Value;

use super::compare::{diff_lines, diff_text, normalise};
use crate::access::{FixtureAccess, read_records};
use crate::compile::compile_file;
use crate::diagnostic::Diagnostic;
use crate::expr::Scope;
use crate::load::{SchemaKind, load_typed, pointer_child};
use crate::model::{Expectation, TestFile};
use crate::project::Project;
use crate::run::{Outcome, Runner, Status};
use crate::value::{from_json, key_text, to_json};

pub struct CaseResult {
    pub name: String,
    /// `file:line:col` of the case.
    pub at: String,
    /// None when the case passed; else what differs.
    pub failure: Option<String>,
}

pub struct FileResult {
    pub file: PathBuf,
    pub cases: Vec<CaseResult>,
}

/// Runs every case of one test file. Problems with the file itself (schema,
/// the flow not compiling, a record that cannot be found) are diagnostics.
pub fn run_test_file(project: &Project, path: &Path) -> Result<FileResult, Vec<Diagnostic>> {
    let (file, doc) = load_typed::<TestFile>(path, SchemaKind::FlowTest)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let flow_path = dir.join(&file.flow);
    if !flow_path.is_file() {
        return Err(vec![Diagnostic::error(format!("the flow under test `{}` does not exist", file.flow)).at(doc.spans.value_loc("/flow"))]);
    }
    let (flow, _) = compile_file(project, &flow_path)?;
    let fixtures = file.fixtures.as_ref().map(|f| dir.join(f)).unwrap_or_else(|| project.fixtures_dir());
    let mut access = FixtureAccess::new(project, &fixtures);
    let mut cases = Vec::new();
    for (i, case) in file.cases.iter().enumerate() {
        let pointer = format!("/cases/{i}");
        let at = doc.spans.key_loc(&pointer_child(&pointer, "name")).map(|l| l.to_string()).unwrap_or_default();
        let record = match (&case.record, &case.from, &case.key) {
            (Some(record), None, None) => from_json(record),
            (None, Some(from), Some(key)) => match find_record(&dir.join(from), &flow.source.records, &flow, key) {
                Ok(r) => r,
                Err(message) => return Err(vec![Diagnostic::error(message).at(doc.spans.value_loc(&pointer_child(&pointer, "key")))]),
            },
            _ => {
                return Err(vec![
                    Diagnostic::error("a case needs either `record`, or `from` and `key`").at(doc.spans.key_loc(&pointer_child(&pointer, "name"))),
                ]);
            }
        };
        let mut settings = crate::value::to_json(&flow.settings);
        for (k, v) in file.settings.iter().chain(case.settings.iter()) {
            settings[k] = v.clone();
        }
        let mut runner = Runner::new(&flow, &mut access).with_settings(from_json(&settings));
        let outcome = runner.run_batch(vec![(1, record)]).remove(0);
        cases.push(CaseResult { name: case.name.clone(), at, failure: compare(&case.expect, &outcome) });
    }
    Ok(FileResult { file: path.to_path_buf(), cases })
}

/// The record of a fixture file whose source key is `key`.
fn find_record(
    file: &Path,
    selector: &jmespath::Expression<'static>,
    flow: &crate::compile::CompiledFlow,
    key: &Value,
) -> Result<minijinja::Value, String> {
    let records = read_records(file, Some(selector)).map_err(|e| e.message)?;
    let wanted = key_text(&from_json(key));
    for r in records {
        let mut scope = Scope::new();
        scope.push(flow.source.alias, r.clone());
        if flow.source.key.eval(&scope).map(|k| key_text(&k)).ok().as_deref() == Some(wanted.as_str()) {
            return Ok(r);
        }
    }
    Err(format!("no record with key {wanted} in {}", crate::diagnostic::display_path(file)))
}

fn describe(o: &Outcome) -> String {
    if let Some(error) = o.configuration_error() {
        return format!("{} (a mistake in the flow, not in the record)", error.as_configuration_error());
    }
    match o.status {
        Status::Ready => "ready".into(),
        Status::Blocked => format!("blocked:\n{}", o.reasons.iter().map(|r| format!("  - {r}\n")).collect::<String>()),
        Status::Skipped => format!("skipped: {}", o.message.as_deref().unwrap_or_default()),
        Status::Ignored => "ignored (filtered out by the source's query or `where`)".into(),
    }
}

fn compare(expect: &Expectation, o: &Outcome) -> Option<String> {
    let wanted = [expect.ready.is_some(), expect.blocked.is_some(), expect.skipped.is_some(), expect.ignored, expect.configuration_error.is_some()];
    if wanted.iter().filter(|w| **w).count() != 1 {
        return Some("`expect` needs exactly one of ready, blocked, skipped, ignored, configuration_error".into());
    }
    let mut problems = Vec::new();
    if let Some(payload) = &expect.ready {
        match (&o.status, &o.request) {
            (Status::Ready, Some(req)) => {
                let actual = req.body.as_ref().map(to_json).unwrap_or(Value::Null);
                if normalise(payload) != normalise(&actual) {
                    problems.push(format!("payload differs (- expected, + actual):\n{}", diff_text(payload, &actual)));
                }
            }
            _ => problems.push(format!("expected ready, got {}", describe(o))),
        }
    }
    if let Some(reasons) = &expect.blocked {
        if o.status != Status::Blocked || o.configuration_error().is_some() {
            problems.push(format!("expected blocked, got {}", describe(o)));
        } else if o.reasons.iter().map(|r| &r.text).ne(reasons.iter()) {
            let e = reasons.iter().map(|r| format!("{r}\n")).collect::<String>();
            let a = o.reasons.iter().map(|r| format!("{r}\n")).collect::<String>();
            problems.push(format!("block reasons differ (- expected, + actual):\n{}", diff_lines(&e, &a)));
        }
    }
    if let Some(wanted) = &expect.configuration_error {
        match o.configuration_error() {
            Some(error) if &error.text == wanted => {}
            Some(error) => problems.push(format!(
                "configuration error differs (- expected, + actual):\n{}",
                diff_lines(&format!("{wanted}\n"), &format!("{}\n", error.text))
            )),
            None => problems.push(format!("expected a configuration error, got {}", describe(o))),
        }
    }
    if let Some(message) = &expect.skipped {
        if o.status != Status::Skipped {
            problems.push(format!("expected skipped, got {}", describe(o)));
        } else if o.message.as_deref() != Some(message.as_str()) {
            problems.push(format!(
                "skip message differs (- expected, + actual):\n{}",
                diff_lines(&format!("{message}\n"), &format!("{}\n", o.message.as_deref().unwrap_or_default()))
            ));
        }
    }
    if expect.ignored && o.status != Status::Ignored {
        problems.push(format!("expected ignored, got {}", describe(o)));
    }
    if let Some(writes) = &expect.writes_back {
        let actual = Value::Array(o.write_backs.iter().map(crate::deliver::PlannedRequest::to_json).collect());
        let expected = Value::Array(writes.clone());
        if normalise(&expected) != normalise(&actual) {
            problems.push(format!("write-backs differ (- expected, + actual):\n{}", diff_text(&expected, &actual)));
        }
    }
    (!problems.is_empty()).then(|| problems.join("\n"))
}
