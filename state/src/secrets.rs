//! Connection secrets (client ids and secrets, API keys, passwords), sealed
//! with the vault. Only their names are ever readable without the key.

use rusqlite::{OptionalExtension, params};

use crate::clock::now_ms;
use crate::error::{Result, StateError};
use crate::names;
use crate::state::State;
use crate::vault::Vault;

/// What binds a sealed secret to its place: it decrypts nowhere else.
fn aad(connection: &str, name: &str) -> String {
    format!("secret:{connection}:{name}")
}

impl State {
    /// Stores secret `name` of `connection`, sealed, replacing an earlier value.
    pub fn put_secret(&self, vault: &Vault, connection: &str, name: &str, value: &str) -> Result<()> {
        names::check("connection", connection)?;
        names::check("secret", name)?;
        let sealed = vault.seal(&aad(connection, name), value.as_bytes()).map_err(|error| self.error(error))?;
        self.connection()
            .execute(
                "INSERT INTO secrets (connection, name, sealed, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (connection, name) DO UPDATE SET sealed = excluded.sealed, updated_at_ms = excluded.updated_at_ms",
                params![connection, name, sealed, now_ms()],
            )
            .map_err(self.sqlite_error(format_args!("storing secret {name} of connection {connection}")))?;
        Ok(())
    }

    /// Secret `name` of `connection`, decrypted, if stored.
    pub fn secret(&self, vault: &Vault, connection: &str, name: &str) -> Result<Option<String>> {
        let sealed: Option<Vec<u8>> = self
            .connection()
            .query_row("SELECT sealed FROM secrets WHERE connection = ?1 AND name = ?2", params![connection, name], |row| row.get(0))
            .optional()
            .map_err(self.sqlite_error(format_args!("reading secret {name} of connection {connection}")))?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let plaintext = vault.open(&aad(connection, name), &sealed).map_err(|error| self.error(error))?;
        String::from_utf8(plaintext)
            .map(Some)
            .map_err(|_| StateError::new(format!("{}: secret {name} of connection {connection} is not text", self.path().display())))
    }

    /// Forgets secret `name` of `connection` (a password replaced by a key, or the other way round).
    pub fn remove_secret(&self, connection: &str, name: &str) -> Result<()> {
        self.connection()
            .execute("DELETE FROM secrets WHERE connection = ?1 AND name = ?2", params![connection, name])
            .map_err(self.sqlite_error(format_args!("forgetting secret {name} of connection {connection}")))?;
        Ok(())
    }
}
