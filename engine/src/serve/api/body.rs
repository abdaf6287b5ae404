//! Request bodies are read here, before any handler: bounded in size and in
//! time, so a client that sends a huge body, or one that never finishes, is
//! answered (413, 408) and its connection freed, instead of holding memory
//! and a connection slot. A body still coming when the engine shuts down is
//! not waited for (503).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::{Api, problem};

/// Largest API body: 1,000 keys of 256 bytes fit, with room for JSON.
pub const API_BODY_MAX: usize = 512 * 1024;

/// Largest webhook body. Exact sends one event (under 1 KB); Xero and QuickBooks send batches
/// (QuickBooks' CloudEvents are some 400 bytes each, gathered over minutes): a refused batch is
/// sent again, refused again, and its events never arrive, so the bound leaves room for
/// hundreds of events.
pub const WEBHOOK_BODY_MAX: usize = 256 * 1024;

/// Time for a whole body to arrive once the head has: bodies are small.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A body of at most [`API_BODY_MAX`] bytes.
pub async fn api(State(api): State<Api>, request: Request, next: Next) -> Response {
    bounded(&api, API_BODY_MAX, request, next).await
}

/// A body of at most [`WEBHOOK_BODY_MAX`] bytes.
pub async fn webhook(State(api): State<Api>, request: Request, next: Next) -> Response {
    bounded(&api, WEBHOOK_BODY_MAX, request, next).await
}

/// Why a body was not read.
enum Unread {
    TooLarge,
    Late,
    Broken,
    ShuttingDown,
}

async fn bounded(api: &Api, limit: usize, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let read = if declared.is_some_and(|n| n > limit as u64) {
        // Said up front: refused without reading a byte.
        Err(Unread::TooLarge)
    } else {
        tokio::select! {
            read = tokio::time::timeout(BODY_TIMEOUT, read(body, limit)) => read.unwrap_or(Err(Unread::Late)),
            () = api.engine.shutdown.begun() => Err(Unread::ShuttingDown),
        }
    };
    match read {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(unread) => refused(unread, limit),
    }
}

async fn read(body: Body, limit: usize) -> Result<Vec<u8>, Unread> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Unread::Broken)?;
        if bytes.len() + chunk.len() > limit {
            return Err(Unread::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn refused(unread: Unread, limit: usize) -> Response {
    let mut answer = match unread {
        Unread::TooLarge => problem(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than {limit} bytes")),
        Unread::Late => problem(StatusCode::REQUEST_TIMEOUT, format!("the body did not arrive within {} s", BODY_TIMEOUT.as_secs())),
        Unread::Broken => problem(StatusCode::BAD_REQUEST, "the body broke off"),
        Unread::ShuttingDown => problem(StatusCode::SERVICE_UNAVAILABLE, "the engine is shutting down"),
    };
    // What is left of the body is not read: the connection cannot carry another request.
    answer.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    answer.into_response()
}
