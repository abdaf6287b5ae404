//! Record keys given from outside — the API (runs, replays, previews), a
//! webhook event, `--key` on the command line — are checked before they reach
//! a URL, the inbox, the journal or a log: bounded in length and count, free
//! of control characters, and of the shape the flow's source system declares
//! for them in YAML (`key_shapes`, e.g. Exact's IDs are GUIDs).
//!
//! The bounds are the engine's, not a system's: no system's keys come near
//! them, and a key beyond them would be copied into every URL, run summary and
//! log line that names it.

use crate::model::KeyShapeDef;

/// Longest key, in bytes. Exact's GUIDs are 36, LNB references and Exact's
/// `YourRef` (30) far shorter; what is longer is not a key but a payload.
pub const MAX_KEY_BYTES: usize = 256;

/// Most keys in one request (a run, a replay or a preview of chosen records).
pub const MAX_KEYS: usize = 1000;

/// Characters of a key shown in a message about it.
const SHOWN_CHARS: usize = 40;

/// A kind of key a system declares: the whole key must match the pattern.
#[derive(Debug)]
pub struct KeyShape {
    pub name: String,
    pub description: String,
    pattern: regex::Regex,
}

impl KeyShape {
    /// The shape `name` of a system file, or why its pattern does not compile.
    pub fn compile(name: &str, def: &KeyShapeDef) -> Result<KeyShape, String> {
        // Anchored here, so a pattern written without `^…$` cannot let a key through on a partial match.
        let pattern = regex::Regex::new(&format!("^(?:{})$", def.pattern)).map_err(|e| format!("key shape `{name}` does not compile: {e}"))?;
        Ok(KeyShape { name: name.to_string(), description: def.description.clone(), pattern })
    }

    pub fn fits(&self, key: &str) -> bool {
        self.pattern.is_match(key)
    }
}

/// What is wrong with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    Empty,
    TooLong {
        bytes: usize,
    },
    /// A control character (a newline, NUL, …): no system has them in keys, and they forge log lines.
    Control,
    /// Not of the shape the source system declares.
    Shape {
        shape: String,
        description: String,
    },
}

/// A key that is refused, shown shortened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadKey {
    pub shown: String,
    pub problem: KeyProblem,
}

impl std::fmt::Display for BadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.problem {
            KeyProblem::Empty => write!(f, "a key is empty"),
            KeyProblem::TooLong { bytes } => write!(f, "key `{}` is {bytes} bytes long; a key is at most {MAX_KEY_BYTES} bytes", self.shown),
            KeyProblem::Control => write!(f, "key `{}` has a control character", self.shown),
            KeyProblem::Shape { shape, description } => write!(f, "key `{}` is not a {shape} ({description})", self.shown),
        }
    }
}

/// Why a list of keys is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysError {
    TooMany { count: usize },
    Bad(BadKey),
}

impl std::fmt::Display for KeysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeysError::TooMany { count } => write!(f, "{count} keys; at most {MAX_KEYS} in one request"),
            KeysError::Bad(bad) => bad.fmt(f),
        }
    }
}

/// Checks one key: bounded, printable, of `shape` when the source declares one.
pub fn check(key: &str, shape: Option<&KeyShape>) -> Result<(), BadKey> {
    let problem = if key.is_empty() {
        KeyProblem::Empty
    } else if key.len() > MAX_KEY_BYTES {
        KeyProblem::TooLong { bytes: key.len() }
    } else if key.chars().any(char::is_control) {
        KeyProblem::Control
    } else {
        match shape {
            Some(shape) if !shape.fits(key) => KeyProblem::Shape { shape: shape.name.clone(), description: shape.description.clone() },
            _ => return Ok(()),
        }
    };
    Err(BadKey { shown: shown(key), problem })
}

/// Checks a list of keys: not too many, each as [`check`] says; the first problem is named.
pub fn check_all(keys: &[String], shape: Option<&KeyShape>) -> Result<(), KeysError> {
    if keys.len() > MAX_KEYS {
        return Err(KeysError::TooMany { count: keys.len() });
    }
    keys.iter().try_for_each(|k| check(k, shape)).map_err(KeysError::Bad)
}

/// Checks each of a list of keys, however many (keys a replay takes from the journal).
pub fn check_each(keys: &[String], shape: Option<&KeyShape>) -> Result<(), BadKey> {
    keys.iter().try_for_each(|k| check(k, shape))
}

/// A key as messages and answers show it: at most [`SHOWN_CHARS`] characters,
/// control characters escaped, and how long it was when cut.
pub fn shown(key: &str) -> String {
    let mut text = String::new();
    for c in key.chars().take(SHOWN_CHARS) {
        if c.is_control() {
            text.extend(c.escape_default());
        } else {
            text.push(c);
        }
    }
    if key.chars().nth(SHOWN_CHARS).is_some() {
        text.push_str(&format!("… ({} bytes)", key.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guid() -> KeyShape {
        let def = KeyShapeDef {
            pattern: "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}".into(),
            description: "a GUID".into(),
        };
        KeyShape::compile("guid", &def).unwrap()
    }

    #[test]
    fn keys_are_bounded_printable_and_of_their_shape() {
        assert_eq!(check("50001", None), Ok(()));
        assert_eq!(check("                 8", None), Ok(()), "Exact's padded account codes are keys too");
        assert_eq!(check("c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10", Some(&guid())), Ok(()));
        assert_eq!(check("", None).unwrap_err().to_string(), "a key is empty");
        let long = "a".repeat(1 << 20);
        assert_eq!(
            check(&long, None).unwrap_err().to_string(),
            format!("key `{}… (1048576 bytes)` is 1048576 bytes long; a key is at most 256 bytes", "a".repeat(40))
        );
        assert_eq!(check("50001\nINFO forged", None).unwrap_err().to_string(), "key `50001\\nINFO forged` has a control character");
        assert_eq!(shown("Müller & Zn"), "Müller & Zn", "only control characters are escaped");
        for refused in ["../../etc", "x') or (1 eq 1", "c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10x"] {
            assert_eq!(
                check(refused, Some(&guid())).unwrap_err().problem,
                KeyProblem::Shape { shape: "guid".into(), description: "a GUID".into() },
                "{refused}"
            );
        }
    }

    #[test]
    fn a_list_of_keys_is_bounded_and_its_first_bad_key_named() {
        let many: Vec<String> = (0..=MAX_KEYS).map(|i| i.to_string()).collect();
        assert_eq!(check_all(&many, None), Err(KeysError::TooMany { count: 1001 }));
        let keys = vec!["50001".to_string(), String::new(), "x\u{0}".to_string()];
        assert_eq!(check_all(&keys, None).unwrap_err().to_string(), "a key is empty");
    }

    #[test]
    fn a_pattern_must_match_the_whole_key() {
        let def = KeyShapeDef { pattern: "[0-9]+".into(), description: "digits".into() };
        let digits = KeyShape::compile("digits", &def).unwrap();
        assert!(digits.fits("50001"));
        assert!(!digits.fits("50001/../x"));
        assert!(KeyShape::compile("bad", &KeyShapeDef { pattern: "(".into(), description: String::new() }).is_err());
    }
}
