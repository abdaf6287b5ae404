//! Consent (OAuth2 authorization code), one way for `flowmap connect` and for
//! `flowmap serve`: the consent address, what its redirect carries, and the
//! code traded for tokens, stored sealed together with the redirect's other
//! values (QuickBooks' `realmId`, the company every API path names).

use std::sync::Arc;

use flowmap_state::{State, Vault};

use super::{OauthClient, exchange_code};
use crate::http::{ServerClock, fill_hosts};
use crate::model::{AuthDef, ConnectionDef, SystemDef};

/// The setting holding the values the last consent's redirect carried beside the code,
/// form-encoded (`realmId=9130`): one setting, so a new consent replaces them all at once.
pub const KEPT_SETTING: &str = "consent_redirect";

/// What a redirect to the callback carries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Redirect {
    pub code: Option<String>,
    pub state: Option<String>,
    /// `error` (`access_denied`): consent was not given.
    pub error: Option<String>,
    /// Everything else (`realmId`, Xero's `scope`), kept for the connection.
    pub kept: Vec<(String, String)>,
}

impl Redirect {
    pub fn of(pairs: impl IntoIterator<Item = (String, String)>) -> Redirect {
        let mut redirect = Redirect::default();
        for (name, value) in pairs {
            match name.as_str() {
                "code" => redirect.code = Some(value),
                "state" => redirect.state = Some(value),
                "error" => redirect.error = Some(value),
                // error_description, error_uri: part of the refusal, nothing to keep.
                n if n.starts_with("error") => {}
                _ if redirect.kept.iter().any(|(k, _)| *k == name) => {}
                _ => redirect.kept.push((name, value)),
            }
        }
        redirect
    }

    pub fn of_url(url: &reqwest::Url) -> Redirect {
        Redirect::of(url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())))
    }
}

/// The redirect values the connection needs (QuickBooks: `realmId`), by the name the redirect
/// gives them; not those whose placeholder the connection's own `params` fill.
pub fn needed(system: &SystemDef, def: &ConnectionDef) -> Vec<String> {
    match &system.auth {
        Some(AuthDef::Oauth2AuthorizationCode { redirect_params, .. }) => {
            redirect_params.iter().filter(|(param, _)| !def.params.contains_key(*param)).map(|(_, carried)| carried.clone()).collect()
        }
        _ => Vec::new(),
    }
}

/// The consent page's address for this connection.
pub fn authorize_url(
    system: &SystemDef,
    def: &ConnectionDef,
    host: &str,
    client_id: &str,
    redirect: &str,
    state: &str,
) -> Result<reqwest::Url, String> {
    let Some(AuthDef::Oauth2AuthorizationCode { authorize_url, scope, authorize_params, .. }) = &system.auth else {
        return Err(format!("{} is not connected by consent (OAuth2 authorization code)", system.title));
    };
    let mut url = reqwest::Url::parse(&fill_hosts(authorize_url, system, def, host)).map_err(|e| format!("authorize_url: {e}"))?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("response_type", "code")
        .append_pair("state", state);
    for (k, v) in authorize_params {
        url.query_pairs_mut().append_pair(k, v);
    }
    if let Some(s) = scope {
        url.query_pairs_mut().append_pair("scope", s);
    }
    Ok(url)
}

/// Where the tokens of one consent go.
pub struct Store {
    pub state: Arc<State>,
    pub vault: Arc<Vault>,
    pub name: String,
}

/// What trades a code: the connection, its system, the client, and the redirect URI the
/// consent was asked with (the token endpoint checks it is the same).
pub struct Exchange<'a> {
    pub system: &'a SystemDef,
    pub def: &'a ConnectionDef,
    pub host: &'a str,
    pub client: &'a OauthClient,
    pub redirect_uri: &'a str,
}

/// Trades the redirect's code for tokens and stores them with the values the redirect
/// carried. A redirect without a value the system needs is refused before the code is spent.
pub async fn complete(store: &Store, exchange: &Exchange<'_>, code: &str, kept: &[(String, String)]) -> Result<(), String> {
    let Exchange { system, def, host, client, redirect_uri } = *exchange;
    let Some(AuthDef::Oauth2AuthorizationCode { token_url, lifetime_seconds, .. }) = &system.auth else {
        return Err(format!("{} is not connected by consent (OAuth2 authorization code)", system.title));
    };
    if let Some(missing) = needed(system, def).into_iter().find(|n| !kept.iter().any(|(k, _)| k == n)) {
        return Err(format!("the redirect did not carry {missing}, which {} sends with the code", system.title));
    }
    let clock = ServerClock::new(def.clock_speed.unwrap_or(1.0));
    let http = reqwest::Client::new();
    let tokens = exchange_code(&http, &clock, &fill_hosts(token_url, system, def, host), code, redirect_uri, client, *lifetime_seconds)
        .await
        .map_err(|e| e.to_string())?;
    let kept = reqwest::Url::parse_with_params("x:", kept).map(|u| u.query().unwrap_or_default().to_string()).map_err(|e| e.to_string())?;
    let discovered: Vec<(String, Option<String>)> =
        system.http.discover.keys().map(|p| (p.clone(), def.params.get(p).map(ToString::to_string))).collect();
    let (state, vault, name) = (store.state.clone(), store.vault.clone(), store.name.clone());
    // The state file's lock may be held by a refresh in progress: waited for off the async workers.
    let stored = tokio::task::spawn_blocking(move || -> Result<(), flowmap_state::StateError> {
        state.lock_tokens(&name)?.store(&vault, &tokens)?;
        state.set_setting(&name, KEPT_SETTING, &kept)?;
        // A discovered value (the division) belongs to the account that consented,
        // which may be another one now: it is found again.
        for (param, given) in discovered {
            state.set_setting(&name, &param, "")?;
            if let Some(given) = given {
                state.set_setting(&name, &format!("{param}={given}"), "")?;
            }
        }
        Ok(())
    });
    stored.await.map_err(|e| format!("storing the tokens: {e}"))?.map_err(|e| e.to_string())
}

/// The values the last consent of `connection` kept (none before a consent).
pub fn kept(state: &State, connection: &str) -> Vec<(String, String)> {
    let text = state.setting(connection, KEPT_SETTING).ok().flatten().unwrap_or_default();
    reqwest::Url::parse(&format!("x:?{text}")).map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()).unwrap_or_default()
}

/// A random value for `state`: ties a redirect to the consent that asked for it.
pub fn random_state() -> String {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_keeps_all_but_code_state_and_errors() {
        let url = reqwest::Url::parse("http://127.0.0.1/cb?code=c%2F1&state=s&realmId=9130&scope=a+b&error_description=x").unwrap();
        let r = Redirect::of_url(&url);
        assert_eq!(r.code.as_deref(), Some("c/1"));
        assert_eq!(r.state.as_deref(), Some("s"));
        assert_eq!(r.error, None);
        assert_eq!(r.kept, vec![("realmId".to_string(), "9130".to_string()), ("scope".to_string(), "a b".to_string())]);
    }
}
