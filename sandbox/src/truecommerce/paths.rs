//! Client paths as places under the served folder. A path is resolved by its words alone (`.`
//! dropped, `..` taking one back), relative ones from `/`; one that would climb above `/` is
//! refused, and so is one through a symbolic link (none is made through SFTP, but a folder on
//! disk could hold one), so nothing outside the root is ever reached.

use std::path::{Path, PathBuf};

use russh_sftp::protocol::StatusCode;
use russh_sftp::server::StatusReply;

/// A path inside the root, as its words from `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inside(Vec<String>);

impl Inside {
    pub fn resolve(path: &str) -> Result<Inside, StatusReply> {
        let mut words: Vec<String> = Vec::new();
        for word in path.split('/') {
            match word {
                "" | "." => {}
                ".." => {
                    if words.pop().is_none() {
                        return Err(StatusCode::PermissionDenied.with_message(format!("{path}: outside the served folder")));
                    }
                }
                word => words.push(word.to_string()),
            }
        }
        Ok(Inside(words))
    }

    /// `/IntegrationFTP/Import/Acme`, as `realpath` answers.
    pub fn shown(&self) -> String {
        format!("/{}", self.0.join("/"))
    }

    /// The place on disk, refused when a step on the way is a symbolic link.
    pub fn local(&self, root: &Path) -> Result<PathBuf, StatusReply> {
        let mut place = root.to_path_buf();
        for word in &self.0 {
            place.push(word);
            if std::fs::symlink_metadata(&place).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(StatusCode::PermissionDenied.with_message(format!("{}: a symbolic link, not followed", self.shown())));
            }
        }
        Ok(place)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_resolve_within_the_root_and_climbing_out_is_refused() {
        assert_eq!(Inside::resolve("IntegrationFTP/./Import/../Export/Acme/").unwrap().shown(), "/IntegrationFTP/Export/Acme");
        assert_eq!(Inside::resolve(".").unwrap().shown(), "/");
        let refused = Inside::resolve("/IntegrationFTP/../../etc/passwd").unwrap_err();
        assert_eq!(refused.status_code, StatusCode::PermissionDenied);
    }
}
