//! When to try again, and after how long.

use std::time::Duration;

/// Exponential backoff with full jitter: a random wait up to 0.5 s × 2^attempt,
/// capped at 30 s, so many clients failing together do not retry together.
pub fn backoff(attempt: u32) -> Duration {
    let cap_ms = (500u64 << attempt.min(6)).min(30_000);
    let mut bytes = [0u8; 8];
    let random = if getrandom::fill(&mut bytes).is_ok() { u64::from_le_bytes(bytes) } else { cap_ms / 2 };
    Duration::from_millis(cap_ms / 2 + random % (cap_ms / 2 + 1))
}

/// `Retry-After`: seconds, or an HTTP date (judged on the server's clock).
/// Returns server milliseconds to wait.
pub fn retry_after_ms(value: &str, server_now_ms: i64) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Some((seconds.max(0.0) * 1000.0) as i64);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
    Some((at_ms - server_now_ms).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(retry_after_ms("3", 0), Some(3000));
        let now = 1_700_000_000_000;
        let date = httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_millis(now as u64 + 2000));
        assert_eq!(retry_after_ms(&date, now), Some(2000));
        assert_eq!(retry_after_ms("soon", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..10 {
            let d = backoff(attempt).as_millis() as u64;
            let cap = (500u64 << attempt.min(6)).min(30_000);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d}");
        }
    }
}
