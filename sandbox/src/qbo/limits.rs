//! Intuit's throttles per company (realm) and app (notes §5: blogs.intuit.com 2016-08-08,
//! partner-systems.md §3): 500 requests a minute and 10 in flight; beyond either, 429. Windows are
//! the sandbox clock's minutes. A refused call is not counted.

use std::collections::HashMap;

pub const IN_FLIGHT: u32 = 10;

#[derive(Default)]
pub struct Limiter {
    realms: HashMap<String, Usage>,
}

#[derive(Default)]
struct Usage {
    minute: i64,
    in_minute: u32,
    in_flight: u32,
}

impl Limiter {
    /// `true`: admitted and in flight until `finish`.
    pub fn admit(&mut self, realm: &str, per_minute: u32, now_ms: i64) -> bool {
        let usage = self.realms.entry(realm.to_string()).or_default();
        let minute = now_ms.div_euclid(60_000);
        if usage.minute != minute {
            usage.minute = minute;
            usage.in_minute = 0;
        }
        if usage.in_minute >= per_minute || usage.in_flight >= IN_FLIGHT {
            return false;
        }
        usage.in_minute += 1;
        usage.in_flight += 1;
        true
    }

    pub fn finish(&mut self, realm: &str) {
        if let Some(usage) = self.realms.get_mut(realm) {
            usage.in_flight = usage.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_budget_and_ten_at_once() {
        let mut limiter = Limiter::default();
        for _ in 0..IN_FLIGHT {
            assert!(limiter.admit("r", 500, 0));
        }
        assert!(!limiter.admit("r", 500, 0), "the eleventh in flight");
        limiter.finish("r");
        assert!(limiter.admit("r", 500, 0));
        let mut limiter = Limiter::default();
        for _ in 0..3 {
            assert!(limiter.admit("r", 3, 0));
            limiter.finish("r");
        }
        assert!(!limiter.admit("r", 3, 59_999));
        assert!(limiter.admit("r", 3, 60_000), "a new minute");
    }
}
