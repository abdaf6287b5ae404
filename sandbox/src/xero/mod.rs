//! The Xero emulator (Accounting API 2.0 with its identity endpoints) on one loopback port:
//! OAuth 2.0 authorization code with rotating refresh tokens, connections to two tenants with
//! books of their own, Invoices, CreditNotes, Contacts, Items (and the Accounts and TaxRates they
//! refer to), every write checked against schemas/catalogue/xero.yaml and Xero's rules,
//! `Idempotency-Key` replays and Xero's rate limits. Facts: XeroAPI/Xero-OpenAPI
//! (`xero_accounting.yaml` v16.1.0, `xero-identity.yaml`) and shared/reference/partner-systems.md §2.

mod api;
pub mod catalogue;
mod control;
mod documents;
mod entities;
mod envelope;
mod filter;
pub(crate) mod oauth;
mod rate_limit;
mod read;
mod tenants;
mod tokens;
mod validate;
mod write;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value};

use crate::core::{Emulator, Settings, Shared};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
pub use tenants::{ACME, DEMO};

pub const API_PREFIX: &str = "/api.xro/2.0/";

pub struct Xero {
    shared: Arc<Shared>,
    own: Arc<Settings>,
    client_id: String,
    client_secret: String,
    state: Arc<Mutex<XeroState>>,
    /// How long each API answer is held (control `latency`), so that calls overlap as they do
    /// against the real service and the concurrency limit can be met.
    latency_ms: AtomicU64,
}

pub struct XeroState {
    tokens: tokens::Tokens,
    tenants: Vec<tenants::Tenant>,
    limiter: rate_limit::RateLimiter,
    /// (tenant, Idempotency-Key) → the first answer.
    idempotent: HashMap<(String, String), Stored>,
    replays: u64,
}

/// An answer kept for replay.
#[derive(Clone)]
struct Stored {
    status: StatusCode,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

impl Xero {
    /// `seed`: records per entity (fixtures/xero/*.json), for Acme Fashion (NL).
    pub fn new(shared: Arc<Shared>, own: Arc<Settings>, client_id: String, client_secret: String, seed: Vec<(String, Vec<Value>)>) -> Xero {
        let mut tenants = tenants::tenants(shared.clock.now_ms());
        if let Some(acme) = tenants.iter_mut().find(|t| t.name == ACME) {
            for (entity, records) in seed {
                acme.books.of_mut(&entity).extend(records.into_iter().filter_map(|r| r.as_object().cloned()));
            }
        }
        let state = XeroState { tokens: Default::default(), tenants, limiter: Default::default(), idempotent: HashMap::new(), replays: 0 };
        Xero { shared, own, client_id, client_secret, state: Arc::new(Mutex::new(state)), latency_ms: AtomicU64::new(0) }
    }

    fn lock(&self) -> MutexGuard<'_, XeroState> {
        lock(&self.state)
    }

    fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// A tenant's records of `entity`; `None` for an unknown tenant (id or name).
    pub fn records(&self, tenant: &str, entity: &str) -> Option<Vec<Value>> {
        let mut state = self.lock();
        let tenant = tenants::find(&mut state.tenants, tenant)?;
        Some(tenant.books.of(entity).iter().cloned().map(Value::Object).collect())
    }

    /// Adds records as someone keying them in Xero would: stored as given, with an id and
    /// `UpdatedDateUTC` when they have none.
    pub fn add_records(&self, tenant: &str, entity: &str, records: Vec<Value>) -> Result<(), String> {
        let now_ms = self.now_ms();
        let mut state = self.lock();
        let tenant = tenants::find(&mut state.tenants, tenant).ok_or_else(|| format!("no Xero tenant `{tenant}`"))?;
        let key = entities::find(entity).map(|e| e.key).unwrap_or("ID");
        let mut objects = Vec::with_capacity(records.len());
        for record in records {
            let Value::Object(mut record) = record else { return Err("a record is a JSON object".into()) };
            record.entry(key).or_insert_with(|| Value::String(crate::random::new_guid()));
            record.entry("UpdatedDateUTC").or_insert_with(|| Value::String(envelope::xero_date(now_ms)));
            objects.push(record);
        }
        tenant.books.of_mut(entity).extend(objects);
        Ok(())
    }

    /// Changes fields of the record whose id (or number, code) is `id`; `UpdatedDateUTC` moves to now.
    pub fn edit_record(&self, tenant: &str, entity: &str, id: &str, fields: Map<String, Value>) -> Result<(), String> {
        let now_ms = self.now_ms();
        let mut state = self.lock();
        let tenant = tenants::find(&mut state.tenants, tenant).ok_or_else(|| format!("no Xero tenant `{tenant}`"))?;
        let spec = entities::find(entity).ok_or_else(|| format!("no Xero entity `{entity}`"))?;
        let names = |r: &Map<String, Value>, f: &str| r.get(f).and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(id));
        let record = tenant
            .books
            .of_mut(spec.name)
            .iter_mut()
            .find(|r| names(r, spec.key) || spec.alternate.is_some_and(|a| names(r, a)))
            .ok_or_else(|| format!("{entity} has no record `{id}`"))?;
        record.extend(fields);
        record.insert("UpdatedDateUTC".into(), Value::String(envelope::xero_date(now_ms)));
        Ok(())
    }

    /// Writes answered from the Idempotency-Key store instead of being done again.
    pub fn replays(&self) -> u64 {
        self.lock().replays
    }

    /// (tenant id, name) of every tenant.
    pub fn tenants(&self) -> Vec<(String, String)> {
        self.lock().tenants.iter().map(|t| (t.id.to_string(), t.name.to_string())).collect()
    }

    /// Refuses every token issued so far (401 on the API, invalid_grant on refresh).
    pub fn revoke_tokens(&self) {
        self.lock().tokens.revoke_all();
    }

    pub fn set_latency_ms(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }
}

fn lock(state: &Mutex<XeroState>) -> MutexGuard<'_, XeroState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Emulator for Xero {
    fn name(&self) -> &'static str {
        "xero"
    }

    fn handle(&self, request: &ApiRequest) -> ApiResponse {
        let path = request.path.to_ascii_lowercase();
        match (&request.method, path.as_str()) {
            (&Method::GET, "/identity/connect/authorize") => oauth::authorize(self, request),
            (&Method::POST, "/connect/token") => oauth::token(self, request),
            (_, "/connect/token") => ApiResponse::empty(StatusCode::METHOD_NOT_ALLOWED),
            (_, "/connections") => oauth::connections(self, request, None),
            (_, p) if p.starts_with("/connections/") => oauth::connections(self, request, Some(&request.path["/connections/".len()..])),
            (_, p) if p.starts_with(API_PREFIX) => api::handle(self, request),
            _ => envelope::not_found(),
        }
    }

    fn fault_eligible(&self, request: &ApiRequest) -> bool {
        request.path.to_ascii_lowercase().starts_with(API_PREFIX)
    }

    fn error(&self, status: StatusCode, message: &str) -> ApiResponse {
        envelope::problem(status, message)
    }

    fn too_many_requests_message(&self) -> &'static str {
        "Rate limit exceeded"
    }

    /// As Xero's own: the limit that was hit in `X-Rate-Limit-Problem` (an injected one stands for
    /// the minute limit, the one a busy client meets).
    fn too_many_requests(&self, retry_after: String) -> ApiResponse {
        envelope::problem(StatusCode::TOO_MANY_REQUESTS, self.too_many_requests_message())
            .with_header("X-Rate-Limit-Problem", "minute")
            .with_header("Retry-After", retry_after)
    }

    fn control(&self, request: &ApiRequest, path: &str) -> Option<ApiResponse> {
        control::handle(self, request, path)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
