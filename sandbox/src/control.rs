//! `/_sandbox/…` on every port: the request log, the clock, faults, limits and each emulator's
//! own routes (its data as it stands, Exact's webhook events), for tests and integrators driving
//! the binary over HTTP. No auth, limits or faults here, and nothing here is logged. `/_sandbox/{name}/faults` and `/_sandbox/{name}/limits` set one
//! emulator's own; the rest of `/_sandbox/{name}/…` is that emulator's (`Emulator::control`).
//! `/_sandbox/limits` is Exact's, as it was before each emulator had its own.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::config::{FaultKind, Faults, Limits};
use crate::core::{Core, Settings};
use crate::http::request::{ApiRequest, decode_path};
use crate::http::response::ApiResponse;

pub fn handle(core: &Core, request: &ApiRequest) -> ApiResponse {
    let path = decode_path(&request.path);
    let path = path.trim_start_matches("/_sandbox").trim_matches('/');
    let shared = &core.shared;
    match (&request.method, path) {
        (&Method::GET, "requests") => ok(&serde_json::to_value(shared.recorder.all()).unwrap_or_default()),
        (&Method::DELETE, "requests") => {
            shared.recorder.clear();
            ApiResponse::empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "clock") => clock(core),
        (&Method::POST, "clock") => set_clock(core, request),
        (&Method::GET, "faults") => ok(&faults_json(&shared.faults.current())),
        (&Method::POST, "faults") => match body(request).and_then(|body| parse_faults(shared.faults.current(), &body)) {
            Ok(faults) => {
                shared.faults.set(faults.clone());
                ok(&faults_json(&faults))
            }
            Err(refused) => refused,
        },
        (&Method::GET, "limits") => ok(&json!(core.exact_settings().limits())),
        (&Method::POST, "limits") => set_limits(&core.exact_settings(), request),
        (_, truecommerce) if truecommerce == "truecommerce" || truecommerce.starts_with("truecommerce/") => {
            crate::truecommerce::control::handle(&core.truecommerce, request, truecommerce["truecommerce".len()..].trim_start_matches('/'))
        }
        _ => per_emulator(core, request, path),
    }
}

/// `/_sandbox/{name}/…`: an emulator's own faults and limits, then its own routes.
fn per_emulator(core: &Core, request: &ApiRequest, path: &str) -> ApiResponse {
    let unknown = || refuse(StatusCode::NOT_FOUND, "unknown sandbox control endpoint");
    let (name, rest) = path.split_once('/').unwrap_or((path, ""));
    let Some(registered) = core.registered(name) else {
        return unknown();
    };
    let settings = &registered.settings;
    let current_faults = || settings.own_faults().map(|f| f.current()).unwrap_or_else(|| core.shared.faults.current());
    match (&request.method, rest) {
        (&Method::GET, "faults") => ok(&faults_json(&current_faults())),
        (&Method::POST, "faults") => match body(request).and_then(|body| parse_faults(current_faults(), &body)) {
            Ok(faults) => {
                settings.set_faults(faults.clone());
                ok(&faults_json(&faults))
            }
            Err(refused) => refused,
        },
        (&Method::GET, "limits") => ok(&json!(settings.limits())),
        (&Method::POST, "limits") => set_limits(settings, request),
        _ => registered.emulator.control(request, rest).unwrap_or_else(unknown),
    }
}

pub fn ok(value: &Value) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, value)
}

pub fn refuse(status: StatusCode, message: &str) -> ApiResponse {
    ApiResponse::json(status, &json!({ "error": message }))
}

pub fn body(request: &ApiRequest) -> Result<serde_json::Map<String, Value>, ApiResponse> {
    match request.json() {
        Some(Value::Object(body)) => Ok(body),
        _ => Err(refuse(StatusCode::BAD_REQUEST, "send a JSON object")),
    }
}

fn clock(core: &Core) -> ApiResponse {
    ok(&json!({ "now_ms": core.shared.clock.now_ms() }))
}

/// `{"advance_seconds": N}` and/or `{"speed": S}`.
fn set_clock(core: &Core, request: &ApiRequest) -> ApiResponse {
    let body = match body(request) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let advance = body.get("advance_seconds").map(|v| v.as_i64().ok_or("advance_seconds must be an integer"));
    let speed = body.get("speed").map(|v| v.as_f64().filter(|s| s.is_finite() && *s >= 0.0).ok_or("speed must be a number ≥ 0"));
    match (advance, speed) {
        (None, None) => refuse(StatusCode::BAD_REQUEST, "send advance_seconds or speed"),
        (Some(Err(e)), _) | (_, Some(Err(e))) => refuse(StatusCode::BAD_REQUEST, e),
        (advance, speed) => {
            if let Some(Ok(speed)) = speed {
                core.shared.clock.set_speed(speed);
            }
            if let Some(Ok(seconds)) = advance {
                core.shared.clock.advance(seconds);
            }
            clock(core)
        }
    }
}

/// `{"rate":0.2,"kinds":["429","503","timeout","drop_after_write"],"seed":1,"hang_ms":60000}`;
/// fields left out keep their current value.
fn parse_faults(mut faults: Faults, body: &serde_json::Map<String, Value>) -> Result<Faults, ApiResponse> {
    if let Some(rate) = body.get("rate") {
        match rate.as_f64().filter(|r| (0.0..=1.0).contains(r)) {
            Some(rate) => faults.rate = rate,
            None => return Err(refuse(StatusCode::BAD_REQUEST, "rate must be a number from 0 to 1")),
        }
    }
    if let Some(kinds) = body.get("kinds") {
        let names: Option<Vec<&str>> = kinds.as_array().map(|a| a.iter().filter_map(Value::as_str).collect());
        match names.map(|n| FaultKind::parse_list(&n.join(","))) {
            Some(Ok(kinds)) => faults.kinds = kinds,
            Some(Err(e)) => return Err(refuse(StatusCode::BAD_REQUEST, &e)),
            None => return Err(refuse(StatusCode::BAD_REQUEST, "kinds must be a list of names")),
        }
    }
    for (name, slot) in [("seed", &mut faults.seed), ("hang_ms", &mut faults.hang_ms)] {
        if let Some(value) = body.get(name) {
            match value.as_u64() {
                Some(value) => *slot = value,
                None => return Err(refuse(StatusCode::BAD_REQUEST, &format!("{name} must be a whole number ≥ 0"))),
            }
        }
    }
    Ok(faults)
}

fn faults_json(faults: &Faults) -> Value {
    json!({ "rate": faults.rate, "kinds": faults.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(), "seed": faults.seed, "hang_ms": faults.hang_ms })
}

/// `{"minutely":60,"daily":5000,"enabled":true}`; fields left out keep their current value.
fn set_limits(settings: &Settings, request: &ApiRequest) -> ApiResponse {
    let body = match body(request) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let mut limits: Limits = settings.limits();
    for (name, slot) in [("minutely", &mut limits.minutely), ("daily", &mut limits.daily)] {
        if let Some(value) = body.get(name) {
            match value.as_u64().and_then(|v| u32::try_from(v).ok()) {
                Some(value) => *slot = value,
                None => return refuse(StatusCode::BAD_REQUEST, &format!("{name} must be a whole number ≥ 0")),
            }
        }
    }
    if let Some(enabled) = body.get("enabled") {
        match enabled.as_bool() {
            Some(enabled) => limits.enabled = enabled,
            None => return refuse(StatusCode::BAD_REQUEST, "enabled must be true or false"),
        }
    }
    settings.set_limits(limits);
    ok(&json!(limits))
}
