use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object};

/// The names an expression can see while one record is processed: the record
/// under its alias, `settings`, `lookup`, loop elements, `out`, `key`, …
/// A handful of entries, so a vector beats a map. Names are interned when the
/// flow compiles (see `names::intern`), so binding one costs no allocation.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: Vec<(&'static str, Value)>,
}

impl Scope {
    pub fn new() -> Self {
        Scope { vars: Vec::with_capacity(8) }
    }

    /// Binds `name`; a later binding of the same name shadows the earlier one until popped.
    pub fn push(&mut self, name: &'static str, value: Value) {
        self.vars.push((name, value));
    }

    pub fn pop(&mut self) {
        self.vars.pop();
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        // Interned names usually match by address; fall back to the text.
        self.vars.iter().rev().find(|(n, _)| std::ptr::eq(n.as_ptr(), name.as_ptr()) || *n == name).map(|(_, v)| v)
    }

    /// The scope as a minijinja context: one allocation, names resolved by
    /// a scan of a few entries rather than by building a map per evaluation.
    pub fn to_context(&self) -> Value {
        Value::from_object(Context(self.vars.clone()))
    }
}

#[derive(Debug)]
struct Context(Vec<(&'static str, Value)>);

impl Object for Context {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        self.0.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.iter().map(|(n, _)| Value::from(*n)).collect())
    }
}
