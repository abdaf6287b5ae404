//! Validate: the flow's rules, checked against the record and the mapped payload (`out`).

use crate::compile::CompiledRule;
use crate::expr::Scope;

/// Every failing rule's message (a rule with `each` can fail once per element).
pub fn check_rules(rules: &[CompiledRule], scope: &mut Scope) -> Vec<String> {
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
                Err(e) => reasons.push(format!("rule `{}`: {e}", rule.name)),
            },
        }
    }
    reasons
}

fn check_one(rule: &CompiledRule, scope: &Scope, reasons: &mut Vec<String>) {
    if let Some(when) = &rule.when {
        match when.holds(scope) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                reasons.push(format!("rule `{}`: {e}", rule.name));
                return;
            }
        }
    }
    match rule.check.eval(scope) {
        Ok(v) if v.is_true() => {}
        Ok(_) => reasons.push(rule.message.render_lossy(scope)),
        Err(e) => reasons.push(format!("rule `{}`: {e}", rule.name)),
    }
}
