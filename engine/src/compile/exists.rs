//! The existence check: which target field identifies a record already sent,
//! and when a record found there counts as this one.

use minijinja::Value;

use super::context::Ctx;
use super::flow::CompiledExists;
use super::references::{entity_field, known_fields, system};
use crate::expr::{EvalError, Scope};
use crate::model::FlowFile;
use crate::project::Project;

pub fn compile_exists(project: &Project, ctx: &mut Ctx, flow: &FlowFile, alias: &'static str) -> Option<CompiledExists> {
    flow.exists.as_ref().and_then(|x| {
        let sys = system(project, ctx, "/exists/system", &x.system)?;
        let entity = entity_field(ctx, sys, "/exists/entity", &x.entity, Some(("/exists/match", &x.match_field)));
        if let Some(def) = entity {
            known_fields(ctx, def, "/exists/show", &x.show, true);
        }
        let id_field = entity.and_then(|e| e.key.clone());
        let roots = [alias, "settings", "lookup", "out"];
        let key = ctx.expr("/exists/key", &x.key, &roots);
        let default_msg = format!("{} with {} {{{{ key }}}} already exists in {}", x.entity, x.match_field, sys.def.title);
        let msg_roots = [alias, "settings", "lookup", "out", "key", "found"];
        let message = ctx.template("/exists/message", x.message.as_deref().unwrap_or(&default_msg), &msg_roots);
        let when = x.when.as_deref().map(|w| ctx.expr("/exists/when", w, &msg_roots));
        if let (Some(Some(when)), Some(def)) = (&when, entity) {
            check_when_fields(ctx, def, &x.show, when);
        }
        Some(CompiledExists {
            system: x.system.clone(),
            entity: x.entity.clone(),
            match_field: x.match_field.clone(),
            key: key?,
            show: x.show.clone(),
            when: match when {
                Some(when) => Some(when?),
                None => None,
            },
            then: x.then,
            message: message?,
            language: sys.def.query(),
            numeric: sys.numeric_field(&x.entity, &x.match_field),
            batch: sys.def.batch as usize,
            id_field,
            origin: ctx.origin("/exists"),
        })
    })
}

/// The fields `when` reads from the record found must be fields of the entity
/// and, when `show` names what is fetched, among them: a field not fetched
/// would never be there, and the record would be sent again on every run.
fn check_when_fields(ctx: &mut Ctx, def: &crate::model::EntityDef, show: &[String], when: &crate::expr::Expr) {
    let read = when.fields_read("found");
    known_fields(ctx, def, "/exists/when", &read, false);
    for field in read.iter().filter(|f| !show.is_empty() && !show.contains(f) && def.fields.contains_key(f.as_str())) {
        let message = format!("`when` reads `found.{field}`, which `show` does not fetch: add `{field}` to `show`");
        ctx.error(crate::diagnostic::Diagnostic::error(message).at(ctx.spans.value_loc("/exists/when")));
    }
}

impl CompiledExists {
    /// Whether `found`, the target's record with this record's `key`, counts as
    /// the record already there (its `when`, if any, holds). `scope` has the
    /// record, settings, look-ups and `out`; `key` and `found` are added for the check.
    pub fn counts(&self, scope: &mut Scope, key: &str, found: &Value) -> Result<bool, EvalError> {
        let Some(when) = &self.when else { return Ok(true) };
        scope.push("key", Value::from(key));
        scope.push("found", found.clone());
        let holds = when.holds(scope);
        scope.pop();
        scope.pop();
        holds
    }
}
