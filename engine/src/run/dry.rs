//! Settling without side effects, for dry-runs, flow tests and previews: the
//! same steps as a live run's settlement, against the recording ports — the
//! delivery is recorded and answered as the target would, the `sent`
//! write-backs are planned from that answer, every write-back is recorded.

use minijinja::Value;

use super::calls::CallLog;
use super::outcome::{Outcome, Status};
use crate::compile::CompiledFlow;
use crate::deliver::{Recorded, Target};
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
                Err(e) => o.reasons.push(super::Reason::new(super::ReasonKind::Call, e.to_string(), "")),
            }
        }
        for w in &o.write_backs {
            // The recording port keeps it; it has nothing to fail on.
            let _ = self.rt.block_on(self.write_back.send(w));
        }
    }

    /// Counts what was recorded into the run's call summary, in order.
    pub fn count(&self, calls: &mut CallLog) {
        for (purpose, r) in self.recorded.take() {
            let path = if purpose == "deliver" { self.flow.target.path.as_str() } else { r.path.as_str() };
            calls.record(&r.system, &r.method, path, &purpose, || r.path.clone());
        }
    }
}
