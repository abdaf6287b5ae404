//! A running sandbox: the registry of emulators on loopback, served by a runtime of their own so that sync
//! and async callers (tests, the CLI) can start one the same way.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use serde_json::Value;

use crate::clock::Clock;
use crate::config::{Faults, Limits, SandboxConfig};
use crate::core::{Core, Registered, Settings, Shared};
use crate::exact::store::Store;
use crate::exact::webhooks::{SUBSCRIPTIONS, WebhookDelivery};
use crate::exact::{Exact, ExactSettings};
use crate::faults::FaultInjector;
use crate::lnb::Lnb;
use crate::qbo::Qbo;
use crate::recorder::RecordedRequest;
use crate::truecommerce::records::{ReceivedFile, SentFile};
use crate::truecommerce::{SftpFaults, TrueCommerce};
use crate::xero::Xero;
use crate::{fixtures, generate};

pub struct Sandbox {
    core: Arc<Core>,
    runtime: Option<tokio::runtime::Runtime>,
}

const NO_EXACT: &str = "the sandbox has no Exact emulator";
const NO_XERO: &str = "the sandbox has no Xero emulator";
const NO_QBO: &str = "the sandbox has no QuickBooks emulator";

/// The HTTP emulators: registry key, what a bind error calls it. Adding one is a line here, its
/// port in `SandboxConfig`, and its construction in `start`.
const HTTP_EMULATORS: &[(&str, &str)] = &[("exact", "Exact Online"), ("lnb", "Le New Black"), ("xero", "Xero"), ("qbo", "QuickBooks Online")];

impl Sandbox {
    /// Loads the data, makes the TrueCommerce folders, binds the ports on 127.0.0.1 and serves
    /// them on background threads. Returns once every port accepts connections.
    pub fn start(config: SandboxConfig) -> io::Result<Sandbox> {
        let mut store = Store::new();
        let mut lnb_data = fixtures::LnbData { orders: Vec::new(), invoices: Vec::new() };
        let mut xero_data = Vec::new();
        let mut qbo_data = Vec::new();
        if let Some(root) = &config.fixtures {
            if !root.is_dir() {
                return Err(io::Error::new(io::ErrorKind::NotFound, format!("fixtures folder {} not found", root.display())));
            }
            fixtures::load_exact(root, &mut store)?;
            lnb_data = fixtures::load_lnb(root)?;
            xero_data = fixtures::load_xero(root)?;
            qbo_data = crate::qbo::load_fixtures(root)?;
        }
        if let Some(plan) = &config.generate {
            generate::generate(plan, config.division, &mut store, &mut lnb_data.orders);
        }

        // Bound here, synchronously, so the ports are known (and listening) before we return.
        let mut listeners = Vec::new();
        for (name, label) in HTTP_EMULATORS {
            let listener = bind(config.port_of(name), label)?;
            listeners.push((*name, listener.local_addr()?.port(), listener));
        }
        let port_of = |name: &str| listeners.iter().find(|(n, _, _)| *n == name).map(|(_, port, _)| *port).unwrap_or_default();
        let truecommerce_listener = bind(config.truecommerce.port, "TrueCommerce SFTP")?;
        let truecommerce_port = truecommerce_listener.local_addr()?.port();

        let shared = Arc::new(Shared::new(Clock::new(config.clock_speed), FaultInjector::new(config.faults.clone())));
        let settings = ExactSettings {
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            division: config.division,
            base_url: format!("http://127.0.0.1:{}", port_of("exact")),
            webhook_secret: config.webhook_secret.clone(),
        };
        let (exact_settings, lnb_settings, xero_settings) =
            (Settings::new(config.limits), Settings::new(config.limits), Settings::new(config.xero_limits));
        let exact = Arc::new(Exact::new(shared.clone(), exact_settings.clone(), settings, store));
        let lnb = Arc::new(Lnb::new(
            shared.clone(),
            config.client_id.clone(),
            config.client_secret.clone(),
            config.lnb_page_size,
            lnb_data.orders,
            lnb_data.invoices,
        ));
        let xero = Arc::new(Xero::new(shared.clone(), xero_settings.clone(), config.client_id.clone(), config.client_secret.clone(), xero_data));
        let qbo_settings = Settings::new(config.qbo_limits);
        let qbo =
            Arc::new(Qbo::new(shared.clone(), qbo_settings.clone(), (config.client_id, config.client_secret), config.qbo_verifier_token, qbo_data));
        let registry = vec![
            Registered { emulator: exact, settings: exact_settings, port: port_of("exact") },
            Registered { emulator: lnb, settings: lnb_settings, port: port_of("lnb") },
            Registered { emulator: xero, settings: xero_settings, port: port_of("xero") },
            Registered { emulator: qbo, settings: qbo_settings, port: port_of("qbo") },
        ];
        let truecommerce = TrueCommerce::new(config.truecommerce.clone(), truecommerce_port, shared.clone(), config.faults.seed)?;
        let core = Arc::new(Core { shared, registry, truecommerce });

        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("flowmap-sandbox").enable_all().build()?;
        {
            // `from_std` must run inside the runtime that will drive the sockets.
            let _entered = runtime.enter();
            for (name, _, listener) in listeners {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                runtime.spawn(crate::http::server::serve(listener, crate::http::dispatch::router(core.clone(), name)));
            }
            core.truecommerce.serve(tokio::net::TcpListener::from_std(truecommerce_listener)?, &runtime);
        }
        Ok(Sandbox { core, runtime: Some(runtime) })
    }

    /// `http://127.0.0.1:PORT` of the HTTP emulator registered as `name` (`exact`, `lnb`, `xero`, `qbo`).
    pub fn url(&self, name: &str) -> Option<String> {
        self.core.registered(name).map(|r| format!("http://127.0.0.1:{}", r.port))
    }

    /// The names of the HTTP emulators, in the order they were started.
    pub fn emulators(&self) -> Vec<&'static str> {
        self.core.registry.iter().map(|r| r.emulator.name()).collect()
    }

    fn exact(&self) -> Option<&Exact> {
        self.core.emulator::<Exact>("exact")
    }

    fn lnb(&self) -> Option<&Lnb> {
        self.core.emulator::<Lnb>("lnb")
    }

    fn xero(&self) -> Option<&Xero> {
        self.core.emulator::<Xero>("xero")
    }

    fn qbo(&self) -> Option<&Qbo> {
        self.core.emulator::<Qbo>("qbo")
    }

    pub fn exact_url(&self) -> String {
        self.url("exact").unwrap_or_default()
    }

    pub fn lnb_url(&self) -> String {
        self.url("lnb").unwrap_or_default()
    }

    /// Xero's identity and accounting endpoints, all on this one URL.
    pub fn xero_url(&self) -> String {
        self.url("xero").unwrap_or_default()
    }

    /// Every API request answered so far (not `/_sandbox/` calls), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.core.shared.recorder.all()
    }

    pub fn clear_requests(&self) {
        self.core.shared.recorder.clear();
    }

    /// Moves the sandbox clock; negative values move it back.
    pub fn advance_clock(&self, seconds: i64) {
        self.core.shared.clock.advance(seconds);
    }

    pub fn set_clock_speed(&self, speed: f64) {
        self.core.shared.clock.set_speed(speed);
    }

    /// The sandbox clock, epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.core.shared.clock.now_ms()
    }

    /// Faults for every HTTP emulator that has none of its own (one draw sequence over all).
    pub fn set_faults(&self, faults: Faults) {
        self.core.shared.faults.set(faults);
    }

    /// Faults of one emulator alone (`/_sandbox/{name}/faults`); from now on the shared ones no
    /// longer apply to it.
    pub fn set_faults_of(&self, name: &str, faults: Faults) -> Result<(), String> {
        self.core.registered(name).map(|r| r.settings.set_faults(faults)).ok_or_else(|| format!("no emulator `{name}`"))
    }

    /// Exact's limits, as before each emulator had its own.
    pub fn set_limits(&self, limits: Limits) {
        self.core.exact_settings().set_limits(limits);
    }

    /// The limits of one emulator (`/_sandbox/{name}/limits`).
    pub fn set_limits_of(&self, name: &str, limits: Limits) -> Result<(), String> {
        self.core.registered(name).map(|r| r.settings.set_limits(limits)).ok_or_else(|| format!("no emulator `{name}`"))
    }

    /// All records of an Exact entity (`salesorder/SalesOrders`), with `__metadata`; empty for an
    /// unknown entity.
    pub fn exact_records(&self, entity: &str) -> Vec<Value> {
        self.exact().and_then(|e| e.records(entity)).unwrap_or_default()
    }

    /// Adds records to an Exact entity (`crm/Accounts`), as someone fixing master data in Exact
    /// would; `Code`s are stored as given, so pad them as Exact does.
    pub fn add_exact_records(&self, entity: &str, records: Vec<Value>) -> Result<(), String> {
        let (service, name) = entity.split_once('/').ok_or_else(|| format!("`{entity}` is not service/Entity"))?;
        self.exact().ok_or(NO_EXACT)?.lock().store.seed(service, name, records)
    }

    /// Changes fields of an Exact record (`purchaseorder/PurchaseOrders`, its key) as a user
    /// would in Exact: `Modified` moves to the sandbox clock's now.
    pub fn edit_exact_record(&self, entity: &str, key: &str, fields: serde_json::Map<String, Value>) -> Result<(), String> {
        self.exact().ok_or(NO_EXACT)?.edit(entity, key, fields)
    }

    /// Sends an Exact webhook event (`action`: `Update` or `Delete`) for the record `key` to every
    /// subscription of `topic` (`SalesOrders`, `Accounts`, …) and waits until each callback has
    /// answered or timed out (5 s). Returns how many were sent. Do not call it from a task of a
    /// single-threaded runtime that also serves the callback: it blocks the calling thread.
    pub fn fire_webhook(&self, topic: &str, key: &str, action: &str) -> Result<usize, String> {
        let sending = self.exact().ok_or(NO_EXACT)?.fire_webhook(topic, key, action)?;
        let runtime = self.runtime.as_ref().ok_or_else(|| "the sandbox is stopped".to_string())?;
        let (done, finished) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            let _ = done.send(sending.await.len());
        });
        finished.recv().map_err(|_| "the sandbox stopped before the deliveries finished".to_string())
    }

    /// Every webhook event sent so far (by API writes and `fire_webhook`), in the order their
    /// deliveries finished. Events raised by API writes are sent in the background, so one may
    /// still be on its way when this is read.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.exact().map(Exact::webhook_deliveries).unwrap_or_default()
    }

    /// The Exact webhook subscriptions, as `GET webhooks/WebhookSubscriptions` serves them.
    pub fn webhook_subscriptions(&self) -> Vec<Value> {
        self.exact_records(SUBSCRIPTIONS)
    }

    /// A Xero tenant's records of `entity` (`Invoices`, `Contacts`, …) as stored; the tenant by
    /// id or name (`XERO_ACME_TENANT`). Empty for an unknown tenant or entity.
    pub fn xero_records(&self, tenant: &str, entity: &str) -> Vec<Value> {
        self.xero().and_then(|x| x.records(tenant, entity)).unwrap_or_default()
    }

    /// Adds records to a Xero tenant as someone keying them in would (ids and `UpdatedDateUTC`
    /// added when missing; nothing else is checked).
    pub fn add_xero_records(&self, tenant: &str, entity: &str, records: Vec<Value>) -> Result<(), String> {
        self.xero().ok_or(NO_XERO)?.add_records(tenant, entity, records)
    }

    /// Changes fields of a Xero record (by id, or number/code) as a user would; `UpdatedDateUTC` moves to now.
    pub fn edit_xero_record(&self, tenant: &str, entity: &str, id: &str, fields: serde_json::Map<String, Value>) -> Result<(), String> {
        self.xero().ok_or(NO_XERO)?.edit_record(tenant, entity, id, fields)
    }

    /// Xero writes answered from the Idempotency-Key store instead of being done again.
    pub fn xero_replays(&self) -> u64 {
        self.xero().map(Xero::replays).unwrap_or_default()
    }

    /// (id, name) of each Xero tenant.
    pub fn xero_tenants(&self) -> Vec<(String, String)> {
        self.xero().map(Xero::tenants).unwrap_or_default()
    }

    /// Holds every Xero API answer this long (calls overlap; the limit of 5 at once can be met).
    pub fn set_xero_latency_ms(&self, ms: u64) {
        if let Some(xero) = self.xero() {
            xero.set_latency_ms(ms);
        }
    }

    /// QuickBooks' OAuth and API endpoints, all on this one URL.
    pub fn qbo_url(&self) -> String {
        self.url("qbo").unwrap_or_default()
    }

    /// The realm (company id) of the sandbox company, in every QBO API path.
    pub fn qbo_realm(&self) -> String {
        self.qbo().map(|q| q.realm().to_string()).unwrap_or_default()
    }

    /// The QBO company's records of `entity` (`Invoice`, `Item`, …) as stored; empty for an unknown entity.
    pub fn qbo_records(&self, entity: &str) -> Vec<Value> {
        self.qbo().map(|q| q.records(entity)).unwrap_or_default()
    }

    /// Adds QBO records as someone keying them in would (Id, SyncToken and MetaData added when missing).
    pub fn add_qbo_records(&self, entity: &str, records: Vec<Value>) -> Result<(), String> {
        self.qbo().ok_or(NO_QBO)?.add_records(entity, records)
    }

    /// Changes fields of a QBO record as a user would: SyncToken one up, LastUpdatedTime now.
    pub fn edit_qbo_record(&self, entity: &str, id: &str, fields: serde_json::Map<String, Value>) -> Result<(), String> {
        self.qbo().ok_or(NO_QBO)?.edit_record(entity, id, fields)
    }

    /// QBO calls answered from the requestid store instead of being done again.
    pub fn qbo_replays(&self) -> u64 {
        self.qbo().map(Qbo::replays).unwrap_or_default()
    }

    /// Holds every QBO API answer this long (calls overlap; the limit of 10 in flight can be met).
    pub fn set_qbo_latency_ms(&self, ms: u64) {
        if let Some(qbo) = self.qbo() {
            qbo.set_latency_ms(ms);
        }
    }

    pub fn lnb_orders(&self) -> Vec<Value> {
        self.lnb().map(|l| l.lock().orders.clone()).unwrap_or_default()
    }

    pub fn lnb_invoices(&self) -> Vec<Value> {
        self.lnb().map(|l| l.lock().invoices.clone()).unwrap_or_default()
    }

    /// The TrueCommerce SFTP server: `127.0.0.1:port`.
    pub fn truecommerce_address(&self) -> String {
        format!("127.0.0.1:{}", self.core.truecommerce.port())
    }

    /// The SFTP user (its password: `SandboxConfig::truecommerce.password`).
    pub fn truecommerce_user(&self) -> String {
        self.core.truecommerce.config().user.clone()
    }

    pub fn truecommerce_port(&self) -> u16 {
        self.core.truecommerce.port()
    }

    /// The folder the SFTP server serves as `/` (Import and Export are under `IntegrationFTP/`).
    pub fn truecommerce_root(&self) -> std::path::PathBuf {
        self.core.truecommerce.root().to_path_buf()
    }

    /// The SFTP host key's fingerprint (`SHA256:…`), fixed: sandbox/keys/truecommerce_ed25519.
    pub fn truecommerce_host_key(&self) -> String {
        self.core.truecommerce.fingerprint()
    }

    /// The partner takes what is complete in Import and answers into Export, now; returns the
    /// files it received and sent in this tick.
    pub fn truecommerce_tick(&self) -> std::io::Result<(Vec<ReceivedFile>, Vec<SentFile>)> {
        self.core.truecommerce.tick().map(|report| (report.received, report.sent))
    }

    /// Sets the partner's rules as `POST /_sandbox/truecommerce/rules` does
    /// (`{"po":"PO-1","reject_line":2}`; without `po` for every PO).
    pub fn set_truecommerce_rules(&self, rules: Value) -> Result<(), String> {
        let body = rules.as_object().ok_or("rules are a JSON object")?;
        self.core.truecommerce.partner().rules.set(body)
    }

    pub fn truecommerce_received(&self) -> Vec<ReceivedFile> {
        self.core.truecommerce.partner().received.clone()
    }

    pub fn truecommerce_sent(&self) -> Vec<SentFile> {
        self.core.truecommerce.partner().sent.clone()
    }

    pub fn set_truecommerce_faults(&self, faults: SftpFaults) {
        self.core.truecommerce.faults().set(faults);
    }

    /// (SFTP requests seen, connections dropped) since the faults were last set.
    pub fn truecommerce_fault_counts(&self) -> (u64, u64) {
        self.core.truecommerce.faults().counts()
    }

    /// Stops all servers; connections in flight are cut. Dropping the sandbox does the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // `shutdown_background` does not block, so this is safe inside an async test too.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
            self.core.truecommerce.remove_own_root();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The error names the port and the emulator: two sandboxes on the default ports is a common slip.
fn bind(port: u16, emulator: &str) -> io::Result<std::net::TcpListener> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = std::net::TcpListener::bind(address).map_err(|e| io::Error::new(e.kind(), format!("{emulator} on {address}: {e}")))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}
