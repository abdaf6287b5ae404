use std::path::{Path, PathBuf};

use serde_json::Value;

use super::verdict::{actual_expectation, compare};
use crate::access::{FixtureAccess, read_records};
use crate::compile::compile_file;
use crate::deliver::{Recorded, RecordingTarget, RecordingWriteBack};
use crate::diagnostic::Diagnostic;
use crate::expr::Scope;
use crate::load::{SchemaKind, load_typed, pointer_child};
use crate::model::TestFile;
use crate::project::Project;
use crate::run::{DrySettle, Runner};
use crate::value::{from_json, key_text};

pub struct CaseResult {
    pub name: String,
    /// `file:line:col` of the case.
    pub at: String,
    /// None when the case passed; else what differs.
    pub failure: Option<String>,
    /// What the case would have to expect to pass, in the shape of its
    /// `expect` (`writes_back` only when the case checks them).
    pub actual: Value,
    /// Where the case's `expect:` key is written, for `flowmap test --update`.
    pub expect_key: Option<crate::diagnostic::Span>,
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
    // Cases settle as a dry-run does: delivered to the recording target, the
    // `sent` write-backs planned from its answer.
    let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| vec![Diagnostic::error(format!("cannot start the runtime: {e}"))])?;
    let recorded = Recorded::default();
    let envelope = crate::format::x12::project_envelope(project, &flow.target.system);
    let target = RecordingTarget::of(project, &flow, &recorded, envelope.as_ref());
    let write_back = RecordingWriteBack { recorded: &recorded };
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
        let settings = from_json(&settings);
        let history = CaseHistory(case.previous.clone());
        let mut runner = Runner::new(&flow, &mut access).with_settings(settings.clone()).with_history(&history);
        let mut outcome = runner.run_batch(vec![(1, record)]).remove(0);
        let dry = DrySettle { flow: &flow, settings, target: &target, write_back: &write_back, recorded: &recorded, rt: rt.handle() };
        // A grouped file target writes the case's record as a file of its own group.
        dry.files(std::slice::from_mut(&mut outcome));
        if outcome.configuration_error().is_none() {
            dry.outcome(&mut outcome);
        }
        recorded.take();
        let expect_key = doc.spans.get(&pointer_child(&pointer, "expect")).and_then(|n| n.key);
        cases.push(CaseResult {
            name: case.name.clone(),
            at,
            failure: compare(&case.expect, &outcome),
            actual: actual_expectation(&case.expect, &outcome),
            expect_key,
        });
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

/// A case's history: the version it says was delivered before, for whichever record it runs.
struct CaseHistory(Option<String>);

impl crate::run::History for CaseHistory {
    fn previous(&self, _flow: &str, keys: &[String]) -> Result<std::collections::HashMap<String, crate::run::Previous>, String> {
        let Some(version) = &self.0 else { return Ok(Default::default()) };
        Ok(keys.iter().map(|k| (k.clone(), crate::run::Previous { version: version.clone(), target_id: None, run: None })).collect())
    }
}
