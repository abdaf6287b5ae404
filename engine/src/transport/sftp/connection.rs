//! One SSH connection with two SFTP sessions on it: one for files (pipelined
//! reads and writes) and a raw one for listing folders page by page (the
//! high-level session's `read_dir` collects a whole folder before it returns).

use std::sync::Arc;
use std::time::Duration;

use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, decode_secret_key};
use russh_sftp::client::{RawSftpSession, SftpSession};

use super::errors::{connect_failed, connect_timed_out};
use super::host_key::{HandshakeError, PinnedHostKey};
use super::settings::{SftpCredentials, SftpSettings};
use crate::transport::files::{FileError, FileFailure};

pub struct Connection {
    handle: client::Handle<PinnedHostKey>,
    pub files: SftpSession,
    pub listing: RawSftpSession,
}

impl Connection {
    /// Connects, checks the host key, logs in and starts both SFTP sessions, all within the
    /// connect timeout.
    pub async fn open(settings: &SftpSettings, credentials: &SftpCredentials) -> Result<Connection, FileError> {
        let timeout = settings.connect_timeout();
        match tokio::time::timeout(timeout, Connection::open_now(settings, credentials)).await {
            Ok(result) => result,
            Err(_) => Err(connect_timed_out(&settings.address(), timeout)),
        }
    }

    async fn open_now(settings: &SftpSettings, credentials: &SftpCredentials) -> Result<Connection, FileError> {
        let address = settings.address();
        let config = Arc::new(client::Config {
            // A connection idle for this long is closed; the next call reconnects.
            inactivity_timeout: Some(Duration::from_secs(300)),
            nodelay: true,
            ..Default::default()
        });
        let pin = PinnedHostKey { expected: settings.host_key.clone() };
        let mut handle = client::connect(config, (settings.host.as_str(), settings.port), pin).await.map_err(|e| connect_failed(&address, e))?;
        log_in(&mut handle, settings, credentials).await?;

        let sftp_config = russh_sftp::client::Config {
            request_timeout_secs: settings.request_timeout().as_secs_f64().ceil().max(1.0) as u64,
            ..Default::default()
        };
        let files = SftpSession::new_with_config(open_sftp_channel(&handle, &address).await?, sftp_config.clone())
            .await
            .map_err(|e| subsystem_failed(&address, e.to_string()))?;
        let listing = RawSftpSession::new_with_config(open_sftp_channel(&handle, &address).await?, sftp_config);
        listing.init().await.map_err(|e| subsystem_failed(&address, e.to_string()))?;
        Ok(Connection { handle, files, listing })
    }

    /// Whether the SSH connection under the sessions is gone (dropped, timed out).
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// A polite goodbye; the connection closes on drop anyway.
    pub async fn close(&self) {
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    }
}

async fn log_in(handle: &mut client::Handle<PinnedHostKey>, settings: &SftpSettings, credentials: &SftpCredentials) -> Result<(), FileError> {
    let address = settings.address();
    let user = &settings.user;
    let lost = |e: russh::Error| connect_failed(&address, HandshakeError::Ssh(e));
    let (result, what) = match credentials {
        SftpCredentials::Password(password) => (handle.authenticate_password(user, password).await.map_err(lost)?, "the password"),
        SftpCredentials::PrivateKey { pem, passphrase } => {
            // The key's own error says what is wrong with it ("The key is encrypted"), never its bytes.
            let key = decode_secret_key(pem, passphrase.as_deref()).map_err(|e| {
                FileError::new(FileFailure::Credentials, format!("SFTP {address}: the private key for user `{user}` could not be read: {e}"))
            })?;
            // RSA signs with SHA-2 when the server offers it (OpenSSH has refused SHA-1 since 8.8).
            let hash = if key.algorithm().is_rsa() { handle.best_supported_rsa_hash().await.map_err(lost)?.flatten() } else { None };
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
            (handle.authenticate_publickey(user, key).await.map_err(lost)?, "the private key")
        }
    };
    if result.success() {
        Ok(())
    } else {
        Err(FileError::new(
            FileFailure::Credentials,
            format!("SFTP {address}: the server refused {what} for user `{user}`: `flowmap connect` can store new credentials"),
        ))
    }
}

async fn open_sftp_channel(handle: &client::Handle<PinnedHostKey>, address: &str) -> Result<russh::ChannelStream<client::Msg>, FileError> {
    let channel = handle.channel_open_session().await.map_err(|e| subsystem_failed(address, e.to_string()))?;
    channel.request_subsystem(true, "sftp").await.map_err(|e| subsystem_failed(address, e.to_string()))?;
    Ok(channel.into_stream())
}

fn subsystem_failed(address: &str, reason: String) -> FileError {
    FileError::new(FileFailure::Unavailable, format!("SFTP {address}: could not start the SFTP session: {reason}"))
}
