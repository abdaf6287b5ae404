//! A world for live tests: the sandbox (emulated Exact Online and Le New
//! Black) on loopback ports, a temporary folder with a connections file and a
//! state file, and the real `flowmap` binary run against them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

// Not every test binary that includes this module uses all of these.
#[allow(unused_imports)]
pub use flowmap_sandbox::{FaultKind, Faults, Generate, Limits, RecordedRequest, Sandbox, SandboxConfig};

use super::{Run, repo_root};

pub struct World {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    pub connections: PathBuf,
    pub state: PathBuf,
    redirect: String,
    tuning: String,
    /// Everything any command printed, for the test that no secret leaks.
    pub printed: Mutex<Vec<String>>,
}

/// Fixtures as shipped.
pub fn fixtures() -> PathBuf {
    repo_root().join("fixtures")
}

impl World {
    /// `tuning` is added to both connections (e.g. `timeout_seconds: 1`).
    pub fn start(config: SandboxConfig, tuning: &str) -> World {
        let sandbox = Sandbox::start(config).expect("the sandbox starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let connections = dir.path().join("connections.yaml");
        let redirect = format!("http://127.0.0.1:{}/callback", free_port());
        write_connections(&connections, &sandbox.exact_url(), &redirect, &sandbox.lnb_url(), tuning, tuning);
        let state = dir.path().join("state.db");
        World { sandbox, dir, connections, state, redirect, tuning: tuning.to_string(), printed: Mutex::new(Vec::new()) }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flowmap"));
        c.arg("--color").arg("never").args(args);
        c.arg("--connections").arg(&self.connections).arg("--state").arg(&self.state);
        c.current_dir(repo_root()).env_remove("CLICOLOR_FORCE").env_remove("FLOWMAP_KEY");
        c.env("FLOWMAP_CLIENT_ID", "sandbox-client").env("FLOWMAP_CLIENT_SECRET", "sandbox-secret");
        c
    }

    pub fn flowmap(&self, args: &[&str]) -> Run {
        self.flowmap_env(args, &[])
    }

    /// `flowmap` with extra environment variables (such as FLOWMAP_KEY).
    pub fn flowmap_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = self.command(args).envs(env.iter().copied()).output().expect("flowmap runs");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.printed.lock().unwrap().push(format!("{}\n{}", run.stdout, run.stderr));
        run
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.spawn_env(args, &[])
    }

    pub fn spawn_env(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        self.command(args).envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("flowmap starts")
    }

    /// As `spawn_env`, with the process's open-file limit lowered (`ulimit -n`) first.
    pub fn spawn_with_open_files(&self, args: &[&str], env: &[(&str, &str)], open_files: u32) -> Child {
        let inner = self.command(args);
        let mut c = Command::new("sh");
        c.arg("-c").arg(format!("ulimit -n {open_files} && exec \"$0\" \"$@\"")).arg(inner.get_program()).args(inner.get_args());
        for (name, value) in inner.get_envs() {
            match value {
                Some(v) => c.env(name, v),
                None => c.env_remove(name),
            };
        }
        c.current_dir(repo_root()).envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("flowmap starts")
    }

    /// `flowmap connect` for both systems; Exact's consent is given by following
    /// the printed URL, as a browser would, to the loopback callback.
    pub fn connect(&self) {
        let lnb = self.flowmap(&["connect", "lnb"]);
        assert_eq!(lnb.code, 0, "{}{}", lnb.stdout, lnb.stderr);
        self.consent("exact", "/api/oauth2/auth");
    }

    /// A Xero connection to the sandbox's Xero (`tuning` added to its settings, e.g.
    /// `clock_speed: 40`), in the organisation the fixtures are in, consented to.
    pub fn connect_xero(&self, tuning: &str) {
        let mut text = std::fs::read_to_string(&self.connections).expect("connections file");
        let indent = |t: &str| t.lines().filter(|l| !l.trim().is_empty()).map(|l| format!("    {l}\n")).collect::<String>();
        text.push_str(&format!(
            "  xero:\n    host: {}\n    redirect_uri: {}\n    params: {{ tenant: \"Acme Fashion (NL)\" }}\n{}",
            self.sandbox.xero_url(),
            self.redirect,
            indent(tuning)
        ));
        std::fs::write(&self.connections, text).expect("connections file");
        self.consent("xero", "/identity/connect/authorize");
    }

    /// `flowmap run FLOW` killed with SIGKILL as soon as `got_going` holds (a minute and a half
    /// at most), as a crash in the middle of a run would.
    pub fn run_killed_when(&self, flow: &str, got_going: impl Fn(&World) -> bool) {
        let mut child = self.spawn(&["run", flow]);
        let started = std::time::Instant::now();
        while !got_going(self) {
            if started.elapsed() > Duration::from_secs(90) {
                let _ = child.kill();
                panic!("the run of {flow} did not get going");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
    }

    /// One call on connection `name`, the sandbox clock moved `seconds` (past the access token's
    /// life), then 50 calls at once through one registry, as a serving engine makes them; every
    /// call must succeed. Returns how many refreshes the sandbox's token endpoint got.
    pub fn fifty_calls_across_an_expiry(&self, name: &str, path: &str, query: &[(String, String)], seconds: i64) -> usize {
        let project = flowmap::project::Project::load(&super::repo_root()).unwrap_or_else(|_| panic!("the project loads"));
        let state = std::sync::Arc::new(flowmap_state::State::open(&self.state).unwrap());
        let vault = std::sync::Arc::new(flowmap_state::Vault::load_from(None, &self.path("key"), false).unwrap());
        let registry = flowmap::http::Registry::load(&project, &self.connections, state, Ok(vault)).unwrap_or_else(|_| panic!("connections load"));
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let conn = registry.connection(name).await.unwrap();
            let url = conn.url(path);
            conn.get(&url, query).await.unwrap();
            self.sandbox.advance_clock(seconds);
            let answers = futures_util::future::join_all((0..50).map(|_| conn.get(&url, query))).await;
            assert!(answers.iter().all(|a| a.is_ok()), "{:?}", answers.iter().find(|a| a.is_err()));
        });
        // The World's connections are named after their systems, as the sandbox records them.
        let refresh = |r: &RecordedRequest| r.system == name && r.form.iter().any(|(k, v)| k == "grant_type" && v == "refresh_token");
        self.sandbox.requests().iter().filter(|r| refresh(r)).count()
    }

    /// A QuickBooks connection to the sandbox's QuickBooks (`tuning` added to its settings),
    /// consented to: the company (realmId) comes back with the consent's redirect.
    pub fn connect_qbo(&self, tuning: &str) {
        let mut text = std::fs::read_to_string(&self.connections).expect("connections file");
        let indent = |t: &str| t.lines().filter(|l| !l.trim().is_empty()).map(|l| format!("    {l}\n")).collect::<String>();
        text.push_str(&format!("  qbo:\n    host: {}\n    redirect_uri: {}\n{}", self.sandbox.qbo_url(), self.redirect, indent(tuning)));
        std::fs::write(&self.connections, text).expect("connections file");
        self.consent("qbo", "/connect/oauth2");
    }

    /// `flowmap connect NAME`, consenting as a browser would: the printed consent address
    /// (its path holds `marker`) is followed to the loopback callback.
    pub fn consent(&self, name: &str, marker: &str) {
        let mut child = self.spawn(&["connect", name]);
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut printed, location) = consent_redirect_at(&mut out, marker);
        let answer = std::panic::catch_unwind(|| http_get(&location));
        if answer.is_err() {
            let _ = child.kill();
        }
        out.read_to_string(&mut printed).unwrap();
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let (status, _, page) = answer.unwrap_or_else(|_| panic!("the callback failed; connect printed:\n{printed}\n{err}"));
        assert_eq!((status, page.contains("flowmap is connected")), (200, true), "{page}");
        assert!(child.wait().unwrap().success(), "{printed}{err}");
        self.printed.lock().unwrap().push(format!("{printed}\n{err}"));
    }

    /// Sales orders in the sandbox's Exact, by YourRef.
    pub fn exact_orders_by_ref(&self) -> std::collections::BTreeMap<String, usize> {
        let mut count = std::collections::BTreeMap::new();
        for o in self.sandbox.exact_records("salesorder/SalesOrders") {
            if let Some(r) = o.get("YourRef").and_then(|v| v.as_str()) {
                *count.entry(r.to_string()).or_insert(0) += 1;
            }
        }
        count
    }

    /// LNB order reference → status.
    pub fn lnb_statuses(&self) -> std::collections::BTreeMap<String, String> {
        self.sandbox
            .lnb_orders()
            .iter()
            .map(|o| (o["reference"].as_str().unwrap_or_default().to_string(), o["status"].as_str().unwrap_or_default().to_string()))
            .collect()
    }

    pub fn requests_to(&self, system: &str, method: &str, path_part: &str) -> Vec<RecordedRequest> {
        self.sandbox.requests().into_iter().filter(|r| r.system == system && r.method == method && r.path.contains(path_part)).collect()
    }

    /// Rewrites the connections file with `exact` at `exact_host` (a closed
    /// port makes Exact unreachable) and `extra` added to its settings.
    pub fn point_exact_at(&self, exact_host: &str, extra: &str) {
        let tuning = format!("{}\n{extra}", self.tuning);
        write_connections(&self.connections, exact_host, &self.redirect, &self.sandbox.lnb_url(), &self.tuning, &tuning);
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    // TrueCommerce: the sandbox's SFTP server (password `sandbox-password` unless the config says
    // otherwise) over `truecommerce_root()`, laid out as IntegrationFTP/{Import,Export}/Acme. Its
    // partner answers what is in Import when ticked (the poll is off in tests).

    /// The SFTP server's port on 127.0.0.1.
    pub fn truecommerce_port(&self) -> u16 {
        self.sandbox.truecommerce_port()
    }

    /// The folder served as `/`; `truecommerce_root().join("IntegrationFTP/Export/Acme")` is the
    /// partner's outbox on disk.
    pub fn truecommerce_root(&self) -> PathBuf {
        self.sandbox.truecommerce_root()
    }

    /// The partner's rules, as `POST /_sandbox/truecommerce/rules` takes them:
    /// `json!({"reject_line": 2})`, `json!({"po": "PO-7001", "invoice": false})`.
    pub fn truecommerce_rules(&self, rules: serde_json::Value) {
        self.sandbox.set_truecommerce_rules(rules).expect("valid TrueCommerce rules");
    }

    /// The partner takes the complete files in Import and answers them into Export, now.
    pub fn truecommerce_tick(&self) -> (Vec<flowmap_sandbox::ReceivedFile>, Vec<flowmap_sandbox::SentFile>) {
        self.sandbox.truecommerce_tick().expect("the partner reads its folders")
    }

    /// Every file the partner took from Import so far (name, ISA13, set ids, PO numbers, text).
    pub fn truecommerce_received(&self) -> Vec<flowmap_sandbox::ReceivedFile> {
        self.sandbox.truecommerce_received()
    }

    /// Adds a `truecommerce` connection for the sandbox's SFTP server (pinned host key, the X12
    /// envelope of mappings/connections.yaml) to the connections file; `flowmap connect
    /// truecommerce` with FLOWMAP_PASSWORD=sandbox-password stores the password.
    /// `point_exact_at` rewrites the file without it.
    pub fn add_truecommerce_connection(&self) {
        let mut text = std::fs::read_to_string(&self.connections).expect("connections file");
        text.push_str(&format!(
            "  truecommerce:\n    sftp: {{ host: 127.0.0.1, port: {}, user: {}, host_key: \"{}\" }}\n    \
             x12: {{ sender_qualifier: ZZ, sender_id: ACMEMFG, receiver_qualifier: ZZ, receiver_id: TRUECOMMERCE, usage: T, line_break: true }}\n",
            self.truecommerce_port(),
            self.sandbox.truecommerce_user(),
            self.sandbox.truecommerce_host_key()
        ));
        std::fs::write(&self.connections, text).expect("connections file");
    }
}

fn write_connections(file: &Path, exact: &str, redirect: &str, lnb: &str, lnb_tuning: &str, exact_tuning: &str) {
    let indent = |t: &str| t.lines().filter(|l| !l.trim().is_empty()).map(|l| format!("    {l}\n")).collect::<String>();
    let text = format!(
        "connections:\n  exact:\n    host: {exact}\n    redirect_uri: {redirect}\n{}  lnb:\n    host: {lnb}\n{}",
        indent(exact_tuning),
        indent(lnb_tuning)
    );
    std::fs::write(file, text).expect("connections file");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A plain HTTP/1.1 GET over loopback: (status, headers, body).
pub fn http_get(url: &str) -> (u16, Vec<(String, String)>, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut s = TcpStream::connect(authority).unwrap_or_else(|e| panic!("cannot connect to {authority} ({url}): {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap_or_else(|e| panic!("cannot send to {url}: {e}"));
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    (status, headers, body.to_string())
}

/// A copy of the shipped fixtures, with extra LNB orders appended.
pub fn fixtures_with_orders(dir: &Path, extra: &[serde_json::Value]) -> PathBuf {
    let to = dir.join("fixtures");
    copy_dir(&fixtures(), &to);
    let file = to.join("lnb").join("orders.json");
    let mut orders: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    orders.extend(extra.iter().cloned());
    std::fs::write(&file, serde_json::to_string_pretty(&orders).unwrap()).unwrap();
    to
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// The summary without its timings, which vary.
pub fn untimed(text: &str) -> String {
    text.lines()
        .map(|l| match (l.find(" in "), l.contains(": completed") || l.contains(": stopped")) {
            (Some(i), true) => format!("{} in <t>", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads what `flowmap connect exact` prints up to the consent address, asks
/// the sandbox's consent page, and returns what was printed and where the page
/// sends the browser (the redirect address, not followed).
pub fn consent_redirect(out: &mut impl BufRead) -> (String, String) {
    consent_redirect_at(out, "/api/oauth2/auth")
}

/// `consent_redirect` for a system whose consent page's path holds `marker`.
pub fn consent_redirect_at(out: &mut impl BufRead, marker: &str) -> (String, String) {
    let mut printed = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "connect ended without a URL: {printed}");
        printed.push_str(&line);
        if line.contains(marker) {
            break line.trim().to_string();
        }
    };
    let (status, headers, _) = http_get(&url);
    assert_eq!(status, 302, "the sandbox redirects to the callback");
    let location = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.clone()).expect("a Location");
    (printed, location)
}
