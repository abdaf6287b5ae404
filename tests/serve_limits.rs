//! `flowmap serve` faces the internet: a client that never finishes its
//! request is answered or cut off and its connection freed; a full house (as
//! many connections as the open-file limit allows) is turned away with 503
//! and `Retry-After` rather than left to time out; heads and bodies are
//! bounded; and SIGTERM does not wait for calls that are retrying.
//! Through the real binary, on 127.0.0.1, every wait bounded.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::live::*;
use common::serve::*;
use pretty_assertions::assert_eq;

const SUNDAY: &str = "2026-01-04T12:00:00Z";
const CANCELLATIONS: &str = "exact-order-cancellations-to-lnb";
const CANCELLED: &str = "c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10";
const SECRET: &str = "sandbox-webhook-secret";

fn default_world() -> World {
    World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "")
}

/// A connection to the engine whose reads give up after 30 s (well beyond every limit the engine keeps).
fn connect(served: &Served) -> TcpStream {
    let s = TcpStream::connect(served.authority()).expect("the engine accepts");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Everything the engine sends until it closes; an error if it neither answers nor closes in 30 s.
fn read_to_close(s: &mut TcpStream) -> std::io::Result<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // The engine closed with unread bytes: what came before the reset is the answer.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(String::from_utf8_lossy(&got).into_owned()),
            Err(e) => return Err(e),
        }
    }
}

fn status_of(answer: &str) -> u16 {
    answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[test]
fn idle_connections_are_closed_and_a_full_house_is_turned_away_with_503_not_a_timeout() {
    let world = default_world();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    // A low open-file limit, as the tester had: 100 files leave room for 18 connections.
    let served = Served::start_with(&world, &root, &["--clock-start", SUNDAY], &[], Some(100));
    served.wait_for("the limits in the log", Duration::from_secs(5), || served.log.lock().unwrap().contains("max_connections=18"));

    // 80 connections that never send a byte.
    let mut idle: Vec<TcpStream> = (0..80).map(|_| connect(&served)).collect();
    // Behind them in the queue, a health check: answered at once, 503 with Retry-After.
    let mut health = connect(&served);
    health.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let answer = read_to_close(&mut health).expect("an answer, not a timeout");
    assert_eq!(status_of(&answer), 503, "{answer}");
    assert!(answer.contains("Retry-After: 2\r\n"), "{answer}");
    // The idle connections beyond the 18 were turned away the same way (or closed at once when
    // too many were being turned away); the 18 are closed by the header timeout. None stays open.
    for (i, s) in idle.iter_mut().enumerate() {
        let got = read_to_close(s).unwrap_or_else(|e| panic!("idle connection {i} is still open: {e}"));
        assert!(got.is_empty() || status_of(&got) == 503, "connection {i}: {got}");
    }
    drop(idle);
    served.wait_for("/health to answer again", Duration::from_secs(10), || served.call("GET", "/health", None, "").0 == 200);
    let metrics = served.get("/metrics").1.as_str().unwrap_or_default().to_string();
    assert!(metrics.contains("flowmap_api_connections_refused_total "), "{metrics}");
}

#[test]
fn request_heads_and_bodies_are_bounded_in_size_and_time() {
    let world = default_world();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let served = Served::start(&world, &root, &["--clock-start", SUNDAY], &[("FLOWMAP_WEBHOOK_SECRET", SECRET)]);
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");

    // A head that never ends: the connection is closed.
    let mut s = connect(&served);
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
    assert_eq!(read_to_close(&mut s).expect("closed, not left open"), "");

    // A body that never ends: 408, and the connection closed.
    let mut s = connect(&served);
    write!(s, "POST /flows/lnb-orders-to-exact/runs HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 100\r\n\r\n{{\"keys\"").unwrap();
    let answer = read_to_close(&mut s).expect("an answer, not a timeout");
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(answer.ends_with(r#"{"error":"the body did not arrive within 10 s"}"#), "{answer}");

    // Bodies over the cap: refused unread when their length is declared, as soon as they pass it when not.
    assert_eq!(
        served.raw("POST", "/webhooks/exact", None, &vec![b' '; 300_000]),
        (413, r#"{"error":"the body is larger than 262144 bytes"}"#.to_string())
    );
    let mut s = connect(&served);
    write!(s, "POST /flows/lnb-orders-to-exact/runs HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\n\r\n").unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
    for _ in 0..9 {
        // The engine may answer and close before all of it is sent.
        if s.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    let answer = read_to_close(&mut s).expect("an answer");
    assert_eq!(status_of(&answer), 413, "{answer}");

    // A head larger than any request the API takes.
    let mut s = connect(&served);
    let _ = write!(s, "GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n", "p".repeat(20_000));
    let answer = read_to_close(&mut s).expect("an answer");
    assert_eq!(status_of(&answer), 431, "{answer}");

    // A stalled body on the webhook is cut off just the same, without a token.
    let mut s = connect(&served);
    s.write_all(b"POST /webhooks/exact HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"Content\":").unwrap();
    assert_eq!(status_of(&read_to_close(&mut s).expect("an answer")), 408);
}

#[test]
fn sigterm_does_not_wait_for_a_call_that_is_retrying_and_the_inbox_record_waits_untouched() {
    let world = default_world();
    world.connect();
    let dir = tempfile::tempdir().unwrap();
    let root = project_copy(dir.path());
    let mut served = Served::start(&world, &root, &["--clock-start", SUNDAY], &[("FLOWMAP_WEBHOOK_SECRET", SECRET)]);
    // Exact answers every API call 503: the fetch of the order is retried with growing waits (15 s and more in all).
    world.sandbox.set_faults(Faults { rate: 1.0, kinds: vec![FaultKind::ServiceUnavailable], seed: 1, hang_ms: 0 });
    let event = signed(&exact_event("SalesOrders", CANCELLED, "Update", "2026-01-04T12:00:00"), SECRET);
    assert_eq!(served.raw("POST", "/webhooks/exact", None, event.as_bytes()).0, 202);
    served.wait_for("the first try of the fetch", Duration::from_secs(10), || {
        !world.requests_to("exact", "GET", &format!("SalesOrders(guid'{CANCELLED}')")).is_empty()
    });

    let exit = served.terminate_within(Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}");
    let log = served.log.lock().unwrap().clone();
    assert!(log.contains("the engine is shutting down"), "{log}");
    // Cut short by the shutdown is no try: the record waits as it came, for the restart.
    let inbox = flowmap_state::State::open(&world.state).unwrap().inbox().unwrap();
    let rows: Vec<(String, String, flowmap_state::InboxStatus, i64)> = inbox.into_iter().map(|r| (r.flow, r.key, r.status, r.attempts)).collect();
    assert_eq!(rows, vec![(CANCELLATIONS.to_string(), CANCELLED.to_string(), flowmap_state::InboxStatus::Waiting, 0)]);
    assert_eq!(world.lnb_statuses()["50007"], "Confirmed");
}
