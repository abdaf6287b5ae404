//! Checks on the names that bind sealed values to their place.

use crate::error::{Result, StateError};

/// Connection and secret names become part of a sealed value's aad
/// ("secret:<connection>:<name>"). A ':' inside a name would make two
/// different places share one aad ("a:b" + "c" and "a" + "b:c"), letting a
/// sealed value be moved from one to the other; so names may not contain one.
pub(crate) fn check(what: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(StateError::new(format!("the {what} name is empty")));
    }
    if name.contains(':') || name.chars().any(char::is_control) {
        return Err(StateError::new(format!("the {what} name {name:?} contains ':' or a control character, which are not allowed")));
    }
    Ok(())
}
