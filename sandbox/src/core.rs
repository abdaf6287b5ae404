//! The state behind every port: the clock and request log all emulators share, and the registry of
//! HTTP emulators, each under its name with its own port, limits and fault settings.

use std::any::Any;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::clock::Clock;
use crate::config::{Faults, Limits};
use crate::faults::{Fault, FaultInjector};
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
use crate::recorder::Recorder;
use crate::truecommerce::TrueCommerce;

/// What every emulator reads: one clock, one request log, and the faults set for all of them.
pub struct Shared {
    pub clock: Clock,
    pub recorder: Recorder,
    /// `/_sandbox/faults` and `Sandbox::set_faults`: one draw sequence over every HTTP emulator
    /// without faults of its own, so a seed replays the same run as before emulators had their own.
    pub faults: FaultInjector,
}

impl Shared {
    pub fn new(clock: Clock, faults: FaultInjector) -> Shared {
        Shared { clock, recorder: Recorder::default(), faults }
    }
}

/// One emulator's own knobs (`/_sandbox/{name}/limits`, `/_sandbox/{name}/faults`).
pub struct Settings {
    limits: Mutex<Limits>,
    /// `None`: the shared faults apply.
    faults: Mutex<Option<Arc<FaultInjector>>>,
}

impl Settings {
    pub fn new(limits: Limits) -> Arc<Settings> {
        Arc::new(Settings { limits: Mutex::new(limits), faults: Mutex::new(None) })
    }

    pub fn limits(&self) -> Limits {
        *self.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_limits(&self, limits: Limits) {
        *self.limits.lock().unwrap_or_else(|e| e.into_inner()) = limits;
    }

    /// Faults of this emulator alone; from now on the shared ones no longer apply to it.
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(FaultInjector::new(faults)));
    }

    pub fn own_faults(&self) -> Option<Arc<FaultInjector>> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// An HTTP emulator in the registry.
pub struct Registered {
    pub emulator: Arc<dyn Emulator>,
    pub settings: Arc<Settings>,
    pub port: u16,
}

pub struct Core {
    pub shared: Arc<Shared>,
    /// Every HTTP emulator by name, in the order they were started.
    pub registry: Vec<Registered>,
    /// SFTP, not HTTP: served by its own SSH stack, outside the registry.
    pub truecommerce: TrueCommerce,
}

/// What the request pipeline needs from an emulator.
pub trait Emulator: Send + Sync {
    /// `exact`, `lnb`, `xero`: its registry key, as recorded and as in `/_sandbox/{name}/…`.
    fn name(&self) -> &'static str;
    /// Answers one request (everything but `/_sandbox/`).
    fn handle(&self, request: &ApiRequest) -> ApiResponse;
    /// Token endpoints are never faulted: the fault plan is about API calls.
    fn fault_eligible(&self, request: &ApiRequest) -> bool;
    /// An error in this system's own body format.
    fn error(&self, status: StatusCode, message: &str) -> ApiResponse;
    /// The message of an injected 429, as this system words it.
    fn too_many_requests_message(&self) -> &'static str;
    /// An injected 429 as this system answers one; `retry_after` in seconds or as an HTTP date.
    fn too_many_requests(&self, retry_after: String) -> ApiResponse {
        self.error(StatusCode::TOO_MANY_REQUESTS, self.too_many_requests_message()).with_header("Retry-After", retry_after)
    }
    /// `/_sandbox/{name}/{path}` beyond the limits and faults every emulator has; `None`: no such route.
    fn control(&self, _request: &ApiRequest, _path: &str) -> Option<ApiResponse> {
        None
    }
    /// For what only one emulator offers (`Sandbox::exact_records`): `Core::emulator::<Exact>("exact")`.
    fn as_any(&self) -> &dyn Any;
}

impl Core {
    pub fn registered(&self, name: &str) -> Option<&Registered> {
        self.registry.iter().find(|r| r.emulator.name() == name)
    }

    /// The emulator registered as `name`, as its own type.
    pub fn emulator<T: Emulator + 'static>(&self, name: &str) -> Option<&T> {
        self.registered(name)?.emulator.as_any().downcast_ref::<T>()
    }

    /// Exact's settings: `/_sandbox/limits` and `Sandbox::set_limits` are Exact's limits.
    pub fn exact_settings(&self) -> Arc<Settings> {
        self.registered("exact").map(|r| r.settings.clone()).unwrap_or_else(|| Settings::new(Limits::default()))
    }

    /// The fault one request of `registered` draws: from its own settings, else the shared ones.
    pub fn draw_fault(&self, registered: &Registered) -> Option<Fault> {
        match registered.settings.own_faults() {
            Some(own) => own.draw(),
            None => self.shared.faults.draw(),
        }
    }
}
