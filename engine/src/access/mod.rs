//! Access: how the run stages ask systems for data. The stages only speak
//! this trait, so the same compiled flow runs against recorded fixture files
//! (dry-run, tests, benchmark) or, later, live HTTP connections.

mod fixtures;

pub use fixtures::{FixtureAccess, read_records};

use minijinja::Value;

/// Records of `entity` in `system` whose `field` equals one of `keys`.
#[derive(Debug, Clone)]
pub struct FindQuery<'a> {
    pub system: &'a str,
    pub entity: &'a str,
    pub field: &'a str,
    pub keys: &'a [String],
    pub select: &'a [String],
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccessError(pub String);

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub trait Access {
    fn find(&mut self, query: &FindQuery) -> Result<Vec<Value>, AccessError>;
}
