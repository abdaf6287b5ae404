//! Runs each flow on its own schedule, on the engine's clock. The next firing
//! of every flow is worked out again after each reload, so an edited pattern
//! counts from the moment it is loaded. A firing that finds the flow still
//! running is skipped (and counted), not queued. Records waiting in the inbox
//! (named by webhooks while their flow was busy, or before a restart) are run
//! here once their flow is free; what a try leaves there is `inbox.rs`'s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::engine::Engine;
use super::trigger::{TriggerError, begin};
use crate::run::Records;

/// The scheduler looks at the clock at least this often (real time), so a
/// fast test clock and a reload are both noticed promptly.
const LOOK_AT_LEAST_EVERY: Duration = Duration::from_millis(250);

/// After a run for waiting records, the same flow's records wait at least this
/// long (real time) before the next try, so a system that is down is not asked
/// four times a second; each further try while records still wait doubles it,
/// up to [`INBOX_RETRY_MAX`] (a record the source keeps refusing is not asked
/// for every 30 s for ever).
const INBOX_RETRY: Duration = Duration::from_secs(30);
const INBOX_RETRY_MAX: Duration = Duration::from_secs(3600);

/// When a flow's waiting records were last tried, and the wait before the next try.
struct Tried {
    at: tokio::time::Instant,
    wait: Duration,
}

pub async fn run(engine: Arc<Engine>) {
    // Flow → (the pattern it was worked out from, the next firing).
    let mut next: HashMap<String, (String, DateTime<Utc>)> = HashMap::new();
    // Flow → when its waiting records were last tried.
    let mut tried: HashMap<String, Tried> = HashMap::new();
    loop {
        if engine.shutting_down() {
            return;
        }
        let set = engine.flows();
        let now = engine.clock.now();
        next.retain(|name, _| set.flows.get(name).is_some_and(|f| f.schedule.is_some()));
        for (name, flow) in &set.flows {
            let Some(schedule) = &flow.schedule else { continue };
            let pattern = format!("{} {}", schedule.cron, schedule.timezone.name());
            let due = match next.get(name) {
                Some((p, at)) if *p == pattern => *at,
                _ => match schedule.next_after(now) {
                    Some(at) => {
                        tracing::info!(flow = %name, next = %at, "scheduled");
                        next.insert(name.clone(), (pattern.clone(), at));
                        at
                    }
                    None => continue,
                },
            };
            if due > now {
                continue;
            }
            match begin(&engine, name, Records::Fetch, "schedule") {
                Ok(pending) => {
                    let name = name.clone();
                    tokio::spawn(async move {
                        match pending.started().await {
                            Ok(run) => tracing::info!(flow = %name, run, at = %due, "schedule fired"),
                            Err(e) => tracing::error!(flow = %name, at = %due, error = %e, "scheduled run did not start"),
                        }
                    });
                }
                Err(TriggerError::Running(r)) => {
                    engine.metrics.add("flowmap_schedule_skipped_total", &[("flow", name)], 1.0);
                    tracing::warn!(flow = %name, at = %due, running = ?r.run, "schedule skipped: the flow is still running");
                }
                Err(e) => tracing::error!(flow = %name, at = %due, error = %e, "scheduled run did not start"),
            }
            if let Some(at) = schedule.next_after(due.max(now)) {
                next.insert(name.clone(), (pattern, at));
            }
        }
        run_waiting(&engine, &mut tried);
        let soonest = next.values().map(|(_, at)| *at).min();
        let wait = soonest.map(|at| engine.clock.real_until(at)).unwrap_or(LOOK_AT_LEAST_EVERY).min(LOOK_AT_LEAST_EVERY);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = engine.changed.notified() => {}
        }
    }
}

/// Starts a run for the records waiting in the inbox of each free flow.
fn run_waiting(engine: &Arc<Engine>, tried: &mut HashMap<String, Tried>) {
    // Running first: a run that ends between the two looks is still counted as
    // running, so its flow keeps its count.
    let running = engine.running();
    let waiting = engine.waiting();
    // A flow with nothing waiting any more starts afresh next time (one running
    // now is not listed as waiting, and keeps its count); so does one whose
    // records an operator retried.
    tried.retain(|flow, _| running.contains_key(flow) || waiting.iter().any(|(f, _)| f == flow));
    for poked in engine.take_pokes() {
        tried.remove(&poked);
    }
    let set = engine.flows();
    for (name, keys) in waiting {
        let Some(wait) = next_wait(tried.get(&name)) else { continue };
        let Some(flow) = set.flows.get(&name) else { continue };
        let keys = super::inbox::runnable(engine, flow, keys);
        if keys.is_empty() {
            continue;
        }
        tried.insert(name.clone(), Tried { at: tokio::time::Instant::now(), wait });
        match begin(engine, &name, Records::Chosen(keys.clone()), "webhook") {
            Ok(pending) => {
                tokio::spawn(async move {
                    match pending.started().await {
                        Ok(run) => tracing::info!(flow = %name, run, keys = keys.len(), "waiting records run"),
                        Err(e) => tracing::warn!(flow = %name, keys = keys.len(), error = %e, "waiting records wait for the next try"),
                    }
                });
            }
            // Taken by a run that started meanwhile, or started by the next look.
            Err(TriggerError::Running(_)) => {
                tried.remove(&name);
            }
            Err(e) => tracing::warn!(flow = %name, keys = keys.len(), error = %e, "waiting records wait for the next try"),
        }
    }
}

/// Whether a flow's waiting records are tried now, and if so the wait after this try:
/// `None` while the last try's wait has not passed.
fn next_wait(last: Option<&Tried>) -> Option<Duration> {
    match last {
        Some(t) if t.at.elapsed() < t.wait => None,
        Some(t) => Some((t.wait * 2).min(INBOX_RETRY_MAX)),
        None => Some(INBOX_RETRY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tried(ago_s: u64, wait_s: u64) -> Tried {
        Tried { at: tokio::time::Instant::now() - Duration::from_secs(ago_s), wait: Duration::from_secs(wait_s) }
    }

    #[test]
    fn waiting_records_are_tried_ever_less_often_up_to_an_hour() {
        assert_eq!(next_wait(None), Some(Duration::from_secs(30)));
        assert_eq!(next_wait(Some(&tried(10, 30))), None);
        assert_eq!(next_wait(Some(&tried(31, 30))), Some(Duration::from_secs(60)));
        assert_eq!(next_wait(Some(&tried(61, 60))), Some(Duration::from_secs(120)));
        assert_eq!(next_wait(Some(&tried(2000, 1920))), Some(Duration::from_secs(3600)));
        assert_eq!(next_wait(Some(&tried(3601, 3600))), Some(Duration::from_secs(3600)));
    }
}
