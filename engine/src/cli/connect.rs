//! `flowmap connect NAME`: stores a connection's credentials (encrypted) and,
//! for OAuth2 authorization code, walks the user through consent: prints the
//! consent URL, takes the redirect on a loopback callback or, without a
//! browser on this machine, the redirect address (or its code) pasted on
//! standard input, trades the code for tokens and stores them.

mod files;
mod paste;
mod prompt;
pub mod webhook_secret;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::live_setup::{LiveOptions, runtime};
use super::{Failure, Out};
use crate::http::auth::OauthClient;
use crate::http::auth::consent::{self, Redirect};
use crate::http::host_of_def;
use crate::model::AuthDef;

/// The default loopback address the consent page sends the user back to.
const DEFAULT_REDIRECT: &str = "http://127.0.0.1:53682/callback";

pub fn run(root: Option<PathBuf>, options: &LiveOptions, name: String, client_id: Option<String>) -> Result<ExitCode, Failure> {
    let setup = options.open(root, None, true)?;
    let vault = setup.vault.clone()?;
    let def = setup.registry.definition(&name).cloned().ok_or_else(|| format!("no connection named `{name}` in the connections file"))?;
    let system_name = def.system.clone().unwrap_or_else(|| name.clone());
    let system = setup.project.systems.get(&system_name).ok_or_else(|| format!("unknown system `{system_name}`"))?;
    let put = |secret: &str, value: &str| setup.state.put_secret(&vault, &name, secret, value).map_err(|e| e.to_string());
    let rt = runtime()?;
    let Some(auth) = &system.def.auth else {
        // A file system: an SFTP password or key, or a folder.
        files::connect(&setup, &rt, &name, system)?;
        return Ok(ExitCode::SUCCESS);
    };
    match auth {
        AuthDef::Oauth2AuthorizationCode { client_auth, .. } => {
            let id = ask(&setup, &name, "client_id", client_id, "FLOWMAP_CLIENT_ID")?;
            let secret = ask(&setup, &name, "client_secret", None, "FLOWMAP_CLIENT_SECRET")?;
            put("client_id", &id)?;
            put("client_secret", &secret)?;
            let host = host_of_def(&name, &def, &system.def)?;
            let redirect = def.redirect_uri.clone().unwrap_or_else(|| DEFAULT_REDIRECT.to_string());
            let state = consent::random_state();
            let url = consent::authorize_url(&system.def, &def, &host, &id, &redirect, &state)?;
            let needed = consent::needed(&system.def, &def);
            let store = consent::Store { state: setup.state.clone(), vault: vault.clone(), name: name.clone() };
            let client = OauthClient { id, secret, auth: *client_auth };
            rt.block_on(async {
                let (code, kept) = consent(&name, &url, &redirect, &state, &needed).await?;
                let exchange = consent::Exchange { system: &system.def, def: &def, host: &host, client: &client, redirect_uri: &redirect };
                consent::complete(&store, &exchange, &code, &kept).await
            })?;
            let conn = rt.block_on(setup.registry.connection(&name)).map_err(|e| e.to_string())?;
            let mut out = Out::text();
            writeln!(out, "connected `{name}` ({}); requests go to {}", system.def.title, conn.base_url)?;
            out.finish()?;
        }
        AuthDef::Oauth2ClientCredentials { .. } => {
            put("client_id", &ask(&setup, &name, "client_id", client_id, "FLOWMAP_CLIENT_ID")?)?;
            put("client_secret", &ask(&setup, &name, "client_secret", None, "FLOWMAP_CLIENT_SECRET")?)?;
            verify(&setup, &rt, &name, "the client credentials were accepted")?;
        }
        AuthDef::Bearer {} => {
            put("token", &ask(&setup, &name, "token", None, "FLOWMAP_TOKEN")?)?;
            verify(&setup, &rt, &name, "the token was accepted")?;
        }
        AuthDef::ApiKey { .. } => {
            put("api_key", &ask(&setup, &name, "api_key", None, "FLOWMAP_API_KEY")?)?;
            verify(&setup, &rt, &name, "the API key was accepted")?;
        }
        AuthDef::Basic {} => {
            put("username", &ask(&setup, &name, "username", None, "FLOWMAP_USERNAME")?)?;
            put("password", &ask(&setup, &name, "password", None, "FLOWMAP_PASSWORD")?)?;
            verify(&setup, &rt, &name, "the user name and password were accepted")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Calls the connection as `flowmap connections --check` does. What was
/// stored stays, so a wrong value is replaced by connecting again.
fn verify(setup: &super::live_setup::LiveSetup, rt: &tokio::runtime::Runtime, name: &str, accepted: &str) -> Result<(), String> {
    let title = setup.registry.definition(name).and_then(|d| d.system.clone()).unwrap_or_else(|| name.to_string());
    let title = setup.project.systems.get(&title).map(|s| s.def.title.clone()).unwrap_or(title);
    match rt.block_on(setup.registry.check(name)) {
        Ok(base) => {
            let mut out = Out::text();
            writeln!(out, "connected `{name}` ({title}); {accepted} by {base}")?;
            Ok(out.finish()?)
        }
        Err(e) => Err(format!("stored the credentials of `{name}`, but they do not work: {e}")),
    }
}

/// Credentials shown as typed; every other one (secret, token, key, password) is read unseen.
const SHOWN: &[&str] = &["client_id", "username"];

/// A credential: the flag, else the environment variable, else the stored one, else asked on stdin.
fn ask(setup: &super::live_setup::LiveSetup, name: &str, what: &str, given: Option<String>, env: &str) -> Result<String, String> {
    if let Some(v) = given.or_else(|| std::env::var(env).ok()).filter(|v| !v.trim().is_empty()) {
        return Ok(v.trim().to_string());
    }
    if let Ok(vault) = &setup.vault
        && let Ok(Some(v)) = setup.state.secret(vault, name, what)
    {
        return Ok(v);
    }
    let secret = !SHOWN.contains(&what);
    let line =
        prompt::read_line(&format!("{what} of `{name}` (or set {env}): "), secret).map_err(|e| format!("cannot read the {what}: {e}; set {env}"))?;
    let v = line.unwrap_or_default().trim().to_string();
    if v.is_empty() { Err(format!("no {what} given")) } else { Ok(v) }
}

/// The code and the redirect's other values (QuickBooks' realmId).
type Answer = Result<(String, Vec<(String, String)>), String>;

/// Prints the consent URL and waits for the redirect: on the loopback
/// callback, or pasted on standard input, whichever comes first. `needed`:
/// values the redirect must carry beside the code, so a bare code will not do.
async fn consent(name: &str, url: &reqwest::Url, redirect: &str, state: &str, needed: &[String]) -> Answer {
    let callback = reqwest::Url::parse(redirect).map_err(|e| format!("redirect_uri: {e}"))?;
    let host = callback.host_str().unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        // A redirect to `flowmap serve`: serve takes it, and gives the consent address.
        if callback.path().ends_with(&format!("/connections/{name}/callback")) {
            return Err(format!(
                "the redirect_uri of `{name}` goes to flowmap serve: ask serve for the consent address (POST /connections/{name}/consent)"
            ));
        }
        return Err(format!("redirect_uri must be a loopback address (127.0.0.1), not {host}"));
    }
    let port = callback.port_or_known_default().unwrap_or(80);
    // A port taken (another connect, a forwarded port) leaves pasting.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await;
    // Nobody can consent without the address: output that cannot be written stops here.
    let mut out = Out::text();
    writeln!(out, "Open this address in a browser, sign in and allow access:\n\n  {url}\n")?;
    match &listener {
        Ok(_) => writeln!(out, "Waiting for the redirect to {redirect} …")?,
        Err(e) => writeln!(out, "(cannot listen on 127.0.0.1:{port} for the redirect: {e})")?,
    }
    writeln!(
        out,
        "Without a browser on this machine: open the address on another one, then paste here the address \
         it was sent to (or just its code) and press Enter."
    )?;
    out.finish()?;
    let pasted = pasted(callback.clone(), state.to_string(), needed.to_vec());
    let wait = async {
        match listener {
            Ok(listener) => loopback(listener, &callback, state).await,
            Err(_) => std::future::pending().await,
        }
    };
    let first = async {
        tokio::select! {
            code = wait => code,
            code = pasted => code,
        }
    };
    tokio::time::timeout(Duration::from_secs(600), first).await.map_err(|_| "no redirect came within 10 minutes".to_string())?
}

/// Lines from standard input until one gives this consent's code (or a refusal).
/// A line that is not this consent's answer is said so, and the next is awaited;
/// at the end of the input only the callback is left.
async fn pasted(callback: reqwest::Url, state: String, needed: Vec<String>) -> Answer {
    let (lines, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    // A thread of its own, not the runtime's blocking pool: a read that never
    // returns must not keep the command from ending.
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        loop {
            let mut line = String::new();
            match stdin.lock().read_line(&mut line) {
                Ok(n) if n > 0 && lines.send(line).is_ok() => {}
                _ => return,
            }
        }
    });
    while let Some(line) = received.recv().await {
        match paste::read(&line, &callback, &state, &needed) {
            paste::Pasted::Nothing => {}
            paste::Pasted::Code(code, kept) => return Ok((code, kept)),
            paste::Pasted::Refused(error) => return Err(format!("consent was refused: {error}")),
            paste::Pasted::Wrong(why) => {
                let _ = writeln!(std::io::stderr(), "{why}");
            }
        }
    }
    std::future::pending().await
}

/// The redirect on the loopback callback.
async fn loopback(listener: tokio::net::TcpListener, callback: &reqwest::Url, state: &str) -> Answer {
    loop {
        let (mut socket, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let head = read_head(&mut socket).await;
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let Ok(asked) = callback.join(&target) else { continue };
        if asked.path() != callback.path() {
            let _ = socket.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            continue;
        }
        let Redirect { code, state: given, error, kept } = Redirect::of_url(&asked);
        let (page, result) = match (code, given, error) {
            (_, _, Some(error)) => ("Access was not granted; you can close this page.", Err(format!("consent was refused: {error}"))),
            (Some(code), Some(s), None) if s == state => ("flowmap is connected; you can close this page.", Ok((code, kept))),
            _ => {
                ("This answer does not belong to the consent flowmap asked for.", Err("the redirect did not carry this consent's state".to_string()))
            }
        };
        let html = format!("<!doctype html><title>flowmap</title><p>{page}</p>");
        let answer =
            format!("HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}", html.len());
        let _ = socket.write_all(answer.as_bytes()).await;
        return result;
    }
}

/// The request line and headers: read until the blank line (a request may
/// arrive in several packets), at most 8 KiB, at most 10 seconds.
async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    let reading = async {
        while head.len() < 8192 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), reading).await;
    String::from_utf8_lossy(&head).into_owned()
}
