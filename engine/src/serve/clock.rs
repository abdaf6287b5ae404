//! The engine's clock for schedules. Real time, unless started at another
//! moment or run faster (`--clock-start`, `--clock-speed`): that is how a
//! schedule is tried ("what happens at 09:00 on Monday?") and tested in seconds.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct EngineClock {
    started_real: Instant,
    started: DateTime<Utc>,
    speed: f64,
}

impl EngineClock {
    pub fn new(start: Option<DateTime<Utc>>, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
        EngineClock { started_real: Instant::now(), started: start.unwrap_or_else(Utc::now), speed }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = self.started_real.elapsed().as_secs_f64() * self.speed;
        self.started + chrono::Duration::microseconds((elapsed * 1e6) as i64)
    }

    /// Real time until the clock reads `at` (zero when it has passed).
    pub fn real_until(&self, at: DateTime<Utc>) -> Duration {
        let ahead = (at - self.now()).num_microseconds().unwrap_or(i64::MAX).max(0) as f64 / 1e6;
        Duration::from_secs_f64(ahead / self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_clock_starts_where_it_is_told_and_runs_faster() {
        let start = DateTime::parse_from_rfc3339("2026-01-05T07:59:58Z").unwrap().with_timezone(&Utc);
        let clock = EngineClock::new(Some(start), 60.0);
        assert!(clock.now() >= start && clock.now() < start + chrono::Duration::seconds(5));
        let wait = clock.real_until(start + chrono::Duration::seconds(120));
        assert!(wait <= Duration::from_secs(2) && wait > Duration::from_millis(1800), "{wait:?}");
    }
}
