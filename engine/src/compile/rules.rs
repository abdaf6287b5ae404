//! Rules: validations with their messages, per record or per element of a list.

use super::context::Ctx;
use super::flow::CompiledRule;
use crate::expr::names::intern;
use crate::model::FlowFile;

pub fn compile_rules(ctx: &mut Ctx, flow: &FlowFile, alias: &'static str) -> Vec<CompiledRule> {
    let mut rules = Vec::new();
    for (rname, r) in &flow.rules {
        let at = format!("/rules/{rname}");
        let each_alias = intern(r.alias.as_deref().unwrap_or("item"));
        let mut roots = vec![alias, "settings", "lookup", "out"];
        let each = r.each.as_ref().map(|e| ctx.each(&format!("{at}/each"), e, &roots, each_alias));
        if r.each.is_some() {
            roots.push(each_alias);
        }
        let check = ctx.expr(&format!("{at}/check"), &r.check, &roots);
        let when = r.when.as_ref().map(|w| ctx.expr(&format!("{at}/when"), w, &roots));
        let message = ctx.template(&format!("{at}/message"), &r.message, &roots);
        if r.each.is_some() {
            ctx.end_each();
        }
        if let (Some(check), Some(message)) = (check, message) {
            rules.push(CompiledRule {
                name: rname.clone(),
                check,
                each: match each {
                    Some(Some(e)) => Some((e, each_alias)),
                    _ => None,
                },
                when: when.flatten(),
                message,
                origin: ctx.origin(&at),
            });
        }
    }

    rules
}
