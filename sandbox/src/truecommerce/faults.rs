//! Injected SFTP faults: with a probability, drawn from the sandbox's seeded generator, a request
//! drops the whole connection (as a flaky VAN or firewall does), so clients are tried on
//! reconnecting and retrying.

use std::sync::Mutex;

use serde::Serialize;

use crate::random::SplitMix64;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SftpFaults {
    /// Probability per SFTP request, 0.0 ..= 1.0.
    pub drop_rate: f64,
    pub seed: u64,
}

pub struct DropFaults {
    state: Mutex<State>,
}

struct State {
    faults: SftpFaults,
    rng: SplitMix64,
    requests: u64,
    dropped: u64,
}

impl DropFaults {
    pub fn new(seed: u64) -> DropFaults {
        let faults = SftpFaults { drop_rate: 0.0, seed };
        DropFaults { state: Mutex::new(State { faults, rng: SplitMix64::new(seed), requests: 0, dropped: 0 }) }
    }

    /// New settings restart the generator from their seed and the counts from 0.
    pub fn set(&self, faults: SftpFaults) {
        *self.lock() = State { faults, rng: SplitMix64::new(faults.seed), requests: 0, dropped: 0 };
    }

    pub fn current(&self) -> SftpFaults {
        self.lock().faults
    }

    /// (SFTP requests seen, connections dropped) since the faults were last set.
    pub fn counts(&self) -> (u64, u64) {
        let state = self.lock();
        (state.requests, state.dropped)
    }

    /// Whether this request drops its connection.
    pub fn draw(&self) -> bool {
        let mut state = self.lock();
        state.requests += 1;
        let drop = state.faults.drop_rate > 0.0 && state.rng.next_f64() < state.faults.drop_rate;
        state.dropped += u64::from(drop);
        drop
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
