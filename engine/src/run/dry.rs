//! Settling without side effects, for dry-runs, flow tests and previews: the
//! same steps as a live run's settlement, against the recording ports — the
//! delivery is recorded and answered as the target would, the `sent`
//! write-backs are planned from that answer, every write-back is recorded.

use minijinja::Value;

use super::calls::CallLog;
use super::outcome::{Outcome, Status};
use crate::compile::CompiledFlow;
use crate::deliver::{DeliverError, Offered, Recorded, Target, Written, gather};
use crate::format::Control;
use crate::run::{Reason, ReasonKind};
use crate::write_back::WriteBack;

pub struct DrySettle<'a> {
    pub flow: &'a CompiledFlow,
    pub settings: Value,
    pub target: &'a dyn Target,
    pub write_back: &'a dyn WriteBack,
    pub recorded: &'a Recorded,
    pub rt: &'a tokio::runtime::Handle,
}

impl DrySettle<'_> {
    /// Settles one outcome as a live run would, sending nothing.
    pub fn outcome(&self, o: &mut Outcome) {
        if o.status == Status::Ready
            && !self.grouped()
            && let (Some(request), Some(ctx)) = (&o.request, o.context.as_deref())
        {
            match self.rt.block_on(self.target.deliver(request, ctx.found.as_ref())) {
                Ok(delivered) => {
                    let (writes, problems) = crate::write_back::plan_sent(self.flow, &self.settings, ctx, &delivered.answer);
                    o.write_backs = writes;
                    o.reasons.extend(problems);
                    o.written = delivered.written;
                }
                // As a live run settles them: the target refusing the record blocks it; a
                // configuration that cannot make it stops the run.
                Err(DeliverError::Refused { reason }) => {
                    o.status = Status::Blocked;
                    o.reasons.push(Reason::new(ReasonKind::Record, reason.clone(), ""));
                    let mut scope = ctx.scope(self.flow, &self.settings);
                    scope.push("reasons", Value::from(vec![reason]));
                    o.write_backs = crate::write_back::plan(&self.flow.after.blocked, &mut scope).0;
                }
                Err(DeliverError::Misconfigured { message }) => o.reasons.push(Reason::new(ReasonKind::Flow, message, "")),
                Err(e) => o.reasons.push(Reason::new(ReasonKind::Call, e.to_string(), "")),
            }
        }
        for w in &o.write_backs {
            // The recording port keeps it; it has nothing to fail on.
            let _ = self.rt.block_on(self.write_back.send(w));
        }
    }

    /// Whether the records go to a file target with `group`: gathered a batch at a time ([`DrySettle::files`]).
    fn grouped(&self) -> bool {
        self.flow.target.group.is_some() && self.target.file_shape().is_some()
    }

    /// Gathers the ready records of a batch into the files a live run would write (one per
    /// group) before each is settled: the first record of each file shows the file's exact
    /// bytes (control numbers 1: a dry-run allocates none); each record's answer names its
    /// file and place, its `sent` write-backs are planned from it.
    pub fn files(&self, outcomes: &mut [Outcome]) {
        let Some(shape) = self.target.file_shape().filter(|_| self.grouped()) else { return };
        let ready: Vec<usize> = (0..outcomes.len())
            .filter(|&i| outcomes[i].status == Status::Ready && outcomes[i].request.is_some() && outcomes[i].context.is_some())
            .collect();
        let gathered = {
            let offered: Vec<Offered> = ready
                .iter()
                .filter_map(|&i| {
                    let o = &outcomes[i];
                    Some(Offered { key: &o.key, request: o.request.as_ref()?, context: o.context.as_deref()? })
                })
                .collect();
            gather(self.flow, &self.settings, shape, &offered, &mut || Ok(Control { interchange: 1, group: 1 }))
        };
        if let Some(stop) = gathered.stop {
            for &i in &ready {
                outcomes[i].reasons.push(Reason::new(ReasonKind::Flow, stop.clone(), ""));
            }
            return;
        }
        for (at, reason) in gathered.refused {
            let o = &mut outcomes[ready[at]];
            o.status = Status::Blocked;
            if let Some(ctx) = o.context.as_deref() {
                let mut scope = ctx.scope(self.flow, &self.settings);
                scope.push("reasons", Value::from(vec![reason.text.clone()]));
                o.write_backs = crate::write_back::plan(&self.flow.after.blocked, &mut scope).0;
            }
            o.reasons.push(reason);
        }
        for file in gathered.files {
            for (n, (at, set)) in file.members.iter().enumerate() {
                let o = &mut outcomes[ready[*at]];
                if let Some(request) = o.request.as_mut() {
                    request.path = file.name.clone();
                    if n == 0 {
                        self.recorded.keep("deliver", &self.flow.target.path, request);
                    }
                }
                if let Some(ctx) = o.context.as_deref() {
                    let (writes, problems) = crate::write_back::plan_sent(self.flow, &self.settings, ctx, &file.answer(set));
                    o.write_backs = writes;
                    o.reasons.extend(problems);
                }
                if n == 0 {
                    o.written = Some(Written { name: file.path.clone(), bytes: file.bytes.clone() });
                }
            }
        }
    }

    /// Counts what was recorded into the run's call summary, in order.
    pub fn count(&self, calls: &mut CallLog) {
        calls.absorb(self.recorded.take());
    }
}
