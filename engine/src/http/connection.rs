//! One connection to one system account: every call goes through `call`,
//! which authenticates, keeps to the rate budget, retries what is safe to
//! retry, and never repeats a write whose outcome is unknown.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::auth::Auth;
use super::limits::RateBudget;
use super::retry::{backoff, retry_after_ms};
use super::waiting::WaitReason;
use super::{CallError, ServerClock, Shutdown, redact};

/// 429s are not failures of the call; they get more patience than errors.
const MAX_RATE_LIMITED: u32 = 20;
/// Calls in a row that got no usable answer, retries spent, before the
/// system counts as down: the run stops rather than fail every record slowly.
const DOWN_AFTER: u32 = 3;
/// How long a system counted as down is not called at all; then one call may
/// try again. Connections live as long as a serving engine, so "down" must
/// not be for ever.
const DOWN_FOR: Duration = Duration::from_secs(30);

pub struct Connection {
    pub name: String,
    pub system: String,
    /// The base URL with every placeholder filled in, no trailing slash.
    pub base_url: String,
    /// Scheme and authority: `__next` links are only followed on this host.
    pub host: String,
    pub(super) http: reqwest::Client,
    pub(super) auth: Auth,
    pub budget: RateBudget,
    pub clock: ServerClock,
    pub(super) slots: Semaphore,
    pub(super) headers: Vec<(String, String)>,
    pub(super) write_headers: Vec<(String, String)>,
    /// Query parameters of every request, and of every write.
    pub(super) query: Vec<(String, String)>,
    pub(super) write_query: Vec<(String, String)>,
    /// How long a 429 that says nothing waits (server seconds), when the system says so.
    pub(super) throttled_wait: Option<u64>,
    /// Where a write's idempotency key goes, when the system takes one.
    pub(super) idempotency: Option<crate::model::IdempotencyDef>,
    pub(super) error_message: Option<jmespath::Expression<'static>>,
    pub(super) retries: u32,
    pub(super) timeout: Duration,
    /// HTTP requests sent (retries included).
    pub calls: AtomicU64,
    /// Calls in a row that ended unavailable; any answer resets it.
    pub(super) unavailable_in_row: AtomicU32,
    /// What the last unavailable call ran into, for the message that stops the run, and when.
    pub(super) last_unavailable: std::sync::Mutex<(String, Option<std::time::Instant>)>,
    /// Answers by status code (`none` when no answer came), for metrics.
    pub(super) codes: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// Ends the waits between tries when the engine stops.
    pub(super) shutdown: Shutdown,
}

/// One request as the caller asked for it, sent again as it was on every retry.
#[derive(Clone, Copy)]
struct Outgoing<'a> {
    method: &'a str,
    url: &'a str,
    query: &'a [(String, String)],
    body: Option<&'a serde_json::Value>,
    /// The write's idempotency key, when the system takes one.
    key: Option<&'a str>,
    /// Headers of this call alone.
    headers: &'a [(String, String)],
    /// A multipart/form-data body instead of the JSON one.
    file: Option<&'a FileBody<'a>>,
}

/// A multipart/form-data body: the JSON body as one part, a file as another.
pub struct FileBody<'a> {
    pub json_part: &'a str,
    pub json: &'a serde_json::Value,
    pub file_part: &'a str,
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

impl FileBody<'_> {
    /// The body and its boundary; the boundary is a hash of the content, so it is not in it
    /// by chance, and it is the same on every retry.
    fn encode(&self) -> (String, Vec<u8>) {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(self.bytes);
        let boundary = format!("flowmap-{}", hash.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>());
        // Quotes and line breaks would end the header parameter early.
        let quoted = |t: &str| t.replace(['"', '\r', '\n'], "_");
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"attachment.json\"\r\nContent-Type: application/json\r\n\r\n{}\r\n",
                quoted(self.json_part),
                self.json
            )
            .as_bytes(),
        );
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                quoted(self.file_part),
                quoted(self.name),
                quoted(self.content_type)
            )
            .as_bytes(),
        );
        body.extend_from_slice(self.bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        (boundary, body)
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Connection {
    /// An absolute URL for a path relative to the base URL (absolute URLs pass through).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_string();
        }
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// Makes sure the credentials work (buys a token where the auth kind uses one).
    pub async fn check_auth(&self) -> Result<(), CallError> {
        self.auth.credential(&self.http, &self.clock).await.map(|_| ())
    }

    pub async fn get(&self, url: &str, query: &[(String, String)]) -> Result<Answer, CallError> {
        self.call("GET", url, query, None).await
    }

    /// A GET with headers of its own (Xero's `If-Modified-Since` on a listing).
    pub async fn get_with(&self, url: &str, query: &[(String, String)], headers: &[(String, String)]) -> Result<Answer, CallError> {
        self.send(&Outgoing { method: "GET", url, query, body: None, key: None, headers, file: None }).await
    }

    pub async fn call(&self, method: &str, url: &str, query: &[(String, String)], body: Option<&serde_json::Value>) -> Result<Answer, CallError> {
        self.call_once(method, url, query, body, None).await
    }

    /// A multipart write (e.g. QuickBooks' `upload`), with the system's query, headers and idempotency key.
    pub async fn call_multipart(&self, url: &str, file: &FileBody<'_>, key: Option<&str>) -> Result<Answer, CallError> {
        self.send(&Outgoing {
            method: "POST",
            url,
            query: &[],
            body: None,
            key: key.filter(|_| self.idempotency.is_some()),
            headers: &[],
            file: Some(file),
        })
        .await
    }

    /// The bytes at `url` on this connection's own host (its credentials go nowhere else), at
    /// most `limit` of them. Tried once: a failed fetch is a failed write-back, tried next run.
    pub async fn fetch_bytes(&self, url: &str, limit: usize) -> Result<Vec<u8>, CallError> {
        if !url.starts_with(&format!("{}/", self.host)) {
            return Err(CallError::Invalid { message: redact(&format!("{url} is not on the host of connection `{}` ({})", self.name, self.host)) });
        }
        let _slot = self.slots.acquire().await.map_err(|_| CallError::Stop { message: "the connection is closed".into() })?;
        let mut credential = self.auth.credential(&self.http, &self.clock).await?;
        let out = Outgoing { method: "GET", url, query: &[], body: None, key: None, headers: &[], file: None };
        let _in_flight = self.budget.acquire(&self.clock, &self.shutdown).await?;
        let what = || redact(&format!("GET {url}"));
        let mut renewed = false;
        let (mut answer, status) = loop {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let answer = self
                .request(&out, &credential, false)?
                .send()
                .await
                .map_err(|e| CallError::Unavailable { message: format!("{} failed: {}", what(), describe(&e)) })?;
            let status = answer.status().as_u16();
            self.count_code(&status.to_string());
            // A token refused once is renewed once, as for every other call.
            if status == 401 && !renewed {
                renewed = true;
                credential = self.auth.renew(&self.name, "the token was refused", &credential, &self.http, &self.clock).await?;
                continue;
            }
            break (answer, status);
        };
        if !(200..=299).contains(&status) {
            return Err(CallError::Refused { status, message: what() });
        }
        let too_big = || CallError::Refused { status, message: format!("{} is larger than {limit} bytes", what()) };
        if answer.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) =
            answer.chunk().await.map_err(|e| CallError::Unavailable { message: format!("{} broke off: {}", what(), describe(&e)) })?
        {
            if bytes.len() + chunk.len() > limit {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// A write carrying `key`, which makes a repeat harmless where the system takes one
    /// (`http.idempotency`): the system answers a repeat with the first answer. Such a write
    /// is tried again after a lost answer, as a read is; without it, a lost answer leaves the
    /// write in doubt.
    pub async fn call_once(
        &self,
        method: &str,
        url: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
        key: Option<&str>,
    ) -> Result<Answer, CallError> {
        let key = key.filter(|_| self.idempotency.is_some());
        self.send(&Outgoing { method, url, query, body, key, headers: &[], file: None }).await
    }

    /// One call, unless the system counts as down; what its end says of the system's
    /// availability is counted.
    async fn send(&self, out: &Outgoing<'_>) -> Result<Answer, CallError> {
        if self.unavailable_in_row.load(Ordering::Relaxed) >= DOWN_AFTER && !self.may_try_again() {
            return Err(self.down());
        }
        let result = self.attempt(out).await;
        match &result {
            Err(CallError::Unavailable { message }) => {
                *self.last_unavailable.lock().unwrap_or_else(|e| e.into_inner()) = (message.clone(), Some(std::time::Instant::now()));
                if self.unavailable_in_row.fetch_add(1, Ordering::Relaxed) + 1 >= DOWN_AFTER {
                    return Err(self.down());
                }
            }
            // Nothing learnt about the system: the request never left, or the answer was lost.
            Err(CallError::Stop { .. } | CallError::Unknown { .. } | CallError::Invalid { .. }) => {}
            _ => self.unavailable_in_row.store(0, Ordering::Relaxed),
        }
        result
    }

    fn count_code(&self, code: &str) {
        *self.codes.lock().unwrap_or_else(|e| e.into_inner()).entry(code.to_string()).or_insert(0) += 1;
    }

    /// Answers so far by status code (`none`: no answer).
    pub fn status_counts(&self) -> Vec<(String, u64)> {
        self.codes.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Whether a system counted as down has been left alone long enough to be called again.
    fn may_try_again(&self) -> bool {
        self.last_unavailable.lock().unwrap_or_else(|e| e.into_inner()).1.is_none_or(|at| at.elapsed() >= DOWN_FOR)
    }

    fn down(&self) -> CallError {
        CallError::Stop {
            message: format!(
                "connection `{}` is unavailable: {DOWN_AFTER} calls in a row got no usable answer (last: {}); what is left waits for the next run",
                self.name,
                self.last_unavailable.lock().unwrap_or_else(|e| e.into_inner()).0
            ),
        }
    }

    async fn attempt(&self, out: &Outgoing<'_>) -> Result<Answer, CallError> {
        let Outgoing { method, url, key, .. } = *out;
        let write = method != "GET";
        // A write the system recognises when repeated is as safe to repeat as a read.
        let repeatable = !write || key.is_some();
        let _slot = self.slots.acquire().await.map_err(|_| CallError::Stop { message: "the connection is closed".into() })?;
        let mut credential = self.auth.credential(&self.http, &self.clock).await?;
        let (mut failures, mut rate_limited, mut renewed) = (0u32, 0u32, false);
        let what = || redact(&format!("{method} {url}"));
        loop {
            let in_flight = self.budget.acquire(&self.clock, &self.shutdown).await?;
            let request = self.request(out, &credential, write)?;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let answer = match request.send().await {
                Ok(a) => {
                    self.count_code(&a.status().as_u16().to_string());
                    a
                }
                Err(e) => {
                    self.count_code("none");
                    // Refused before it left (a URL the HTTP library does not accept): trying again gives the same.
                    if e.is_builder() {
                        return Err(CallError::Invalid { message: redact(&format!("{} could not be sent: {}", what(), describe(&e))) });
                    }
                    // A request that never connected cannot have been applied.
                    let left = e.is_connect();
                    if !repeatable && !left {
                        return Err(CallError::Unknown { message: redact(&format!("{} got no answer ({})", what(), describe(&e))) });
                    }
                    if failures >= self.retries {
                        return Err(CallError::Unavailable {
                            message: redact(&format!("{} failed {}; last: {}", what(), times(failures + 1), describe(&e))),
                        });
                    }
                    failures += 1;
                    self.budget.pause(&self.shutdown, WaitReason::Retry { attempt: failures + 1 }, backoff(failures)).await?;
                    continue;
                }
            };
            if let Some(date) = answer.headers().get("date").and_then(|d| d.to_str().ok()) {
                self.clock.observe_date(date);
            }
            let status = answer.status().as_u16();
            let headers = answer.headers().clone();
            let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).map(str::to_string);
            if status != 429 {
                self.budget.observe(header, &self.clock);
            }
            let text = match answer.text().await {
                Ok(t) => t,
                Err(e) if !repeatable => {
                    return Err(CallError::Unknown { message: redact(&format!("{} lost its answer ({})", what(), describe(&e))) });
                }
                // A read, or a write the system recognises when repeated: asked again.
                Err(e) => {
                    if failures >= self.retries {
                        return Err(CallError::Unavailable {
                            message: redact(&format!("{} lost its answer {}; last: {}", what(), times(failures + 1), describe(&e))),
                        });
                    }
                    failures += 1;
                    drop(in_flight);
                    self.budget.pause(&self.shutdown, WaitReason::Retry { attempt: failures + 1 }, backoff(failures)).await?;
                    continue;
                }
            };
            drop(in_flight);
            let body =
                if text.trim().is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)) };
            match status {
                200..=299 => return Ok(Answer { status, body, headers }),
                // One new token and one retry; a second 401 means the grant is of no use.
                401 if !renewed => {
                    renewed = true;
                    credential = self.auth.renew(&self.name, &self.message(&body), &credential, &self.http, &self.clock).await?;
                }
                401 => return Err(self.auth.refused_again(&self.name, &self.message(&body)).await),
                429 => {
                    let until = self.budget.spent(header, &self.clock)?;
                    if rate_limited >= MAX_RATE_LIMITED {
                        return Err(CallError::Unavailable { message: format!("{} was refused with 429 {}", what(), times(rate_limited + 1)) });
                    }
                    rate_limited += 1;
                    let now = self.clock.now_ms();
                    let after = header("retry-after").and_then(|v| retry_after_ms(&v, now));
                    let wait = match (after, until) {
                        (Some(a), Some(u)) => self.clock.real_duration(a.max(u - now)),
                        (Some(a), None) => self.clock.real_duration(a),
                        (None, Some(u)) => self.clock.real_wait_until(u + 1000),
                        (None, None) => self.throttled_wait.map_or_else(|| backoff(rate_limited), |w| self.clock.real_duration(w as i64 * 1000)),
                    };
                    self.budget.pause(&self.shutdown, WaitReason::TooManyRequests, wait).await?;
                }
                // A gateway timeout on a write says nothing about whether it was applied.
                504 if !repeatable => {
                    return Err(CallError::Unknown { message: format!("{} timed out at a gateway (HTTP 504)", what()) });
                }
                500..=599 if repeatable || status != 500 => {
                    if failures >= self.retries {
                        return Err(CallError::Unavailable {
                            message: format!("{} failed {}; last: HTTP {status} {}", what(), times(failures + 1), self.message(&body)),
                        });
                    }
                    failures += 1;
                    self.budget.pause(&self.shutdown, WaitReason::Retry { attempt: failures + 1 }, backoff(failures)).await?;
                }
                _ => return Err(CallError::Refused { status, message: self.message(&body) }),
            }
        }
    }

    fn request(&self, out: &Outgoing<'_>, credential: &super::auth::Credential, write: bool) -> Result<reqwest::RequestBuilder, CallError> {
        let Outgoing { method, url, query, body, key, headers, file } = *out;
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| CallError::Stop { message: format!("unknown HTTP method {method}") })?;
        let mut r = self.http.request(method, url).timeout(self.timeout);
        if !query.is_empty() {
            r = r.query(query);
        }
        // The system's own parameters, unless the URL (a next-page link) carries them already.
        let own = |k: &str| !url.contains(&format!("{k}="));
        for (k, v) in self.query.iter().chain(if write { &self.write_query[..] } else { &[] }) {
            if own(k) {
                r = r.query(&[(k, v)]);
            }
        }
        match (&self.idempotency, key) {
            (Some(crate::model::IdempotencyDef::Header(h)), Some(k)) => r = r.header(h, k),
            (Some(crate::model::IdempotencyDef::Query(q)), Some(k)) => r = r.query(&[(q, k)]),
            _ => {}
        }
        if let Some((k, v)) = &credential.query {
            r = r.query(&[(k, v)]);
        }
        for (k, v) in self.headers.iter().chain(headers) {
            r = r.header(k, v);
        }
        if write {
            // A multipart body says its own content type.
            for (k, v) in self.write_headers.iter().filter(|(k, _)| file.is_none() || !k.eq_ignore_ascii_case("content-type")) {
                r = r.header(k, v);
            }
        }
        if let Some((k, v)) = &credential.header {
            r = r.header(k, v);
        }
        if let Some(f) = file {
            let (boundary, bytes) = f.encode();
            r = r.header("Content-Type", format!("multipart/form-data; boundary={boundary}")).body(bytes);
        } else if let Some(b) = body {
            r = r.body(b.to_string());
        }
        Ok(r)
    }

    /// The system's own words for an error (e.g. Exact's localized, CRLF-joined
    /// `error.message.value`), on one line.
    pub fn message(&self, body: &serde_json::Value) -> String {
        let found = self.error_message.as_ref().and_then(|e| crate::value::search(e, body).ok()).and_then(|v| v.as_string().cloned());
        let text = match found {
            Some(t) => t,
            None => match body {
                serde_json::Value::String(s) => s.chars().take(300).collect(),
                serde_json::Value::Null => "no details in the answer".to_string(),
                other => other.to_string().chars().take(300).collect(),
            },
        };
        let lines: Vec<&str> = text.split(['\r', '\n']).map(str::trim).filter(|l| !l.is_empty()).collect();
        redact(&lines.join("; "))
    }
}

/// A reqwest error in words, without the URL (which may carry a token).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the connection failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { kind.to_string() } else { format!("{kind}: {detail}") }
}

/// "once", "twice", "3 times".
fn times(n: u32) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}
