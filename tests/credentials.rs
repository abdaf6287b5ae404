//! Credentials from the operator's side, through the real binary: consent
//! lost, the encryption key missing or wrong, and the generic auth kinds
//! (bearer, API key, basic) against a loopback server.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::live::*;
use common::{Run, repo_root};
use pretty_assertions::assert_eq;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";
const INVOICES: &str = "mappings/lnb-exact/invoices.flow.yaml";

fn default_world() -> World {
    World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "")
}

fn token_requests(world: &World) -> Vec<String> {
    world
        .requests_to("exact", "POST", "/oauth2/token")
        .iter()
        .map(|r| r.form.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v.clone()).unwrap_or_default())
        .collect()
}

#[test]
fn a_state_file_restored_from_a_backup_needs_consent_and_says_so() {
    let world = default_world();
    world.connect();
    let backup = |from: &str, to: &str| {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(world.path(&format!("{to}{ext}")));
            if world.path(&format!("{from}{ext}")).exists() {
                std::fs::copy(world.path(&format!("{from}{ext}")), world.path(&format!("{to}{ext}"))).unwrap();
            }
        }
    };
    backup("state.db", "backup.db");
    // Eleven minutes on: the access token has expired and a refresh is allowed.
    world.sandbox.advance_clock(660);
    let run = world.flowmap(&["run", ORDERS]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // The operator restores yesterday's backup: its refresh token was rotated since.
    backup("backup.db", "state.db");
    world.sandbox.advance_clock(660);
    world.sandbox.clear_requests();
    let lost = world.flowmap(&["run", INVOICES]);
    let stopped = "  stopped: connection `exact` needs consent again (the refresh was refused: Old refresh token used.); \
                   run \"flowmap connect exact\" and sign in";
    assert_eq!(
        untimed(&lost.stdout),
        format!(
            "run 1 of lnb-invoices-to-exact: stopped in <t>\n{stopped}\n  6 fetched, 1 ignored, 5 left for the next run\n  API calls: exact 1, lnb 1; waited 0.0 s on rate limits"
        )
    );
    assert_eq!(lost.code, 1);
    assert_eq!(token_requests(&world), ["refresh_token"], "one refresh, no retry loop");
    // Known now: the next run does not even try.
    let again = world.flowmap(&["run", INVOICES]);
    assert_eq!(
        untimed(&again.stdout),
        format!(
            "run 2 of lnb-invoices-to-exact: stopped in <t>\n{stopped}\n  6 fetched, 1 ignored, 5 left for the next run\n  API calls: exact 0, lnb 1; waited 0.0 s on rate limits"
        )
    );
    assert_eq!(token_requests(&world).len(), 1);
    let list = world.flowmap(&["connections"]);
    assert_eq!(
        list.stdout,
        "exact: client_id, client_secret; needs consent (the refresh was refused: Old refresh token used.); run \"flowmap connect exact\"\n\
         lnb: client_id, client_secret\n"
    );
    // Nothing was written back for the invoices that could not be asked about.
    assert!(world.sandbox.lnb_invoices().iter().all(|i| i["integration_status"].as_str().unwrap_or("") != "Blocked"));
    // Consent again, and the run goes on.
    world.connect();
    let after = world.flowmap(&["run", INVOICES]);
    assert!(
        untimed(&after.stdout)
            .starts_with("run 3 of lnb-invoices-to-exact: completed in <t>\n  6 fetched, 3 sent, 1 skipped, 1 blocked, 1 ignored\n"),
        "{}",
        after.stdout
    );
}

#[test]
fn a_refresh_token_unused_for_thirty_days_needs_consent() {
    let world = default_world();
    world.connect();
    world.sandbox.advance_clock(31 * 86_400);
    let run = world.flowmap(&["run", ORDERS]);
    let text = untimed(&run.stdout);
    let line = text.lines().nth(1).unwrap_or("");
    // The expiry times come from the sandbox clock; the words are Exact's.
    assert!(
        line.starts_with("  stopped: connection `exact` needs consent again (the refresh was refused: The refresh token expired at ")
            && line.ends_with("); run \"flowmap connect exact\" and sign in"),
        "{text}"
    );
    assert_eq!(run.code, 1);
    assert_eq!(world.exact_orders_by_ref().get("PO50001"), None);
}

#[test]
fn a_missing_or_wrong_key_is_named_and_nothing_runs() {
    let world = default_world();
    world.connect();
    world.sandbox.clear_requests();
    let key_file = world.path("key");
    let other_key = "ab".repeat(32);
    let state = world.state.display().to_string();
    let malformed = world.flowmap_env(&["run", ORDERS], &[("FLOWMAP_KEY", "not-a-key")]);
    assert_eq!(
        (malformed.code, malformed.stdout.as_str(), errors(&malformed.stderr)),
        (2, "", "error: the key in FLOWMAP_KEY is not valid: it must be 64 hexadecimal characters (32 bytes)\n")
    );
    let wrong = world.flowmap_env(&["run", ORDERS], &[("FLOWMAP_KEY", other_key.as_str())]);
    assert_eq!(
        errors(&wrong.stderr),
        format!(
            "error: {state}: cannot decrypt secret:lnb:client_id with the key from FLOWMAP_KEY: \
             the key is not the one it was encrypted with (or the data was changed)\n"
        )
    );
    std::fs::remove_file(&key_file).unwrap();
    let no_key = format!(
        "no encryption key: {} does not exist and FLOWMAP_KEY is not set; \
         run `flowmap connect` to create the key, or set FLOWMAP_KEY to 64 hexadecimal characters",
        key_file.display()
    );
    let missing = world.flowmap(&["run", ORDERS]);
    assert_eq!((missing.code, errors(&missing.stderr)), (2, format!("error: {no_key}\n").as_str()));
    let check = world.flowmap(&["connections", "--check"]);
    assert_eq!(check.stdout, format!("exact: client_id, client_secret; FAILED: {no_key}\nlnb: client_id, client_secret; FAILED: {no_key}\n"));
    assert_eq!(check.code, 1);
    // No run was recorded and nothing was called.
    assert_eq!(world.flowmap(&["runs"]).stdout, "no runs\n");
    assert_eq!(world.sandbox.requests().len(), 0);
}

/// What a command printed from its first error on: the orders flow warns first that WarehouseID is
/// edition-only (tests/catalogue.rs).
fn errors(stderr: &str) -> &str {
    stderr.find("error: ").map_or(stderr, |at| &stderr[at..])
}

/// A loopback HTTP server that answers `[]` to requests `accept` allows and
/// 401 to the rest, keeping every request's head.
struct Server {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

fn serve(accept: fn(&str) -> bool) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let kept = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let (status, body) = if accept(&head) { ("200 OK", "[]") } else { ("401 Unauthorized", r#"{"message":"bad credentials"}"#) };
            kept.lock().unwrap().push(head);
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Server { port, heads }
}

/// A project of three systems, one per generic auth kind, all served by `port`.
fn generic_project(dir: &Path, port: u16) {
    let systems = dir.join("mappings/systems");
    std::fs::create_dir_all(&systems).unwrap();
    let catalogue = dir.join("schemas/catalogue");
    std::fs::create_dir_all(&catalogue).unwrap();
    std::fs::copy(repo_root().join("schemas/catalogue/lnb.yaml"), catalogue.join("lnb.yaml")).unwrap();
    for (name, auth) in [("acme_bearer", "{ kind: bearer }"), ("acme_key", "{ kind: api_key, header: X-Api-Key }"), ("acme_basic", "{ kind: basic }")]
    {
        let yaml = format!(
            "system: {name}\ntitle: Acme ({name})\nbase_url: \"{{host}}/v1\"\nauth: {auth}\nquery: params\npaging: {{ style: none }}\n\
             records: \"@\"\ncatalogue: ../../schemas/catalogue/lnb.yaml\nhttp:\n  check: \"{{base_url}}/ping\"\n"
        );
        std::fs::write(systems.join(format!("{name}.yaml")), yaml).unwrap();
    }
    let connections: String =
        ["acme_bearer", "acme_key", "acme_basic"].iter().map(|n| format!("  {n}:\n    host: http://127.0.0.1:{port}\n")).collect();
    std::fs::write(dir.join("connections.yaml"), format!("connections:\n{connections}")).unwrap();
}

fn flowmap_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .args(["--color", "never", "--root"])
        .arg(dir)
        .arg("--connections")
        .arg(dir.join("connections.yaml"))
        .arg("--state")
        .arg(dir.join("state.db"))
        .args(args)
        .env_remove("FLOWMAP_KEY")
        .envs(env.iter().copied())
        .output()
        .expect("flowmap runs");
    common::run_of(out)
}

#[test]
fn bearer_api_key_and_basic_credentials_are_stored_sealed_and_sent_as_declared() {
    // "Aladdin:open sesame" is RFC 7617's example.
    let server = serve(|head| {
        let h = head.to_ascii_lowercase();
        h.contains("\r\nauthorization: bearer tok-7f3a9c\r\n")
            || h.contains("\r\nx-api-key: key-51e0b2\r\n")
            || h.contains("\r\nauthorization: basic qwxhzgrpbjpvcgvuihnlc2ftzq==\r\n")
    });
    let dir = tempfile::tempdir().unwrap();
    generic_project(dir.path(), server.port);
    let mut printed = String::new();
    for (name, env) in [
        ("acme_bearer", vec![("FLOWMAP_TOKEN", "tok-7f3a9c")]),
        ("acme_key", vec![("FLOWMAP_API_KEY", "key-51e0b2")]),
        ("acme_basic", vec![("FLOWMAP_USERNAME", "Aladdin"), ("FLOWMAP_PASSWORD", "open sesame")]),
    ] {
        let run = flowmap_in(dir.path(), &["connect", name], &env);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        printed.push_str(&run.stdout);
        printed.push_str(&run.stderr);
    }
    let base = format!("http://127.0.0.1:{}/v1", server.port);
    assert_eq!(
        printed,
        format!(
            "connected `acme_bearer` (Acme (acme_bearer)); the token was accepted by {base}
connected `acme_key` (Acme (acme_key)); the API key was accepted by {base}
connected `acme_basic` (Acme (acme_basic)); the user name and password were accepted by {base}
"
        )
    );
    let check = flowmap_in(dir.path(), &["connections", "--check"], &[]);
    assert_eq!(
        check.stdout,
        format!("acme_bearer: token; ok ({base})\nacme_key: api_key; ok ({base})\nacme_basic: password, username; ok ({base})\n")
    );
    // Each kind's header, from what was stored (the check ran without any environment).
    let sent: Vec<String> = server
        .heads
        .lock()
        .unwrap()
        .iter()
        .map(|h| h.lines().find(|l| l.starts_with("authorization") || l.starts_with("x-api-key")).unwrap_or("none").to_string())
        .collect();
    let expected = ["authorization: Bearer tok-7f3a9c", "x-api-key: key-51e0b2", "authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="];
    assert_eq!(sent, expected.iter().chain(expected.iter()).map(|s| s.to_string()).collect::<Vec<_>>());

    let wrong = flowmap_in(dir.path(), &["connect", "acme_bearer"], &[("FLOWMAP_TOKEN", "tok-wrong")]);
    assert_eq!(
        (wrong.code, wrong.stderr.as_str()),
        (
            2,
            "error: stored the credentials of `acme_bearer`, but they do not work: connection `acme_bearer`: the system refused the stored \
             credentials: {\"message\":\"bad credentials\"} (HTTP 401); run \"flowmap connect acme_bearer\" with working ones\n"
        )
    );
    // Sealed at rest: none of them is in the state file's bytes.
    let mut stored = Vec::new();
    for f in ["state.db", "state.db-wal"] {
        stored.extend(std::fs::read(dir.path().join(f)).unwrap_or_default());
    }
    let stored = String::from_utf8_lossy(&stored);
    for secret in ["tok-7f3a9c", "tok-wrong", "key-51e0b2", "open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="] {
        assert!(!stored.contains(secret), "{secret} is in the state file in the clear");
    }
}
