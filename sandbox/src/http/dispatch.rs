//! The path every request takes: the control API, or fault draw → emulator → request log.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::request::ApiRequest;
use super::response::ApiResponse;
use super::server::ConnectionKill;
use crate::clock::http_date;
use crate::config::FaultKind;
use crate::core::{Core, Emulator};
use crate::faults::Fault;
use crate::recorder::RecordedRequest;

/// Bodies larger than this are refused; no real call comes near it.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

#[derive(Clone)]
struct Port {
    core: Arc<Core>,
    /// The registry key of the emulator this port serves.
    name: &'static str,
}

pub fn router(core: Arc<Core>, name: &'static str) -> Router {
    Router::new().fallback(handle).with_state(Port { core, name })
}

async fn handle(State(port): State<Port>, request: Request) -> Response {
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    let (parts, body) = request.into_parts();
    let core = &port.core;
    let date = || http_date(core.shared.clock.now_ms());
    let Some(registered) = core.registered(port.name) else {
        return ApiResponse::empty(StatusCode::NOT_FOUND).into_response(&date());
    };
    let emulator = registered.emulator.as_ref();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return emulator.error(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large.").into_response(&date()),
    };
    let request = ApiRequest::new(parts.method, parts.uri.path(), parts.uri.query(), parts.headers, body);
    if request.path == "/_sandbox" || request.path.starts_with("/_sandbox/") {
        return crate::control::handle(core, &request).settle().await.into_response(&date());
    }

    let at_ms = core.shared.clock.now_ms();
    let fault = if emulator.fault_eligible(&request) { core.draw_fault(registered) } else { None };
    let Some(fault) = fault else {
        let answer = emulator.handle(&request).settle().await;
        record(core, emulator, &request, answer.status, None, at_ms);
        return answer.into_response(&date());
    };

    match fault.kind {
        FaultKind::TooManyRequests => {
            let answer = too_many_requests(core, emulator, fault);
            record(core, emulator, &request, answer.status, Some(fault.kind), at_ms);
            answer.into_response(&date())
        }
        FaultKind::ServiceUnavailable => {
            let answer = emulator.error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
            record(core, emulator, &request, answer.status, Some(fault.kind), at_ms);
            answer.into_response(&date())
        }
        FaultKind::DropAfterWrite if request.is_write() => {
            // The write happens; only its answer is lost, as when a connection breaks on the way back.
            let answer = emulator.handle(&request).settle().await;
            record(core, emulator, &request, answer.status, Some(fault.kind), at_ms);
            if let Some(kill) = kill {
                kill.0.notify_one();
            }
            std::future::pending::<Response>().await
        }
        // A read cannot lose a write's answer: it hangs like a timeout, unprocessed.
        FaultKind::Timeout | FaultKind::DropAfterWrite => {
            // Logged now: a client that gives up never sees the end of the hang.
            record(core, emulator, &request, StatusCode::GATEWAY_TIMEOUT, Some(fault.kind), at_ms);
            tokio::time::sleep(std::time::Duration::from_millis(fault.hang_ms)).await;
            emulator.error(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout").into_response(&date())
        }
    }
}

/// `Retry-After: 1`, either as seconds or as the HTTP date one second ahead on the sandbox clock.
fn too_many_requests(core: &Core, emulator: &dyn Emulator, fault: Fault) -> ApiResponse {
    let retry_after = if fault.retry_after_as_date { http_date(core.shared.clock.now_ms() + 1000) } else { "1".to_string() };
    emulator.too_many_requests(retry_after)
}

fn record(core: &Core, emulator: &dyn Emulator, request: &ApiRequest, status: StatusCode, fault: Option<FaultKind>, at_ms: i64) {
    core.shared.recorder.push(RecordedRequest {
        system: emulator.name().to_string(),
        method: request.method.to_string(),
        path: super::request::decode_path(&request.path),
        query: request.query.clone(),
        headers: request.headers_for_log(),
        form: request.form(),
        body: request.body_for_log(),
        status: status.as_u16(),
        fault: fault.map(|f| f.name().to_string()),
        at_ms,
    });
}
