//! Look-ups: each named check compiled with its key, list, message and fallback.

use super::context::Ctx;
use super::flow::{CompiledCreate, CompiledLookup, http_target};
use super::mapping::{Schema, compile_fields};
use super::references::{entity_field, known_fields, system};
use crate::diagnostic::Diagnostic;
use crate::expr::names::intern;
use crate::model::{FlowFile, Selection};
use crate::project::Project;

pub fn compile_lookups(project: &Project, ctx: &mut Ctx, flow: &FlowFile, alias: &'static str) -> Vec<CompiledLookup> {
    let mut lookups = Vec::new();
    for (lname, l) in &flow.lookups {
        let at = format!("/lookups/{lname}");
        let sys = system(project, ctx, &format!("{at}/system"), &l.system);
        if let Some(sys) = sys
            && let Some(def) = entity_field(ctx, sys, &format!("{at}/entity"), &l.entity, Some((&format!("{at}/match"), &l.match_field)))
        {
            match &l.select {
                Some(Selection::One(one)) => known_fields(ctx, def, &format!("{at}/select"), std::slice::from_ref(one), false),
                Some(Selection::Many(many)) => known_fields(ctx, def, &format!("{at}/select"), many, true),
                None => {}
            }
        }
        let each_alias = intern(l.alias.as_deref().unwrap_or("item"));
        // A key may read the look-ups written before it (the QuickBooks item of a line, then the
        // Exact item of that item's SKU): they are asked first.
        let each = l.each.as_ref().map(|e| ctx.each(&format!("{at}/each"), e, &[alias, "settings", "lookup"], each_alias));
        let key_roots: Vec<&str> = if l.each.is_some() { vec![alias, "settings", "lookup", each_alias] } else { vec![alias, "settings", "lookup"] };
        let key = ctx.expr(&format!("{at}/key"), &l.key, &key_roots);
        let earlier: Vec<&String> = flow.lookups.keys().take_while(|n| *n != lname).collect();
        let mut reads_lookups = false;
        for (what, expr) in [("key", key.as_ref()), ("each", each.as_ref().and_then(|e| e.as_ref()))] {
            let Some(expr) = expr else { continue };
            for name in expr.fields_read("lookup") {
                reads_lookups = true;
                if !earlier.contains(&&name) {
                    let d =
                        Diagnostic::error(format!("the {what} of lookup `{lname}` reads `lookup.{name}`, which is not a look-up written before it"))
                            .at(ctx.spans.value_loc(&format!("{at}/{what}")))
                            .help("look-ups are asked in the order they are written: move this one after the one it reads");
                    ctx.error(d);
                }
            }
        }
        let mut msg_roots = key_roots.clone();
        msg_roots.push("key");
        let default_msg = format!("{{{{ key }}}} was not found in {} {} by {}", l.system, l.entity, l.match_field);
        let missing = match &l.missing {
            Some(m) => ctx.template(&format!("{at}/missing"), m, &msg_roots),
            None => ctx.template(&format!("{at}/missing"), &default_msg, &msg_roots),
        };
        let fallback = l.fallback.as_ref().map(|f| ctx.expr(&format!("{at}/fallback"), f, &msg_roots));
        let create = match (&l.create, sys) {
            (Some(fields), Some(sys)) => {
                if l.fallback.is_some() {
                    ctx.error(
                        Diagnostic::error(format!(
                            "lookup `{lname}` has both `fallback` and `create`: a key not found is either replaced or created"
                        ))
                        .at(ctx.spans.key_loc(&format!("{at}/create"))),
                    );
                }
                let entity = sys.entity(&l.entity);
                let schema = entity.map(|e| Schema { title: e.title.clone(), fields: &e.fields });
                let fields = compile_fields(ctx, &format!("{at}/create"), fields, &msg_roots, schema);
                Some(CompiledCreate { fields, target: http_target(sys, &l.entity, entity) })
            }
            _ => None,
        };
        if l.each.is_some() {
            ctx.end_each();
        }
        let (select, select_one) = match &l.select {
            Some(Selection::One(s)) => (vec![s.clone()], true),
            Some(Selection::Many(v)) => (v.clone(), false),
            None => (Vec::new(), false),
        };
        if let (Some(key), Some(missing), Some(sys)) = (key, missing, sys) {
            lookups.push(CompiledLookup {
                name: lname.clone(),
                system: l.system.clone(),
                entity: l.entity.clone(),
                match_field: l.match_field.clone(),
                key,
                each: match each {
                    Some(Some(e)) => Some((e, each_alias)),
                    _ => None,
                },
                select,
                select_one,
                batch: l.batch.unwrap_or(sys.def.batch).max(1) as usize,
                required: l.required,
                fallback: fallback.flatten(),
                missing,
                language: sys.def.query(),
                numeric: sys.numeric_field(&l.entity, &l.match_field),
                origin: ctx.origin(&at),
                create,
                reads_lookups,
            });
        }
    }

    lookups
}
