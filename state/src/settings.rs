//! Connection settings that are not secret (for example the Exact Online
//! division found through current/Me), stored in plain text.

use rusqlite::{OptionalExtension, params};

use crate::clock::now_ms;
use crate::error::Result;
use crate::names;
use crate::state::State;

impl State {
    /// Stores setting `name` of `connection`, replacing an earlier value.
    pub fn set_setting(&self, connection: &str, name: &str, value: &str) -> Result<()> {
        names::check("connection", connection)?;
        names::check("setting", name)?;
        self.connection()
            .execute(
                "INSERT INTO settings (connection, name, value, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (connection, name) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms",
                params![connection, name, value, now_ms()],
            )
            .map_err(self.sqlite_error(format_args!("storing setting {name} of connection {connection}")))?;
        Ok(())
    }

    /// Empties setting `name` of `connection` if it still holds `value`; true when this call
    /// did (a single-use value taken by one caller only, whatever else runs at once).
    pub fn take_setting(&self, connection: &str, name: &str, value: &str) -> Result<bool> {
        let changed = self
            .connection()
            .execute(
                "UPDATE settings SET value = '', updated_at_ms = ?4 WHERE connection = ?1 AND name = ?2 AND value = ?3 AND value != ''",
                params![connection, name, value, now_ms()],
            )
            .map_err(self.sqlite_error(format_args!("taking setting {name} of connection {connection}")))?;
        Ok(changed == 1)
    }

    /// Setting `name` of `connection`, if stored.
    pub fn setting(&self, connection: &str, name: &str) -> Result<Option<String>> {
        self.connection()
            .query_row("SELECT value FROM settings WHERE connection = ?1 AND name = ?2", params![connection, name], |row| row.get(0))
            .optional()
            .map_err(self.sqlite_error(format_args!("reading setting {name} of connection {connection}")))
    }
}
