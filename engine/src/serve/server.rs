//! The API's connections, beneath axum: the webhook endpoint faces the
//! internet, so a connection cannot hold the engine's resources for long.
//!
//! - Request heads must arrive within [`HEADER_TIMEOUT`] (an idle keep-alive
//!   connection too: the wait for the next request is a header read), and fit
//!   in [`MAX_HEAD_BYTES`] (414/431 otherwise). Bodies are bounded in `api/body.rs`.
//! - At most [`Limits::max_connections`] at once, derived from the process's
//!   open-file limit so that a full house never leaves the engine without file
//!   descriptors (for its state file, its calls, and the next `accept`).
//!   Beyond it a connection is answered 503 with `Retry-After` and closed,
//!   rather than left waiting unanswered (health checks included).
//! - On shutdown no connection is accepted; open ones finish the request in
//!   hand and close (the caller bounds how long that may take).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::engine::Engine;
use crate::http::Shutdown;

/// Time for a request's head (request line and headers) to arrive, from its
/// first byte or from the end of the previous response. Clients on the
/// internet send a head in one packet; 10 s allows a slow link and still frees
/// a slot held by a client that stalls.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest request head: the longest URL the API has is a flow name and a key
/// (256 bytes), so 16 KiB is ample, and hyper needs at least 8 KiB.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Seconds a refused client is told to wait: a slot is freed by a finished
/// request at once, or by the header timeout within 10 s.
const RETRY_AFTER_SECONDS: u32 = 2;

/// File descriptors kept for the engine itself: the state file and its WAL,
/// locks, the watcher, the runtime, and the calls of runs to the systems.
const RESERVED_FILES: u64 = 64;

/// How long a connection being turned away is read from after the answer, so
/// that closing it does not reset what the client sent before it read the 503.
const LINGER: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    /// Connections turned away that may wait (each holding a descriptor for up to
    /// [`LINGER`]) for a request not yet sent; beyond them one is closed after the answer.
    pub turning_away: usize,
}

impl Limits {
    /// Half of the open files left after the engine's own go to connections
    /// (between 8 and 512), a quarter of that to turning them away; the rest
    /// stays free for what the engine opens meanwhile.
    pub fn for_this_process() -> Limits {
        let files = open_files_limit().unwrap_or(1024);
        let max_connections = (files.saturating_sub(RESERVED_FILES) / 2).clamp(8, 512) as usize;
        Limits { max_connections, turning_away: (max_connections / 4).clamp(4, 64) }
    }
}

/// The soft limit on open files (`ulimit -n`), where the system says.
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&text)
}

fn parse_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    // "unlimited" is no limit worth sharing out.
    soft.parse().ok().or(Some(u64::MAX))
}

/// Serves `app` on `listener` until the engine's shutdown begins and every connection has closed.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, engine: Arc<Engine>) {
    let shutdown = engine.shutdown.clone();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let shedding = Arc::new(Semaphore::new(limits.turning_away));
    let mut accept_failed_logged: Option<tokio::time::Instant> = None;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.begun() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait a moment instead of spinning, and say so (once a minute).
            Err(e) => {
                if accept_failed_logged.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(error = %e, "cannot accept API connections");
                    accept_failed_logged = Some(tokio::time::Instant::now());
                }
                let _ = shutdown.pause(Duration::from_millis(50)).await;
                continue;
            }
        };
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let (app, shutdown) = (app.clone(), shutdown.clone());
                tokio::spawn(async move {
                    connection(stream, app, shutdown).await;
                    drop(slot);
                });
            }
            Err(_) => {
                engine.metrics.add("flowmap_api_connections_refused_total", &[], 1.0);
                turn_away(stream, &shedding);
            }
        }
    }
    drop(listener);
    // Every slot back: every connection has closed.
    let _ = slots.acquire_many(limits.max_connections as u32).await;
}

async fn connection(stream: TcpStream, app: Router, shutdown: Shutdown) {
    let _ = stream.set_nodelay(true);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).max_buf_size(MAX_HEAD_BYTES);
    let service = hyper_util::service::TowerToHyperService::new(app);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        () = shutdown.begun() => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

/// A full house: 503 with `Retry-After`, then the connection is closed. The
/// answer is written at once (a new connection's send buffer has room for it)
/// and what the client sent already is read, so closing does not reset the
/// connection before the client has read the answer. A client that has sent
/// nothing yet is waited for (up to [`LINGER`]) while few are being turned
/// away; otherwise it is closed after the answer.
fn turn_away(stream: TcpStream, lingering: &Arc<Semaphore>) {
    use std::io::{Read, Write};
    let body = r#"{"error":"too many connections; try again shortly"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {RETRY_AFTER_SECONDS}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // Non-blocking from here on (a std stream taken from tokio stays non-blocking): nothing here waits.
    let Ok(stream) = stream.into_std() else { return };
    if (&stream).write_all(answer.as_bytes()).is_err() || stream.shutdown(std::net::Shutdown::Write).is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    let mut heard = false;
    // Bounded: a client that floods is not read for long.
    for _ in 0..16 {
        match (&stream).read(&mut sink) {
            Ok(0) => return,
            Ok(_) => heard = true,
            Err(_) => break,
        }
    }
    if heard {
        return;
    }
    let Ok(permit) = lingering.clone().try_acquire_owned() else { return };
    let Ok(mut stream) = TcpStream::from_std(stream) else { return };
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(LINGER, async {
            while stream.read(&mut sink).await? > 0 {}
            Ok::<(), std::io::Error>(())
        })
        .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_files_limit_is_read_from_the_process_limits() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63704                63704                processes \n\
                      Max open files            100                  524288               files     \n";
        assert_eq!(parse_open_files(limits), Some(100));
        assert_eq!(parse_open_files("Max open files            unlimited            unlimited            files\n"), Some(u64::MAX));
        assert_eq!(parse_open_files(""), None);
    }
}
