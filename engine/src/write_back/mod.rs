//! Write back: the requests that tell the source what happened (LNB order
//! Closed, or Blocked with every reason), planned once from what happened
//! (for a delivery: from the target's real answer), and the port that sends
//! them: HTTP (`http.rs`), or recorded in a dry-run (`deliver::RecordingWriteBack`).

mod file;
mod http;
mod upload;

pub use http::HttpWriteBack;

use crate::compile::CompiledRequest;
use crate::deliver::{Fut, PlannedRequest};
use crate::expr::Scope;
use crate::map::{FieldError, Purpose, map_fields};
use crate::run::{Reason, ReasonKind, reason};

/// The write-back requests for one record; problems computing them are returned as reasons.
pub fn plan(requests: &[CompiledRequest], scope: &mut Scope) -> (Vec<PlannedRequest>, Vec<Reason>) {
    let mut planned = Vec::new();
    let mut problems = Vec::new();
    for r in requests {
        if let Some(when) = &r.when {
            match when.holds(scope) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    problems.push(Reason::new(reason::of_failure(when, &e), format!("write-back {} {}: {e}", r.method, r.path.text), ""));
                    continue;
                }
            }
        }
        let path = match r.path.render(scope) {
            Ok(p) => p,
            Err(e) => {
                let kind = if reason::template_reads_record(&r.path) { ReasonKind::Record } else { ReasonKind::Flow };
                problems.push(Reason::new(kind, format!("write-back {} {}: {e}", r.method, r.path.text), ""));
                continue;
            }
        };
        let mut errors: Vec<FieldError> = Vec::new();
        let body = map_fields(&r.body, scope, Purpose::Create, "", &mut errors);
        problems.extend(errors.iter().map(|e| {
            let reason = e.reason();
            Reason { text: format!("write-back {} {path}: {}", r.method, reason.text), ..reason }
        }));
        let file = match r.file.as_ref().map(|f| file::plan(f, scope)).transpose() {
            Ok(f) => f,
            Err(e) => {
                problems.push(Reason::new(ReasonKind::Record, format!("write-back {} {path}: {e}", r.method), ""));
                continue;
            }
        };
        let once = match r.once.as_ref().map(|o| file::text(o, scope)).transpose() {
            Ok(o) => o,
            Err(e) => {
                problems.push(Reason::new(ReasonKind::Record, format!("write-back {} {path}: once: {e}", r.method), ""));
                continue;
            }
        };
        planned.push(PlannedRequest {
            system: r.system.clone(),
            method: r.method.clone(),
            path,
            body: (!r.body.is_empty()).then_some(body),
            idempotency_key: None,
            file,
            once,
        });
    }
    (planned, problems)
}

/// The write-back port.
pub trait WriteBack: Sync {
    /// Sends one write-back; the error is the reason, without secrets.
    fn send<'a>(&'a self, request: &'a PlannedRequest) -> Fut<'a, Result<(), String>>;
}

/// The `sent` write-backs of a delivered record, planned once, from the
/// target's real answer (`result`) — in a dry-run, from what the recording
/// target answers. `found` is the record an update was made to (none for a creation).
pub fn plan_sent(
    flow: &crate::compile::CompiledFlow,
    settings: &minijinja::Value,
    ctx: &crate::run::Context,
    result: &serde_json::Value,
) -> (Vec<PlannedRequest>, Vec<Reason>) {
    if flow.after.sent.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut scope = ctx.scope(flow, settings);
    scope.push("found", ctx.found.clone().unwrap_or_else(|| minijinja::Value::from(())));
    scope.push("result", crate::value::from_json(result));
    plan(&flow.after.sent, &mut scope)
}
