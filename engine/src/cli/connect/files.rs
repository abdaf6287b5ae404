//! `flowmap connect NAME` for a system of a file transport: an SFTP server's
//! password or private key, stored sealed, then tried (host key, login, a
//! listing of the inbox); a local folder needs nothing stored.

use super::super::Out;
use super::super::live_setup::LiveSetup;
use crate::project::System;

pub fn connect(setup: &LiveSetup, rt: &tokio::runtime::Runtime, name: &str, system: &System) -> Result<(), String> {
    let vault = setup.vault.clone()?;
    let put = |secret: &str, value: &str| setup.state.put_secret(&vault, name, secret, value).map_err(|e| e.to_string());
    let def = setup.registry.definition(name).ok_or_else(|| format!("no connection named `{name}` in the connections file"))?;
    if def.sftp.is_some() {
        // A private key file when one is named, else a password (never echoed).
        match std::env::var("FLOWMAP_PRIVATE_KEY_FILE").ok().filter(|p| !p.trim().is_empty()) {
            Some(path) => {
                let pem = std::fs::read_to_string(path.trim()).map_err(|e| format!("cannot read the private key file {}: {e}", path.trim()))?;
                put("private_key", &pem)?;
                match std::env::var("FLOWMAP_KEY_PASSPHRASE").ok().filter(|p| !p.is_empty()) {
                    Some(passphrase) => put("passphrase", &passphrase)?,
                    None => setup.state.remove_secret(name, "passphrase").map_err(|e| e.to_string())?,
                }
                setup.state.remove_secret(name, "password").map_err(|e| e.to_string())?;
            }
            None => {
                let password = super::ask(setup, name, "password", None, "FLOWMAP_PASSWORD")?;
                put("password", &password)?;
                setup.state.remove_secret(name, "private_key").map_err(|e| e.to_string())?;
            }
        }
    }
    let store = setup.registry.store(name).map_err(|e| e.to_string())?;
    let inbox = system.def.files.as_ref().and_then(|f| f.inbox.clone()).unwrap_or_else(|| "/".into());
    let mut files = 0u64;
    let mut count = |_| files += 1;
    rt.block_on(store.list(&inbox, &mut count)).map_err(|e| format!("stored the credentials of `{name}`, but the store cannot be read: {e}"))?;
    let mut out = Out::text();
    writeln!(out, "connected `{name}` ({}); {inbox} holds {files} file(s)", system.def.title)?;
    out.finish()?;
    Ok(())
}
