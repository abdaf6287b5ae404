//! Xero's API limits (developer.xero.com/documentation/auth-and-limits/xero-api-limits, via
//! shared/reference/partner-systems.md §2): per tenant 60 calls a minute, 5,000 a day and 5 at
//! once; per app 10,000 a minute. Every answer says what is left in `X-MinLimit-Remaining`,
//! `X-DayLimit-Remaining` and `X-AppMinLimit-Remaining`; a call over a limit is answered 429 with
//! `X-Rate-Limit-Problem` (`minute`, `day`, `concurrent`, `appminute`) and `Retry-After` in
//! seconds, and is not counted. Windows are the sandbox clock's minute and UTC day.

use std::collections::HashMap;

use crate::config::Limits;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
pub const CONCURRENT: u32 = 5;
pub const APP_MINUTELY: u32 = 10_000;

#[derive(Default)]
pub struct RateLimiter {
    tenants: HashMap<String, Usage>,
    app_minute: i64,
    app_in_minute: u32,
}

#[derive(Default)]
struct Usage {
    minute: i64,
    in_minute: u32,
    day: i64,
    in_day: u32,
    in_flight: u32,
}

pub enum Verdict {
    /// Counted and in flight until `finish`; the headers show what is left.
    Allowed(Vec<(String, String)>),
    /// 429: the problem, the seconds to wait, and the headers.
    Exceeded(&'static str, i64, Vec<(String, String)>),
}

impl RateLimiter {
    pub fn check(&mut self, tenant: &str, limits: Limits, now_ms: i64) -> Verdict {
        let (minute, day) = (now_ms.div_euclid(MINUTE_MS), now_ms.div_euclid(DAY_MS));
        if self.app_minute != minute {
            self.app_minute = minute;
            self.app_in_minute = 0;
        }
        let usage = self.tenants.entry(tenant.to_string()).or_default();
        if usage.minute != minute {
            usage.minute = minute;
            usage.in_minute = 0;
        }
        if usage.day != day {
            usage.day = day;
            usage.in_day = 0;
        }
        let to_next_minute = ((minute + 1) * MINUTE_MS - now_ms + 999) / 1000;
        let problem = if usage.in_day >= limits.daily {
            Some(("day", ((day + 1) * DAY_MS - now_ms + 999) / 1000))
        } else if self.app_in_minute >= APP_MINUTELY {
            Some(("appminute", to_next_minute))
        } else if usage.in_minute >= limits.minutely {
            Some(("minute", to_next_minute))
        } else if usage.in_flight >= CONCURRENT {
            Some(("concurrent", 1))
        } else {
            None
        };
        if problem.is_none() {
            usage.in_minute += 1;
            usage.in_day += 1;
            usage.in_flight += 1;
            self.app_in_minute += 1;
        }
        let headers = vec![
            ("X-DayLimit-Remaining".to_string(), limits.daily.saturating_sub(usage.in_day).to_string()),
            ("X-MinLimit-Remaining".to_string(), limits.minutely.saturating_sub(usage.in_minute).to_string()),
            ("X-AppMinLimit-Remaining".to_string(), APP_MINUTELY.saturating_sub(self.app_in_minute).to_string()),
        ];
        match problem {
            None => Verdict::Allowed(headers),
            Some((problem, seconds)) => Verdict::Exceeded(problem, seconds.max(1), headers),
        }
    }

    /// The call admitted by `check` has been answered.
    pub fn finish(&mut self, tenant: &str) {
        if let Some(usage) = self.tenants.get_mut(tenant) {
            usage.in_flight = usage.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
        headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    #[test]
    fn the_minute_limit_is_per_tenant_and_says_when_to_retry() {
        let mut limiter = RateLimiter::default();
        let limits = Limits { minutely: 2, daily: 100, enabled: true };
        let now = 1_683_879_505_000; // 25 s into a minute
        for remaining in ["1", "0"] {
            let Verdict::Allowed(h) = limiter.check("a", limits, now) else { panic!("allowed") };
            limiter.finish("a");
            assert_eq!(header(&h, "X-MinLimit-Remaining"), remaining);
        }
        let Verdict::Exceeded(problem, retry, h) = limiter.check("a", limits, now) else { panic!("exceeded") };
        assert_eq!((problem, retry, header(&h, "X-DayLimit-Remaining")), ("minute", 35, "98"));
        assert!(matches!(limiter.check("b", limits, now), Verdict::Allowed(_)), "tenants count apart");
    }

    #[test]
    fn more_than_five_at_once_is_concurrent() {
        let mut limiter = RateLimiter::default();
        let limits = Limits::default();
        for _ in 0..CONCURRENT {
            assert!(matches!(limiter.check("a", limits, 0), Verdict::Allowed(_)));
        }
        assert!(matches!(limiter.check("a", limits, 0), Verdict::Exceeded("concurrent", 1, _)));
        limiter.finish("a");
        assert!(matches!(limiter.check("a", limits, 0), Verdict::Allowed(_)));
    }
}
