//! Settling without side effects, for dry-runs, flow tests and previews: the
//! same steps as a live run's settlement, against the recording ports — the
//! delivery is recorded and answered as the target would, the `sent`
//! write-backs are planned from that answer, every write-back is recorded.

use minijinja::Value;

use super::calls::CallLog;
use super::outcome::{Outcome, Status};
use crate::compile::CompiledFlow;
use crate::deliver::{DeliverError, Recorded, Target};
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

    /// Counts what was recorded into the run's call summary, in order.
    pub fn count(&self, calls: &mut CallLog) {
        calls.absorb(self.recorded.take());
    }
}
