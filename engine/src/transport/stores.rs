//! The file store of a connection whose system uses a file transport: an SFTP
//! server (its settings in the connection's YAML, its password or key sealed
//! in the state store by `flowmap connect`) or a local folder. Each is opened
//! once and reused by every run.

use std::sync::Arc;

use super::files::FileStore;
use super::folder::FolderStore;
use super::sftp::{SftpCredentials, SftpStore};
use crate::http::{CallError, Registry};
use crate::model::{ConnectionDef, Transport};

/// What a connection of a file system lacks, said when the connections file loads.
pub fn settings_problem(name: &str, c: &ConnectionDef, transport: Transport) -> Option<String> {
    match transport {
        Transport::Sftp => match &c.sftp {
            None => Some(format!("connection `{name}` needs `sftp: {{ host, port, user, host_key }}`: its system uses the sftp transport")),
            Some(s) => {
                let problems = s.problems();
                (!problems.is_empty()).then(|| format!("connection `{name}`: {}", problems.join("; ")))
            }
        },
        Transport::Folder if c.folder.is_none() => Some(format!("connection `{name}` needs `folder: PATH`: its system uses the folder transport")),
        _ => None,
    }
}

impl Registry {
    /// The file store of connection `name`, opened on first use.
    pub fn store(&self, name: &str) -> Result<Arc<dyn FileStore>, CallError> {
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = stores.get(name) {
            return Ok(store.clone());
        }
        let def =
            self.definition(name).ok_or_else(|| CallError::Stop { message: format!("no connection named `{name}` in the connections file") })?;
        let store: Arc<dyn FileStore> = match (&def.sftp, &def.folder) {
            (Some(settings), _) => Arc::new(SftpStore::new(settings.clone(), self.sftp_credentials(name)?)),
            (None, Some(folder)) => Arc::new(FolderStore::new(self.dir.join(folder))),
            (None, None) => return Err(CallError::Stop { message: format!("connection `{name}` names no `sftp` server and no `folder`") }),
        };
        stores.insert(name.to_string(), store.clone());
        Ok(store)
    }

    /// For a connection of a file system: its store opened and its inbox listed
    /// (`connections --check`); what was reached, or why not. None for http systems.
    pub async fn check_store(&self, name: &str) -> Option<Result<String, CallError>> {
        let def = self.definition(name)?;
        let system = self.systems.get(def.system.as_deref().unwrap_or(name))?;
        if system.transport == Transport::Http {
            return None;
        }
        let inbox = system.files.as_ref().and_then(|f| f.inbox.clone()).unwrap_or_else(|| "/".into());
        let reached = match (&def.sftp, &def.folder) {
            (Some(s), _) => format!("sftp://{}@{}{inbox}", s.user, s.address()),
            (None, Some(f)) => format!("folder {}", self.dir.join(f).join(inbox.trim_start_matches('/')).display()),
            (None, None) => inbox.clone(),
        };
        let listed = async {
            let store = self.store(name)?;
            let mut ignore = |_| {};
            store.list(&inbox, &mut ignore).await.map_err(|e| CallError::Stop { message: e.message })
        };
        Some(listed.await.map(|()| reached))
    }

    /// The password, or the private key (and its passphrase), `flowmap connect` stored.
    fn sftp_credentials(&self, name: &str) -> Result<SftpCredentials, CallError> {
        let vault = self.vault()?;
        let read = |secret: &str| self.state.secret(vault, name, secret).map_err(|e| CallError::Stop { message: e.to_string() });
        if let Some(pem) = read("private_key")? {
            return Ok(SftpCredentials::PrivateKey { pem, passphrase: read("passphrase")? });
        }
        match read("password")? {
            Some(password) => {
                crate::http::register_secret(&password);
                Ok(SftpCredentials::Password(password))
            }
            None => Err(CallError::Stop { message: format!("connection `{name}` has no password or private key: run \"flowmap connect {name}\"") }),
        }
    }
}
