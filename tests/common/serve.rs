//! `flowmap serve` as a child process against a World, with a small HTTP
//! client for its API. The engine runs from a copy of the project, so tests
//! can edit flow files under it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::live::{World, copy_dir};
use super::repo_root;

pub const TOKEN: &str = "test-api-token-5f1c";

/// A copy of the shipped mappings/ and schemas/ in `dir`; returns the project root.
pub fn project_copy(dir: &Path) -> PathBuf {
    let root = dir.join("project");
    copy_dir(&repo_root().join("mappings"), &root.join("mappings"));
    copy_dir(&repo_root().join("schemas"), &root.join("schemas"));
    root
}

pub struct Served {
    child: Child,
    pub url: String,
    /// Everything the engine logged so far.
    pub log: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `flowmap serve` on a free port; `extra` adds arguments, `env` variables.
    pub fn start(world: &World, root: &Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
        Served::start_with(world, root, extra, env, None)
    }

    /// As `start`, with the open-file limit lowered to `open_files` when given.
    pub fn start_with(world: &World, root: &Path, extra: &[&str], env: &[(&str, &str)], open_files: Option<u32>) -> Served {
        let mut args: Vec<String> = vec!["serve".into(), "--root".into(), root.display().to_string()];
        // A free port unless the test names the address (one written into the connections file).
        if !extra.contains(&"--listen") {
            args.extend(["--listen".into(), "127.0.0.1:0".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut env: Vec<(&str, &str)> = env.to_vec();
        env.push(("FLOWMAP_API_TOKEN", TOKEN));
        let mut child = match open_files {
            Some(n) => world.spawn_with_open_files(&args, &env, n),
            None => world.spawn_env(&args, &env),
        };
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let log = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("stderr");
        let kept = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut line = String::new();
        let url = loop {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.wait();
                panic!("flowmap serve ended before listening:\n{}", log.lock().unwrap());
            }
            if let Some(at) = line.find("listening on ") {
                break line[at + "listening on ".len()..].trim().to_string();
            }
        };
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = out.read_to_string(&mut rest);
        });
        Served { child, url, log }
    }

    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.call("GET", path, Some(TOKEN), "")
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, serde_json::Value) {
        self.call("POST", path, Some(TOKEN), body)
    }

    /// A call with the given token (None: no Authorization header); the body as JSON, or as a string.
    pub fn call(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
        let (status, text) = self.raw(method, path, token, body.as_bytes());
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }

    pub fn raw(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
        let authority = self.url.trim_start_matches("http://");
        let mut s = TcpStream::connect(authority).expect("the engine answers");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        // A larger body waits for the engine's go-ahead, as curl does: an engine that refuses it
        // unread answers at once and closes, and a body still being written when it closes would
        // have the connection reset and the answer lost.
        let expect = body.len() > 8 * 1024;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {authority}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
            body.len(),
            if expect { "Expect: 100-continue\r\n" } else { "" }
        );
        s.write_all(head.as_bytes()).unwrap();
        let mut raw = String::new();
        if expect {
            let first = read_head(&mut s);
            if first.starts_with("HTTP/1.1 100") {
                s.write_all(body).unwrap();
            } else {
                raw.push_str(&first);
            }
        } else {
            s.write_all(body).unwrap();
        }
        let _ = s.read_to_string(&mut raw);
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, body.to_string())
    }

    /// The engine's address, for raw connections.
    pub fn authority(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// The process id (for signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `done` holds, polling; panics with the log after `within`.
    pub fn wait_for(&self, what: &str, within: Duration, mut done: impl FnMut() -> bool) {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}; the engine logged:\n{}", self.log.lock().unwrap());
    }

    /// The last run of a flow, once it has finished.
    pub fn finished_run(&self, flow: &str, run: i64) -> serde_json::Value {
        let mut found = serde_json::Value::Null;
        self.wait_for(&format!("run {run} of {flow} to finish"), Duration::from_secs(30), || {
            let (_, runs) = self.get(&format!("/flows/{flow}/runs"));
            found = runs["runs"].as_array().and_then(|r| r.iter().find(|r| r["id"] == run).cloned()).unwrap_or_default();
            found["ended_at_ms"].is_i64()
        });
        found
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.terminate_within(Duration::from_secs(60))
    }

    /// SIGTERM, then the exit status; panics when the engine is still running after `within`.
    pub fn terminate_within(&mut self, within: Duration) -> ExitStatus {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < until, "the engine did not stop within {within:?} of SIGTERM:\n{}", self.log.lock().unwrap());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Exact's signature: uppercase hex HMAC-SHA256 of the Content bytes.
pub fn signed(content: &str, secret: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(content.as_bytes());
    let hash: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02X}")).collect();
    format!("{{\"Content\":{content},\"HashCode\":\"{hash}\"}}")
}

/// The Content of an Exact event for `key` of `topic`, raised at `at` (its `EventCreatedOn`).
pub fn exact_event(topic: &str, key: &str, action: &str, at: &str) -> String {
    serde_json::json!({
        "Topic": topic, "ClientId": "x", "Division": 3012345, "Action": action, "Key": key,
        "ExactOnlineEndpoint": "x", "EventCreatedOn": at,
    })
    .to_string()
}

/// One response head, up to and with its blank line.
fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// `flowmap serve` in `root` with its state in `dir`, to its end: for a set that must not start.
#[allow(dead_code)]
pub fn serve_to_the_end(dir: &Path, root: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .args(["--color", "never", "serve", "--listen", "127.0.0.1:0", "--state"])
        .arg(dir.join("state.db"))
        .current_dir(root)
        .env("FLOWMAP_API_TOKEN", TOKEN)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("flowmap runs")
}
