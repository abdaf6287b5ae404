//! The SFTP file store: one connection reused for every call of a run, opened
//! on first use and again when it dropped; calls the server did not answer are
//! retried with a doubling pause, refusals never.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::Mutex;

use super::connection::Connection;
use super::operations;
use super::settings::{SftpCredentials, SftpSettings};
use crate::transport::files::{FileError, FileFailure, FileStore, Fut, RemoteFile};

pub struct SftpStore {
    settings: SftpSettings,
    credentials: SftpCredentials,
    address: String,
    connection: Mutex<Option<Arc<Connection>>>,
}

impl SftpStore {
    /// Nothing is contacted until the first call.
    pub fn new(settings: SftpSettings, credentials: SftpCredentials) -> SftpStore {
        let address = settings.address();
        SftpStore { settings, credentials, address, connection: Mutex::new(None) }
    }

    /// Connects now (checking host key and credentials), e.g. to test a connection's settings.
    pub async fn connect(&self) -> Result<(), FileError> {
        let mut attempts = Attempts::new(&self.settings);
        loop {
            match self.connection().await {
                Ok(_) => return Ok(()),
                Err(e) => attempts.after(e, false, true).await?,
            }
        }
    }

    /// Says goodbye to the server; a later call connects again.
    pub async fn close(&self) {
        if let Some(c) = self.connection.lock().await.take() {
            c.close().await;
        }
    }

    /// Lists `folder` page by page (one page per READDIR batch) and returns how many pages it took.
    pub async fn list_pages(&self, folder: &str, page: &mut (dyn FnMut(Vec<RemoteFile>) + Send)) -> Result<usize, FileError> {
        let mut attempts = Attempts::new(&self.settings);
        // Names handed on cannot be taken back: a retry lists again and hands on only the names
        // no attempt before it did, so each file is handed on once.
        let mut handed = std::collections::HashSet::new();
        loop {
            let mut new_only = |files: Vec<RemoteFile>| {
                let fresh: Vec<RemoteFile> = files.into_iter().filter(|f| handed.insert(f.name.clone())).collect();
                if !fresh.is_empty() {
                    page(fresh)
                }
            };
            let (result, reused) = match self.connection().await {
                Ok((c, reused)) => (operations::list_pages(&c, &self.address, folder, &mut new_only).await, reused),
                Err(e) => (Err(e), false),
            };
            match result {
                Ok(pages) => return Ok(pages),
                Err(e) => attempts.after(self.forget_if_lost(e).await, reused, true).await?,
            }
        }
    }

    /// The shared connection, opened when there is none or it dropped; `true` when reused.
    async fn connection(&self) -> Result<(Arc<Connection>, bool), FileError> {
        let mut slot = self.connection.lock().await;
        if let Some(c) = slot.as_ref()
            && !c.is_closed()
        {
            return Ok((c.clone(), true));
        }
        *slot = None;
        let c = Arc::new(Connection::open(&self.settings, &self.credentials).await?);
        *slot = Some(c.clone());
        Ok((c, false))
    }

    /// After a lost connection, the next attempt opens a new one.
    async fn forget_if_lost(&self, e: FileError) -> FileError {
        if e.kind == FileFailure::Unavailable {
            *self.connection.lock().await = None;
        }
        e
    }
}

/// One call's retry budget.
struct Attempts {
    retries_left: u32,
    retries: u32,
    pause: Duration,
    /// A connection reused from an earlier call may have dropped while idle: the first loss on
    /// it is tried again at once on a new connection, without spending a retry.
    reconnect_spent: bool,
}

impl Attempts {
    fn new(settings: &SftpSettings) -> Attempts {
        Attempts { retries_left: settings.retries(), retries: settings.retries(), pause: settings.retry_backoff(), reconnect_spent: false }
    }

    /// `Ok` to try again (after the pause), or the error to return.
    async fn after(&mut self, e: FileError, reused: bool, retryable: bool) -> Result<(), FileError> {
        if e.kind != FileFailure::Unavailable || !retryable {
            return Err(e);
        }
        if reused && !self.reconnect_spent {
            self.reconnect_spent = true;
            return Ok(());
        }
        if self.retries_left == 0 {
            return Err(match self.retries {
                0 => e,
                n => FileError::new(e.kind, format!("{} (gave up after {n} {})", e.message, plural(n))),
            });
        }
        self.retries_left -= 1;
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(60));
        Ok(())
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "retry" } else { "retries" }
}

/// Runs `$op` (an expression using the connection `$c`) with reuse and retries.
macro_rules! with_retries {
    ($store:expr, |$c:ident| $op:expr) => {{
        let mut attempts = Attempts::new(&$store.settings);
        loop {
            let (result, reused) = match $store.connection().await {
                Ok(($c, reused)) => ($op.await, reused),
                Err(e) => (Err(e), false),
            };
            match result {
                Ok(v) => break Ok(v),
                Err(e) => {
                    if let Err(e) = attempts.after($store.forget_if_lost(e).await, reused, true).await {
                        break Err(e);
                    }
                }
            }
        }
    }};
}

impl FileStore for SftpStore {
    fn list<'a>(&'a self, folder: &'a str, each: &'a mut (dyn FnMut(RemoteFile) + Send)) -> Fut<'a, Result<(), FileError>> {
        async move {
            let mut page = |files: Vec<RemoteFile>| files.into_iter().for_each(&mut *each);
            self.list_pages(folder, &mut page).await.map(|_| ())
        }
        .boxed()
    }

    fn read<'a>(&'a self, path: &'a str, into: &'a mut (dyn std::io::Write + Send)) -> Fut<'a, Result<u64, FileError>> {
        async move {
            let mut attempts = Attempts::new(&self.settings);
            // Across attempts: a retry resumes after the bytes already handed on (they cannot be
            // taken back, and starting over would hand them on twice).
            let mut written = 0;
            loop {
                let (result, reused) = match self.connection().await {
                    Ok((c, reused)) => (operations::read(&c, &self.address, path, into, &mut written).await, reused),
                    Err(e) => (Err(e), false),
                };
                match result {
                    Ok(()) => return Ok(written),
                    Err(e) => attempts.after(self.forget_if_lost(e).await, reused, true).await?,
                }
            }
        }
        .boxed()
    }

    fn put<'a>(&'a self, folder: &'a str, name: &'a str, bytes: &'a [u8]) -> Fut<'a, Result<(), FileError>> {
        async move {
            // Whether an attempt before this one may have renamed the file into place.
            let mut attempted = false;
            with_retries!(self, |c| operations::put(&c, &self.address, folder, name, bytes, std::mem::replace(&mut attempted, true)))
        }
        .boxed()
    }

    fn size<'a>(&'a self, path: &'a str) -> Fut<'a, Result<Option<u64>, FileError>> {
        async move { with_retries!(self, |c| operations::size(&c, &self.address, path)) }.boxed()
    }

    fn archive<'a>(&'a self, path: &'a str, folder: &'a str) -> Fut<'a, Result<(), FileError>> {
        async move {
            let mut attempted = false;
            with_retries!(self, |c| operations::archive(&c, &self.address, path, folder, std::mem::replace(&mut attempted, true)))
        }
        .boxed()
    }

    fn remove<'a>(&'a self, path: &'a str) -> Fut<'a, Result<(), FileError>> {
        async move { with_retries!(self, |c| operations::remove(&c, &self.address, path)) }.boxed()
    }
}
