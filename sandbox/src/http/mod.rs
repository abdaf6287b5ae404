//! HTTP plumbing shared by both emulators.

pub mod dispatch;
pub mod request;
pub mod response;
pub mod server;
