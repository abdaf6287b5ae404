use std::collections::HashMap;
use std::sync::Arc;

use super::pointer::pointer_parent;
use crate::diagnostic::{Location, SourceFile, Span};

/// Where a node was written: its file, the span of its key (for mapping
/// entries) and of its value, and where the text of a scalar starts within
/// the value span (1 for quoted scalars, 0 for plain ones, none for blocks).
#[derive(Debug, Clone)]
pub struct NodeLoc {
    pub file: Arc<SourceFile>,
    pub key: Option<Span>,
    pub value: Span,
    pub text_offset: Option<usize>,
}

/// JSON pointer → where that node was written. Built by the YAML loader and
/// carried through `extends` merges, so every later check can point at the
/// file and line that wrote the value it complains about.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    nodes: HashMap<String, NodeLoc>,
}

impl SpanIndex {
    pub fn insert(&mut self, pointer: String, loc: NodeLoc) {
        self.nodes.insert(pointer, loc);
    }

    pub fn get(&self, pointer: &str) -> Option<&NodeLoc> {
        self.nodes.get(pointer)
    }

    /// Drops `pointer` and everything below it.
    pub fn remove_subtree(&mut self, pointer: &str) {
        let prefix = format!("{pointer}/");
        self.nodes.retain(|p, _| p != pointer && !p.starts_with(&prefix));
    }

    /// Copies every entry of `other` over this index.
    pub fn extend(&mut self, other: SpanIndex) {
        self.nodes.extend(other.nodes);
    }

    /// The nearest written node at or above `pointer`.
    fn nearest(&self, mut pointer: &str) -> Option<&NodeLoc> {
        loop {
            if let Some(n) = self.nodes.get(pointer) {
                return Some(n);
            }
            pointer = pointer_parent(pointer)?;
        }
    }

    /// The value of `pointer` (or of its nearest written ancestor).
    pub fn value_loc(&self, pointer: &str) -> Option<Location> {
        self.nearest(pointer).map(|n| Location::new(&n.file, n.value))
    }

    /// The key of `pointer` when it is a mapping entry, else its value.
    pub fn key_loc(&self, pointer: &str) -> Option<Location> {
        self.nearest(pointer).map(|n| Location::new(&n.file, n.key.unwrap_or(n.value)))
    }

    /// A location inside a scalar's text, `offset` characters from its start,
    /// `len` long — for pointing at part of an expression. Falls back to the
    /// whole value when the scalar spans lines or is a block scalar.
    pub fn text_loc(&self, pointer: &str, offset: usize, len: usize) -> Option<Location> {
        let n = self.nearest(pointer)?;
        let whole = Location::new(&n.file, n.value);
        match n.text_offset {
            Some(start) if n.value.start.line == n.value.end.line => Some(whole.sub(start + offset, len)),
            _ => Some(whole),
        }
    }
}
