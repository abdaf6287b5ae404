//! The vault: the 32-byte key that seals secrets and tokens at rest.
//!
//! The key never lives in the state file, so a copy of that file alone (a
//! backup, a support bundle) reveals no credentials. It comes from the
//! environment variable FLOWMAP_KEY (for deployments that inject secrets) or
//! from a key file that `flowmap connect` creates beside the state.

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{Result, StateError};
use crate::files::{create_private_dirs, write_private_file};
use crate::hex;

/// The environment variable that, when set, holds the key as 64 hex characters.
pub const KEY_ENV: &str = "FLOWMAP_KEY";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Seals and opens small secrets with XChaCha20-Poly1305.
///
/// Every sealed value is bound to an "aad" naming what it is (for example
/// `secret:exact:client_secret`), so a value copied into another row of the
/// state file does not decrypt there.
pub struct Vault {
    key: [u8; KEY_LEN],
    source: String,
}

impl Vault {
    /// The key from FLOWMAP_KEY if that is set, else from `key_file`; a missing
    /// key file is created (with a new random key) only when `create` is true.
    pub fn load(key_file: &Path, create: bool) -> Result<Vault> {
        Vault::load_from(std::env::var_os(KEY_ENV).as_deref(), key_file, create)
    }

    /// [`Vault::load`] with the value of FLOWMAP_KEY passed in rather than read
    /// from the process environment (which tests cannot change safely while
    /// other threads run).
    pub fn load_from(env_key: Option<&OsStr>, key_file: &Path, create: bool) -> Result<Vault> {
        if let Some(value) = env_key {
            // Set but unusable is an error, never a silent fall-back to the key
            // file: sealing with another key than the operator meant would lock
            // them out of what gets stored.
            let text = value.to_str().ok_or_else(|| malformed(KEY_ENV))?;
            return Vault::from_hex(text.trim(), KEY_ENV);
        }
        let source = key_file.display().to_string();
        match fs::read(key_file) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| malformed(&source))?;
                Vault::from_hex(text.trim(), &source)
            }
            Err(error) if error.kind() == ErrorKind::NotFound && create => create_key_file(key_file),
            Err(error) if error.kind() == ErrorKind::NotFound => Err(StateError::new(format!(
                "no encryption key: {source} does not exist and {KEY_ENV} is not set; \
                 run `flowmap connect` to create the key, or set {KEY_ENV} to 64 hexadecimal characters"
            ))),
            Err(error) => Err(StateError::new(format!("cannot read the key file {source}: {error}"))),
        }
    }

    /// The key from 64 hex characters; `source` names where they came from, for messages.
    pub fn from_hex(hex: &str, source: &str) -> Result<Vault> {
        let key = hex::decode::<KEY_LEN>(hex).ok_or_else(|| malformed(source))?;
        Ok(Vault { key, source: source.to_string() })
    }

    /// Where the key came from: "FLOWMAP_KEY" or the key file's path.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// `plaintext` encrypted and bound to `aad`, as nonce || ciphertext-with-tag.
    ///
    /// The nonce is random: 24 bytes make a repeat negligible, so no counter
    /// has to be kept in step across processes.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|error| StateError::new(format!("cannot encrypt {aad}: no random numbers: {error}")))?;
        let nonce = XNonce::from(nonce);
        let ciphertext = self
            .cipher()
            .encrypt(&nonce, Payload { msg: plaintext, aad: aad.as_bytes() })
            .map_err(|_| StateError::new(format!("cannot encrypt {aad}: the value is too long")))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The plaintext of what [`Vault::seal`] made with the same key and `aad`.
    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        let cannot_decrypt = || {
            StateError::new(format!(
                "cannot decrypt {aad} with the key from {}: the key is not the one it was encrypted with (or the data was changed)",
                self.source
            ))
        };
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(cannot_decrypt());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| cannot_decrypt())?;
        self.cipher().decrypt(&nonce, Payload { msg: ciphertext, aad: aad.as_bytes() }).map_err(|_| cannot_decrypt())
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").field("source", &self.source).field("key", &"<redacted>").finish()
    }
}

fn malformed(source: &str) -> StateError {
    StateError::new(format!("the key in {source} is not valid: it must be 64 hexadecimal characters (32 bytes)"))
}

/// A new random key written to `key_file`, readable by its owner only.
///
/// The key is written to a temporary file first and then hard-linked into
/// place, so nobody ever sees a half-written key file (after a crash, or from
/// a second `flowmap` starting at the same moment), and a key file that
/// appeared meanwhile is never overwritten: that one wins and is used.
fn create_key_file(key_file: &Path) -> Result<Vault> {
    let source = key_file.display().to_string();
    let fail = |doing: &str, error: std::io::Error| StateError::new(format!("cannot create the key file {source}: {doing}: {error}"));

    let directory = key_file.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_private_dirs(directory).map_err(|error| fail("creating its directory", error))?;

    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key).map_err(|error| StateError::new(format!("cannot create the key file {source}: no random numbers: {error}")))?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|error| StateError::new(format!("cannot create the key file {source}: no random numbers: {error}")))?;
    let file_name = key_file.file_name().unwrap_or(OsStr::new("key")).to_string_lossy();
    let temporary = directory.join(format!(".{file_name}.{}.tmp", hex::encode(&suffix)));

    let written = write_private_file(&temporary, format!("{}\n", hex::encode(&key)).as_bytes());
    let linked = written.and_then(|()| fs::hard_link(&temporary, key_file));
    // The temporary name is only a staging step; it goes whatever happened.
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            // The directory entry must survive a power cut too: secrets sealed
            // with this key are stored durably right after.
            File::open(directory).and_then(|dir| dir.sync_all()).map_err(|error| fail("syncing its directory", error))?;
            Ok(Vault { key, source })
        }
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Vault::load_from(None, key_file, false),
        Err(error) => Err(fail("writing it", error)),
    }
}
