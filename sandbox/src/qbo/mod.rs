//! The QuickBooks Online emulator (Accounting API v3, minorversion 75) on one loopback port:
//! Intuit's OAuth 2.0 (consent with `realmId`, Basic client auth, rotating refresh tokens), the
//! query language, reads, creates and full or sparse updates of Customer, Item (with Category
//! items), Term, PaymentMethod, Invoice, SalesReceipt and Attachable (JSON and multipart upload),
//! Account to read, every write checked against schemas/catalogue/qbo.yaml and QBO's rules,
//! `requestid` replays, Change Data Capture, Intuit's throttles, and signed CloudEvents webhooks
//! for changes the control API announces. Facts: /work/notes/qbo-facts.md
//! (Intuit's Finance.xsd, answers recorded from Intuit's sandbox in minimul/qbo_api,
//! ej2/python-quickbooks, Intuit's OAuth clients) and shared/reference/partner-systems.md §3.

mod api;
mod catalogue;
mod cdc;
mod company;
mod control;
mod entities;
mod envelope;
mod limits;
mod lists;
mod oauth;
mod query;
mod refs;
mod select;
mod tokens;
mod transactions;
mod upload;
mod validate;
mod webhooks;
mod write;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::core::{Emulator, Settings, Shared};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
pub use company::{REALM, load_fixtures};

pub struct Qbo {
    shared: Arc<Shared>,
    own: Arc<Settings>,
    client_id: String,
    client_secret: String,
    realm: String,
    /// The app's webhook verifier token: the key of every delivery's `intuit-signature`.
    verifier_token: String,
    state: Arc<Mutex<QboState>>,
    /// How long each API answer is held (control `latency`), so that calls overlap and the limit
    /// of 10 in flight can be met.
    latency_ms: AtomicU64,
}

pub struct QboState {
    tokens: tokens::Tokens,
    company: company::Company,
    limiter: limits::Limiter,
    /// requestid → the first answer.
    request_ids: HashMap<String, Stored>,
    replays: u64,
    /// The app's webhook endpoint (`POST /_sandbox/qbo/webhook`), when one is registered.
    webhook_url: Option<String>,
}

/// An answer kept for replay.
struct Stored {
    status: StatusCode,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

impl Qbo {
    /// `seed`: records per entity (fixtures/qbo/*.json) of the one sandbox company.
    pub fn new(
        shared: Arc<Shared>,
        own: Arc<Settings>,
        (client_id, client_secret): (String, String),
        verifier_token: String,
        seed: Vec<(String, Vec<Value>)>,
    ) -> Qbo {
        let mut company = company::Company::default();
        for (entity, records) in seed {
            company.seed(&entity, records.into_iter().filter_map(|r| r.as_object().cloned()).collect());
        }
        let state =
            QboState { tokens: Default::default(), company, limiter: Default::default(), request_ids: HashMap::new(), replays: 0, webhook_url: None };
        Qbo {
            shared,
            own,
            client_id,
            client_secret,
            realm: REALM.to_string(),
            verifier_token,
            state: Arc::new(Mutex::new(state)),
            latency_ms: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QboState> {
        lock(&self.state)
    }

    fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The company's records of `entity` (`Invoice`, `Item`, …) as stored.
    pub fn records(&self, entity: &str) -> Vec<Value> {
        self.lock().company.of(entity).iter().cloned().map(Value::Object).collect()
    }

    /// Adds records as someone keying them in QBO would: stored as given, with an Id, SyncToken
    /// "0" and MetaData when they have none.
    pub fn add_records(&self, entity: &str, records: Vec<Value>) -> Result<(), String> {
        let entity = entities::by_name(entity).ok_or_else(|| format!("no QBO entity `{entity}`"))?.name;
        let now = envelope::meta_time(self.now_ms());
        let mut state = self.lock();
        let mut objects = Vec::with_capacity(records.len());
        for record in records {
            let Value::Object(mut record) = record else { return Err("a record is a JSON object".into()) };
            if !record.contains_key("Id") {
                record.insert("Id".into(), json!(state.company.next_id()));
            }
            record.entry("SyncToken").or_insert(json!("0"));
            record.entry("domain").or_insert(json!("QBO"));
            record.entry("MetaData").or_insert(json!({ "CreateTime": now, "LastUpdatedTime": now }));
            objects.push(record);
        }
        state.company.seed(entity, objects);
        Ok(())
    }

    /// Changes fields of a record as a user in QBO would: its SyncToken goes one up and
    /// `LastUpdatedTime` moves to now (so a client holding the old SyncToken meets 5010, and CDC
    /// reports the change).
    pub fn edit_record(&self, entity: &str, id: &str, fields: Map<String, Value>) -> Result<(), String> {
        let entity = entities::by_name(entity).ok_or_else(|| format!("no QBO entity `{entity}`"))?.name;
        let now = envelope::meta_time(self.now_ms());
        let mut state = self.lock();
        let index = state.company.position(entity, id).ok_or_else(|| format!("{entity} has no record `{id}`"))?;
        let record = &mut state.company.of_mut(entity)[index];
        record.extend(fields);
        let next = record.get("SyncToken").and_then(Value::as_str).and_then(|t| t.parse::<u64>().ok()).unwrap_or_default() + 1;
        record.insert("SyncToken".into(), json!(next.to_string()));
        let metadata = record.entry("MetaData").or_insert_with(|| json!({ "CreateTime": now }));
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.insert("LastUpdatedTime".into(), json!(now));
        }
        Ok(())
    }

    /// Calls answered from the requestid store instead of being done again.
    pub fn replays(&self) -> u64 {
        self.lock().replays
    }

    /// Refuses every token issued so far (401 on the API, invalid_grant on refresh).
    pub fn revoke_tokens(&self) {
        self.lock().tokens.revoke_all();
    }

    pub fn set_webhook_url(&self, url: Option<String>) {
        self.lock().webhook_url = url;
    }

    /// Sends the CloudEvent of a change to the registered endpoint and waits for its answer;
    /// `None` when no endpoint is registered.
    pub fn notify(&self, entity: &str, id: &str, operation: &str) -> Result<Option<ApiResponse>, String> {
        let verb = webhooks::verb(operation).ok_or_else(|| format!("unknown operation `{operation}` (Create, Update, Delete, Merge, Void)"))?;
        let entity = entities::by_name(entity).ok_or_else(|| format!("no QBO entity `{entity}`"))?.name;
        let Some(url) = self.lock().webhook_url.clone() else { return Ok(None) };
        let body = webhooks::body(&self.realm, entity, id, verb, self.now_ms());
        let verifier_token = self.verifier_token.clone();
        Ok(Some(ApiResponse::later(async move {
            let signature = webhooks::signature(&verifier_token, body.as_bytes());
            let delivered = webhooks::deliver(url, verifier_token, body.clone()).await;
            let outcome = match delivered {
                Ok(status) => json!({ "status": status }),
                Err(error) => json!({ "error": error }),
            };
            let event: Value = serde_json::from_str(&body).unwrap_or_default();
            ApiResponse::json(StatusCode::OK, &json!({ "delivery": outcome, "intuit-signature": signature, "body": event }))
        })))
    }

    pub fn set_latency_ms(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }
}

fn lock(state: &Mutex<QboState>) -> MutexGuard<'_, QboState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Emulator for Qbo {
    fn name(&self) -> &'static str {
        "qbo"
    }

    fn handle(&self, request: &ApiRequest) -> ApiResponse {
        match (&request.method, request.path.as_str()) {
            (&Method::GET, "/connect/oauth2") => oauth::authorize(self, request),
            (&Method::POST, "/oauth2/v1/tokens/bearer") => oauth::token(self, request),
            (_, "/oauth2/v1/tokens/bearer") => ApiResponse::empty(StatusCode::METHOD_NOT_ALLOWED),
            (_, p) if p.starts_with(api::PREFIX) => api::handle(self, request),
            _ => ApiResponse::empty(StatusCode::NOT_FOUND),
        }
    }

    fn fault_eligible(&self, request: &ApiRequest) -> bool {
        request.path.starts_with(api::PREFIX)
    }

    /// Injected 503s and timeouts answer in the API's Fault envelope (a SystemFault).
    fn error(&self, status: StatusCode, message: &str) -> ApiResponse {
        let error = envelope::FaultError {
            code: "10000",
            message: "An application error has occurred while processing your request",
            detail: format!("System Failure Error: {message}"),
            element: String::new(),
        };
        envelope::fault(status, "SystemFault", vec![error], self.now_ms())
    }

    fn too_many_requests_message(&self) -> &'static str {
        "ThrottleExceeded"
    }

    /// As Intuit's own 429: no Retry-After (notes §5).
    fn too_many_requests(&self, _retry_after: String) -> ApiResponse {
        envelope::throttled(self.now_ms())
    }

    fn control(&self, request: &ApiRequest, path: &str) -> Option<ApiResponse> {
        control::handle(self, request, path)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
