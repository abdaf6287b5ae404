//! Settling one record of a live run: journal, reserve, deliver, confirm a
//! delivery in doubt, write back. The records of one batch settle concurrently.

use std::collections::HashSet;

use flowmap_state::{DeliveryEnd, JournalEntry};
use minijinja::Value;

use super::reserve::Identity;
use super::{Ending, Live, MAX_SENDS, Settled};
use crate::access::Asker;
use crate::compile::CompiledRequest;
use crate::deliver::{DeliverError, FileTarget, PlannedRequest, Target};
use crate::expr::Scope;
use crate::http::{CallError, Shutdown};
use crate::run::outcome::{Context, Outcome, Status};
use crate::run::{Reason, ReasonKind};
use crate::write_back::WriteBack;

/// Settles single records: shared by the records of one batch, which run concurrently.
pub(super) struct Settle<'a> {
    pub live: &'a Live<'a>,
    pub run: i64,
    pub asker: &'a Asker,
    pub settings: &'a Value,
    pub doubt: &'a HashSet<String>,
    pub target: &'a dyn Target,
    /// A file target: records are gathered into files and settled a file at a time (`files.rs`).
    pub files: Option<&'a FileTarget<'a>>,
    pub write_back: &'a dyn WriteBack,
}

impl Settle<'_> {
    pub(super) fn entry(&self, key: &str, event: &str, status: Option<&str>) -> JournalEntry {
        JournalEntry {
            run: Some(self.run),
            flow: self.live.flow.name.clone(),
            key: key.to_string(),
            event: event.to_string(),
            status: status.map(str::to_string),
            source: None,
            payload: None,
            answer: None,
            target_id: None,
            reasons: Vec::new(),
            detail: None,
            version: None,
        }
    }

    pub(super) fn journal(&self, entries: &[JournalEntry]) -> Result<(), String> {
        self.live.state.record(entries).map_err(|e| format!("the journal could not be written: {e}"))
    }

    pub(super) async fn record(&self, o: Outcome) -> Settled {
        let key = o.key.clone();
        match self.settle(o).await {
            Ok(s) => s,
            // The journal is the one thing a run cannot do without.
            Err(message) => Settled::new(Ending::Failed, key, vec![message.clone()], 0, Some(message)),
        }
    }

    pub(super) async fn settle(&self, o: Outcome) -> Result<Settled, String> {
        let source = o.context.as_ref().map(|c| crate::value::to_json(&c.record));
        let key = o.key.clone();
        // What its look-ups created in a target is the record's story too, whatever becomes of it.
        let created: Vec<_> = o
            .created
            .iter()
            .map(|(what, answer)| {
                let mut e = self.entry(&key, "created", None);
                e.detail = Some(what.clone());
                e.answer = Some(answer.clone());
                e
            })
            .collect();
        if !created.is_empty() {
            self.journal(&created)?;
        }
        match o.status {
            Status::Ignored => Ok(Settled::new(Ending::Ignored, key, Vec::new(), 0, None)),
            // Never settled: the run stops before (`run_records`); this keeps it so.
            _ if o.configuration_error().is_some() => {
                Ok(Settled::new(Ending::Left, key, Vec::new(), 0, o.configuration_error().map(|r| r.stop_message())))
            }
            _ if o.waits() => {
                let mut e = self.entry(&key, "failed", Some("failed"));
                e.source = source;
                e.reasons = texts(&o.reasons);
                self.journal(&[e])?;
                Ok(Settled::new(Ending::Failed, key, texts(&o.reasons), 0, None))
            }
            Status::Skipped => {
                let reconciled = self.doubt.contains(&key);
                let (event, status) = if reconciled { ("reconciled", "sent") } else { ("skipped", "skipped") };
                let mut e = self.entry(&key, event, Some(status));
                e.source = source;
                e.answer = o.found.as_ref().map(crate::value::to_json);
                e.detail = o.message.clone();
                e.target_id = self.target_id(o.found.as_ref());
                self.journal(&[e])?;
                let failures = self.write_back(&key, &o.write_backs).await?;
                let why = o.message.clone().into_iter().collect();
                Ok(Settled::new(if reconciled { Ending::Reconciled } else { Ending::Skipped }, key, why, failures, None))
            }
            Status::Blocked => {
                let mut e = self.entry(&key, "blocked", Some("blocked"));
                e.source = source;
                e.reasons = texts(&o.reasons);
                self.journal(&[e])?;
                let failures = self.write_back(&key, &o.write_backs).await?;
                Ok(Settled::new(Ending::Blocked, key, texts(&o.reasons), failures, None))
            }
            Status::Ready if self.live.cancel.as_ref().is_some_and(Shutdown::is_set) => Ok(Settled::new(Ending::Left, key, Vec::new(), 0, None)),
            Status::Ready => self.deliver(o, source).await,
        }
    }

    pub(super) async fn deliver(&self, o: Outcome, source: Option<serde_json::Value>) -> Result<Settled, String> {
        let key = o.key.clone();
        let (Some(request), Some(ctx)) = (o.request.as_ref(), o.context.as_deref()) else {
            return Ok(Settled::new(Ending::Failed, key, vec!["nothing to deliver".into()], 0, None));
        };
        let body = request.body.as_ref().map(crate::value::to_json);
        let mut source = source;
        // A creation is reserved by its identity at the target first: whoever
        // else delivers the same identity (another flow, run or process on this
        // state file) is waited for, and then the target is asked.
        let identity = self.identity(ctx);
        for attempt in 1..=MAX_SENDS {
            let mut e = self.entry(&key, "sending", Some("sending"));
            e.source = source.take();
            e.payload = body.clone();
            e.detail = Some(format!("{} {} (attempt {attempt})", request.method, request.path));
            e.version = ctx.version.clone();
            match (&identity, attempt) {
                (Some(identity), 1) => {
                    if let Some(settled) = self.reserve(&key, ctx, identity, e).await? {
                        return Ok(settled);
                    }
                }
                _ => self.journal(&[e])?,
            }
            match self.target.deliver(request, ctx.found.as_ref()).await {
                Ok(delivered) => return self.sent(&key, ctx, delivered.answer, "sent", identity.as_ref()).await,
                Err(DeliverError::Refused { reason }) => return self.refused(&key, ctx, reason, identity.as_ref()).await,
                Err(DeliverError::Unknown { message }) => {
                    let mut e = self.entry(&key, "unknown_outcome", Some("unknown"));
                    e.detail = Some(message.clone());
                    self.journal(&[e])?;
                    match self.confirm(ctx).await {
                        Some(Ok(Some(found))) => return self.sent(&key, ctx, found, "reconciled", identity.as_ref()).await,
                        // Not there: the write was not applied, so sending again is safe.
                        Some(Ok(None)) => continue,
                        Some(Err(e)) => {
                            self.end(identity.as_ref(), &DeliveryEnd::Doubt, &[])?;
                            return Ok(Settled::new(Ending::Unknown, key, vec![message, format!("the existence check failed: {e}")], 0, stop_of(&e)));
                        }
                        None => {
                            let why = "the flow has no existence check, so it is not sent again; check the target, then replay".to_string();
                            return Ok(Settled::new(Ending::Unknown, key, vec![message, why], 0, None));
                        }
                    }
                }
                // A stop (consent lost, the daily budget spent, the engine shutting down) is
                // not the record's doing and nothing was applied: the record is the next run's,
                // as those not yet sent are.
                Err(DeliverError::Stop { message } | DeliverError::Misconfigured { message }) => {
                    let mut entry = self.entry(&key, "left", Some("left"));
                    entry.reasons = vec![format!("not sent: {message}")];
                    self.end(identity.as_ref(), &DeliveryEnd::NotDelivered, &[entry])?;
                    return Ok(Settled::new(Ending::Left, key, Vec::new(), 0, Some(message)));
                }
                Err(DeliverError::Failed { message }) => {
                    let mut entry = self.entry(&key, "failed", Some("failed"));
                    entry.reasons = vec![format!("not sent: {message}")];
                    self.end(identity.as_ref(), &DeliveryEnd::NotDelivered, &[entry])?;
                    return Ok(Settled::new(Ending::Failed, key, vec![format!("not sent: {message}")], 0, None));
                }
            }
        }
        let why = format!("no answer after {MAX_SENDS} deliveries, and the target does not have it");
        let mut e = self.entry(&key, "failed", Some("failed"));
        e.reasons = vec![why.clone()];
        self.end(identity.as_ref(), &DeliveryEnd::NotDelivered, &[e])?;
        Ok(Settled::new(Ending::Failed, key, vec![why], 0, None))
    }

    /// Delivered (or found delivered): journal, then the `sent` write-backs planned from the real answer.
    pub(super) async fn sent(
        &self,
        key: &str,
        ctx: &Context,
        result: serde_json::Value,
        event: &str,
        identity: Option<&Identity>,
    ) -> Result<Settled, String> {
        let target_id = self.target_id(Some(&crate::value::from_json(&result)));
        let result_json = result.clone();
        let mut e = self.entry(key, event, Some("sent"));
        e.answer = Some(result);
        e.version = ctx.version.clone();
        e.target_id = target_id.clone();
        self.end(identity, &DeliveryEnd::Sent(target_id), &[e])?;
        // Planned once, here, from the target's real answer.
        let (writes, problems) = crate::write_back::plan_sent(self.live.flow, self.settings, ctx, &result_json);
        let (failures, stop) = self.write_back_planned(key, &writes, problems).await?;
        let ending = if event == "reconciled" { Ending::Reconciled } else { Ending::Sent };
        Ok(Settled::new(ending, key, Vec::new(), failures, stop))
    }
    /// The target refused the payload: a block, with the target's own words as the reason.
    pub(super) async fn refused(&self, key: &str, ctx: &Context, reason: String, identity: Option<&Identity>) -> Result<Settled, String> {
        let mut e = self.entry(key, "blocked", Some("blocked"));
        e.reasons = vec![reason.clone()];
        self.end(identity, &DeliveryEnd::NotDelivered, &[e])?;
        let mut scope = self.scope(ctx);
        scope.push("reasons", Value::from(vec![reason.clone()]));
        let (writes, _) = crate::write_back::plan(&self.live.flow.after.blocked, &mut scope);
        let failures = self.write_back(key, &writes).await?;
        Ok(Settled::new(Ending::Blocked, key.to_string(), vec![reason], failures, None))
    }

    /// Asks the target whether a delivery in doubt arrived; None without an existence check.
    pub(super) async fn confirm(&self, ctx: &Context) -> Option<Result<Option<serde_json::Value>, CallError>> {
        let x = self.live.flow.exists.as_ref()?;
        let key = ctx.exists_key.clone()?;
        let keys = [key.clone()];
        let found = self.asker.find(&x.system, &x.entity, &x.match_field, &keys, &x.show).await;
        let mut scope = self.scope(ctx);
        // A `when` that cannot be judged counts the record found as there: never send twice on a doubt.
        let counts = |r: &serde_json::Value| x.counts(&mut scope, &key, &crate::value::from_json(r)).unwrap_or(true);
        Some(found.map(|list| {
            list.into_iter()
                .filter(|r| r.get(&x.match_field).is_some_and(|v| crate::value::key_text(&crate::value::from_json(v)) == key))
                .find(counts)
        }))
    }

    /// Plans `requests` in `scope` and writes them back. Returns the failures.
    pub(super) async fn plan_and_write_back(&self, key: &str, requests: &[CompiledRequest], scope: &mut Scope) -> Result<u64, String> {
        let (writes, problems) = crate::write_back::plan(requests, scope);
        Ok(self.write_back_planned(key, &writes, problems).await?.0)
    }

    /// Writes back what was planned; a write-back that could not be planned is
    /// journaled as failed, and one that failed on the flow's mistake stops the
    /// run (after this record, delivered, is journaled). Returns the failures and the stop.
    pub(super) async fn write_back_planned(
        &self,
        key: &str,
        writes: &[PlannedRequest],
        problems: Vec<Reason>,
    ) -> Result<(u64, Option<String>), String> {
        let mut failures = self.write_back(key, writes).await?;
        let stop = problems.iter().find(|r| r.kind == ReasonKind::Flow).map(Reason::stop_message);
        if !problems.is_empty() {
            let mut e = self.entry(key, "write_back_failed", None);
            e.reasons = texts(&problems);
            self.journal(&[e])?;
            failures += 1;
        }
        Ok((failures, stop))
    }

    pub(super) async fn write_back(&self, key: &str, writes: &[PlannedRequest]) -> Result<u64, String> {
        let mut failures = 0;
        for w in writes {
            let detail = match &w.once {
                Some(once) => format!("{} {} {} once: {once}", w.system, w.method, w.path),
                None => format!("{} {} {}", w.system, w.method, w.path),
            };
            // A `once` write-back (a picture uploaded) already written back for this record is not sent again.
            if w.once.is_some() && self.written_back(key, &detail)? {
                continue;
            }
            let result = self.write_back.send(w).await;
            let mut e = self.entry(key, if result.is_ok() { "written_back" } else { "write_back_failed" }, None);
            e.detail = Some(detail);
            if let Err(err) = result {
                e.reasons = vec![err];
                failures += 1;
            }
            self.journal(&[e])?;
        }
        Ok(failures)
    }

    fn written_back(&self, key: &str, detail: &str) -> Result<bool, String> {
        let history = self.live.state.history(&self.live.flow.name, key).map_err(|e| format!("the journal could not be read: {e}"))?;
        Ok(history.iter().any(|h| h.event == "written_back" && h.detail.as_deref() == Some(detail)))
    }

    pub(super) fn scope(&self, ctx: &Context) -> Scope {
        ctx.scope(self.live.flow, self.settings)
    }

    pub(super) fn target_id(&self, record: Option<&Value>) -> Option<String> {
        let field = self.live.flow.target.key_field.as_deref()?;
        let v = record?.get_attr(field).ok()?;
        (!v.is_undefined() && !v.is_none()).then(|| crate::value::key_text(&v))
    }
}

pub(super) fn texts(reasons: &[Reason]) -> Vec<String> {
    reasons.iter().map(|r| r.text.clone()).collect()
}

pub(super) fn stop_of(e: &CallError) -> Option<String> {
    match e {
        CallError::Stop { message } => Some(message.clone()),
        _ => None,
    }
}
