//! HTTP to the systems: connections, authentication (OAuth2 authorization
//! code and client credentials, bearer, API key, basic), the server's clock,
//! rate-limit budgets, retries, paging, and redaction of secrets.

pub mod auth;
pub(crate) mod base64;
mod clock;
mod connection;
mod discover;
mod error;
mod limits;
mod paging;
mod redact;
mod registry;
mod retry;
mod shutdown;
mod token_answer;
mod waiting;

pub use clock::{ServerClock, format_utc, local_epoch_ms};
pub use connection::{Answer, Connection, FileBody};
pub use error::CallError;
pub use paging::{Cursor, Lister};
pub use redact::{redact, register_secret};
pub use registry::{Registry, fill_hosts, host_of_def};
pub use shutdown::Shutdown;
pub use waiting::{WaitReason, Waiting};
