//! Run: drives the stages (fetch → look up → map → validate → exists →
//! deliver → write back) over batches of records.

mod calls;
mod outcome;
mod runner;

pub use calls::{CallLog, CallStat};
pub use outcome::{Outcome, Status, Summary};
pub use runner::Runner;
