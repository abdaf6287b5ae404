//! Webhooks per system through a real `flowmap serve`: each system's deliveries
//! checked with its own scheme and its connection's own webhook secret (stored
//! by `flowmap connect NAME --webhook-secret`), and read as its YAML says —
//! Exact's HashCode envelope, Xero's x-xero-signature with its intent-to-receive
//! check, QuickBooks' intuit-signature over a list of CloudEvents.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use common::live::*;
use common::serve::*;
use pretty_assertions::assert_eq;
use serde_json::json;

/// A Sunday: the shipped weekday schedules do not fire while a test runs.
const SUNDAY: &str = "2026-01-04T12:00:00Z";
const EXACT_SECRET: &str = "exact-stored-webhook-secret";
const XERO_KEY: &str = "xero-webhooks-key-3f9a";
const QBO_TOKEN: &str = "qbo-verifier-token-77c1";
const TENANT: &str = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f";
const REALM: &str = "310687";
const QBO_FLOW: &str = "qbo-invoice-events";
const XERO_FLOW: &str = "xero-contact-events";

/// A world whose connections file also has Xero and QuickBooks connections (nothing listens
/// where they point: these tests never fetch from them), each with its webhook secret stored.
fn world_with_secrets() -> World {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    let mut text = std::fs::read_to_string(&world.connections).unwrap();
    text.push_str(&format!(
        "  xero:\n    host: http://127.0.0.1:9\n    params: {{ tenant: {TENANT} }}\n  qbo:\n    host: http://127.0.0.1:9\n    params: {{ realm: \"{REALM}\" }}\n"
    ));
    std::fs::write(&world.connections, text).unwrap();
    for (name, secret) in [("xero", XERO_KEY), ("qbo", QBO_TOKEN)] {
        let stored = world.flowmap_env(&["connect", name, "--webhook-secret"], &[("FLOWMAP_WEBHOOK_SECRET", secret)]);
        assert_eq!(stored.code, 0, "{}{}", stored.stdout, stored.stderr);
        assert!(!stored.stdout.contains(secret) && !stored.stderr.contains(secret), "{}", stored.stdout);
    }
    world
}

/// The project with the test-only flows bound to Xero and QuickBooks topics.
fn project_with_test_flows(dir: &Path) -> PathBuf {
    let root = project_copy(dir);
    let to = root.join("mappings/webhook-tests");
    copy_dir(&common::repo_root().join("tests/webhook-flows"), &to);
    root
}

/// Another process holds the flow's lock: what a webhook keeps waits in the inbox, where it can be seen.
fn hold_lock(world: &World, flow: &str) -> std::fs::File {
    let locks = world.dir.path().join("locks");
    std::fs::create_dir_all(&locks).unwrap();
    let lock = std::fs::File::create(locks.join(format!("{flow}.lock"))).unwrap();
    lock.try_lock().unwrap();
    lock
}

/// A POST with the given headers; answers the status and the body as text.
fn post(served: &Served, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(served.authority()).expect("the engine answers");
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        served.authority(),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    (head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), body.to_string())
}

/// base64(HMAC-SHA256(secret, body)): how Xero and QuickBooks sign a delivery.
fn hmac_base64(body: &str, secret: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    base64(&mac.finalize().into_bytes())
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ABC[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

fn metric_lines(served: &Served, system: &str) -> Vec<String> {
    let metrics = served.call("GET", "/metrics", Some(TOKEN), "").1.as_str().unwrap_or_default().to_string();
    let prefix = format!("flowmap_webhooks_total{{system=\"{system}\",");
    metrics.lines().filter(|l| l.starts_with(&prefix)).map(str::to_string).collect()
}

/// The records waiting in a flow's inbox, with what brought them.
fn waiting(served: &Served, flow: &str) -> Vec<(String, String)> {
    let (_, one) = served.get(&format!("/flows/{flow}"));
    one["waiting"]
        .as_array()
        .map(|w| {
            w.iter().map(|r| (r["key"].as_str().unwrap_or_default().to_string(), r["origin"].as_str().unwrap_or_default().to_string())).collect()
        })
        .unwrap_or_default()
}

fn qbo_event(id: &str, kind: &str, key: &str, realm: &str) -> serde_json::Value {
    json!({
        "specversion": "1.0", "id": id, "source": "intuit.dsnBgbseyb1uXQ5uLDmSoHuXgQqIPe5rjh4cOQ2nLfo=", "type": kind,
        "datacontenttype": "application/json", "time": "2026-01-04T11:59:01.179Z",
        "intuitentityid": key, "intuitaccountid": realm, "data": {}
    })
}

#[test]
fn quickbooks_cloudevents_each_event_is_kept_once_and_anything_unsigned_is_refused() {
    let world = world_with_secrets();
    let dir = tempfile::tempdir().unwrap();
    let root = project_with_test_flows(dir.path());
    let _lock = hold_lock(&world, QBO_FLOW);
    let served = Served::start(&world, &root, &["--clock-start", SUNDAY, "--log-format", "json"], &[]);
    let hook = "/webhooks/qbo";

    // Two invoices created in one delivery: both records are kept for the flow bound to `invoice`.
    let batch = json!([
        qbo_event("88cd52aa-33b8-4a6f-b2a8-3d1b3e9f0001", "qbo.invoice.created.v1", "130", REALM),
        qbo_event("88cd52aa-33b8-4a6f-b2a8-3d1b3e9f0002", "qbo.invoice.updated.v1", "131", REALM),
    ])
    .to_string();
    let (status, answer) = post(&served, hook, &[("intuit-signature", &hmac_base64(&batch, QBO_TOKEN))], batch.as_bytes());
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let told: Vec<(String, String, Vec<String>)> = answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let flows = e["started"].as_array().unwrap().iter().map(|s| s["flow"].as_str().unwrap_or_default().to_string()).collect();
            (e["topic"].as_str().unwrap().to_string(), e["key"].as_str().unwrap().to_string(), flows)
        })
        .collect();
    assert_eq!(
        told,
        vec![("invoice".into(), "130".into(), vec![QBO_FLOW.to_string()]), ("invoice".into(), "131".into(), vec![QBO_FLOW.to_string()])]
    );
    let expected = vec![("130".to_string(), "qbo invoice created".to_string()), ("131".to_string(), "qbo invoice updated".to_string())];
    assert_eq!(waiting(&served, QBO_FLOW), expected);

    // The same delivery again (Intuit retrying): acknowledged, nothing kept twice.
    let (status, again) = post(&served, hook, &[("intuit-signature", &hmac_base64(&batch, QBO_TOKEN))], batch.as_bytes());
    assert_eq!(status, 200, "{again}");
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["events"].as_array().unwrap().iter().map(|e| e["duplicate"].clone()).collect::<Vec<_>>(), vec![json!(true), json!(true)]);
    assert_eq!(waiting(&served, QBO_FLOW), expected);

    // Another realm's event, a deleted invoice, an entity no flow takes: acknowledged with what became of each.
    let others = json!([
        qbo_event("88cd52aa-33b8-4a6f-b2a8-3d1b3e9f0003", "qbo.invoice.created.v1", "132", "9130354"),
        qbo_event("88cd52aa-33b8-4a6f-b2a8-3d1b3e9f0004", "qbo.invoice.deleted.v1", "133", REALM),
        qbo_event("88cd52aa-33b8-4a6f-b2a8-3d1b3e9f0005", "qbo.customer.created.v1", "58", REALM),
    ])
    .to_string();
    let (status, answer) = post(&served, hook, &[("intuit-signature", &hmac_base64(&others, QBO_TOKEN))], others.as_bytes());
    assert_eq!(
        (status, serde_json::from_str::<serde_json::Value>(&answer).unwrap()),
        (
            200,
            json!({"events": [
                {"topic": "invoice", "key": "132", "ignored": "another account"},
                {"topic": "invoice", "key": "133", "ignored": "deleted"},
                {"topic": "customer", "key": "58", "error": "no flow takes qbo topic `customer`"},
            ]})
        )
    );
    assert_eq!(waiting(&served, QBO_FLOW), expected);

    // Refused with 401 and nothing said: another key, one changed byte, no signature header.
    let new = json!([qbo_event("88cd52aa-33b8-4a6f-b2a8-3d1b3e9f0006", "qbo.invoice.created.v1", "134", REALM)]).to_string();
    let changed = new.replacen("\"134\"", "\"135\"", 1);
    for (what, headers, body) in [
        ("another key", vec![("intuit-signature", hmac_base64(&new, XERO_KEY))], new.clone()),
        ("a changed byte", vec![("intuit-signature", hmac_base64(&new, QBO_TOKEN))], changed),
        ("no signature", vec![], new.clone()),
        ("Xero's header", vec![("x-xero-signature", hmac_base64(&new, QBO_TOKEN))], new.clone()),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(post(&served, hook, &headers, body.as_bytes()), (401, String::new()), "{what}");
    }
    assert_eq!(waiting(&served, QBO_FLOW), expected);

    assert_eq!(
        metric_lines(&served, "qbo"),
        vec![
            "flowmap_webhooks_total{system=\"qbo\",result=\"accepted\"} 2",
            "flowmap_webhooks_total{system=\"qbo\",result=\"duplicate\"} 2",
            "flowmap_webhooks_total{system=\"qbo\",result=\"ignored\"} 1",
            "flowmap_webhooks_total{system=\"qbo\",result=\"other_account\"} 1",
            "flowmap_webhooks_total{system=\"qbo\",result=\"refused\"} 4",
            "flowmap_webhooks_total{system=\"qbo\",result=\"unknown_topic\"} 1",
        ]
    );
    let log = served.log.lock().unwrap().clone();
    assert!(!log.contains(QBO_TOKEN) && !log.contains(XERO_KEY), "{log}");
}

fn xero_delivery(events: serde_json::Value, first: u64) -> String {
    let last = first + events.as_array().map_or(0, |e| e.len() as u64).saturating_sub(1);
    json!({"events": events, "lastEventSequence": last, "firstEventSequence": first, "entropy": "FXNGWLCCGVANWHKILRUB"}).to_string()
}

fn xero_event(category: &str, id: &str, at: &str) -> serde_json::Value {
    json!({
        "resourceUrl": format!("https://api.xero.com/api.xro/2.0/{}/{id}", if category == "CONTACT" { "Contacts" } else { "Invoices" }),
        "resourceId": id, "eventDateUtc": at, "eventType": "UPDATE", "eventCategory": category,
        "tenantId": TENANT, "tenantType": "ORGANISATION"
    })
}

#[test]
fn xero_intent_to_receive_is_passed_and_its_events_are_answered_200_with_no_body() {
    let world = world_with_secrets();
    let dir = tempfile::tempdir().unwrap();
    let root = project_with_test_flows(dir.path());
    let _lock = hold_lock(&world, XERO_FLOW);
    let served = Served::start(&world, &root, &["--clock-start", SUNDAY], &[]);
    let hook = "/webhooks/xero";
    // Xero has no subscription API: the URL is given in its developer portal.
    let flow = root.join("mappings/webhook-tests/xero-contacts.flow.yaml");
    let callback = "https://flowmap.example.com/webhooks/xero";
    let subscribe = world.flowmap(&["--root", root.to_str().unwrap(), "subscribe", flow.to_str().unwrap(), "--callback", callback]);
    assert_eq!(
        (subscribe.code, subscribe.stderr.as_str()),
        (2, format!("error: Xero's webhooks are set up in its developer portal, not by API: give it the callback {callback} there\n").as_str())
    );
    let signed = |body: &str, key: &str| post(&served, hook, &[("x-xero-signature", &hmac_base64(body, key))], body.as_bytes());

    // Intent to receive: deliveries with no events, correctly signed (200) or not (401), both with no body.
    let intent = json!({"events": [], "lastEventSequence": 0, "firstEventSequence": 0, "entropy": "S0m3r4Nd0mt3xt"}).to_string();
    assert_eq!(signed(&intent, XERO_KEY), (200, String::new()));
    assert_eq!(signed(&intent, "not-the-webhooks-key"), (401, String::new()));
    assert_eq!(post(&served, hook, &[], intent.as_bytes()), (401, String::new()), "unsigned");
    assert_eq!(post(&served, hook, &[], b""), (401, String::new()), "an empty POST is no check at Xero");

    // A contact updated: 200 with no body; the record waits for the flow bound to CONTACT.
    let contact = "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777";
    let delivery = xero_delivery(json!([xero_event("CONTACT", contact, "2026-01-04T11:58:39.902")]), 76);
    assert_eq!(signed(&delivery, XERO_KEY), (200, String::new()));
    assert_eq!(waiting(&served, XERO_FLOW), vec![(contact.to_string(), "xero CONTACT UPDATE".to_string())]);
    // Sent again: still 200 with no body, kept once.
    assert_eq!(signed(&delivery, XERO_KEY), (200, String::new()));
    assert_eq!(waiting(&served, XERO_FLOW).len(), 1);
    // An invoice (no flow takes INVOICE): Xero is still answered 200 with no body, the event counted.
    let invoice = xero_delivery(json!([xero_event("INVOICE", "55d84274-a3da-4829-a7c0-0cab601b95cc", "2026-01-04T11:58:40.100")]), 77);
    assert_eq!(signed(&invoice, XERO_KEY), (200, String::new()));

    // Another key, one changed byte, no header: 401 with no body.
    let next = xero_delivery(json!([xero_event("CONTACT", "8a3b1e7c-2f4d-4c9e-9b1a-6d5e4f3a2b1c", "2026-01-04T11:58:41.000")]), 78);
    assert_eq!(signed(&next, QBO_TOKEN), (401, String::new()));
    let changed = next.replacen("UPDATE", "UPDATF", 1);
    assert_eq!(post(&served, hook, &[("x-xero-signature", &hmac_base64(&next, XERO_KEY))], changed.as_bytes()), (401, String::new()));
    assert_eq!(post(&served, hook, &[], next.as_bytes()), (401, String::new()));
    assert_eq!(waiting(&served, XERO_FLOW).len(), 1);

    assert_eq!(
        metric_lines(&served, "xero"),
        vec![
            "flowmap_webhooks_total{system=\"xero\",result=\"accepted\"} 1",
            "flowmap_webhooks_total{system=\"xero\",result=\"duplicate\"} 1",
            "flowmap_webhooks_total{system=\"xero\",result=\"refused\"} 6",
            "flowmap_webhooks_total{system=\"xero\",result=\"unknown_topic\"} 1",
            "flowmap_webhooks_total{system=\"xero\",result=\"validation\"} 1",
        ]
    );
}

#[test]
fn exacts_secret_stored_with_its_connection_checks_its_webhooks() {
    const CANCELLED: &str = "c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10";
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    let stored = world.flowmap_env(&["connect", "exact", "--webhook-secret"], &[("FLOWMAP_WEBHOOK_SECRET", EXACT_SECRET)]);
    assert_eq!(
        (stored.code, stored.stdout.as_str()),
        (0, "stored the webhook secret of `exact` (Exact Online); `flowmap serve` checks its webhooks with it from its next start\n"),
        "{}",
        stored.stderr
    );
    // A system without webhooks has no webhook secret to store.
    let lnb = world.flowmap_env(&["connect", "lnb", "--webhook-secret"], &[("FLOWMAP_WEBHOOK_SECRET", "x")]);
    assert_eq!((lnb.code, lnb.stderr.as_str()), (2, "error: system `lnb` takes no webhooks (no http.webhooks in its definition)\n"));

    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    // No FLOWMAP_WEBHOOK_SECRET: the stored secret is the one.
    let served = Served::start(&world, &root, &["--clock-start", SUNDAY], &[]);
    let event = exact_event("SalesOrders", CANCELLED, "Update", "2026-01-04T12:00:00");
    let (status, answer) = served.call("POST", "/webhooks/exact", None, &signed(&event, EXACT_SECRET));
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["started"][0]["flow"], "exact-order-cancellations-to-lnb", "{answer}");
    served.wait_for("LNB order 50007 to be cancelled", std::time::Duration::from_secs(10), || world.lnb_statuses()["50007"] == "Canceled");

    // Signed with another secret, a changed byte, no HashCode: 401 with nothing said.
    let later = exact_event("SalesOrders", CANCELLED, "Update", "2026-01-04T12:05:00");
    let good = signed(&later, EXACT_SECRET);
    let changed = good.replacen("12:05:00", "12:05:01", 1);
    let no_hash = good[..good.find(",\"HashCode\"").unwrap()].to_string() + "}";
    for (what, body) in [("another secret", signed(&later, "sandbox-webhook-secret")), ("a changed byte", changed), ("no HashCode", no_hash)] {
        assert_eq!(served.raw("POST", "/webhooks/exact", None, body.as_bytes()), (401, String::new()), "{what}");
    }
    // A deleted order: nothing to fetch.
    let deleted = exact_event("SalesOrders", CANCELLED, "Delete", "2026-01-04T12:06:00");
    assert_eq!(served.call("POST", "/webhooks/exact", None, &signed(&deleted, EXACT_SECRET)), (200, json!({"ignored": "Delete"})));
    assert_eq!(
        metric_lines(&served, "exact"),
        vec![
            "flowmap_webhooks_total{system=\"exact\",result=\"accepted\"} 1",
            "flowmap_webhooks_total{system=\"exact\",result=\"ignored\"} 1",
            "flowmap_webhooks_total{system=\"exact\",result=\"refused\"} 3",
        ]
    );
    let log = served.log.lock().unwrap().clone();
    assert!(!log.contains(EXACT_SECRET), "{log}");
}

#[test]
fn a_webhooks_definition_that_cannot_read_events_is_shown_by_check_at_its_field() {
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let file = root.join("mappings/systems/qbo.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let groupless = r"pattern: 'qbo\.[a-z0-9]+\.[a-z]+\.v[0-9]+'";
    std::fs::write(&file, text.replacen(r"pattern: 'qbo\.([a-z0-9]+)\.[a-z]+\.v[0-9]+'", groupless, 1)).unwrap();
    let line = std::fs::read_to_string(&file).unwrap().lines().position(|l| l.contains(groupless)).unwrap() + 1;
    let checked = common::flowmap_in(&root, &["check", "mappings/qbo-exact/orders.flow.yaml"]);
    let shown = format!(
        "error: http.webhooks.topic.pattern: it has no group to take the value from\n  --> mappings/systems/qbo.yaml:{line}:35\n   |\n{line} |     topic: {{ path: type, {groupless} }}\n   |                                   {}\n\nchecked 1 flow: 1 error, 0 warnings\n",
        "^".repeat(34)
    );
    assert_eq!((checked.code, checked.stdout.as_str()), (1, shown.as_str()), "{}", checked.stderr);
}

#[test]
fn a_xero_event_starts_its_flow_for_the_contact_and_another_organisations_events_are_ignored() {
    const ACME: &str = "4d7a1f0e-2b3c-4e5f-8a9b-0c1d2e3f4a5b";
    const DEMO: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
    const LUNE: &str = "3542ccc2-cc56-4909-b2e0-956be4217dfb";
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.connect();
    // The connection names its organisation by name: its id is known once discovered.
    world.connect_xero("");
    let stored = world.flowmap_env(&["connect", "xero", "--webhook-secret"], &[("FLOWMAP_WEBHOOK_SECRET", XERO_KEY)]);
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    let dir = tempfile::tempdir().unwrap();
    let root = project_with_test_flows(dir.path());
    let served = Served::start(&world, &root, &["--clock-start", SUNDAY], &[]);
    let signed = |body: &str| post(&served, "/webhooks/xero", &[("x-xero-signature", &hmac_base64(body, XERO_KEY))], body.as_bytes());
    let event = |tenant: &str, at: &str| {
        json!({
            "resourceUrl": format!("https://api.xero.com/api.xro/2.0/Contacts/{LUNE}"), "resourceId": LUNE, "eventDateUtc": at,
            "eventType": "UPDATE", "eventCategory": "CONTACT", "tenantId": tenant, "tenantType": "ORGANISATION"
        })
    };

    assert_eq!(signed(&xero_delivery(json!([event(ACME, "2026-01-04T11:58:39.902")]), 1)), (200, String::new()));
    served.wait_for("the run for the contact", std::time::Duration::from_secs(10), || {
        served.get(&format!("/flows/{XERO_FLOW}/runs")).1["runs"].as_array().is_some_and(|r| r.len() == 1 && r[0]["status"] != "running")
    });
    let fetched = world.requests_to("xero", "GET", &format!("Contacts/{LUNE}"));
    assert_eq!(fetched.len(), 1, "the run fetched the one contact the event named");

    // Xero sends the events of every organisation connected to the app: Demo's are not this connection's.
    assert_eq!(signed(&xero_delivery(json!([event(DEMO, "2026-01-04T11:58:50.000")]), 2)), (200, String::new()));
    assert_eq!(world.requests_to("xero", "GET", &format!("Contacts/{LUNE}")).len(), 1, "nothing fetched for Demo's event");
    assert_eq!(served.get(&format!("/flows/{XERO_FLOW}/runs")).1["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        metric_lines(&served, "xero"),
        vec!["flowmap_webhooks_total{system=\"xero\",result=\"accepted\"} 1", "flowmap_webhooks_total{system=\"xero\",result=\"other_account\"} 1",]
    );
}
