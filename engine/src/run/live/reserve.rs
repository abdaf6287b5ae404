//! Reserving a creation's identity at its target before it is delivered (see
//! flowmap-state's deliveries): whoever else delivers the same identity, from
//! another flow, run or process on this state file, is waited for, and then
//! the target is asked.

use std::time::{Duration, Instant};

use flowmap_state::{Delivered, DeliveryEnd, JournalEntry, Reservation};
use minijinja::Value;

use super::settle::{Settle, stop_of};
use super::{Ending, Settled};
use crate::http::Shutdown;
use crate::model::ExistsAction;
use crate::run::outcome::Context;

/// How long a record waits for another run delivering the same identity
/// (one delivery, with its retries, takes far less), before it is left for
/// the next run.
const RESERVE_WAIT: Duration = Duration::from_secs(300);
/// The first and the longest pause between two looks at a held reservation.
const RESERVE_POLL_FIRST: Duration = Duration::from_millis(20);
const RESERVE_POLL_MAX: Duration = Duration::from_millis(500);

/// What a creation is reserved by: e.g. target "exact SalesOrders YourRef",
/// identity "PO50001".
pub(super) struct Identity {
    target: String,
    identity: String,
}

/// Who else delivered an identity, in words.
trait Describe {
    fn describe(&self) -> String;
}

impl Describe for Delivered {
    fn describe(&self) -> String {
        format!("flow {} (record {}, run {})", self.flow, self.key, self.run)
    }
}

impl Settle<'_> {
    /// The identity a creation is reserved by: the existence check's system,
    /// entity and field, and this record's key there. None for updates (a
    /// record found is updated in place, twice is harmless) and for flows
    /// without an existence check (nothing identifies what they send).
    pub(super) fn identity(&self, ctx: &Context) -> Option<Identity> {
        let x = self.live.flow.exists.as_ref()?;
        if ctx.found.is_some() {
            return None;
        }
        let identity = ctx.exists_key.clone()?;
        Some(Identity { target: format!("{} {} {}", x.system, x.entity, x.match_field), identity })
    }

    /// Reserves `identity` for this record and journals `sending` with it.
    /// None: go on and deliver. Some: the record is settled without delivery
    /// (someone else delivered it, or the wait was given up).
    pub(super) async fn reserve(&self, key: &str, ctx: &Context, identity: &Identity, sending: JournalEntry) -> Result<Option<Settled>, String> {
        let flow = &self.live.flow.name;
        let started = Instant::now();
        let mut pause = RESERVE_POLL_FIRST;
        loop {
            let answer = self
                .live
                .state
                .reserve_delivery(&identity.target, &identity.identity, flow, key, self.run, std::slice::from_ref(&sending))
                .map_err(|e| format!("the journal could not be written: {e}"))?;
            let by = match answer {
                Reservation::Fresh => return Ok(None),
                Reservation::Confirm(by) => by,
                Reservation::Held(by) => {
                    if self.live.cancel.as_ref().is_some_and(Shutdown::is_set) {
                        return Ok(Some(Settled::new(Ending::Left, key.to_string(), Vec::new(), 0, None)));
                    }
                    if started.elapsed() > RESERVE_WAIT {
                        let why = format!(
                            "{} {} is being delivered by {} for more than {} s; left for the next run (the existence check decides then)",
                            identity.target,
                            identity.identity,
                            by.describe(),
                            RESERVE_WAIT.as_secs()
                        );
                        let mut e = self.entry(key, "failed", Some("failed"));
                        e.reasons = vec![why.clone()];
                        self.journal(&[e])?;
                        return Ok(Some(Settled::new(Ending::Failed, key.to_string(), vec![why], 0, None)));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RESERVE_POLL_MAX);
                    continue;
                }
            };
            // Delivered before (or in doubt) by someone else: the target decides.
            return match self.confirm(ctx).await {
                Some(Ok(Some(found))) => self.delivered_elsewhere(key, ctx, identity, found, &by).await.map(Some),
                Some(Ok(None)) => {
                    self.journal(&[sending])?;
                    Ok(None)
                }
                Some(Err(e)) => {
                    let why =
                        format!("{} {} was delivered by {}, and the existence check failed: {e}", identity.target, identity.identity, by.describe());
                    let mut entry = self.entry(key, "failed", Some("failed"));
                    entry.reasons = vec![why.clone()];
                    self.end(Some(identity), &DeliveryEnd::Doubt, &[entry])?;
                    Ok(Some(Settled::new(Ending::Failed, key.to_string(), vec![why], 0, stop_of(&e))))
                }
                None => Ok(None),
            };
        }
    }

    /// Another flow, run or process delivered this identity while this run
    /// was getting to it: skipped as if the existence check had found it
    /// (an upserting flow leaves it for its next run, which updates it).
    async fn delivered_elsewhere(
        &self,
        key: &str,
        ctx: &Context,
        identity: &Identity,
        found: serde_json::Value,
        by: &Delivered,
    ) -> Result<Settled, String> {
        let flow = self.live.flow;
        let found_value = crate::value::from_json(&found);
        let target_id = self.target_id(Some(&found_value));
        let Some(x) = flow.exists.as_ref().filter(|x| x.then == ExistsAction::Skip) else {
            let why = format!("{} {} was created meanwhile by {}; the next run updates it", identity.target, identity.identity, by.describe());
            let mut e = self.entry(key, "failed", Some("failed"));
            e.reasons = vec![why.clone()];
            self.end(Some(identity), &DeliveryEnd::Sent(target_id), &[e])?;
            return Ok(Settled::new(Ending::Failed, key.to_string(), vec![why], 0, None));
        };
        let mut scope = self.scope(ctx);
        scope.push("key", Value::from(identity.identity.clone()));
        scope.push("found", found_value);
        let message = format!("{} (delivered by {})", x.message.render_lossy(&scope), by.describe());
        let mut e = self.entry(key, "skipped", Some("skipped"));
        e.answer = Some(found);
        e.detail = Some(message.clone());
        e.target_id = target_id.clone();
        self.end(Some(identity), &DeliveryEnd::Sent(target_id), &[e])?;
        let failures = self.plan_and_write_back(key, &flow.after.skipped, &mut scope).await?;
        Ok(Settled::new(Ending::Skipped, key.to_string(), vec![message], failures, None))
    }

    /// Ends this run's reservation of `identity` (if the delivery had one),
    /// journaling `entries` in the same transaction.
    pub(super) fn end(&self, identity: Option<&Identity>, end: &DeliveryEnd, entries: &[JournalEntry]) -> Result<(), String> {
        match identity {
            Some(identity) => self
                .live
                .state
                .end_delivery(&identity.target, &identity.identity, self.run, end, entries)
                .map_err(|e| format!("the journal could not be written: {e}")),
            None if entries.is_empty() => Ok(()),
            None => self.journal(entries),
        }
    }
}
