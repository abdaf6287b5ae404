//! The TrueCommerce emulator: an SFTP server on loopback over a folder laid out as TrueCommerce's
//! Integration FTP (`/IntegrationFTP/Export/<company>` for the customer to pick up,
//! `/IntegrationFTP/Import/<company>` for what the customer sends), and a simulated trading
//! partner that takes the files from Import and answers them into Export (partner.rs). Raw X12
//! over that SFTP is our own assumption (shared/reference/partner-systems.md §5).

mod answers;
pub mod control;
mod faults;
mod partner;
mod paths;
pub mod records;
mod rules;
mod sftp;
mod ssh;
mod x12;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use russh::keys::{HashAlg, PrivateKey};

use crate::config::TrueCommerceConfig;
use crate::core::Shared;
pub use faults::{DropFaults, SftpFaults};
use partner::{Folders, PartnerState, TickReport};

/// The sandbox's SFTP host key: a fixed ed25519 key for loopback tests only (see
/// sandbox/keys/README.md), so its fingerprint can be pinned in connections.sandbox.yaml.
const HOST_KEY: &str = include_str!("../../keys/truecommerce_ed25519");

pub struct TrueCommerce {
    inner: Arc<Inner>,
}

/// What the SSH server, the SFTP sessions and the partner share.
pub struct Inner {
    pub config: TrueCommerceConfig,
    /// The SFTP server's port on 127.0.0.1.
    pub port: u16,
    /// The served folder (canonical: paths are checked against it).
    pub root: PathBuf,
    folders: Folders,
    /// Made by the sandbox (no root was given): removed when it stops.
    owned_root: bool,
    pub host_key: PrivateKey,
    pub faults: DropFaults,
    shared: Arc<Shared>,
    partner: Mutex<PartnerState>,
}

impl TrueCommerce {
    /// Makes the folders (and the root, when none is given). The server starts with `serve`.
    pub fn new(config: TrueCommerceConfig, port: u16, shared: Arc<Shared>, seed: u64) -> io::Result<TrueCommerce> {
        let host_key = russh::keys::decode_secret_key(HOST_KEY, None).map_err(|e| io::Error::other(format!("the TrueCommerce host key: {e}")))?;
        let (root, owned_root) = match &config.root {
            Some(root) => (root.clone(), false),
            None => (fresh_folder(), true),
        };
        let company = &config.company;
        if company.is_empty() || company.contains(['/', '\\']) || company == "." || company == ".." {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("TrueCommerce company `{company}` cannot be a folder name")));
        }
        let in_root = |side: &str| Path::new("IntegrationFTP").join(side).join(company);
        let root = std::fs::create_dir_all(root.join(in_root("Import")))
            .and_then(|_| std::fs::create_dir_all(root.join(in_root("Export"))))
            .and_then(|_| root.canonicalize())
            .map_err(|e| io::Error::new(e.kind(), format!("TrueCommerce folder {}: {e}", root.display())))?;
        let folders = Folders { import: root.join(in_root("Import")), export: root.join(in_root("Export")) };
        let inner = Inner {
            config,
            port,
            root,
            folders,
            owned_root,
            host_key,
            faults: DropFaults::new(seed),
            shared,
            partner: Mutex::new(PartnerState::default()),
        };
        Ok(TrueCommerce { inner: Arc::new(inner) })
    }

    /// Serves SFTP on `listener` and, when `poll_ms` is set, ticks the partner that often.
    pub fn serve(&self, listener: tokio::net::TcpListener, runtime: &tokio::runtime::Runtime) {
        runtime.spawn(ssh::serve(listener, self.inner.clone()));
        let poll_ms = self.inner.config.poll_ms;
        if poll_ms > 0 {
            let inner = self.inner.clone();
            runtime.spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_millis(poll_ms));
                loop {
                    every.tick().await;
                    let inner = inner.clone();
                    let _ = tokio::task::spawn_blocking(move || inner.tick()).await;
                }
            });
        }
    }

    pub fn port(&self) -> u16 {
        self.inner.port
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    pub fn config(&self) -> &TrueCommerceConfig {
        &self.inner.config
    }

    /// `SHA256:…`, as `ssh-keygen -lf` prints it.
    pub fn fingerprint(&self) -> String {
        self.inner.host_key.public_key().fingerprint(HashAlg::Sha256).to_string()
    }

    pub fn tick(&self) -> io::Result<TickReport> {
        self.inner.tick()
    }

    pub fn partner(&self) -> MutexGuard<'_, PartnerState> {
        self.inner.partner()
    }

    pub fn faults(&self) -> &DropFaults {
        &self.inner.faults
    }

    /// Forgets records, rules and faults and empties Import and Export.
    pub fn reset(&self) -> io::Result<()> {
        let mut partner = self.inner.partner();
        partner.reset();
        self.inner.faults.set(SftpFaults { drop_rate: 0.0, seed: self.inner.faults.current().seed });
        for folder in [&self.inner.folders.import, &self.inner.folders.export] {
            std::fs::remove_dir_all(folder)?;
            std::fs::create_dir_all(folder)?;
        }
        Ok(())
    }

    /// Removes the root when the sandbox made it.
    pub fn remove_own_root(&self) {
        if self.inner.owned_root {
            let _ = std::fs::remove_dir_all(&self.inner.root);
        }
    }
}

impl Inner {
    fn partner(&self) -> MutexGuard<'_, PartnerState> {
        self.partner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tick(&self) -> io::Result<TickReport> {
        let now = self.shared.clock.now_ms();
        self.partner().tick(&self.folders, now)
    }
}

/// A new folder under the system's temp folder, for a sandbox started without a root.
fn fresh_folder() -> PathBuf {
    let suffix = crate::random::new_token("");
    std::env::temp_dir().join(format!("flowmap-sandbox-truecommerce-{}", &suffix[..12]))
}
