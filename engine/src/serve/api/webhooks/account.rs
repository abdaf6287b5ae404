//! Whose events these are: the connection named like the system works in one
//! account (Xero tenant, QuickBooks realm, Exact division), while a system may
//! send the events of every account that allowed the app (Xero sends each
//! organisation connected to the app; a CloudEvents delivery may mix realms).
//! The connection's account is its parameter, as given in the connections
//! file or as discovered and remembered in the state file.

use crate::model::AccountDef;
use crate::serve::engine::Engine;
use crate::serve::flow_set::FlowSet;

/// The values that are the connection's own account; empty when it is not known
/// yet (never discovered), and then no event is taken for another account's.
pub fn own(engine: &Engine, set: &FlowSet, system: &str, account: Option<&AccountDef>) -> Vec<String> {
    let Some(account) = account else { return Vec::new() };
    let param = account.param.as_str();
    let given = engine.registry().definition(system).and_then(|d| d.params.get(param)).map(ToString::to_string);
    // A parameter chosen from a list (Xero's tenant, named as people do) is only the
    // account once discovery has turned the name into the id; others are the id itself.
    let named = set.project.systems.get(system).and_then(|s| s.def.http.discover.get(param)).is_some_and(|d| d.list.is_some());
    let memory = match &given {
        Some(g) => format!("{param}={g}"),
        None => param.to_string(),
    };
    let remembered = engine.state.setting(system, &memory).ok().flatten();
    remembered.into_iter().chain(given.filter(|_| !named)).filter(|v| !v.is_empty()).collect()
}

/// An event about an account that is known not to be the connection's.
pub fn is_other(own: &[String], account: Option<&str>) -> bool {
    match account {
        Some(account) if !own.is_empty() => !own.iter().any(|o| o.eq_ignore_ascii_case(account)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_known_other_account_is_other() {
        let own = vec!["310687".to_string()];
        assert!(!is_other(&own, Some("310687")));
        assert!(is_other(&own, Some("9130")));
        assert!(!is_other(&own, None), "an event naming no account cannot be told apart");
        assert!(!is_other(&[], Some("9130")), "an account never discovered yet is not known");
        assert!(!is_other(&["C2CC9B6E-9458-4C7D-93CC-F02B81B0594F".into()], Some("c2cc9b6e-9458-4c7d-93cc-f02b81b0594f")));
    }
}
