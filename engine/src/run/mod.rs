//! Run: drives the stages (fetch → look up → map → validate → exists →
//! deliver → write back) over batches of records.

mod calls;
mod driver;
mod dry;
mod history;
mod live;
mod outcome;
pub mod reason;
mod runner;

pub use crate::fetch::NotHad;
pub use calls::{CallLog, CallStat};
pub use driver::{Batch, Driven, Driver, Go, Settler};
pub use dry::DrySettle;
pub use history::{History, JournalHistory, Previous};
pub use live::{Ending, Live, LiveReport, Progress, Records};
pub use outcome::{Context, Outcome, Status, Summary};
pub use reason::{Reason, ReasonKind};
pub use runner::Runner;
