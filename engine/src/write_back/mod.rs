//! Write back: the requests that tell the source what happened (LNB order
//! Closed, or Blocked with every reason).

mod execute;

pub use execute::execute;

use crate::compile::CompiledRequest;
use crate::deliver::PlannedRequest;
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
        planned.push(PlannedRequest { system: r.system.clone(), method: r.method.clone(), path, body: (!r.body.is_empty()).then_some(body) });
    }
    (planned, problems)
}
