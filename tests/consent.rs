//! Consent keeps every value its redirect carries: QuickBooks sends the company
//! (`realmId`) beside the code, and every API path names it. From the CLI
//! (browser on the loopback callback, or the address pasted) against a small
//! stand-in for Intuit's consent page, token endpoint and API; and through
//! `flowmap serve` against the sandbox's Exact.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::live::{SandboxConfig, World, fixtures, free_port, http_get};
use common::serve::{Served, project_copy};
use pretty_assertions::assert_eq;

/// `Authorization: Basic base64("qbo-client:qbo-secret")`: Intuit's token endpoint takes the
/// client only so (intuit/oauth-pythonclient intuitlib/utils.py `get_auth_header`).
const BASIC: &str = "Basic cWJvLWNsaWVudDpxYm8tc2VjcmV0";

/// Intuit's side, as far as consent goes: the consent page sends the browser back with
/// `code`, `state` and `realmId` (intuit/oauth-jsclient `createToken`), the token endpoint
/// trades a code once, and the API answers bearer calls. Requests are recorded.
struct Intuit {
    url: String,
    /// The company the next consent picks.
    realm: Arc<Mutex<String>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Intuit {
    fn start() -> Intuit {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let realm = Arc::new(Mutex::new("9130".to_string()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r, seen) = (realm.clone(), requests.clone());
        std::thread::spawn(move || {
            let mut codes: Vec<String> = Vec::new();
            for stream in listener.incoming().flatten() {
                answer(stream, &r, &seen, &mut codes);
            }
        });
        Intuit { url, realm, requests }
    }

    fn api_calls(&self) -> Vec<String> {
        self.requests.lock().unwrap().iter().filter(|r| r.contains(" /v3/")).cloned().collect()
    }
}

fn answer(mut s: TcpStream, realm: &Mutex<String>, seen: &Mutex<Vec<String>>, codes: &mut Vec<String>) {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (head, body) = read_request(&mut s);
    let line = head.lines().next().unwrap_or_default().to_string();
    seen.lock().unwrap().push(line.clone());
    let header = |name: &str| {
        head.lines().skip(1).filter_map(|l| l.split_once(':')).find(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())
    };
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let url = reqwest::Url::parse(&format!("http://x{target}")).unwrap();
    let param = |u: &reqwest::Url, k: &str| u.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned()).unwrap_or_default();
    let (status, extra, text) = if url.path() == "/connect/oauth2" {
        let code = format!("qbo-code-{}", codes.len() + 1);
        codes.push(code.clone());
        let mut back = reqwest::Url::parse(&param(&url, "redirect_uri")).unwrap();
        back.query_pairs_mut().append_pair("code", &code).append_pair("state", &param(&url, "state")).append_pair("realmId", &realm.lock().unwrap());
        (302, format!("Location: {back}\r\n"), String::new())
    } else if url.path() == "/oauth2/v1/tokens/bearer" {
        let form = reqwest::Url::parse(&format!("x:?{body}")).unwrap();
        let code = param(&form, "code");
        let fresh = param(&form, "grant_type") == "authorization_code" && codes.contains(&code);
        if header("authorization").as_deref() == Some(BASIC) && fresh {
            codes.retain(|c| *c != code);
            let tokens = r#"{"token_type":"bearer","expires_in":3600,"refresh_token":"qbo-refresh","x_refresh_token_expires_in":8726400,"access_token":"qbo-access"}"#;
            (200, "Content-Type: application/json\r\n".to_string(), tokens.to_string())
        } else {
            (400, "Content-Type: application/json\r\n".to_string(), r#"{"error":"invalid_grant"}"#.to_string())
        }
    } else if url.path().starts_with("/v3/company/") && header("authorization").as_deref() == Some("Bearer qbo-access") {
        (200, "Content-Type: application/json\r\n".to_string(), r#"{"QueryResponse":{},"time":"2026-12-02T03:04:05.678-08:00"}"#.to_string())
    } else {
        (401, String::new(), String::new())
    };
    let _ = write!(s, "HTTP/1.1 {status} X\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{text}", text.len());
}

/// The head and the body (by its Content-Length).
fn read_request(s: &mut TcpStream) -> (String, String) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let length = head.lines().filter_map(|l| l.split_once(':')).find(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    let length: usize = length.and_then(|(_, v)| v.trim().parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = s.read_exact(&mut body);
    (head, String::from_utf8_lossy(&body).into_owned())
}

/// A project whose QuickBooks definition is the shipped one with a check call the stand-in
/// answers; a connection `qbo` to the stand-in's host.
struct QboProject {
    _dir: tempfile::TempDir,
    root: PathBuf,
    connections: PathBuf,
    state: PathBuf,
}

impl QboProject {
    fn new(intuit: &Intuit) -> QboProject {
        let dir = tempfile::tempdir().unwrap();
        let root = project_copy(dir.path());
        let file = root.join("mappings/systems/qbo.yaml");
        let shipped = std::fs::read_to_string(&file).unwrap();
        // The connection's own host serves Intuit's consent page and token endpoint too
        // (`{host:appcenter}`, `{host:oauth}`); the stand-in answers its check at `query`.
        let def = shipped.replace("check: \"{base_url}/preferences\"", "check: \"{base_url}/query?query=select%20*%20from%20CompanyInfo\"");
        assert_ne!(def, shipped);
        std::fs::write(&file, def).unwrap();
        let connections = dir.path().join("connections.yaml");
        let redirect = format!("http://127.0.0.1:{}/callback", free_port());
        std::fs::write(&connections, format!("connections:\n  qbo:\n    host: {}\n    redirect_uri: {redirect}\n", intuit.url)).unwrap();
        let state = dir.path().join("state.db");
        QboProject { _dir: dir, root, connections, state }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flowmap"));
        c.args(["--color", "never"]).args(args).arg("--root").arg(&self.root);
        c.arg("--connections").arg(&self.connections).arg("--state").arg(&self.state);
        c.current_dir(&self.root).env_remove("CLICOLOR_FORCE").env_remove("FLOWMAP_KEY");
        c.env("FLOWMAP_CLIENT_ID", "qbo-client").env("FLOWMAP_CLIENT_SECRET", "qbo-secret");
        c
    }

    fn flowmap(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// `flowmap connect qbo` started; returns it, its output, and where Intuit's consent page sends the browser.
    fn connect(&self) -> (Child, BufReader<ChildStdout>, String, String) {
        let mut child = self.command(&["connect", "qbo"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut printed = String::new();
        let consent = loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "connect ended without a URL: {printed}");
            printed.push_str(&line);
            if line.contains("/connect/oauth2?") {
                break line.trim().to_string();
            }
        };
        let (status, headers, _) = http_get(&consent);
        assert_eq!(status, 302);
        let location = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.clone()).unwrap();
        (child, out, printed, location)
    }

    fn kept(&self) -> Option<String> {
        flowmap_state::State::open(&self.state).unwrap().setting("qbo", "consent_redirect").unwrap()
    }
}

fn finish(mut child: Child, mut out: BufReader<ChildStdout>, mut printed: String) -> (i32, String, String) {
    out.read_to_string(&mut printed).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), printed, err)
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

#[test]
fn the_realm_the_browser_brings_back_is_kept_and_every_call_names_it() {
    let intuit = Intuit::start();
    let project = QboProject::new(&intuit);
    let (child, out, printed, location) = project.connect();
    assert!(location.contains("&realmId=9130"), "{location}");
    // The browser follows the redirect to the loopback callback.
    let (status, _, page) = http_get(&location);
    assert_eq!((status, page.contains("flowmap is connected")), (200, true), "{page}");
    let (code, printed, err) = finish(child, out, printed);
    assert_eq!(code, 0, "{printed}{err}");
    assert_eq!(last_line(&printed), format!("connected `qbo` (QuickBooks Online); requests go to {}/v3/company/9130", intuit.url));
    assert_eq!(project.kept().as_deref(), Some("realmId=9130"));
    let (code, stdout, stderr) = project.flowmap(&["connections", "--check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(intuit.api_calls(), ["GET /v3/company/9130/query?query=select%20*%20from%20CompanyInfo&minorversion=75 HTTP/1.1"]);

    // A connection whose consent kept no company (given before this was kept) is told to consent again.
    flowmap_state::State::open(&project.state).unwrap().set_setting("qbo", "consent_redirect", "").unwrap();
    let (code, stdout, stderr) = project.flowmap(&["connections", "--check"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}")
            .contains("connection `qbo` needs a value for `realm`, which the consent's redirect carries (realmId): run \"flowmap connect qbo\""),
        "{stdout}{stderr}"
    );
}

#[test]
fn the_whole_address_pasted_keeps_the_realm_and_a_new_consent_replaces_it() {
    let intuit = Intuit::start();
    let project = QboProject::new(&intuit);
    let (mut child, out, printed, location) = project.connect();
    writeln!(child.stdin.take().unwrap(), "{location}").unwrap();
    let (code, printed, err) = finish(child, out, printed);
    assert_eq!(code, 0, "{printed}{err}");
    assert_eq!(last_line(&printed), format!("connected `qbo` (QuickBooks Online); requests go to {}/v3/company/9130", intuit.url));

    // Consent again, for another company: its realm replaces the first.
    *intuit.realm.lock().unwrap() = "4620".into();
    let (mut child, out, printed, location) = project.connect();
    writeln!(child.stdin.take().unwrap(), "{location}").unwrap();
    let (code, printed, err) = finish(child, out, printed);
    assert_eq!(code, 0, "{printed}{err}");
    assert_eq!(last_line(&printed), format!("connected `qbo` (QuickBooks Online); requests go to {}/v3/company/4620", intuit.url));
    assert_eq!(project.kept().as_deref(), Some("realmId=4620"));
    let (code, stdout, stderr) = project.flowmap(&["connections", "--check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(intuit.api_calls(), ["GET /v3/company/4620/query?query=select%20*%20from%20CompanyInfo&minorversion=75 HTTP/1.1"]);
}

#[test]
fn a_bare_code_cannot_carry_the_realm_so_the_whole_address_is_asked_for() {
    let intuit = Intuit::start();
    let project = QboProject::new(&intuit);
    let (mut child, out, printed, location) = project.connect();
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let without_realm = location.replace("&realmId=9130", "");
    writeln!(child.stdin.take().unwrap(), "{code}\n{without_realm}\n{location}").unwrap();
    let (status, printed, err) = finish(child, out, printed);
    assert_eq!(status, 0, "{printed}{err}");
    assert_eq!(
        err,
        "a code alone does not carry the realmId that comes with it: paste the whole address the browser was sent to\n\
         that address has no realmId; paste the whole address the browser was sent to\n"
    );
    assert_eq!(last_line(&printed), format!("connected `qbo` (QuickBooks Online); requests go to {}/v3/company/9130", intuit.url));
}

/// A world whose `exact` connection sends the browser back to `flowmap serve` on `port`.
fn served_consent() -> (World, PathBuf, Served) {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    let port = free_port();
    let text = format!(
        "connections:\n  exact:\n    host: {}\n    redirect_uri: http://127.0.0.1:{port}/connections/exact/callback\n",
        world.sandbox.exact_url()
    );
    std::fs::write(&world.connections, text).unwrap();
    let root = project_copy(world.dir.path());
    // No flows: consent needs none, and no scheduled run calls Exact meanwhile.
    let flows = root.join("no-flows");
    std::fs::create_dir_all(&flows).unwrap();
    let listen = format!("127.0.0.1:{port}");
    let served = Served::start(&world, &root, &["--listen", &listen, "--flows", flows.to_str().unwrap()], &[KEY]);
    (world, root, served)
}

/// Asks serve for a consent address and follows it as a browser does: where the consent page sends it.
fn consent_through(served: &Served, body: &str) -> String {
    let (status, answer) = served.post("/connections/exact/consent", body);
    assert_eq!(status, 200, "{answer}");
    let url = answer["authorize_url"].as_str().unwrap().to_string();
    let (status, headers, _) = http_get(&url);
    assert_eq!(status, 302);
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.clone()).unwrap()
}

/// A server has its key from the environment (there is no `flowmap connect` to create one).
const KEY: (&str, &str) = ("FLOWMAP_KEY", "6b6579206f6620746865207365727665642073746174652066696c6520313233");

fn page(text: &str) -> String {
    format!("<!doctype html><meta charset=\"utf-8\"><title>flowmap</title><p>{text}</p>\n")
}

#[test]
fn serve_gives_the_consent_address_and_takes_the_redirect_once() {
    let (world, _root, served) = served_consent();
    // Without the API token, no consent address.
    let (status, _) = served.call("POST", "/connections/exact/consent", None, "");
    assert_eq!(status, 401);
    // Nothing stored yet: the client must be named.
    let (status, answer) = served.post("/connections/exact/consent", "");
    assert_eq!(
        (status, answer),
        (
            409,
            serde_json::json!({"error": "connection `exact` has no client_id and client_secret: send them in the body, or run \"flowmap connect exact\""})
        )
    );
    let location = consent_through(&served, r#"{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}"#);
    assert!(location.starts_with(&format!("{}/connections/exact/callback?code=", served.url)), "{location}");

    // An answer to another consent (its state changed) is refused, and the right one still works.
    let (status, _, body) = http_get(&location.replace("state=", "state=0"));
    let not_asked = page(
        "This answer does not belong to a consent flowmap is waiting for (or it was used already): \
         ask for a new consent address (POST /connections/exact/consent).",
    );
    assert_eq!((status, body.as_str()), (400, not_asked.as_str()));
    let (status, _, body) = http_get(&location);
    let connected = page(&format!(
        "flowmap is connected: `exact` (Exact Online); requests go to {}/api/v1/3012345. You can close this page.",
        world.sandbox.exact_url()
    ));
    assert_eq!((status, body.as_str()), (200, connected.as_str()));
    // Used once: the same redirect again is refused.
    let (status, _, body) = http_get(&location);
    assert_eq!((status, body.as_str()), (400, not_asked.as_str()));

    // The tokens were stored as `flowmap connect` stores them: the CLI uses them.
    let check = world.flowmap_env(&["connections", "--check"], &[KEY]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert_eq!(check.stdout, format!("exact: client_id, client_secret; ok ({}/api/v1/3012345)\n", world.sandbox.exact_url()));
}

#[test]
fn a_consent_address_older_than_ten_minutes_is_refused() {
    let (world, _root, served) = served_consent();
    let location = consent_through(&served, r#"{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}"#);
    // Ten minutes are not waited for: the consent's expiry is moved into the past.
    let state = flowmap_state::State::open(&world.state).unwrap();
    let pending = state.setting("exact", "consent_pending").unwrap().unwrap();
    let (_, hash) = pending.split_once(' ').unwrap();
    state.set_setting("exact", "consent_pending", &format!("1 {hash}")).unwrap();
    let (status, _, body) = http_get(&location);
    let expired = page("This consent address expired (it is good for 10 minutes): ask for a new consent address (POST /connections/exact/consent).");
    assert_eq!((status, body.as_str()), (400, expired.as_str()));
    // Nothing was stored: the connection still has no tokens.
    let check = world.flowmap_env(&["connections", "--check"], &[KEY]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("connection `exact` has no tokens"), "{}", check.stdout);
}
