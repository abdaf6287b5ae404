//! A running sandbox: the emulators on loopback, served by a runtime of their own so that sync
//! and async callers (tests, the CLI) can start one the same way.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use serde_json::Value;

use crate::clock::Clock;
use crate::config::{Faults, Limits, SandboxConfig};
use crate::core::{Core, Shared, System};
use crate::exact::store::Store;
use crate::exact::webhooks::{SUBSCRIPTIONS, WebhookDelivery};
use crate::exact::{Exact, ExactSettings};
use crate::faults::FaultInjector;
use crate::lnb::Lnb;
use crate::recorder::RecordedRequest;
use crate::truecommerce::records::{ReceivedFile, SentFile};
use crate::truecommerce::{SftpFaults, TrueCommerce};
use crate::{fixtures, generate};

pub struct Sandbox {
    core: Arc<Core>,
    exact_port: u16,
    lnb_port: u16,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Sandbox {
    /// Loads the data, makes the TrueCommerce folders, binds the ports on 127.0.0.1 and serves
    /// them on background threads. Returns once every port accepts connections.
    pub fn start(config: SandboxConfig) -> io::Result<Sandbox> {
        let mut store = Store::new();
        let mut lnb_data = fixtures::LnbData { orders: Vec::new(), invoices: Vec::new() };
        if let Some(root) = &config.fixtures {
            if !root.is_dir() {
                return Err(io::Error::new(io::ErrorKind::NotFound, format!("fixtures folder {} not found", root.display())));
            }
            fixtures::load_exact(root, &mut store)?;
            lnb_data = fixtures::load_lnb(root)?;
        }
        if let Some(plan) = &config.generate {
            generate::generate(plan, config.division, &mut store, &mut lnb_data.orders);
        }

        // Bound here, synchronously, so the ports are known (and listening) before we return.
        let exact_listener = bind(config.exact_port, "Exact Online")?;
        let lnb_listener = bind(config.lnb_port, "Le New Black")?;
        let truecommerce_listener = bind(config.truecommerce.port, "TrueCommerce SFTP")?;
        let exact_port = exact_listener.local_addr()?.port();
        let lnb_port = lnb_listener.local_addr()?.port();
        let truecommerce_port = truecommerce_listener.local_addr()?.port();

        let shared = Arc::new(Shared::new(Clock::new(config.clock_speed), FaultInjector::new(config.faults.clone()), config.limits));
        let settings = ExactSettings {
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            division: config.division,
            base_url: format!("http://127.0.0.1:{exact_port}"),
            webhook_secret: config.webhook_secret.clone(),
        };
        let truecommerce = TrueCommerce::new(config.truecommerce.clone(), truecommerce_port, shared.clone(), config.faults.seed)?;
        let core = Arc::new(Core {
            exact: Exact::new(shared.clone(), settings, store),
            lnb: Lnb::new(shared.clone(), config.client_id, config.client_secret, config.lnb_page_size, lnb_data.orders, lnb_data.invoices),
            shared,
            truecommerce,
        });

        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("flowmap-sandbox").enable_all().build()?;
        {
            // `from_std` must run inside the runtime that will drive the sockets.
            let _entered = runtime.enter();
            let exact_listener = tokio::net::TcpListener::from_std(exact_listener)?;
            let lnb_listener = tokio::net::TcpListener::from_std(lnb_listener)?;
            runtime.spawn(crate::http::server::serve(exact_listener, crate::http::dispatch::router(core.clone(), System::Exact)));
            runtime.spawn(crate::http::server::serve(lnb_listener, crate::http::dispatch::router(core.clone(), System::Lnb)));
            core.truecommerce.serve(tokio::net::TcpListener::from_std(truecommerce_listener)?, &runtime);
        }
        Ok(Sandbox { core, exact_port, lnb_port, runtime: Some(runtime) })
    }

    pub fn exact_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.exact_port)
    }

    pub fn lnb_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.lnb_port)
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

    pub fn set_faults(&self, faults: Faults) {
        self.core.shared.faults.set(faults);
    }

    pub fn set_limits(&self, limits: Limits) {
        self.core.shared.set_limits(limits);
    }

    /// All records of an Exact entity (`salesorder/SalesOrders`), with `__metadata`; empty for an
    /// unknown entity.
    pub fn exact_records(&self, entity: &str) -> Vec<Value> {
        self.core.exact.records(entity).unwrap_or_default()
    }

    /// Adds records to an Exact entity (`crm/Accounts`), as someone fixing master data in Exact
    /// would; `Code`s are stored as given, so pad them as Exact does.
    pub fn add_exact_records(&self, entity: &str, records: Vec<Value>) -> Result<(), String> {
        let (service, name) = entity.split_once('/').ok_or_else(|| format!("`{entity}` is not service/Entity"))?;
        self.core.exact.lock().store.seed(service, name, records)
    }

    /// Changes fields of an Exact record (`purchaseorder/PurchaseOrders`, its key) as a user
    /// would in Exact: `Modified` moves to the sandbox clock's now.
    pub fn edit_exact_record(&self, entity: &str, key: &str, fields: serde_json::Map<String, Value>) -> Result<(), String> {
        self.core.exact.edit(entity, key, fields)
    }

    /// Sends an Exact webhook event (`action`: `Update` or `Delete`) for the record `key` to every
    /// subscription of `topic` (`SalesOrders`, `Accounts`, …) and waits until each callback has
    /// answered or timed out (5 s). Returns how many were sent. Do not call it from a task of a
    /// single-threaded runtime that also serves the callback: it blocks the calling thread.
    pub fn fire_webhook(&self, topic: &str, key: &str, action: &str) -> Result<usize, String> {
        let sending = self.core.exact.fire_webhook(topic, key, action)?;
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
        self.core.exact.webhook_deliveries()
    }

    /// The Exact webhook subscriptions, as `GET webhooks/WebhookSubscriptions` serves them.
    pub fn webhook_subscriptions(&self) -> Vec<Value> {
        self.exact_records(SUBSCRIPTIONS)
    }

    pub fn lnb_orders(&self) -> Vec<Value> {
        self.core.lnb.lock().orders.clone()
    }

    pub fn lnb_invoices(&self) -> Vec<Value> {
        self.core.lnb.lock().invoices.clone()
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
