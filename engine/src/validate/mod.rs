//! Validate: the flow's rules, checked against the record and the mapped payload (`out`).

use crate::compile::CompiledRule;
use crate::expr::{EvalError, Expr, Scope};
use crate::run::{Reason, ReasonKind, reason};

/// Every failing rule's message (a rule with `each` can fail once per element).
pub fn check_rules(rules: &[CompiledRule], scope: &mut Scope) -> Vec<Reason> {
    let mut reasons = Vec::new();
    for rule in rules {
        match &rule.each {
            None => check_one(rule, scope, &mut reasons),
            Some((each, alias)) => match each.eval(scope) {
                Ok(list) => {
                    for item in list.try_iter().into_iter().flatten() {
                        scope.push(alias, item);
                        check_one(rule, scope, &mut reasons);
                        scope.pop();
                    }
                }
                Err(e) => reasons.push(failed(rule, each, e)),
            },
        }
    }
    reasons
}

fn check_one(rule: &CompiledRule, scope: &Scope, reasons: &mut Vec<Reason>) {
    if let Some(when) = &rule.when {
        match when.holds(scope) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                reasons.push(failed(rule, when, e));
                return;
            }
        }
    }
    match rule.check.eval(scope) {
        Ok(v) if v.is_true() => {}
        Ok(_) => reasons.push(Reason::new(kind_of_failing(rule), rule.message.render_lossy(scope), &rule.origin)),
        Err(e) => reasons.push(failed(rule, &rule.check, e)),
    }
}

/// A rule that does not hold is the record's when its check or its `when`
/// reads the record (`line.quantity > 0`; "preorders are not taken" as
/// `when: order.preorder`, `check: settings.take_preorders`). A rule that
/// reads only settings (`settings.warehouse.preorder and …`) fails for every
/// record alike: the flow is not configured, which is the flow's.
fn kind_of_failing(rule: &CompiledRule) -> ReasonKind {
    let record = reason::reads_record(&rule.check) || rule.when.as_ref().is_some_and(reason::reads_record);
    if record { ReasonKind::Record } else { ReasonKind::Flow }
}

fn failed(rule: &CompiledRule, expr: &Expr, e: EvalError) -> Reason {
    Reason::new(reason::of_failure(expr, &e), format!("rule `{}`: {e}", rule.name), &rule.origin)
}
