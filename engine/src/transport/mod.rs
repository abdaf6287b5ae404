//! Transports: how bytes reach a system. HTTP is its own protocol module
//! (`crate::http`); file-based systems (a local folder, SFTP) speak the
//! [`files::FileStore`] port, so a flow reads and writes files the same way
//! whichever store holds them.

pub mod files;
pub mod folder;
pub mod sftp;
pub mod stores;
