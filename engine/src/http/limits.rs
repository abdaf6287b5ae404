//! Rate-limit budgets read from answer headers (Exact: 60 a minute, 5,000 a
//! day). Calls are held back when a budget is spent, until it resets, rather
//! than earning a 429; a budget marked `stops_run` (the daily one) ends the
//! run instead, saying when it resets.

use std::sync::Mutex;
use std::time::Duration;

use super::CallError;
use super::clock::{ServerClock, format_utc};
use crate::model::{RateLimitDef, ResetUnit};

/// Server milliseconds added to a reset before calling again, for clock error
/// (the `Date` header has whole seconds; on a sandbox's fast clock a request's
/// latency is worth many server milliseconds).
fn reset_margin_ms(clock: &ServerClock) -> i64 {
    1000.max((25.0 * clock.speed()) as i64)
}

#[derive(Debug, Clone, Copy, Default)]
struct Budget {
    /// Calls left; None when unknown (no answer yet, or the window has reset).
    remaining: Option<i64>,
    reset_ms: Option<i64>,
}

pub struct RateBudget {
    connection: String,
    defs: Vec<RateLimitDef>,
    budgets: Mutex<Vec<Budget>>,
    /// Real time spent waiting, counted once when several calls wait together.
    waited: Mutex<(Duration, Option<std::time::Instant>)>,
}

impl RateBudget {
    pub fn new(connection: &str, defs: &[RateLimitDef]) -> Self {
        RateBudget {
            connection: connection.to_string(),
            defs: defs.to_vec(),
            budgets: Mutex::new(vec![Budget::default(); defs.len()]),
            waited: Mutex::new((Duration::ZERO, None)),
        }
    }

    /// Real time spent waiting for budgets to reset.
    pub fn waited(&self) -> Duration {
        self.waited.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Adds a wait from now, minus what overlaps a wait already counted.
    fn count_wait(&self, wait: Duration) {
        let now = std::time::Instant::now();
        let end = now + wait;
        let mut w = self.waited.lock().unwrap_or_else(|e| e.into_inner());
        let from = w.1.map_or(now, |until| until.max(now));
        if end > from {
            w.0 += end - from;
            w.1 = Some(end);
        }
    }

    /// The run ends: a budget that `stops_run` is spent.
    fn stopped(&self, def: &RateLimitDef, reset: i64) -> CallError {
        CallError::Stop {
            message: format!("the {} rate limit of connection `{}` is spent; it resets at {}", def.name, self.connection, format_utc(reset)),
        }
    }

    /// Takes one call from every budget, waiting for a reset when one is spent.
    pub async fn acquire(&self, clock: &ServerClock) -> Result<(), CallError> {
        loop {
            let wait_until = self.try_take(clock)?;
            let Some(until) = wait_until else { return Ok(()) };
            let wait = clock.real_wait_until(until + reset_margin_ms(clock));
            self.count_wait(wait);
            tokio::time::sleep(wait).await;
        }
    }

    /// Ok(None) when the call may go now (and was counted), Ok(Some(reset)) to wait.
    fn try_take(&self, clock: &ServerClock) -> Result<Option<i64>, CallError> {
        let now = clock.now_ms();
        let mut budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait: Option<i64> = None;
        for (def, b) in self.defs.iter().zip(budgets.iter_mut()) {
            if b.reset_ms.is_some_and(|r| now >= r + reset_margin_ms(clock)) {
                *b = Budget::default();
            }
            if let (Some(left), Some(reset)) = (b.remaining, b.reset_ms)
                && left <= 0
            {
                if def.stops_run {
                    return Err(self.stopped(def, reset));
                }
                wait = Some(wait.map_or(reset, |w: i64| w.max(reset)));
            }
        }
        if wait.is_none() {
            for b in budgets.iter_mut() {
                if let Some(left) = b.remaining.as_mut() {
                    *left -= 1;
                }
            }
        }
        Ok(wait)
    }

    /// Reads the budgets an answer announces. The server's count can lag the
    /// calls still in flight, so the lower of its count and ours is kept.
    pub fn observe(&self, header: impl Fn(&str) -> Option<String>, clock: &ServerClock) {
        let now = clock.now_ms();
        let mut budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
        for (def, b) in self.defs.iter().zip(budgets.iter_mut()) {
            let remaining = header(&def.remaining).and_then(|v| v.trim().parse::<i64>().ok());
            let reset = header(&def.reset).and_then(|v| v.trim().parse::<f64>().ok()).map(|v| match def.reset_unit {
                ResetUnit::EpochMs => v as i64,
                ResetUnit::EpochSeconds => (v * 1000.0) as i64,
                ResetUnit::Seconds => now + (v * 1000.0) as i64,
            });
            if let Some(r) = remaining {
                b.remaining = Some(b.remaining.map_or(r, |mine| mine.min(r)));
            }
            if reset.is_some() {
                b.reset_ms = reset;
            }
        }
    }

    /// After a 429: the budgets whose headers came with it are spent. Returns
    /// the reset to wait for, if the answer said, or a Stop for a budget that stops the run.
    pub fn spent(&self, header: impl Fn(&str) -> Option<String>, clock: &ServerClock) -> Result<Option<i64>, CallError> {
        self.observe(&header, clock);
        let mut budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
        let mut until = None;
        for (def, b) in self.defs.iter().zip(budgets.iter_mut()) {
            if header(&def.remaining).is_none() && header(&def.reset).is_none() {
                continue;
            }
            b.remaining = Some(0);
            if let Some(reset) = b.reset_ms {
                if def.stops_run {
                    return Err(self.stopped(def, reset));
                }
                until = Some(until.map_or(reset, |u: i64| u.max(reset)));
            }
        }
        Ok(until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_defs() -> Vec<RateLimitDef> {
        let yaml = r#"[
          {"name":"minutely","remaining":"M-Remaining","reset":"M-Reset"},
          {"name":"daily","remaining":"D-Remaining","reset":"D-Reset","stops_run":true}]"#;
        serde_json::from_str(yaml).unwrap()
    }

    #[test]
    fn a_spent_minute_waits_and_a_spent_day_stops() {
        let clock = ServerClock::new(1.0);
        let budget = RateBudget::new("exact", &exact_defs());
        let now = clock.now_ms();
        let headers = |m: i64, d: i64| {
            move |h: &str| match h {
                "M-Remaining" => Some(m.to_string()),
                "M-Reset" => Some((now + 30_000).to_string()),
                "D-Remaining" => Some(d.to_string()),
                "D-Reset" => Some((now + 3_600_000).to_string()),
                _ => None,
            }
        };
        budget.observe(headers(1, 100), &clock);
        assert_eq!(budget.try_take(&clock), Ok(None));
        assert_eq!(budget.try_take(&clock), Ok(Some(now + 30_000)));
        budget.observe(headers(5, 0), &clock);
        let stop = budget.try_take(&clock).unwrap_err();
        assert!(stop.message().starts_with("the daily rate limit of connection `exact` is spent; it resets at "), "{stop}");
    }
}
