//! What a run given records from the inbox leaves there. A record the run
//! settled leaves the inbox; one the source refused outright (the key itself:
//! 400, 404, a URL that cannot be made) is given up at once as a dead letter
//! with the source's words; any other try that did not settle it (the source
//! denied it for now, the system was down, the run could not start) is
//! counted, and the last try allowed gives it up too. A run cut short by the
//! engine's own shutdown is no try at all: its records wait for the restart.
//!
//! Dead letters stay, with their reason, until an operator retries or drops
//! them (`/inbox`) or a new event for the record arrives.

use flowmap_state::GiveUp;

use super::engine::Engine;
use crate::compile::CompiledFlow;
use crate::keys::shown;
use crate::run::{LiveReport, NotHad};

/// Tries of a record before it is given up. The first comes with the event,
/// the next as soon as the flow is free, then after waits of 30 s doubling to
/// an hour (see the scheduler): the 12th try is about four hours after the
/// event, long enough to ride out an outage of the system or a lost consent
/// fixed the same morning, short enough that a record nobody can settle is
/// shown as such the same day.
pub const MAX_TRIES: i64 = 12;

/// Settles what the run of `flow` did with the records it took from the
/// inbox (`seen`: each key with the events counted when the run started).
pub fn after_run(engine: &Engine, flow: &str, seen: Vec<(String, i64)>, result: &Result<LiveReport, String>) {
    if seen.is_empty() {
        return;
    }
    match result {
        Ok(report) if report.stopped.is_none() => finished(engine, flow, seen, report),
        Ok(report) if report.cut_by_shutdown => {}
        Ok(report) => tried(engine, flow, &seen, report.stopped.as_deref().unwrap_or("the run stopped"), GiveUp::After(MAX_TRIES)),
        Err(_) if engine.shutting_down() => {}
        Err(why) => tried(engine, flow, &seen, why, GiveUp::After(MAX_TRIES)),
    }
}

/// A run that went to its end: what it had leaves the inbox, what the source did not give stays by why.
fn finished(engine: &Engine, flow: &str, seen: Vec<(String, i64)>, report: &LiveReport) {
    let mut taken = Vec::new();
    for (key, events) in seen {
        let Some(not_had) = report.not_had.iter().find(|(k, _)| *k == key).map(|(_, n)| *n) else {
            taken.push((key, events));
            continue;
        };
        let why = report.problems.iter().find(|(k, ..)| *k == key).and_then(|(_, _, reasons)| reasons.first()).map_or("not had", String::as_str);
        let give_up = match not_had {
            NotHad::Missing | NotHad::Refused => GiveUp::Now,
            NotHad::Denied => GiveUp::After(MAX_TRIES),
        };
        tried(engine, flow, &[(key, events)], why, give_up);
    }
    if let Err(e) = engine.state.take_inbox(flow, &taken) {
        tracing::error!(flow = %flow, error = %e, "cannot clear the inbox; its records run again (the existence check keeps them from being sent twice)");
    }
}

/// Counts a try that did not settle the records, and says which were given up.
fn tried(engine: &Engine, flow: &str, seen: &[(String, i64)], why: &str, give_up: GiveUp) {
    let why = crate::http::redact(why);
    match engine.state.inbox_tried(flow, seen, &why, give_up) {
        Ok(dead) => {
            for key in dead {
                engine.metrics.add("flowmap_inbox_dead_letters_total", &[("flow", flow)], 1.0);
                tracing::warn!(flow = %flow, key = %shown(&key), why = %why, "inbox record given up: a dead letter until retried or dropped");
            }
        }
        Err(e) => tracing::error!(flow = %flow, error = %e, "cannot count a try in the inbox; its records wait as they were"),
    }
}

/// The keys of `flow` waiting in the inbox that may run; those that are not
/// keys it takes (written before keys were checked, or before the flow
/// declared their shape) are given up at once, with why.
pub fn runnable(engine: &Engine, flow: &CompiledFlow, keys: Vec<String>) -> Vec<String> {
    let (good, bad): (Vec<String>, Vec<String>) = keys.into_iter().partition(|k| crate::keys::check(k, flow.source.key_shape.as_deref()).is_ok());
    for key in bad {
        let why = crate::keys::check(&key, flow.source.key_shape.as_deref()).err().map(|e| e.to_string()).unwrap_or_default();
        match engine.state.inbox_seen(&flow.name, std::slice::from_ref(&key)) {
            Ok(seen) => tried(engine, &flow.name, &seen, &why, GiveUp::Now),
            Err(e) => tracing::error!(flow = %flow.name, error = %e, "cannot read the inbox"),
        }
    }
    good
}
