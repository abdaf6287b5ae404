//! Rate-limit budgets read from answer headers (Exact: 60 a minute, 5,000 a
//! day). Calls are held back when a budget is spent, until it resets, rather
//! than earning a 429; a budget marked `stops_run` (the daily one) ends the
//! run instead, saying when it resets.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use super::CallError;
use super::clock::{ServerClock, format_utc};
use super::waiting::{WaitReason, Waiting, Waits};
use crate::model::{RateLimitDef, ResetUnit};

/// Server milliseconds added to a reset before calling again, for clock error
/// (the `Date` header has whole seconds; on a sandbox's fast clock a request's
/// latency is worth many server milliseconds).
fn reset_margin_ms(clock: &ServerClock) -> i64 {
    1000.max((25.0 * clock.speed()) as i64)
}

/// What is known of one budget's calls left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Left {
    /// No answer yet (or a fresh window of unannounced size): one call goes
    /// first and its answer tells the rest.
    #[default]
    Unknown,
    /// The server does not announce this budget (a sandbox with limits off).
    Unannounced,
    Known(i64),
}

#[derive(Debug, Clone, Copy, Default)]
struct Budget {
    left: Left,
    reset_ms: Option<i64>,
    /// The budget's size, when the server announces it.
    limit: Option<i64>,
}

#[derive(Debug, Default)]
struct Books {
    budgets: Vec<Budget>,
    /// Server times of the calls taken in the last minute, oldest first (a system's own pace).
    recent: std::collections::VecDeque<i64>,
    /// Calls taken whose answers have not been read: a fresh window starts
    /// with them already spent, since they may land in it.
    in_flight: i64,
}

/// What a caller may do now.
enum Take<'a> {
    Go(InFlight<'a>),
    /// Until the reset of the budget (by its index) that resets last.
    WaitUntil(i64, usize),
    /// Until the oldest call of the last minute is a minute old (the system's pace).
    Pace(i64),
    /// Only an answer can tell the budget (the first call of a run, or a
    /// fresh window of unannounced size): one call goes, the others wait.
    WaitForAnswer,
}

pub struct RateBudget {
    connection: String,
    defs: Vec<RateLimitDef>,
    /// Calls a minute the system allows without announcing it in headers (QuickBooks: 500).
    per_minute: Option<u32>,
    books: Mutex<Books>,
    /// Woken whenever a call's answer has been read (or it got none).
    answered: Notify,
    /// Real time spent waiting, counted once when several calls wait together.
    waited: Mutex<(Duration, Option<std::time::Instant>)>,
    /// Why the connection's calls wait now, for whoever shows a run's progress.
    waits: Waits,
}

/// One call counted against the budgets, until its answer has been read.
pub struct InFlight<'a> {
    budget: &'a RateBudget,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.budget.books().in_flight -= 1;
        self.budget.answered.notify_waiters();
    }
}

impl RateBudget {
    pub fn new(connection: &str, defs: &[RateLimitDef], per_minute: Option<u32>) -> Self {
        RateBudget {
            connection: connection.to_string(),
            defs: defs.to_vec(),
            per_minute: per_minute.filter(|n| *n > 0),
            books: Mutex::new(Books { budgets: vec![Budget::default(); defs.len()], recent: Default::default(), in_flight: 0 }),
            answered: Notify::new(),
            waited: Mutex::new((Duration::ZERO, None)),
            waits: Waits::default(),
        }
    }

    /// Why this connection's calls wait now, and until when (None: they do not).
    pub fn waiting(&self) -> Option<Waiting> {
        self.waits.current()
    }

    /// Waits `wait` before a call tries again (after a 429 or a failure),
    /// noting why; ends early when the engine shuts down.
    pub async fn pause(&self, shutdown: &super::Shutdown, reason: WaitReason, wait: Duration) -> Result<(), CallError> {
        self.waits.note(reason, wait);
        shutdown.pause(wait).await
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Takes one call from every budget, waiting for a reset when one is
    /// spent. Hold what it returns until the call's answer has been read.
    pub async fn acquire(&self, clock: &ServerClock, shutdown: &super::Shutdown) -> Result<InFlight<'_>, CallError> {
        loop {
            // Registered before looking, so a probe's answer in between is not missed.
            let answered = self.answered.notified();
            match self.try_take(clock)? {
                Take::Go(call) => return Ok(call),
                Take::WaitForAnswer => answered.await,
                Take::WaitUntil(until, budget) => {
                    let wait = clock.real_wait_until(until + reset_margin_ms(clock));
                    self.count_wait(wait);
                    self.waits.note(WaitReason::Budget(self.defs[budget].name.clone()), wait);
                    shutdown.pause(wait).await?;
                }
                Take::Pace(until) => {
                    let wait = clock.real_wait_until(until);
                    self.count_wait(wait);
                    self.waits.note(WaitReason::Budget(format!("{} calls a minute", self.per_minute.unwrap_or_default())), wait);
                    shutdown.pause(wait).await?;
                }
            }
        }
    }

    fn try_take(&self, clock: &ServerClock) -> Result<Take<'_>, CallError> {
        let now = clock.now_ms();
        let mut books = self.books();
        let in_flight = books.in_flight;
        let mut wait: Option<(i64, usize)> = None;
        let mut blind = false;
        for (i, (def, b)) in self.defs.iter().zip(books.budgets.iter_mut()).enumerate() {
            if b.reset_ms.is_some_and(|r| now >= r + reset_margin_ms(clock)) {
                b.left = b.limit.map_or(Left::Unknown, |l| Left::Known(l - in_flight));
                b.reset_ms = None;
            }
            match (b.left, b.reset_ms) {
                (Left::Known(left), Some(reset)) if left <= 0 => {
                    if def.stops_run {
                        return Err(self.stopped(def, reset));
                    }
                    if wait.is_none_or(|(w, _)| reset > w) {
                        wait = Some((reset, i));
                    }
                }
                // Spent before any answer said when the window ends.
                (Left::Known(left), None) if left <= 0 => blind = true,
                (Left::Unknown, _) => blind = true,
                _ => {}
            }
        }
        if let Some((until, budget)) = wait {
            return Ok(Take::WaitUntil(until, budget));
        }
        if blind && in_flight > 0 {
            return Ok(Take::WaitForAnswer);
        }
        if let Some(most) = self.per_minute {
            while books.recent.front().is_some_and(|t| now - t >= 60_000) {
                books.recent.pop_front();
            }
            if books.recent.len() >= most as usize {
                return Ok(Take::Pace(books.recent.front().copied().unwrap_or(now) + 60_000));
            }
            books.recent.push_back(now);
        }
        for b in books.budgets.iter_mut() {
            if let Left::Known(left) = &mut b.left {
                *left = (*left - 1).max(0);
            }
        }
        books.in_flight += 1;
        Ok(Take::Go(InFlight { budget: self }))
    }

    /// Reads the budgets an answer announces. The server's count can lag the
    /// calls still in flight, so the lower of its count and ours is kept.
    pub fn observe(&self, header: impl Fn(&str) -> Option<String>, clock: &ServerClock) {
        self.observe_some(header, clock, &vec![true; self.defs.len()]);
    }

    /// `observe`, for the budgets marked in `which`.
    fn observe_some(&self, header: impl Fn(&str) -> Option<String>, clock: &ServerClock, which: &[bool]) {
        let now = clock.now_ms();
        let mut books = self.books();
        for ((def, b), _) in self.defs.iter().zip(books.budgets.iter_mut()).zip(which).filter(|(_, w)| **w) {
            let number = |name: &str| header(name).and_then(|v| v.trim().parse::<f64>().ok());
            let reset = number(&def.reset).map(|v| match def.reset_unit {
                ResetUnit::EpochMs => v as i64,
                ResetUnit::EpochSeconds => (v * 1000.0) as i64,
                ResetUnit::Seconds => now + (v * 1000.0) as i64,
            });
            if let Some(limit) = def.limit.as_deref().and_then(number) {
                b.limit = Some(limit as i64);
            }
            b.left = match (number(&def.remaining), b.left) {
                (Some(r), Left::Known(mine)) => Left::Known(mine.min(r as i64)),
                (Some(r), _) => Left::Known(r as i64),
                (None, Left::Unknown) => Left::Unannounced,
                (None, left) => left,
            };
            if reset.is_some() {
                b.reset_ms = reset;
            }
        }
    }

    /// After a 429: the budgets whose headers came with it are spent. Returns
    /// the reset to wait for, if the answer said, or a Stop for a budget that stops the run.
    pub fn spent(&self, header: impl Fn(&str) -> Option<String>, clock: &ServerClock) -> Result<Option<i64>, CallError> {
        // A 429 that names its budget (Xero's `X-Rate-Limit-Problem`) spends only that one; its
        // `Retry-After` says nothing of the others, so they do not read it.
        let about = |def: &RateLimitDef| match &def.problem {
            Some(p) => header(&p.header).is_some_and(|v| v.trim().eq_ignore_ascii_case(&p.value)),
            None => header(&def.remaining).is_some() || header(&def.reset).is_some(),
        };
        let concerned: Vec<bool> = self.defs.iter().map(about).collect();
        self.observe_some(&header, clock, &concerned);
        let mut books = self.books();
        let mut until = None;
        for ((def, b), concerned) in self.defs.iter().zip(books.budgets.iter_mut()).zip(concerned) {
            if !concerned {
                continue;
            }
            b.left = Left::Known(0);
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
          {"name":"minutely","limit":"M-Limit","remaining":"M-Remaining","reset":"M-Reset"},
          {"name":"daily","remaining":"D-Remaining","reset":"D-Reset","stops_run":true}]"#;
        serde_json::from_str(yaml).unwrap()
    }

    fn headers(now: i64, m: i64, d: i64) -> impl Fn(&str) -> Option<String> {
        move |h: &str| match h {
            "M-Limit" => Some("3".into()),
            "M-Remaining" => Some(m.to_string()),
            "M-Reset" => Some((now + 30_000).to_string()),
            "D-Remaining" => Some(d.to_string()),
            "D-Reset" => Some((now + 3_600_000).to_string()),
            _ => None,
        }
    }

    fn goes(take: Result<Take<'_>, CallError>) -> InFlight<'_> {
        match take {
            Ok(Take::Go(call)) => call,
            Ok(Take::WaitUntil(t, _)) => panic!("waits until {t}"),
            Ok(Take::WaitForAnswer) => panic!("waits for an answer"),
            Ok(Take::Pace(t)) => panic!("keeps the pace until {t}"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_pace_the_system_does_not_announce_is_kept() {
        let clock = ServerClock::new(1.0);
        let budget = RateBudget::new("qbo", &[], Some(3));
        let now = clock.now_ms();
        let calls: Vec<InFlight<'_>> = (0..3).map(|_| goes(budget.try_take(&clock))).collect();
        drop(calls);
        assert!(matches!(budget.try_take(&clock), Ok(Take::Pace(t)) if (now + 60_000..now + 61_000).contains(&t)));
    }

    /// Xero: every budget resets by `Retry-After`, and a 429 says which it is about.
    fn xero_defs() -> Vec<RateLimitDef> {
        let yaml = r#"[
          {"name":"minute","remaining":"X-MinLimit-Remaining","reset":"Retry-After","reset_unit":"seconds",
           "problem":{"header":"X-Rate-Limit-Problem","value":"minute"}},
          {"name":"day","remaining":"X-DayLimit-Remaining","reset":"Retry-After","reset_unit":"seconds","stops_run":true,
           "problem":{"header":"X-Rate-Limit-Problem","value":"day"}}]"#;
        serde_json::from_str(yaml).unwrap()
    }

    #[test]
    fn a_429_spends_only_the_budget_it_names() {
        let clock = ServerClock::new(1.0);
        let budget = RateBudget::new("xero", &xero_defs(), None);
        let minute = |h: &str| match h {
            "X-Rate-Limit-Problem" => Some("Minute".to_string()),
            "Retry-After" => Some("20".to_string()),
            _ => None,
        };
        let now = clock.now_ms();
        let until = budget.spent(minute, &clock).expect("a spent minute waits");
        assert!(until.is_some_and(|u| (now + 19_000..=now + 21_500).contains(&u)), "{until:?}");
        let day = |h: &str| match h {
            "X-Rate-Limit-Problem" => Some("day".to_string()),
            "Retry-After" => Some("3600".to_string()),
            _ => None,
        };
        let Err(stop) = budget.spent(day, &clock) else { panic!("a spent day stops the run") };
        assert!(stop.message().starts_with("the day rate limit of connection `xero` is spent"), "{stop}");
    }

    #[test]
    fn a_spent_minute_waits_and_a_spent_day_stops() {
        let clock = ServerClock::new(1.0);
        let budget = RateBudget::new("exact", &exact_defs(), None);
        let now = clock.now_ms();
        budget.observe(headers(now, 1, 100), &clock);
        let _first = goes(budget.try_take(&clock));
        assert!(matches!(budget.try_take(&clock), Ok(Take::WaitUntil(t, 0)) if t == now + 30_000));
        budget.observe(headers(now, 5, 0), &clock);
        let Err(stop) = budget.try_take(&clock) else { panic!("the day is spent") };
        assert!(stop.message().starts_with("the daily rate limit of connection `exact` is spent; it resets at "), "{stop}");
    }

    #[test]
    fn an_unknown_budget_lets_one_call_go_first() {
        let clock = ServerClock::new(1.0);
        let budget = RateBudget::new("exact", &exact_defs(), None);
        let probe = goes(budget.try_take(&clock));
        assert!(matches!(budget.try_take(&clock), Ok(Take::WaitForAnswer)));
        budget.observe(headers(clock.now_ms(), 2, 100), &clock);
        drop(probe);
        let _both = (goes(budget.try_take(&clock)), goes(budget.try_take(&clock)));
        assert!(matches!(budget.try_take(&clock), Ok(Take::WaitUntil(_, 0))));
    }

    #[test]
    fn an_unannounced_budget_does_not_hold_calls_back() {
        let clock = ServerClock::new(1.0);
        let budget = RateBudget::new("exact", &exact_defs(), None);
        let probe = goes(budget.try_take(&clock));
        budget.observe(|_: &str| None, &clock);
        drop(probe);
        let calls: Vec<_> = (0..10).map(|_| goes(budget.try_take(&clock))).collect();
        assert_eq!(budget.books().in_flight, calls.len() as i64);
    }

    #[test]
    fn a_fresh_window_starts_with_the_calls_still_in_flight_spent() {
        let clock = ServerClock::new(1.0);
        let budget = RateBudget::new("exact", &exact_defs(), None);
        let now = clock.now_ms();
        budget.observe(headers(now, 3, 100), &clock);
        let old = (goes(budget.try_take(&clock)), goes(budget.try_take(&clock)));
        // The minute of 3 ends while those two are still out.
        budget.observe(headers(now - 40_000, 1, 100), &clock);
        let _new = goes(budget.try_take(&clock));
        assert_eq!(budget.books().budgets[0].left, Left::Known(0));
        // Spent before an answer told the new window's end: wait for one.
        assert!(matches!(budget.try_take(&clock), Ok(Take::WaitForAnswer)));
        drop(old);
    }
}
