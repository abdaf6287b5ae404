//! The throughput benchmark behind `flowmap bench`: a generated world of
//! LNB orders (with about 2% unknown customers or SKUs) and Exact accounts
//! and items, dry-run through the shipped LNB → Exact orders flow, JSON lines
//! in and out; and the same mapping in jq as the yardstick.

mod generate;
mod jq;

pub use generate::{World, generate};
pub use jq::{JQ_PROGRAM, run_jq};

/// Peak resident memory of this process so far, in KiB (Linux), from /proc.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
