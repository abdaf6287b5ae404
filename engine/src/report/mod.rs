//! Report: what a dry-run or run shows — per record (ready with the exact
//! payload, blocked with every reason, skipped with the found record) and a
//! summary with the API calls a live run makes — as text or JSON.

mod text;

pub use text::{render_outcome, render_summary};
