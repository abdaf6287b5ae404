//! Decides which API requests get an injected failure, reproducibly from a seed.

use std::sync::Mutex;

use crate::config::{FaultKind, Faults};
use crate::random::SplitMix64;

pub struct FaultInjector {
    state: Mutex<State>,
}

struct State {
    faults: Faults,
    rng: SplitMix64,
    /// Injected 429s alternate between `Retry-After: 1` and an HTTP date, so clients are tried
    /// with both forms the header allows.
    retry_after_as_date: bool,
}

/// What a request drew.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub hang_ms: u64,
    /// For `TooManyRequests`: send `Retry-After` as an HTTP date instead of seconds.
    pub retry_after_as_date: bool,
}

impl FaultInjector {
    pub fn new(faults: Faults) -> FaultInjector {
        FaultInjector { state: Mutex::new(State::new(faults)) }
    }

    pub fn set(&self, faults: Faults) {
        *self.lock() = State::new(faults);
    }

    pub fn current(&self) -> Faults {
        self.lock().faults.clone()
    }

    /// Draws for one API request: `None` for most, a fault with probability `rate`.
    pub fn draw(&self) -> Option<Fault> {
        let mut guard = self.lock();
        let state = &mut *guard;
        if state.faults.kinds.is_empty() || state.faults.rate <= 0.0 {
            return None;
        }
        if state.rng.next_f64() >= state.faults.rate {
            return None;
        }
        let kind = state.faults.kinds[state.rng.below(state.faults.kinds.len())];
        let retry_after_as_date = kind == FaultKind::TooManyRequests && {
            state.retry_after_as_date = !state.retry_after_as_date;
            !state.retry_after_as_date
        };
        Some(Fault { kind, hang_ms: state.faults.hang_ms, retry_after_as_date })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn new(faults: Faults) -> State {
        State { rng: SplitMix64::new(faults.seed), faults, retry_after_as_date: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(rate: f64, kinds: Vec<FaultKind>) -> Faults {
        Faults { rate, kinds, seed: 42, hang_ms: 10 }
    }

    #[test]
    fn rate_zero_never_and_rate_one_always() {
        let never = FaultInjector::new(faults(0.0, vec![FaultKind::ServiceUnavailable]));
        assert!((0..100).all(|_| never.draw().is_none()));
        let always = FaultInjector::new(faults(1.0, vec![FaultKind::ServiceUnavailable]));
        assert!((0..100).all(|_| always.draw().is_some_and(|f| f.kind == FaultKind::ServiceUnavailable)));
    }

    #[test]
    fn same_seed_same_faults_and_retry_after_alternates() {
        let draws = |f: &FaultInjector| (0..50).map(|_| f.draw()).collect::<Vec<_>>();
        let kinds = vec![FaultKind::TooManyRequests, FaultKind::Timeout];
        let first = draws(&FaultInjector::new(faults(0.5, kinds.clone())));
        assert_eq!(first, draws(&FaultInjector::new(faults(0.5, kinds))));
        let dates: Vec<bool> = first.iter().flatten().filter(|f| f.kind == FaultKind::TooManyRequests).map(|f| f.retry_after_as_date).collect();
        assert!(dates.windows(2).all(|w| w[0] != w[1]), "{dates:?}");
    }
}
