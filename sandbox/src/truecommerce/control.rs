//! `/_sandbox/truecommerce/…` on the control ports: where the SFTP server is, the partner's rules,
//! a tick, what it received and sent, injected faults, reset.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{SftpFaults, TrueCommerce};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

/// `path` is what follows `truecommerce` (`""`, `tick`, `rules`, …).
pub fn handle(tc: &TrueCommerce, request: &ApiRequest, path: &str) -> ApiResponse {
    match (&request.method, path) {
        (&Method::GET, "") => ok(&info(tc)),
        (&Method::POST, "tick") => match tc.tick() {
            Ok(report) => ok(&json!(report)),
            Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &format!("the partner could not read its folders: {e}")),
        },
        (&Method::GET, "received") => ok(&json!(tc.partner().received)),
        (&Method::GET, "sent") => ok(&json!(tc.partner().sent)),
        (&Method::GET, "rules") => ok(&json!(tc.partner().rules)),
        (&Method::POST, "rules") => match request.json() {
            Some(Value::Object(body)) => {
                let mut partner = tc.partner();
                match partner.rules.set(&body) {
                    Ok(()) => ok(&json!(partner.rules)),
                    Err(e) => refuse(StatusCode::BAD_REQUEST, &e),
                }
            }
            _ => refuse(StatusCode::BAD_REQUEST, "send a JSON object of rules"),
        },
        (&Method::DELETE, "rules") => {
            let mut partner = tc.partner();
            partner.rules = Default::default();
            ok(&json!(partner.rules))
        }
        (&Method::GET, "faults") => ok(&faults(tc)),
        (&Method::POST, "faults") => set_faults(tc, request),
        (&Method::POST, "reset") => match tc.reset() {
            Ok(()) => ApiResponse::empty(StatusCode::NO_CONTENT),
            Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &format!("the folders could not be emptied: {e}")),
        },
        _ => refuse(StatusCode::NOT_FOUND, "unknown TrueCommerce control endpoint"),
    }
}

/// Where and how to connect, and the folders.
pub fn info(tc: &TrueCommerce) -> Value {
    let config = tc.config();
    json!({
        "host": "127.0.0.1",
        "port": tc.port(),
        "user": config.user,
        "password": config.password,
        "host_key": tc.fingerprint(),
        "company": config.company,
        "root": tc.root().display().to_string(),
        "import": format!("/IntegrationFTP/Import/{}", config.company),
        "export": format!("/IntegrationFTP/Export/{}", config.company),
        "poll_ms": config.poll_ms,
    })
}

fn faults(tc: &TrueCommerce) -> Value {
    let current = tc.faults().current();
    let (requests, dropped) = tc.faults().counts();
    json!({ "drop_rate": current.drop_rate, "seed": current.seed, "requests": requests, "dropped": dropped })
}

/// `{"drop_rate":0.2,"seed":7}` (either may be left out); the counts start again.
fn set_faults(tc: &TrueCommerce, request: &ApiRequest) -> ApiResponse {
    let Some(Value::Object(body)) = request.json() else {
        return refuse(StatusCode::BAD_REQUEST, "send a JSON object");
    };
    let mut next: SftpFaults = tc.faults().current();
    if let Some(rate) = body.get("drop_rate") {
        match rate.as_f64().filter(|r| (0.0..=1.0).contains(r)) {
            Some(rate) => next.drop_rate = rate,
            None => return refuse(StatusCode::BAD_REQUEST, "drop_rate must be a number from 0 to 1"),
        }
    }
    if let Some(seed) = body.get("seed") {
        match seed.as_u64() {
            Some(seed) => next.seed = seed,
            None => return refuse(StatusCode::BAD_REQUEST, "seed must be a whole number ≥ 0"),
        }
    }
    tc.faults().set(next);
    ok(&faults(tc))
}

fn ok(value: &Value) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, value)
}

fn refuse(status: StatusCode, message: &str) -> ApiResponse {
    ApiResponse::json(status, &json!({ "error": message }))
}
