//! The overview of connections for `flowmap connections`: what is stored for
//! each, without decrypting anything (no key needed, nothing secret shown).

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::Result;
use crate::state::State;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionRow {
    pub name: String,
    /// The names of the stored secrets (never their values).
    pub secrets: Vec<String>,
    pub token_issued_at_ms: Option<i64>,
    pub token_expires_at_ms: Option<i64>,
    /// Why the connection needs the operator's consent again, if it does.
    pub needs_consent: Option<String>,
    /// Non-secret settings, by name.
    pub settings: Vec<(String, String)>,
}

impl State {
    /// Every connection that has settings, secrets or tokens stored, by name.
    pub fn connections(&self) -> Result<Vec<ConnectionRow>> {
        let connection = self.connection();
        overview(&connection).map_err(self.sqlite_error("listing connections"))
    }
}

fn overview(db: &Connection) -> rusqlite::Result<Vec<ConnectionRow>> {
    let names: Vec<String> = db
        .prepare("SELECT connection FROM settings UNION SELECT connection FROM secrets UNION SELECT connection FROM tokens ORDER BY 1")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut secrets = db.prepare("SELECT name FROM secrets WHERE connection = ?1 ORDER BY name")?;
    let mut settings = db.prepare("SELECT name, value FROM settings WHERE connection = ?1 ORDER BY name")?;
    let mut tokens = db.prepare("SELECT issued_at_ms, expires_at_ms, needs_consent FROM tokens WHERE connection = ?1")?;
    names
        .into_iter()
        .map(|name| {
            let (token_issued_at_ms, token_expires_at_ms, needs_consent) =
                tokens.query_row([&name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).optional()?.unwrap_or((None, None, None));
            Ok(ConnectionRow {
                secrets: secrets.query_map([&name], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?,
                settings: settings.query_map([&name], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<rusqlite::Result<_>>()?,
                token_issued_at_ms,
                token_expires_at_ms,
                needs_consent,
                name,
            })
        })
        .collect()
}
