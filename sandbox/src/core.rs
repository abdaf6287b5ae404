//! The state behind both ports: the clock, the request log, faults, limits and the two emulators.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::clock::Clock;
use crate::config::Limits;
use crate::exact::Exact;
use crate::faults::FaultInjector;
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
use crate::lnb::Lnb;
use crate::recorder::Recorder;
use crate::truecommerce::TrueCommerce;

/// What both emulators read: one clock, one request log, one fault generator.
pub struct Shared {
    pub clock: Clock,
    pub recorder: Recorder,
    pub faults: FaultInjector,
    limits: Mutex<Limits>,
}

impl Shared {
    pub fn new(clock: Clock, faults: FaultInjector, limits: Limits) -> Shared {
        Shared { clock, recorder: Recorder::default(), faults, limits: Mutex::new(limits) }
    }

    pub fn limits(&self) -> Limits {
        *self.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_limits(&self, limits: Limits) {
        *self.limits.lock().unwrap_or_else(|e| e.into_inner()) = limits;
    }
}

pub struct Core {
    pub shared: Arc<Shared>,
    pub exact: Exact,
    pub lnb: Lnb,
    pub truecommerce: TrueCommerce,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    Exact,
    Lnb,
}

/// What the request pipeline needs from an emulator.
pub trait Emulator: Send + Sync {
    /// `exact` or `lnb`, as recorded.
    fn name(&self) -> &'static str;
    /// Answers one request (everything but `/_sandbox/`).
    fn handle(&self, request: &ApiRequest) -> ApiResponse;
    /// Token endpoints are never faulted: the fault plan is about API calls.
    fn fault_eligible(&self, request: &ApiRequest) -> bool;
    /// An error in this system's own body format.
    fn error(&self, status: StatusCode, message: &str) -> ApiResponse;
    /// The message of an injected 429, as this system words it.
    fn too_many_requests_message(&self) -> &'static str;
}

impl Core {
    pub fn emulator(&self, system: System) -> &dyn Emulator {
        match system {
            System::Exact => &self.exact,
            System::Lnb => &self.lnb,
        }
    }
}
