//! SFTP as a file store (russh + russh-sftp, pure Rust). The server's host key
//! is pinned in the connection's YAML; uploads go to a temporary name and are
//! renamed when complete; one connection serves a whole run.
//!
//! `SftpStore::new(settings, credentials)` with [`SftpSettings`] from the YAML and
//! [`SftpCredentials`] from the state store; then use it as a [`FileStore`](crate::transport::files::FileStore).

mod connection;
mod errors;
mod host_key;
mod operations;
mod settings;
mod store;
mod temp_name;

pub use settings::{SftpCredentials, SftpSettings};
pub use store::SftpStore;
pub use temp_name::{is_temp_name, temp_name};
