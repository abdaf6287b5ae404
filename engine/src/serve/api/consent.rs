//! Consent through the engine, for a server without a terminal to run
//! `flowmap connect` on: `POST /connections/{name}/consent` (API token) gives
//! the consent address for the operator's browser, and the system sends the
//! browser back to `GET /connections/{name}/callback` here — the connection's
//! `redirect_uri`, registered with the vendor. The callback checks the
//! consent's `state` (one use, 10 minutes), trades the code for tokens and
//! stores them with the redirect's other values, as `flowmap connect` does.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Api, problem};
use crate::http::Registry;
use crate::http::auth::OauthClient;
use crate::http::auth::consent::{self, Redirect, Store};
use crate::http::host_of_def;
use crate::model::{AuthDef, ConnectionDef, SystemDef};

/// The setting holding the consent asked for last: `<expires at, ms> <sha-256 of its state>`.
/// One per connection: asking again replaces it, and the earlier address stops working.
const PENDING: &str = "consent_pending";

/// How long a consent address stays good.
const LIFETIME_MS: i64 = 10 * 60 * 1000;

/// `POST /connections/{name}/consent`, optional body `{"client_id": …, "client_secret": …}`
/// (stored sealed first; else the stored ones): `{"authorize_url": …}`.
pub async fn start(State(api): State<Api>, Path(name): Path<String>, body: axum::body::Bytes) -> Response {
    let registry = api.engine.registry();
    let (def, system) = match consent_of(&registry, &name) {
        Ok(found) => found,
        Err((status, message)) => return problem(status, message),
    };
    let Some(redirect) = serve_callback(&name, def) else {
        return problem(
            StatusCode::CONFLICT,
            format!(
                "connection `{name}` needs `redirect_uri: https://<this server>/connections/{name}/callback` in the connections file, \
                 the address registered with {}",
                system.title
            ),
        );
    };
    let given: serde_json::Value = if body.is_empty() { json!({}) } else { serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null) };
    if !given.is_object() {
        return problem(StatusCode::BAD_REQUEST, "the body is a JSON object: {\"client_id\": …, \"client_secret\": …}, or empty");
    }
    let vault = match registry.vault() {
        Ok(v) => v.clone(),
        Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    for secret in ["client_id", "client_secret"] {
        if let Some(value) = given.get(secret).and_then(|v| v.as_str()).filter(|v| !v.trim().is_empty())
            && let Err(e) = api.engine.state.put_secret(&vault, &name, secret, value.trim())
        {
            return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        }
    }
    let client_id = match registry.secret(&name, "client_id").and_then(|id| registry.secret(&name, "client_secret").map(|_| id)) {
        Ok(id) => id,
        Err(_) => {
            return problem(
                StatusCode::CONFLICT,
                format!("connection `{name}` has no client_id and client_secret: send them in the body, or run \"flowmap connect {name}\""),
            );
        }
    };
    let host = match host_of_def(&name, def, system) {
        Ok(h) => h,
        Err(e) => return problem(StatusCode::CONFLICT, e),
    };
    let state = consent::random_state();
    let url = match consent::authorize_url(system, def, &host, &client_id, &redirect, &state) {
        Ok(u) => u,
        Err(e) => return problem(StatusCode::CONFLICT, e),
    };
    let pending = format!("{} {}", now_ms() + LIFETIME_MS, digest(&state));
    if let Err(e) = api.engine.state.set_setting(&name, PENDING, &pending) {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    axum::Json(json!({ "authorize_url": url.as_str() })).into_response()
}

/// `GET /connections/{name}/callback?code=…&state=…[&realmId=…]`: the browser, back from the
/// consent page. Answers a page for a person; a refusal says why, never a secret.
pub async fn callback(State(api): State<Api>, Path(name): Path<String>, Query(pairs): Query<Vec<(String, String)>>) -> Response {
    let registry = api.engine.registry();
    let (def, system) = match consent_of(&registry, &name) {
        Ok(found) => found,
        Err((status, message)) => return page(status, &message),
    };
    let Redirect { code, state, error, kept } = Redirect::of(pairs);
    let again = format!("ask for a new consent address (POST /connections/{name}/consent)");
    let stored = api.engine.state.setting(&name, PENDING).ok().flatten().unwrap_or_default();
    if let Err(why) = pending_matches(&stored, state.as_deref().unwrap_or(""), now_ms()) {
        return page(StatusCode::BAD_REQUEST, &format!("{why}: {again}."));
    }
    // One use: whichever callback empties it first goes on, any other is refused.
    if !api.engine.state.take_setting(&name, PENDING, &stored).unwrap_or(false) {
        return page(StatusCode::BAD_REQUEST, &format!("{}: {again}.", Refusal::NotAsked));
    }
    if let Some(error) = error {
        return page(StatusCode::BAD_REQUEST, &format!("Access was not granted ({error}); nothing was stored."));
    }
    let Some(code) = code else {
        return page(StatusCode::BAD_REQUEST, &format!("The redirect carried no code: {again}."));
    };
    let Some(AuthDef::Oauth2AuthorizationCode { client_auth, .. }) = &system.auth else {
        return page(StatusCode::CONFLICT, &format!("connection `{name}` is not connected by consent"));
    };
    let (redirect, host, vault) = match (serve_callback(&name, def), host_of_def(&name, def, system), registry.vault()) {
        (Some(r), Ok(h), Ok(v)) => (r, h, v.clone()),
        _ => return page(StatusCode::CONFLICT, &format!("connection `{name}` changed since the consent was asked for: {again}.")),
    };
    let client = match (registry.secret(&name, "client_id"), registry.secret(&name, "client_secret")) {
        (Ok(id), Ok(secret)) => OauthClient { id, secret, auth: *client_auth },
        _ => return page(StatusCode::CONFLICT, &format!("connection `{name}` has no client_id and client_secret any more: {again}.")),
    };
    let store = Store { state: api.engine.state.clone(), vault, name: name.clone() };
    let exchange = consent::Exchange { system, def, host: &host, client: &client, redirect_uri: &redirect };
    if let Err(e) = consent::complete(&store, &exchange, &code, &kept).await {
        return page(StatusCode::BAD_GATEWAY, &format!("flowmap could not connect `{name}`: {e}."));
    }
    connected(&registry, &name, &system.title).await
}

/// The page after tokens were stored: the connection is opened again from them, and says where it goes.
async fn connected(registry: &Arc<Registry>, name: &str, title: &str) -> Response {
    registry.forget(name).await;
    tracing::info!(connection = name, "consent given; tokens stored");
    match registry.connection(name).await {
        Ok(conn) => {
            page(StatusCode::OK, &format!("flowmap is connected: `{name}` ({title}); requests go to {}. You can close this page.", conn.base_url))
        }
        Err(e) => page(StatusCode::OK, &format!("flowmap stored the tokens of `{name}` ({title}), but the connection cannot be opened: {e}")),
    }
}

/// The connection and its system, when it is one connected by consent.
fn consent_of<'a>(registry: &'a Registry, name: &str) -> Result<(&'a ConnectionDef, &'a SystemDef), (StatusCode, String)> {
    let def = registry.definition(name).ok_or_else(|| (StatusCode::NOT_FOUND, format!("no connection named `{name}`")))?;
    let system_name = def.system.clone().unwrap_or_else(|| name.to_string());
    let system = registry.systems.get(&system_name).ok_or_else(|| (StatusCode::NOT_FOUND, format!("unknown system `{system_name}`")))?;
    match system.auth {
        Some(AuthDef::Oauth2AuthorizationCode { .. }) => Ok((def, system)),
        _ => {
            Err((StatusCode::CONFLICT, format!("connection `{name}` ({}) is not connected by consent; run \"flowmap connect {name}\"", system.title)))
        }
    }
}

/// The connection's `redirect_uri` when it is this engine's callback for it.
fn serve_callback(name: &str, def: &ConnectionDef) -> Option<String> {
    let uri = def.redirect_uri.as_deref()?;
    let url = reqwest::Url::parse(uri).ok()?;
    url.path().ends_with(&format!("/connections/{name}/callback")).then(|| uri.to_string())
}

/// Why a callback's `state` is not taken.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// No consent waits, or another one (asked later, or used already).
    NotAsked,
    Expired,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotAsked => write!(f, "This answer does not belong to a consent flowmap is waiting for (or it was used already)"),
            Refusal::Expired => write!(f, "This consent address expired (it is good for 10 minutes)"),
        }
    }
}

/// Whether `state` answers the consent kept in `stored` at `now` (ms).
fn pending_matches(stored: &str, state: &str, now: i64) -> Result<(), Refusal> {
    let Some((expires, hash)) = stored.split_once(' ') else {
        return Err(Refusal::NotAsked);
    };
    if state.is_empty() || hash != digest(state) {
        return Err(Refusal::NotAsked);
    }
    match expires.parse::<i64>() {
        Ok(at) if now < at => Ok(()),
        _ => Err(Refusal::Expired),
    }
}

/// The state is kept hashed: the state file alone cannot answer a consent.
fn digest(state: &str) -> String {
    Sha256::digest(state.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A plain page for the operator's browser; the text escaped.
fn page(status: StatusCode, text: &str) -> Response {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!("<!doctype html><meta charset=\"utf-8\"><title>flowmap</title><p>{escaped}</p>\n");
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_taken_only_when_it_is_the_one_asked_for_and_not_expired() {
        let stored = format!("1000 {}", digest("s1"));
        assert_eq!(pending_matches(&stored, "s1", 999), Ok(()));
        assert_eq!(pending_matches(&stored, "s1", 1000), Err(Refusal::Expired));
        assert_eq!(pending_matches(&stored, "s2", 999), Err(Refusal::NotAsked));
        assert_eq!(pending_matches(&stored, "", 999), Err(Refusal::NotAsked));
        // Used: the setting was emptied.
        assert_eq!(pending_matches("", "s1", 999), Err(Refusal::NotAsked));
    }
}
