//! A finished answer, built synchronously by the emulators and turned into an HTTP response last,
//! when the sandbox `Date` header is added. An answer that depends on a call of its own (Exact's
//! check of a webhook callback URL) is `later`: the pipeline awaits it before answering.

use std::future::Future;
use std::pin::Pin;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    /// The real answer, still to be worked out; `settle` awaits it.
    pub pending: Option<Pending>,
}

/// An answer that needs I/O first. It runs after the emulator's lock is released.
pub type Pending = Pin<Box<dyn Future<Output = ApiResponse> + Send + 'static>>;

impl ApiResponse {
    pub fn json(status: StatusCode, value: &Value) -> ApiResponse {
        let body = serde_json::to_vec(value).unwrap_or_default();
        ApiResponse { status, headers: Vec::new(), content_type: Some("application/json; charset=utf-8"), body, pending: None }
    }

    pub fn text(status: StatusCode, content_type: &'static str, text: impl Into<String>) -> ApiResponse {
        ApiResponse { status, headers: Vec::new(), content_type: Some(content_type), body: text.into().into_bytes(), pending: None }
    }

    pub fn empty(status: StatusCode) -> ApiResponse {
        ApiResponse { status, headers: Vec::new(), content_type: None, body: Vec::new(), pending: None }
    }

    /// An answer worked out by `future`; headers added to this one (rate limits) are kept.
    pub fn later(future: impl Future<Output = ApiResponse> + Send + 'static) -> ApiResponse {
        ApiResponse { pending: Some(Box::pin(future)), ..ApiResponse::empty(StatusCode::OK) }
    }

    /// `answer` held `latency_ms` (0: at once), as a slow answer of the real service is, with
    /// `guard` kept until it goes (a call counted in flight by a limiter meanwhile).
    pub fn held<G: Send + 'static>(answer: ApiResponse, latency_ms: u64, guard: G) -> ApiResponse {
        if latency_ms == 0 {
            drop(guard);
            return answer;
        }
        ApiResponse::later(async move {
            tokio::time::sleep(std::time::Duration::from_millis(latency_ms)).await;
            drop(guard);
            answer
        })
    }

    /// The final answer: this one, or what its pending part yields, with this one's headers first.
    pub async fn settle(mut self) -> ApiResponse {
        let Some(pending) = self.pending.take() else {
            return self;
        };
        let mut answer = pending.await;
        let mut headers = std::mem::take(&mut self.headers);
        headers.append(&mut answer.headers);
        answer.headers = headers;
        answer
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> ApiResponse {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn with_headers(mut self, headers: Vec<(String, String)>) -> ApiResponse {
        self.headers.extend(headers);
        self
    }

    /// The HTTP response, stamped with the sandbox clock's `Date`.
    pub fn into_response(self, date: &str) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(content_type) = self.content_type {
            headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        for (name, value) in self.headers {
            // Header values are built by the sandbox itself; one that is not valid is left out
            // rather than failing the whole answer.
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                headers.append(name, value);
            }
        }
        if let Ok(date) = HeaderValue::try_from(date) {
            headers.insert(axum::http::header::DATE, date);
        }
        response
    }
}
