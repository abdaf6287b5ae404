//! Why a connection's calls are waiting, and until when: what a progress bar
//! shows while a run makes no progress ("waiting for Exact Online's minutely
//! rate limit, 41 s"). The waits themselves are decided in limits.rs and
//! connection.rs; each is noted here before it starts.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why calls wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitReason {
    /// A rate-limit budget from the answer headers is spent until it resets;
    /// its name as the system's YAML declares it (`minutely`, `daily`, …).
    Budget(String),
    /// The system answered 429 (too many requests): its `Retry-After` or reset headers, or a backoff.
    TooManyRequests,
    /// A call got no usable answer (no connection, a timeout, a 5xx) and is
    /// tried again after a backoff; `attempt` is the try that comes next (2 = the first retry).
    Retry { attempt: u32 },
}

/// A wait in progress: why, and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub reason: WaitReason,
    pub until: Instant,
}

/// The waits of one connection. Many calls may wait at once; the one that
/// ends last is what holds the run up, so that is the one kept.
#[derive(Debug, Default)]
pub struct Waits(Mutex<Option<Waiting>>);

impl Waits {
    /// Notes a wait of `wait` starting now.
    pub fn note(&self, reason: WaitReason, wait: Duration) {
        let now = Instant::now();
        let until = now + wait;
        let mut current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_none_or(|c| c.until <= now || c.until < until) {
            *current = Some(Waiting { reason, until });
        }
    }

    /// The wait in progress, if one has not ended yet.
    pub fn current(&self) -> Option<Waiting> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone().filter(|w| w.until > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_that_ends_last_is_kept_until_it_ends() {
        let waits = Waits::default();
        assert_eq!(waits.current(), None);
        waits.note(WaitReason::Budget("minutely".into()), Duration::from_secs(40));
        waits.note(WaitReason::Retry { attempt: 2 }, Duration::from_secs(1));
        assert_eq!(waits.current().map(|w| w.reason), Some(WaitReason::Budget("minutely".into())));
        waits.note(WaitReason::TooManyRequests, Duration::from_secs(60));
        assert_eq!(waits.current().map(|w| w.reason), Some(WaitReason::TooManyRequests));
        let ended = Waits::default();
        ended.note(WaitReason::Retry { attempt: 2 }, Duration::ZERO);
        assert_eq!(ended.current(), None, "a wait that has ended is not shown");
    }
}
