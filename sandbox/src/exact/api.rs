//! One `/api/v1/…` call: rate limit, `Accept`, bearer token, division, then the read or write.
//! Every call counts against the division's limits, errors included, as at Exact.

use axum::http::{Method, StatusCode};

use super::path::{self, PathError, Target};
use super::rate_limit::Verdict;
use super::tokens::Access;
use super::{Exact, ExactState, envelope, read, webhooks, write};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

pub fn handle(exact: &Exact, request: &ApiRequest, rest: &str) -> ApiResponse {
    let target = path::parse(rest);
    let current = exact.division.to_string();
    let division = match &target {
        Ok(target) => target.division(&current).to_string(),
        // An unreadable path still names a division first.
        Err(_) => rest.split('/').next().unwrap_or_default().to_string(),
    };
    let now_ms = exact.now_ms();
    let limits = exact.own.limits();
    let mut state = exact.lock();
    let rate_headers = if limits.enabled {
        match state.limiter.check(&division, limits, now_ms) {
            Verdict::Allowed(headers) => headers,
            Verdict::Exceeded(headers) => {
                return envelope::error(StatusCode::TOO_MANY_REQUESTS, envelope::RATE_LIMIT_EXCEEDED).with_headers(headers);
            }
        }
    } else {
        Vec::new()
    };
    answer(exact, &mut state, request, target, now_ms).with_headers(rate_headers)
}

fn answer(exact: &Exact, state: &mut ExactState, request: &ApiRequest, target: Result<Target, PathError>, now_ms: i64) -> ApiResponse {
    let accepts_json = request.header("accept").is_some_and(|a| a.to_ascii_lowercase().contains("application/json"));
    if !accepts_json {
        return envelope::not_acceptable();
    }
    if let Some(refused) = authenticate(state, request, now_ms) {
        return refused;
    }
    let target = match target {
        Ok(target) => target,
        Err(PathError::NotFound) => return envelope::not_found(),
        Err(PathError::Syntax) => return envelope::error(StatusCode::BAD_REQUEST, envelope::SYNTAX_ERROR),
    };
    let Target::Entity { division, bulk, service, entity, key, navigation } = target else {
        return match request.method {
            Method::GET => read::me(exact, request),
            _ => envelope::error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed."),
        };
    };
    if division != exact.division.to_string() {
        return envelope::error(StatusCode::FORBIDDEN, "Forbidden - WrongDivision");
    }
    let Some(index) = state.store.find(&service, &entity) else {
        return envelope::not_found();
    };
    let subscriptions = state.store.at(index).path().eq_ignore_ascii_case(webhooks::SUBSCRIPTIONS);
    if let Some(navigation) = navigation {
        return match (&request.method, key) {
            (&Method::GET, Some(key)) => read::lines_of(exact, state.store.at(index), request, &key, &navigation),
            _ => envelope::error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed."),
        };
    }
    match (&request.method, key) {
        (&Method::GET, None) => read::list(exact, state.store.at(index), request, bulk),
        (&Method::GET, Some(key)) => read::single(exact, state.store.at(index), request, &key),
        (&Method::POST, None) if !bulk && subscriptions => webhooks::create(exact, &state.store, index, request),
        (&Method::POST, None) if !bulk => write::create(exact, &mut state.store, index, request, now_ms),
        (&Method::PUT, Some(key)) if !subscriptions => write::update(exact, &mut state.store, index, request, &key, now_ms),
        (&Method::DELETE, Some(key)) if subscriptions => webhooks::delete(&mut state.store, index, &key),
        _ => envelope::error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed."),
    }
}

/// `None` when the bearer token is valid; otherwise the 401 to answer.
fn authenticate(state: &ExactState, request: &ApiRequest, now_ms: i64) -> Option<ApiResponse> {
    let token = request.header("authorization").and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))).map(str::trim);
    let challenge = match token.map(|t| state.tokens.access(t, now_ms)) {
        Some(Access::Valid) => return None,
        Some(Access::Expired) => "Bearer error=\"invalid_token\", error_description=\"access token expired\"",
        Some(Access::Unknown) => "Bearer error=\"invalid_token\"",
        None => "Bearer",
    };
    Some(envelope::error(StatusCode::UNAUTHORIZED, "Unauthorized").with_header("WWW-Authenticate", challenge))
}
