//! The Le New Black wholesale API v2 emulator: client-credentials tokens passed as the
//! `access_token` query parameter, orders and invoices as bare JSON arrays paged by
//! `X-Pagination-*` headers, status write-backs. Errors are Laravel-shaped (`{"message":…}`).

mod auth;
mod collection;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::core::{Emulator, Shared};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
use collection::Collection;

pub const BASE_PATH: &str = "/apis/wholesale/v2";

pub struct Lnb {
    shared: Arc<Shared>,
    client_id: String,
    client_secret: String,
    page_size: usize,
    state: Mutex<LnbState>,
}

pub struct LnbState {
    pub orders: Vec<Value>,
    pub invoices: Vec<Value>,
    /// Access token → expiry (epoch ms, sandbox clock).
    tokens: HashMap<String, i64>,
}

const ORDERS: Collection = Collection { key: "reference", not_found: "Order not found", status_field: "status", reason_field: "status_reason" };

const INVOICES: Collection =
    Collection { key: "reference_number", not_found: "Invoice not found", status_field: "integration_status", reason_field: "integration_reason" };

impl Lnb {
    pub fn new(shared: Arc<Shared>, client_id: String, client_secret: String, page_size: usize, orders: Vec<Value>, invoices: Vec<Value>) -> Lnb {
        let state = LnbState { orders, invoices, tokens: HashMap::new() };
        // A page size of 0 would never advance; one record a page is the smallest that works.
        Lnb { shared, client_id, client_secret, page_size: page_size.max(1), state: Mutex::new(state) }
    }

    pub fn lock(&self) -> MutexGuard<'_, LnbState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn route(&self, request: &ApiRequest, path: &str) -> ApiResponse {
        if path == "/auth/token" {
            return match request.method {
                Method::POST => auth::token(self, request),
                _ => method_not_allowed(),
            };
        }
        if let Some(refused) = auth::check(self, request) {
            return refused;
        }
        let mut state = self.lock();
        let state = &mut *state;
        // Split before decoding, as a web server does: an encoded `/` in a reference stays in it.
        let decoded: Vec<String> = path.trim_matches('/').split('/').map(crate::http::request::decode_path).collect();
        let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
        match (&request.method, segments.as_slice()) {
            (&Method::GET, ["orders"]) => ORDERS.list(&state.orders, request, self.page_size),
            (&Method::POST, ["orders", "status"]) => ORDERS.set_status(&mut state.orders, request),
            (&Method::GET, ["orders", reference]) => ORDERS.get(&state.orders, reference),
            (&Method::GET, ["invoices"]) => INVOICES.list(&state.invoices, request, self.page_size),
            (&Method::POST, ["invoices", "integration_status"]) => INVOICES.set_status(&mut state.invoices, request),
            (&Method::GET, ["invoices", reference]) => INVOICES.get(&state.invoices, reference),
            (_, ["orders" | "invoices", ..]) => method_not_allowed(),
            _ => message(StatusCode::NOT_FOUND, "Not Found"),
        }
    }
}

impl Emulator for Lnb {
    fn name(&self) -> &'static str {
        "lnb"
    }

    fn handle(&self, request: &ApiRequest) -> ApiResponse {
        match request.path.strip_prefix(BASE_PATH) {
            Some(path) => self.route(request, path),
            None => message(StatusCode::NOT_FOUND, "Not Found"),
        }
    }

    fn fault_eligible(&self, request: &ApiRequest) -> bool {
        request.path.starts_with(BASE_PATH) && request.path != format!("{BASE_PATH}/auth/token")
    }

    fn error(&self, status: StatusCode, text: &str) -> ApiResponse {
        message(status, text)
    }

    fn too_many_requests_message(&self) -> &'static str {
        "Too Many Attempts."
    }

    /// `/_sandbox/lnb/orders` and `/_sandbox/lnb/invoices`: the records as they stand.
    fn control(&self, request: &ApiRequest, path: &str) -> Option<ApiResponse> {
        match (&request.method, path) {
            (&Method::GET, "orders") => Some(ApiResponse::json(StatusCode::OK, &Value::Array(self.lock().orders.clone()))),
            (&Method::GET, "invoices") => Some(ApiResponse::json(StatusCode::OK, &Value::Array(self.lock().invoices.clone()))),
            _ => None,
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `{"message": …}`, the body of every LNB error.
pub fn message(status: StatusCode, text: &str) -> ApiResponse {
    ApiResponse::json(status, &json!({ "message": text }))
}

fn method_not_allowed() -> ApiResponse {
    message(StatusCode::METHOD_NOT_ALLOWED, "The method is not supported for this route.")
}

/// 422 with one message per field, as Laravel validation answers.
pub fn invalid(errors: Vec<(String, String)>) -> ApiResponse {
    let errors: serde_json::Map<String, Value> = errors.into_iter().map(|(field, text)| (field, json!([text]))).collect();
    ApiResponse::json(StatusCode::UNPROCESSABLE_ENTITY, &json!({ "message": "The given data was invalid.", "errors": errors }))
}
