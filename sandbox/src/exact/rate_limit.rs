//! Exact's API limits per division: a minutely window (the clock minute) and a daily one (the UTC
//! day), reported in `X-RateLimit-*` headers with resets in epoch milliseconds.

use std::collections::HashMap;

use crate::config::Limits;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Default)]
pub struct RateLimiter {
    usage: HashMap<String, Usage>,
}

#[derive(Default)]
struct Usage {
    minute: i64,
    in_minute: u32,
    day: i64,
    in_day: u32,
}

pub enum Verdict {
    /// Counted; the headers show what is left.
    Allowed(Vec<(String, String)>),
    /// Over a limit: a 429 carrying only that limit's headers. Not counted.
    Exceeded(Vec<(String, String)>),
}

impl RateLimiter {
    /// Counts one call against `division`, unless a limit is already used up.
    pub fn check(&mut self, division: &str, limits: Limits, now_ms: i64) -> Verdict {
        let (minute, day) = (now_ms.div_euclid(MINUTE_MS), now_ms.div_euclid(DAY_MS));
        let usage = self.usage.entry(division.to_string()).or_default();
        if usage.minute != minute {
            *usage = Usage { minute, in_minute: 0, ..*usage };
        }
        if usage.day != day {
            *usage = Usage { day, in_day: 0, ..*usage };
        }
        let minutely = |used: u32| minutely_headers(limits.minutely, used, (minute + 1) * MINUTE_MS);
        let daily = |used: u32| daily_headers(limits.daily, used, (day + 1) * DAY_MS);
        if usage.in_day >= limits.daily {
            return Verdict::Exceeded(daily(usage.in_day));
        }
        if usage.in_minute >= limits.minutely {
            return Verdict::Exceeded(minutely(usage.in_minute));
        }
        usage.in_minute += 1;
        usage.in_day += 1;
        let mut headers = minutely(usage.in_minute);
        headers.extend(daily(usage.in_day));
        Verdict::Allowed(headers)
    }
}

fn minutely_headers(limit: u32, used: u32, reset_ms: i64) -> Vec<(String, String)> {
    vec![
        ("X-RateLimit-Minutely-Limit".into(), limit.to_string()),
        ("X-RateLimit-Minutely-Remaining".into(), limit.saturating_sub(used).to_string()),
        ("X-RateLimit-Minutely-Reset".into(), reset_ms.to_string()),
    ]
}

fn daily_headers(limit: u32, used: u32, reset_ms: i64) -> Vec<(String, String)> {
    vec![
        ("X-RateLimit-Limit".into(), limit.to_string()),
        ("X-RateLimit-Remaining".into(), limit.saturating_sub(used).to_string()),
        ("X-RateLimit-Reset".into(), reset_ms.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn minutely_limit_resets_at_the_next_clock_minute() {
        let mut limiter = RateLimiter::default();
        let limits = Limits { minutely: 2, daily: 100, enabled: true };
        let now = 1_683_879_505_000; // 08:18:25Z
        for remaining in ["1", "0"] {
            let Verdict::Allowed(h) = limiter.check("1", limits, now) else { panic!("allowed") };
            assert_eq!(header(&h, "X-RateLimit-Minutely-Remaining"), Some(remaining));
            assert_eq!(header(&h, "X-RateLimit-Minutely-Reset"), Some("1683879540000"));
            assert_eq!(header(&h, "X-RateLimit-Reset"), Some("1683936000000"));
        }
        let Verdict::Exceeded(h) = limiter.check("1", limits, now) else { panic!("exceeded") };
        assert!(header(&h, "X-RateLimit-Limit").is_none() && header(&h, "X-RateLimit-Minutely-Limit") == Some("2"));
        assert!(matches!(limiter.check("2", limits, now), Verdict::Allowed(_)), "divisions count apart");
        assert!(matches!(limiter.check("1", limits, 1_683_879_540_000), Verdict::Allowed(_)));
    }

    #[test]
    fn daily_limit_answers_with_daily_headers_only() {
        let mut limiter = RateLimiter::default();
        let limits = Limits { minutely: 10, daily: 1, enabled: true };
        assert!(matches!(limiter.check("1", limits, 0), Verdict::Allowed(_)));
        let Verdict::Exceeded(h) = limiter.check("1", limits, 120_000) else { panic!("exceeded") };
        assert_eq!(header(&h, "X-RateLimit-Remaining"), Some("0"));
        assert!(header(&h, "X-RateLimit-Minutely-Limit").is_none());
    }
}
