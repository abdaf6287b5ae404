//! OAuth tokens of a connection, sealed with the vault: one sealed JSON blob
//! per connection, with the times and a need for consent also in plain
//! columns (not secret) so connections can be listed without the key.
//!
//! Changing tokens goes through the token lock (see `token_lock.rs`).

use std::fmt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::db::sqlite_error;
use crate::error::{Result, StateError};
use crate::state::State;
use crate::vault::Vault;

/// The tokens of one connection.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
    /// Set when the operator must give consent again (the refresh was refused):
    /// these tokens are kept for the record but must not be used.
    pub needs_consent: Option<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("issued_at_ms", &self.issued_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("needs_consent", &self.needs_consent)
            .finish()
    }
}

/// What is sealed: the secret part of a [`TokenSet`] with the times, which are
/// also kept in plain columns for listing but are authenticated here.
#[derive(Serialize, Deserialize)]
struct SealedTokens {
    access_token: String,
    refresh_token: Option<String>,
    issued_at_ms: i64,
    expires_at_ms: i64,
}

/// What binds sealed tokens to their connection: they decrypt nowhere else.
fn aad(connection: &str) -> String {
    format!("tokens:{connection}")
}

impl State {
    /// The tokens of `connection`, if any were stored. A plain read: to refresh
    /// them, take [`State::lock_tokens`] and read them again through the lock.
    pub fn tokens(&self, vault: &Vault, connection: &str) -> Result<Option<TokenSet>> {
        read(&self.connection(), self.path(), vault, connection)
    }

    /// Deletes the tokens of `connection` (and a need for consent with them).
    /// Takes the token lock, so a refresh under way cannot store them again after.
    pub fn forget_tokens(&self, connection: &str) -> Result<()> {
        self.lock_tokens(connection)?.forget()
    }
}

pub(crate) fn read(db: &Connection, path: &Path, vault: &Vault, connection: &str) -> Result<Option<TokenSet>> {
    let row: Option<(Option<Vec<u8>>, Option<String>)> = db
        .query_row("SELECT sealed, needs_consent FROM tokens WHERE connection = ?1", [connection], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .map_err(sqlite_error(path, format_args!("reading the tokens of connection {connection}")))?;
    // A row without sealed tokens only records a need for consent.
    let Some((Some(sealed), needs_consent)) = row else {
        return Ok(None);
    };
    let text = vault.open(&aad(connection), &sealed).map_err(|error| StateError::new(format!("{}: {error}", path.display())))?;
    // serde's message could quote a token: say only that the data is damaged.
    let tokens: SealedTokens = serde_json::from_slice(&text)
        .map_err(|_| StateError::new(format!("{}: the stored tokens of connection {connection} are damaged", path.display())))?;
    Ok(Some(TokenSet {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        issued_at_ms: tokens.issued_at_ms,
        expires_at_ms: tokens.expires_at_ms,
        needs_consent,
    }))
}

/// Replaces the tokens of `connection` (and its need for consent) with `tokens`.
pub(crate) fn write(db: &Connection, path: &Path, vault: &Vault, connection: &str, tokens: &TokenSet) -> Result<()> {
    let secret = SealedTokens {
        access_token: tokens.access_token.clone(),
        refresh_token: tokens.refresh_token.clone(),
        issued_at_ms: tokens.issued_at_ms,
        expires_at_ms: tokens.expires_at_ms,
    };
    let text = serde_json::to_vec(&secret)
        .map_err(|_| StateError::new(format!("{}: cannot serialise the tokens of connection {connection}", path.display())))?;
    let sealed = vault.seal(&aad(connection), &text).map_err(|error| StateError::new(format!("{}: {error}", path.display())))?;
    db.execute(
        "INSERT INTO tokens (connection, sealed, issued_at_ms, expires_at_ms, needs_consent, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (connection) DO UPDATE SET
             sealed = excluded.sealed,
             issued_at_ms = excluded.issued_at_ms,
             expires_at_ms = excluded.expires_at_ms,
             needs_consent = excluded.needs_consent,
             updated_at_ms = excluded.updated_at_ms",
        params![connection, sealed, tokens.issued_at_ms, tokens.expires_at_ms, tokens.needs_consent, now_ms()],
    )
    .map_err(sqlite_error(path, format_args!("storing the tokens of connection {connection}")))?;
    Ok(())
}

/// Flags `connection` as needing consent for `reason`, keeping its tokens.
pub(crate) fn flag_needs_consent(db: &Connection, path: &Path, connection: &str, reason: &str) -> Result<()> {
    db.execute(
        "INSERT INTO tokens (connection, needs_consent, updated_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (connection) DO UPDATE SET needs_consent = excluded.needs_consent, updated_at_ms = excluded.updated_at_ms",
        params![connection, reason, now_ms()],
    )
    .map_err(sqlite_error(path, format_args!("marking connection {connection} as needing consent")))?;
    Ok(())
}

pub(crate) fn delete(db: &Connection, path: &Path, connection: &str) -> Result<()> {
    db.execute("DELETE FROM tokens WHERE connection = ?1", [connection])
        .map_err(sqlite_error(path, format_args!("forgetting the tokens of connection {connection}")))?;
    Ok(())
}
