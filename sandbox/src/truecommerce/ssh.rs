//! The SSH side: our own accept loop (so a connection can be dropped on purpose, and only so many
//! are served at once), password login, and the `sftp` subsystem on session channels.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use russh::server::{Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Inner;
use super::sftp::SftpHandler;

pub async fn serve(listener: TcpListener, tc: Arc<Inner>) {
    let config = Arc::new(russh::server::Config {
        keys: vec![tc.host_key.clone()],
        // Closes connections nobody uses (a client that went away without a goodbye).
        inactivity_timeout: Some(Duration::from_secs(tc.config.idle_timeout_seconds.max(1))),
        // A wrong password is answered after a short, constant pause (tests try one).
        auth_rejection_time: Duration::from_millis(100),
        auth_rejection_time_initial: Some(Duration::ZERO),
        nodelay: true,
        ..Default::default()
    });
    let sessions = Arc::new(Semaphore::new(tc.config.max_sessions.max(1)));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Over the limit the connection is closed before the SSH greeting.
        let Ok(permit) = sessions.clone().try_acquire_owned() else {
            continue;
        };
        tokio::spawn(serve_connection(stream, config.clone(), tc.clone(), permit));
    }
}

async fn serve_connection(stream: TcpStream, config: Arc<russh::server::Config>, tc: Arc<Inner>, _permit: OwnedSemaphorePermit) {
    // A second handle on the same socket, to shut it down from the SFTP side on an injected fault.
    let Ok(socket) = stream.into_std() else { return };
    let Ok(kill) = socket.try_clone() else { return };
    let Ok(stream) = TcpStream::from_std(socket) else { return };
    let handler = SshConnection { tc, socket: Arc::new(kill), channels: HashMap::new() };
    if let Ok(session) = russh::server::run_stream(config, stream, handler).await {
        let _ = session.await;
    }
}

struct SshConnection {
    tc: Arc<Inner>,
    socket: Arc<std::net::TcpStream>,
    /// Session channels opened and not yet given to a subsystem.
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl russh::server::Handler for SshConnection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let config = &self.tc.config;
        Ok(if user == config.user && password == config.password { Auth::Accept } else { Auth::reject() })
    }

    async fn channel_open_session(&mut self, channel: Channel<Msg>, reply: ChannelOpenHandle, _session: &mut Session) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn subsystem_request(&mut self, channel_id: ChannelId, name: &str, session: &mut Session) -> Result<(), Self::Error> {
        match self.channels.remove(&channel_id) {
            Some(channel) if name == "sftp" => {
                session.channel_success(channel_id)?;
                russh_sftp::server::run(channel.into_stream(), SftpHandler::new(self.tc.clone(), self.socket.clone())).await;
            }
            _ => session.channel_failure(channel_id)?,
        }
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        // The client sends nothing more on it: close our side too.
        session.close(channel)?;
        Ok(())
    }
}
