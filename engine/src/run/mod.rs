//! Run: drives the stages (fetch → look up → map → validate → exists →
//! deliver → write back) over batches of records.

mod calls;
mod live;
mod outcome;
pub mod reason;
mod runner;

pub use calls::{CallLog, CallStat};
pub use live::{Ending, Live, LiveReport, NotHad, Progress, Records};
pub use outcome::{Context, Outcome, Status, Summary};
pub use reason::{Reason, ReasonKind};
pub use runner::Runner;
