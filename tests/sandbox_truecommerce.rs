//! The sandbox's TrueCommerce emulator: an SFTP server over an Integration FTP folder, and a
//! trading partner that answers what the customer puts in Import with a 997, an 855 and an 810
//! in Export, as its rules say. Driven by the engine's own SFTP client and flows, through the
//! `flowmap sandbox` binary and the in-process sandbox of `World`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::live::{World, copy_dir};
use common::{Run, repo_root};
use flowmap::transport::files::{FileFailure, FileStore, RemoteFile};
use flowmap::transport::sftp::{SftpCredentials, SftpSettings, SftpStore};
use flowmap_sandbox::{SandboxConfig, SftpFaults, TrueCommerceConfig};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

/// The sandbox's fixed loopback host key (sandbox/keys/truecommerce_ed25519).
const HOST_KEY: &str = "SHA256:rDx0ShUO4U8KVzLX6BcVll7vb7cebVgNYCg+50myS7s";
const IMPORT: &str = "/IntegrationFTP/Import/Acme";
const EXPORT: &str = "/IntegrationFTP/Export/Acme";
const TO_850: &str = "mappings/edi-demo/purchase-orders-to-850.flow.yaml";
const FROM_855: &str = "mappings/edi-demo/855-to-acknowledgements.flow.yaml";

/// An 850 as a customer sends it: two lines, interchange 101, group 101.
const PO_4711: &str = "ISA*00*          *00*          *ZZ*ACMEMFG        *ZZ*TRUECOMMERCE   *261201*1015*U*00401*000000101*0*T*>~
GS*PO*ACMEMFG*TRUECOMMERCE*20261201*1015*101*X*004010~
ST*850*0001~
BEG*00*SA*PO-4711**20261130~
PO1*1*12*EA*4.25**VP*SKU-100~
PO1*2*3.5*CA*110**VP*SKU-200~
CTT*2~
SE*6*0001~
GE*1*101~
IEA*1*000000101~
";

/// The same 850 with another PO number and interchange control number.
fn purchase_order(po: &str, isa13: u32) -> String {
    PO_4711
        .replace("PO-4711", po)
        .replace("000000101", &format!("{isa13:09}"))
        .replace("*101*X", &format!("*{isa13}*X"))
        .replace("GE*1*101", &format!("GE*1*{isa13}"))
}

/// The text with the moments of writing masked (ISA09/10, GS04/05, BIG01: the sandbox clock).
fn masked(x12: &str) -> String {
    x12.lines()
        .map(|line| {
            let mut e: Vec<String> = line.split('*').map(str::to_string).collect();
            let positions: &[usize] = match e[0].as_str() {
                "ISA" => &[9, 10],
                "GS" => &[4, 5],
                "BIG" => &[1],
                _ => &[],
            };
            for &i in positions {
                e[i] = "#".repeat(e[i].len());
            }
            e.join("*") + "\n"
        })
        .collect()
}

fn settings(port: u16, extra: Value) -> SftpSettings {
    let mut yaml = json!({
        "host": "127.0.0.1", "port": port, "user": "ACME-EDI", "host_key": HOST_KEY,
        "connect_timeout_seconds": 5, "request_timeout_seconds": 5, "retries": 0,
    });
    for (k, v) in extra.as_object().unwrap() {
        yaml[k] = v.clone();
    }
    serde_json::from_value(yaml).unwrap()
}

/// The engine's own SFTP client, logged in with the sandbox's password.
fn store(world: &World) -> SftpStore {
    SftpStore::new(settings(world.truecommerce_port(), json!({})), SftpCredentials::Password("sandbox-password".into()))
}

async fn names_in(store: &SftpStore, folder: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut each = |f: RemoteFile| names.push(f.name);
    store.list(folder, &mut each).await.unwrap();
    names.sort();
    names
}

async fn read(store: &SftpStore, path: &str) -> String {
    let mut bytes = Vec::new();
    store.read(path, &mut bytes).await.unwrap();
    String::from_utf8(bytes).unwrap()
}

fn names(files: &[impl Named]) -> Vec<String> {
    files.iter().map(|f| f.name().to_string()).collect()
}

trait Named {
    fn name(&self) -> &str;
}

impl Named for flowmap_sandbox::ReceivedFile {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for flowmap_sandbox::SentFile {
    fn name(&self) -> &str {
        &self.name
    }
}

fn world() -> World {
    World::start(SandboxConfig::default(), "")
}

#[tokio::test]
async fn an_850_uploaded_whole_is_taken_and_answered_with_a_997_an_855_and_an_810() {
    let world = world();
    let store = store(&world);
    store.put(IMPORT, "PO_4711.x12", PO_4711.as_bytes()).await.unwrap();
    // An upload in progress (the engine's `.NAME.part`) is never taken.
    std::fs::write(world.truecommerce_root().join("IntegrationFTP/Import/Acme/.PO_4712.x12.part"), "ISA*half").unwrap();

    let (received, sent) = world.truecommerce_tick();
    assert_eq!(names(&received), ["PO_4711.x12"]);
    assert_eq!(
        (received[0].isa13.as_str(), received[0].set_ids.clone(), received[0].po_numbers.clone()),
        ("000000101", vec!["850".to_string()], vec!["PO-4711".to_string()])
    );
    assert_eq!(received[0].bytes, PO_4711.len());
    assert_eq!(names(&sent), ["997_000000001.x12", "855_PO-4711_000000002.x12", "810_PO-4711_000000003.x12"]);
    // TrueCommerce takes files away; the partial upload stays.
    assert_eq!(std::fs::read_dir(world.truecommerce_root().join("IntegrationFTP/Import/Acme")).unwrap().count(), 1);
    assert_eq!(names_in(&store, IMPORT).await, Vec::<String>::new());
    assert_eq!(names_in(&store, EXPORT).await, ["810_PO-4711_000000003.x12", "855_PO-4711_000000002.x12", "997_000000001.x12"]);

    assert_eq!(
        masked(&read(&store, &format!("{EXPORT}/997_000000001.x12")).await),
        "ISA*00*          *00*          *ZZ*TRUECOMMERCE   *ZZ*ACMEMFG        *######*####*U*00401*000000001*0*T*>~
GS*FA*TRUECOMMERCE*ACMEMFG*########*####*1*X*004010~
ST*997*0001~
AK1*PO*101~
AK2*850*0001~
AK5*A~
AK9*A*1*1*1~
SE*6*0001~
GE*1*1~
IEA*1*000000001~
"
    );
    assert_eq!(
        masked(&read(&store, &format!("{EXPORT}/855_PO-4711_000000002.x12")).await),
        "ISA*00*          *00*          *ZZ*TRUECOMMERCE   *ZZ*ACMEMFG        *######*####*U*00401*000000002*0*T*>~
GS*PR*TRUECOMMERCE*ACMEMFG*########*####*2*X*004010~
ST*855*0001~
BAK*00*AD*PO-4711*20261130~
PO1*1*12*EA*4.25**VP*SKU-100~
ACK*IA*12*EA~
PO1*2*3.5*CA*110**VP*SKU-200~
ACK*IA*3.5*CA~
CTT*2~
SE*8*0001~
GE*1*2~
IEA*1*000000002~
"
    );
    // TDS01 in cents: 12 × 4.25 + 3.5 × 110 = 436.00.
    assert_eq!(
        masked(&read(&store, &format!("{EXPORT}/810_PO-4711_000000003.x12")).await),
        "ISA*00*          *00*          *ZZ*TRUECOMMERCE   *ZZ*ACMEMFG        *######*####*U*00401*000000003*0*T*>~
GS*IN*TRUECOMMERCE*ACMEMFG*########*####*3*X*004010~
ST*810*0001~
BIG*########*INV-000001*20261130*PO-4711~
IT1*1*12*EA*4.25**VP*SKU-100~
IT1*2*3.5*CA*110**VP*SKU-200~
TDS*43600~
CTT*2~
SE*7*0001~
GE*1*3~
IEA*1*000000003~
"
    );
}

#[tokio::test]
async fn a_rejected_line_is_acked_ir_and_not_invoiced_and_our_997_settles_the_855() {
    let world = world();
    world.truecommerce_rules(json!({"po": "PO-4711", "reject_line": 2}));
    let store = store(&world);
    store.put(IMPORT, "PO_4711.x12", PO_4711.as_bytes()).await.unwrap();
    let (_, sent) = world.truecommerce_tick();
    let ack = read(&store, &format!("{EXPORT}/{}", sent[1].name)).await;
    assert!(
        ack.contains(
            "BAK*00*AC*PO-4711*20261130~\nPO1*1*12*EA*4.25**VP*SKU-100~\nACK*IA*12*EA~\nPO1*2*3.5*CA*110**VP*SKU-200~\nACK*IR*3.5*CA~\nCTT*2~\n"
        ),
        "{ack}"
    );
    let invoice = read(&store, &format!("{EXPORT}/{}", sent[2].name)).await;
    assert!(invoice.contains("~\nIT1*1*12*EA*4.25**VP*SKU-100~\nTDS*5100~\nCTT*1~\nSE*6*0001~\n"), "{invoice}");

    // Our 997 for the 855's group (PR 2) is recorded and matched to the file that carried it.
    let our_997 = "ISA*00*          *00*          *ZZ*ACMEMFG        *ZZ*TRUECOMMERCE   *261201*1016*U*00401*000000102*0*T*>~
GS*FA*ACMEMFG*TRUECOMMERCE*20261201*1016*102*X*004010~
ST*997*0001~
AK1*PR*2~
AK2*855*0001~
AK5*A~
AK9*A*1*1*1~
SE*6*0001~
GE*1*102~
IEA*1*000000102~
";
    store.put(IMPORT, "997_102.x12", our_997.as_bytes()).await.unwrap();
    let (received, sent_after) = world.truecommerce_tick();
    assert_eq!(sent_after.len(), 0, "an acknowledgment is never acknowledged");
    let matched = &received[0].acknowledgments[0];
    assert_eq!((matched.functional_id.as_str(), matched.group_control.as_str(), matched.code.as_str()), ("PR", "2", "A"));
    assert_eq!(matched.file.as_deref(), Some("855_PO-4711_000000002.x12"));
    let acknowledged: Vec<Option<String>> = world.sandbox.truecommerce_sent().into_iter().map(|s| s.acknowledged).collect();
    assert_eq!(acknowledged, [None, Some("A".to_string()), None]);
}

#[tokio::test]
async fn an_interchange_received_twice_is_acknowledged_again_but_not_answered_again() {
    let world = world();
    let store = store(&world);
    store.put(IMPORT, "PO_4711.x12", PO_4711.as_bytes()).await.unwrap();
    world.truecommerce_tick();
    store.put(IMPORT, "PO_4711_resent.x12", PO_4711.as_bytes()).await.unwrap();
    let (received, sent) = world.truecommerce_tick();
    assert_eq!((received[0].duplicate, names(&sent)), (true, vec!["997_000000004.x12".to_string()]));
    assert!(sent[0].text.contains("AK1*PO*101~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\n"), "{}", sent[0].text);
    assert_eq!(world.truecommerce_received().iter().map(|r| r.duplicate).collect::<Vec<_>>(), [false, true]);
}

#[tokio::test]
async fn rules_per_po_reject_the_group_skip_the_997_change_a_quantity_and_send_the_810_twice() {
    let world = world();
    world.truecommerce_rules(json!({"po": "PO-A", "reject_group": true}));
    world.truecommerce_rules(json!({"po": "PO-B", "no_997": true, "invoice": false}));
    world.truecommerce_rules(json!({"po": "PO-C", "change_quantity": {"line": 1, "quantity": 10}, "backorder_line": 2, "wrong_total": 1.5}));
    world.truecommerce_rules(json!({"po": "PO-D", "duplicate_interchange": true}));
    let store = store(&world);
    for (n, po) in ["PO-A", "PO-B", "PO-C", "PO-D"].iter().enumerate() {
        store.put(IMPORT, &format!("{n}_{po}.x12"), purchase_order(po, 201 + n as u32).as_bytes()).await.unwrap();
    }
    let (_, sent) = world.truecommerce_tick();
    assert_eq!(
        names(&sent),
        [
            "997_000000001.x12",
            "855_PO-B_000000002.x12",
            "997_000000003.x12",
            "855_PO-C_000000004.x12",
            "810_PO-C_000000005.x12",
            "997_000000006.x12",
            "855_PO-D_000000007.x12",
            "810_PO-D_000000008.x12",
            "810_PO-D_000000008_again.x12",
        ]
    );
    assert!(sent[0].text.contains("AK2*850*0001~\nAK5*R~\nAK9*R*1*1*0~\n"), "{}", sent[0].text);
    assert!(
        sent[3]
            .text
            .contains("BAK*00*AC*PO-C*20261130~\nPO1*1*12*EA*4.25**VP*SKU-100~\nACK*IC*10*EA~\nPO1*2*3.5*CA*110**VP*SKU-200~\nACK*IB*3.5*CA~\n"),
        "{}",
        sent[3].text
    );
    // 10 × 4.25 = 42.50, and 1.50 too much.
    assert!(sent[4].text.contains("IT1*1*10*EA*4.25**VP*SKU-100~\nTDS*4400~\nCTT*1~\n"), "{}", sent[4].text);
    assert_eq!((sent[7].text.as_str(), sent[7].isa13.as_str()), (sent[8].text.as_str(), sent[8].isa13.as_str()));
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_so_is_a_path_outside_the_root() {
    let world = world();
    let port = world.truecommerce_port();
    let wrong = SftpStore::new(settings(port, json!({})), SftpCredentials::Password("guess".into()));
    let refused = wrong.connect().await.unwrap_err();
    assert_eq!(
        (refused.kind, refused.message),
        (
            FileFailure::Credentials,
            format!("SFTP 127.0.0.1:{port}: the server refused the password for user `ACME-EDI`: `flowmap connect` can store new credentials")
        )
    );

    let store = store(&world);
    let mut ignore = |_: RemoteFile| {};
    let outside = store.list("/IntegrationFTP/../..", &mut ignore).await.unwrap_err();
    assert_eq!(outside.message, format!("SFTP 127.0.0.1:{port}: listing /IntegrationFTP/../..: permission denied"));
    let mut bytes = Vec::new();
    let outside = store.read("../etc/passwd", &mut bytes).await.unwrap_err();
    assert_eq!(outside.message, format!("SFTP 127.0.0.1:{port}: reading ../etc/passwd: permission denied"));
    // A file written to `/` stays inside the root.
    store.put("/..", "escaped.x12", b"x").await.unwrap_err();
    assert!(!world.truecommerce_root().parent().unwrap().join("escaped.x12").exists());
}

#[tokio::test]
async fn faults_drop_connections_at_about_the_rate_set() {
    let world = world();
    world.sandbox.set_truecommerce_faults(SftpFaults { drop_rate: 0.2, seed: 7 });
    let store = store(&world);
    let (mut failed, mut lost) = (0, 0);
    for _ in 0..150 {
        let mut ignore = |_: RemoteFile| {};
        if let Err(e) = store.list(EXPORT, &mut ignore).await {
            failed += 1;
            lost += usize::from(e.kind == FileFailure::Unavailable);
        }
    }
    let (requests, dropped) = world.sandbox.truecommerce_fault_counts();
    let rate = dropped as f64 / requests as f64;
    assert!(requests >= 300 && (0.14..=0.26).contains(&rate), "{dropped} of {requests} requests dropped");
    // Each listing that failed lost its connection (a retry would help), and the next one reconnected.
    assert_eq!(failed, lost);
    assert!(failed > 20 && failed as u64 <= dropped, "{failed} listings failed, {dropped} connections dropped");
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_and_nothing_of_it_is_kept() {
    let config = SandboxConfig { truecommerce: TrueCommerceConfig { max_file_bytes: 1000, ..Default::default() }, ..Default::default() };
    let world = World::start(config, "");
    let port = world.truecommerce_port();
    let store = store(&world);
    let too_big = store.put(IMPORT, "big.x12", &[b'x'; 1001]).await.unwrap_err();
    // The server answers the write with a Failure status ("files are limited to 1000 bytes");
    // russh-sftp's file stream hands the client only its text, which the engine's client takes
    // for a lost connection: the upload fails either way.
    assert!(too_big.message.starts_with(&format!("SFTP 127.0.0.1:{port}: uploading {IMPORT}/big.x12: ")), "{}", too_big.message);
    assert_eq!(std::fs::read_dir(world.truecommerce_root().join("IntegrationFTP/Import/Acme")).unwrap().count(), 0);
    store.put(IMPORT, "small.x12", &[b'x'; 1000]).await.unwrap();
    assert_eq!(names_in(&store, IMPORT).await, ["small.x12"]);
}

#[tokio::test]
async fn a_session_over_the_limit_is_closed_before_the_greeting() {
    let config = SandboxConfig { truecommerce: TrueCommerceConfig { max_sessions: 1, ..Default::default() }, ..Default::default() };
    let world = World::start(config, "");
    let store = store(&world);
    store.connect().await.unwrap();
    // `store` holds the one session allowed.
    let second = SftpStore::new(settings(world.truecommerce_port(), json!({})), SftpCredentials::Password("sandbox-password".into()));
    let refused = second.connect().await.unwrap_err();
    assert_eq!(refused.kind, FileFailure::Unavailable, "{}", refused.message);
    store.close().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    second.connect().await.unwrap();
}

#[tokio::test]
async fn with_a_poll_interval_the_partner_answers_without_being_ticked() {
    let config = SandboxConfig { truecommerce: TrueCommerceConfig { poll_ms: 100, ..Default::default() }, ..Default::default() };
    let world = World::start(config, "");
    let store = store(&world);
    store.put(IMPORT, "PO_4711.x12", PO_4711.as_bytes()).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while names_in(&store, EXPORT).await.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no answer within 10 s: {:?}", world.truecommerce_received());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(names(&world.truecommerce_received()), ["PO_4711.x12"]);
}

#[test]
fn the_control_api_shows_the_server_sets_rules_and_faults_and_resets() {
    let world = world();
    let control = format!("{}/_sandbox/truecommerce", world.sandbox.exact_url());
    let (status, _, body) = common::live::http_get(&control);
    assert_eq!(status, 200, "{body}");
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        info,
        json!({
            "host": "127.0.0.1", "port": world.truecommerce_port(), "user": "ACME-EDI", "password": "sandbox-password",
            "host_key": HOST_KEY, "company": "Acme", "root": world.truecommerce_root().display().to_string(),
            "import": IMPORT, "export": EXPORT, "poll_ms": 0
        })
    );
    let (status, body) = http_post(&format!("{control}/rules"), &json!({"reject_lines": 2}));
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"error":"unknown rule `reject_lines` (use accept_all, reject_line, backorder_line, change_quantity, wrong_total, duplicate_interchange, no_997, reject_group, invoice; po for one PO number)"}"#
        )
    );
    let (status, body) = http_post(&format!("{control}/rules"), &json!({"po": "PO-1", "invoice": false}));
    assert_eq!(status, 200, "{body}");
    let rules: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((rules["default"]["invoice"].as_bool(), rules["by_po"]["PO-1"]["invoice"].as_bool()), (Some(true), Some(false)));
    let (status, body) = http_post(&format!("{control}/faults"), &json!({"drop_rate": 0.2, "seed": 3}));
    assert_eq!((status, body.as_str()), (200, r#"{"drop_rate":0.2,"seed":3,"requests":0,"dropped":0}"#));

    std::fs::write(world.truecommerce_root().join("IntegrationFTP/Import/Acme/PO_4711.x12"), PO_4711).unwrap();
    std::fs::write(world.truecommerce_root().join("IntegrationFTP/Import/Acme/notes.txt"), "not X12").unwrap();
    http_post(&format!("{control}/tick"), &json!({}));
    let (_, _, received) = common::live::http_get(&format!("{control}/received"));
    let received: Value = serde_json::from_str(&received).unwrap();
    assert_eq!((received[0]["name"].as_str(), received[0]["isa13"].as_str()), (Some("PO_4711.x12"), Some("000000101")));
    // A file that is not X12 is taken, recorded with the reason, and not answered.
    assert_eq!(
        (received[1]["name"].as_str(), received[1]["error"].as_str(), received[1]["answered_with"].as_array().map(Vec::len)),
        (Some("notes.txt"), Some("the file does not start with an ISA segment"), Some(0))
    );
    let (_, _, sent) = common::live::http_get(&format!("{control}/sent"));
    assert_eq!(serde_json::from_str::<Value>(&sent).unwrap().as_array().map(Vec::len), Some(3));

    let (status, _) = http_post(&format!("{control}/reset"), &json!({}));
    assert_eq!(status, 204);
    let (_, _, received) = common::live::http_get(&format!("{control}/received"));
    let (_, _, faults) = common::live::http_get(&format!("{control}/faults"));
    assert_eq!((received.as_str(), faults.as_str()), ("[]", r#"{"drop_rate":0.0,"seed":3,"requests":0,"dropped":0}"#));
    assert_eq!(std::fs::read_dir(world.truecommerce_root().join("IntegrationFTP/Export/Acme")).unwrap().count(), 0);
}

/// A running `flowmap sandbox`, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `flowmap sandbox` on free ports with its TrueCommerce root in `root`; the six lines it announces.
fn start_sandbox(root: &Path) -> (Running, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .args([
            "sandbox",
            "--exact-port",
            "0",
            "--lnb-port",
            "0",
            "--xero-port",
            "0",
            "--qbo-port",
            "0",
            "--truecommerce-port",
            "0",
            "--truecommerce-poll-ms",
            "0",
        ])
        .arg("--truecommerce-root")
        .arg(root)
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .spawn()
        .expect("flowmap starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    // exact, lnb, xero, qbo, truecommerce, ready.
    let announced = (0..6).map(|_| lines.next().and_then(Result::ok).unwrap_or_default()).collect();
    (Running(child), announced)
}

/// A POST with a JSON body over loopback: (status, body).
fn http_post(url: &str, body: &Value) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_once('/').expect("a path");
    let body = body.to_string();
    let mut s = std::net::TcpStream::connect(authority).unwrap();
    write!(
        s,
        "POST /{path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

/// The repository's mappings and schemas with a connections file for the sandbox's TrueCommerce
/// (as mappings/connections.sandbox.yaml, on the port given) and the export share.
fn project(dir: &Path, port: u16) -> PathBuf {
    let root = dir.join("p");
    copy_dir(&repo_root().join("mappings"), &root.join("mappings"));
    copy_dir(&repo_root().join("schemas"), &root.join("schemas"));
    let sandbox_connections = std::fs::read_to_string(repo_root().join("mappings/connections.sandbox.yaml")).unwrap();
    let truecommerce = &sandbox_connections[sandbox_connections.find("  truecommerce:").expect("connections.sandbox.yaml has truecommerce")..];
    let truecommerce = truecommerce.replace("port: 18082", &format!("port: {port}\n      retries: 0"));
    std::fs::write(root.join("connections.yaml"), format!("connections:\n{truecommerce}  exports:\n    folder: share\n")).unwrap();
    std::fs::create_dir_all(root.join("share/purchase-orders")).unwrap();
    std::fs::create_dir_all(root.join("share/acknowledgements")).unwrap();
    root
}

fn flowmap(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    common::flowmap_project(root, args, env)
}

#[test]
fn the_sandbox_binary_serves_truecommerce_to_the_engines_flows_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let sftp_root = dir.path().join("truecommerce");
    std::fs::create_dir_all(&sftp_root).unwrap();
    let (_running, announced) = start_sandbox(&sftp_root);
    assert_eq!(announced[5], "ready", "{announced:?}");
    let address = announced[4].split_whitespace().nth(1).and_then(|a| a.strip_prefix("sftp://ACME-EDI@")).expect("an sftp address").to_string();
    let port: u16 = address.strip_prefix("127.0.0.1:").and_then(|p| p.parse().ok()).expect("a loopback port");
    let canonical = sftp_root.canonicalize().unwrap();
    assert_eq!(announced[4], format!("truecommerce sftp://ACME-EDI@127.0.0.1:{port} host_key {HOST_KEY} root {}", canonical.display()));
    let control = announced[0].trim_start_matches("exact ").to_string();

    let root = project(dir.path(), port);
    let connect = flowmap(&root, &["connect", "truecommerce"], &[("FLOWMAP_PASSWORD", "sandbox-password")]);
    assert_eq!(
        (connect.code, connect.stdout.as_str()),
        (0, "connected `truecommerce` (TrueCommerce); /IntegrationFTP/Export/Acme holds 0 file(s)\n"),
        "{}",
        connect.stderr
    );

    // Our 850s go to Import; the partner is told to reject PO-7002's only line.
    std::fs::copy(repo_root().join("fixtures/exports/purchase_orders.json"), root.join("share/purchase-orders/export-1.json")).unwrap();
    let (status, body) = http_post(&format!("{control}/_sandbox/truecommerce/rules"), &json!({"po": "PO-7002", "reject_line": 1}));
    assert_eq!(status, 200, "{body}");
    let run = flowmap(&root, &["run", TO_850], &[]);
    assert!(run.stdout.contains("3 fetched, 2 sent, 1 blocked"), "{}{}", run.stdout, run.stderr);
    let (status, body) = http_post(&format!("{control}/_sandbox/truecommerce/tick"), &json!({}));
    assert_eq!(status, 200, "{body}");
    let tick: Value = serde_json::from_str(&body).unwrap();
    let listed = |side: &str, field: &str| tick[side].as_array().unwrap().iter().map(|f| f[field].to_string()).collect::<Vec<_>>().join(" ");
    assert_eq!(listed("received", "name"), r#""PO_PO-7001.x12" "PO_PO-7002.x12""#);
    assert_eq!(listed("received", "po_numbers"), r#"["PO-7001"] ["PO-7002"]"#);
    assert_eq!(
        listed("sent", "name"),
        r#""997_000000001.x12" "855_PO-7001_000000002.x12" "810_PO-7001_000000003.x12" "997_000000004.x12" "855_PO-7002_000000005.x12""#
    );
    let export = canonical.join("IntegrationFTP/Export/Acme");
    assert!(std::fs::read_to_string(export.join("810_PO-7001_000000003.x12")).unwrap().contains("TDS*7750~\n"));

    // The engine reads the partner's 855s with its own definitions.
    let run = flowmap(&root, &["run", FROM_855], &[]);
    assert!(run.stdout.contains("2 fetched, 2 sent"), "{}{}", run.stdout, run.stderr);
    let ack = |po: &str, isa13: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(root.join(format!("share/acknowledgements/ACK_{po}_{isa13}.json"))).unwrap()).unwrap()
    };
    let (accepted, rejected) = (ack("PO-7001", "000000002"), ack("PO-7002", "000000005"));
    assert_eq!(
        (accepted["acknowledgement"].as_str(), accepted["lines"][0]["status"].as_str(), accepted["lines"][1]["status"].as_str()),
        (Some("AD"), Some("IA"), Some("IA"))
    );
    assert_eq!((rejected["acknowledgement"].as_str(), rejected["lines"][0]["status"].as_str()), (Some("RJ"), Some("IR")));
    assert!(export.join("processed/855_PO-7001_000000002.x12").is_file());
}
