//! The one sandbox clock: real time, sped up or slowed down, plus whatever tests advanced it by.
//! Token lifetimes, rate-limit windows, `Date` headers and LNB expiry all read it, so a test can
//! jump ten minutes ahead instead of waiting.

use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// 9999-12-31T23:59:59.999Z. The clock never reads later (or before 1970), however far a test
/// moves it, so every date the sandbox writes stays formattable and no lifetime sum overflows.
const LATEST_MS: i64 = 253_402_300_799_999;

pub struct Clock {
    inner: Mutex<Anchor>,
}

/// The clock runs as `at_ms + elapsed_since(real) × speed`; changing the speed re-anchors it so
/// that time never jumps.
struct Anchor {
    real: Instant,
    at_ms: f64,
    speed: f64,
}

impl Anchor {
    fn now_ms(&self) -> f64 {
        self.at_ms + self.real.elapsed().as_secs_f64() * 1000.0 * self.speed
    }
}

impl Clock {
    pub fn new(speed: f64) -> Clock {
        let epoch_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as f64).unwrap_or(0.0);
        Clock { inner: Mutex::new(Anchor { real: Instant::now(), at_ms: epoch_ms, speed: sanitize(speed) }) }
    }

    /// Milliseconds since the Unix epoch on the sandbox clock.
    pub fn now_ms(&self) -> i64 {
        (self.lock().now_ms() as i64).clamp(0, LATEST_MS)
    }

    pub fn advance(&self, seconds: i64) {
        self.lock().at_ms += seconds as f64 * 1000.0;
    }

    pub fn set_speed(&self, speed: f64) {
        let mut anchor = self.lock();
        anchor.at_ms = anchor.now_ms();
        anchor.real = Instant::now();
        anchor.speed = sanitize(speed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Anchor> {
        // A panic while holding this lock cannot leave the anchor half-written; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A negative or non-finite speed would run time backwards or make it NaN; stop the clock instead.
fn sanitize(speed: f64) -> f64 {
    if speed.is_finite() && speed >= 0.0 { speed } else { 0.0 }
}

pub fn system_time(epoch_ms: i64) -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_millis(epoch_ms.clamp(0, LATEST_MS) as u64)
}

/// RFC 7231 date, as in `Date` and `Retry-After` headers.
pub fn http_date(epoch_ms: i64) -> String {
    httpdate::fmt_http_date(system_time(epoch_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_by_exactly_that_many_seconds() {
        let clock = Clock::new(0.0);
        let before = clock.now_ms();
        clock.advance(601);
        assert_eq!(clock.now_ms() - before, 601_000);
    }

    #[test]
    fn the_clock_stays_within_formattable_dates() {
        let clock = Clock::new(1.0);
        clock.advance(i64::MAX);
        assert_eq!(clock.now_ms(), LATEST_MS);
        assert_eq!(http_date(clock.now_ms() + 1000), "Fri, 31 Dec 9999 23:59:59 GMT");
        let early = Clock::new(1.0);
        early.advance(i64::MIN);
        assert_eq!(http_date(early.now_ms()), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn changing_speed_does_not_jump() {
        let clock = Clock::new(0.0);
        let before = clock.now_ms();
        clock.set_speed(0.0);
        assert_eq!(clock.now_ms(), before);
    }
}
