//! The server's clock, as seen from here. Token expiry, the "not within 570 s"
//! refresh rule and rate-limit resets are all the server's times, so they are
//! judged on its clock: an estimate corrected by every answer's `Date` header
//! (which also cures local clock skew, a known cause of 429s and early refreshes).

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct ServerClock {
    /// How many times faster than real time the server's clock runs (1 for real systems).
    speed: f64,
    anchor: Mutex<(Instant, i64)>,
}

impl ServerClock {
    pub fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
        ServerClock { speed, anchor: Mutex::new((Instant::now(), local_epoch_ms())) }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The server's time now, in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        let (at, ms) = *self.anchor.lock().unwrap_or_else(|e| e.into_inner());
        ms + (at.elapsed().as_secs_f64() * 1000.0 * self.speed) as i64
    }

    /// Takes the `Date` of an answer into account. The header has whole
    /// seconds, so the estimate is only moved when it is off by more than that.
    pub fn observe_date(&self, date: &str) {
        let Ok(t) = httpdate::parse_http_date(date) else { return };
        let Ok(since) = t.duration_since(UNIX_EPOCH) else { return };
        let server = since.as_millis() as i64 + 500;
        let estimate = self.now_ms();
        // A request's own latency, on a fast clock, is worth many server seconds.
        let tolerance = 1500.0_f64.max(25.0 * self.speed) as i64;
        if (server - estimate).abs() > tolerance {
            *self.anchor.lock().unwrap_or_else(|e| e.into_inner()) = (Instant::now(), server);
        }
    }

    /// Real time to wait until the server's clock reads `epoch_ms`.
    pub fn real_wait_until(&self, epoch_ms: i64) -> Duration {
        self.real_duration(epoch_ms - self.now_ms())
    }

    /// A span of server time as real time.
    pub fn real_duration(&self, server_ms: i64) -> Duration {
        Duration::from_secs_f64((server_ms.max(0) as f64 / 1000.0) / self.speed)
    }
}

pub fn local_epoch_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `2026-11-23 00:00:00 UTC`, for messages about resets.
pub fn format_utc(epoch_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(epoch_ms).map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| epoch_ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_far_from_the_estimate_moves_the_clock() {
        let clock = ServerClock::new(1.0);
        let ahead = SystemTime::now() + Duration::from_secs(600);
        clock.observe_date(&httpdate::fmt_http_date(ahead));
        let diff = clock.now_ms() - local_epoch_ms();
        assert!((598_000..=602_000).contains(&diff), "{diff}");
    }

    #[test]
    fn waits_are_scaled_to_real_time_on_fast_clocks() {
        let clock = ServerClock::new(60.0);
        assert_eq!(clock.real_duration(60_000), Duration::from_secs(1));
    }
}
