//! Builds the record of one transaction set from its segments, as they
//! arrive: segments and loops by name, values typed per the definition.
//!
//! Matching follows the structure forward: a segment is looked for from the
//! current position of the current loop; if it is not there, the loop is
//! closed and the parent looks (this is how a second `PO1` starts a new
//! instance). A segment found nowhere is kept under `_unknown` of the current
//! loop instance (or the set), with its position and raw elements.

use serde_json::{Map, Value, json};

use super::definitions::{Node, SegmentDef, SetSchema};
use super::error::{X12Error, X12ErrorKind};
use super::tokenizer::Segment;
use super::values::read_value;

/// Where unknown segments are kept in a record or loop instance.
pub const UNKNOWN_KEY: &str = "_unknown";

struct Frame<'a> {
    nodes: &'a [Node],
    /// Index in `nodes` where the search for the next segment starts.
    next: usize,
    map: Map<String, Value>,
    /// The loop this frame is an instance of (None for the set itself).
    node: Option<&'a Node>,
}

pub struct RecordBuilder<'a> {
    schema: SetSchema<'a>,
    stack: Vec<Frame<'a>>,
}

impl<'a> RecordBuilder<'a> {
    pub fn new(schema: SetSchema<'a>) -> Self {
        let root = Frame { nodes: &schema.set.structure, next: 0, map: Map::new(), node: None };
        RecordBuilder { schema, stack: vec![root] }
    }

    /// Adds one segment (between ST and SE).
    pub fn push(&mut self, segment: Segment) -> Result<(), X12Error> {
        // The deepest frame whose remaining nodes hold this segment.
        let found = self.stack.iter().enumerate().rev().find_map(|(depth, frame)| {
            let skip = frame.next;
            frame.nodes.iter().enumerate().skip(skip).find(|(_, n)| n.id() == segment.id).map(|(i, _)| (depth, i))
        });
        let Some((depth, index)) = found else {
            return self.push_unknown(segment);
        };
        while self.stack.len() > depth + 1 {
            self.close_top();
        }
        let Some(frame) = self.stack.last_mut() else { return Ok(()) };
        let Some(node) = frame.nodes.get(index) else { return Ok(()) };
        frame.next = if node.max() == 1 { index + 1 } else { index };
        let id = segment.id.clone();
        let fields = self.fields(segment)?;
        match node {
            Node::Segment { max, .. } => {
                let Some(frame) = self.stack.last_mut() else { return Ok(()) };
                insert(&mut frame.map, &id, Value::Object(fields), *max);
            }
            Node::Loop { body, .. } => {
                // The instance starts with its trigger segment's elements.
                self.stack.push(Frame { nodes: body, next: 1, map: fields, node: Some(node) });
            }
        }
        Ok(())
    }

    /// The finished record's segments and loops.
    pub fn finish(mut self) -> Map<String, Value> {
        while self.stack.len() > 1 {
            self.close_top();
        }
        self.stack.pop().map(|f| f.map).unwrap_or_default()
    }

    fn close_top(&mut self) {
        let Some(frame) = self.stack.pop() else { return };
        let Some(Node::Loop { id, max, key, .. }) = frame.node else { return };
        let Some(parent) = self.stack.last_mut() else { return };
        let instance = Value::Object(frame.map);
        let named = key.as_ref().and_then(|k| Some((k, instance.get(k)?.as_str()?.to_string(), instance.clone())));
        insert(&mut parent.map, id, instance, *max);
        if let Some((key, name, instance)) = named
            && let Value::Object(by) = parent.map.entry(format!("{id}_by_{key}")).or_insert_with(|| Value::Object(Map::new()))
        {
            // The first instance with a qualifier is the one found by it.
            by.entry(name).or_insert(instance);
        }
    }

    fn push_unknown(&mut self, segment: Segment) -> Result<(), X12Error> {
        let Some(frame) = self.stack.last_mut() else { return Ok(()) };
        let entry = json!({ "segment": segment.id, "position": segment.position, "elements": segment.elements });
        let list = frame.map.entry(UNKNOWN_KEY).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.push(entry);
        }
        Ok(())
    }

    /// The segment's elements by id, typed; absent and empty elements are left out.
    fn fields(&self, segment: Segment) -> Result<Map<String, Value>, X12Error> {
        let def: Option<&SegmentDef> = self.schema.segment(&segment.id);
        let mut map = Map::new();
        let Some(def) = def else { return Ok(map) };
        let (id, position) = (segment.id, segment.position);
        for (i, text) in segment.elements.into_iter().enumerate() {
            if text.is_empty() {
                continue;
            }
            match def.elements.get(i) {
                Some(element) => {
                    let value = read_value(element, text)
                        .map_err(|m| X12Error::new(X12ErrorKind::Value, format!("{} {m}", element.id)).at_segment(position, &id))?;
                    map.insert(element.id.clone(), value);
                }
                // More elements than the definition has: kept by position.
                None => {
                    map.insert(format!("{id}{:02}", i + 1), Value::String(text));
                }
            }
        }
        Ok(map)
    }
}

/// A node with max 1 is an object; a repeating one a list of them.
fn insert(map: &mut Map<String, Value>, id: &str, value: Value, max: usize) {
    if max == 1 {
        map.entry(id.to_string()).or_insert(value);
        return;
    }
    if let Value::Array(list) = map.entry(id.to_string()).or_insert_with(|| Value::Array(Vec::new())) {
        list.push(value);
    }
}
