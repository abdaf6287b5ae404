//! Wall-clock time as stored in the state file: UTC milliseconds since the epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in UTC epoch milliseconds. A clock set before 1970 gives 0 rather than
/// a panic: the journal's order comes from its row ids, not from these times.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}
