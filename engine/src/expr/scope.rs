use minijinja::Value;

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
        self.vars.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The whole scope as a minijinja context (later bindings win).
    pub fn to_context(&self) -> Value {
        crate::value::map(self.vars.iter().map(|(n, v)| (*n, v.clone())))
    }
}
