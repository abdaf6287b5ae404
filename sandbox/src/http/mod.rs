//! HTTP plumbing shared by both emulators.

pub mod client;
pub mod dispatch;
pub mod request;
pub mod response;
pub mod server;
