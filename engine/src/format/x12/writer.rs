//! The writer: records of the reader's shape become transaction sets, wrapped
//! in one GS and one ISA. Every value is checked against the definition
//! (length, type, codes; N2 scaled back to implied decimals) and the counts
//! are computed. The interchange is built whole before it is written, so a
//! record that does not fit writes nothing.

use std::io::Write;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::definitions::{Definitions, Node, SegmentDef, SetSchema};
use super::envelope::{ControlNumbers, EnvelopeConfig};
use super::error::{X12Error, X12ErrorKind};
use super::record::UNKNOWN_KEY;
use super::separators::{ISA_WIDTHS, Separators};
use super::values::{clip, write_value};

/// Keys of a record that are envelope facts, not segments.
const ENVELOPE_KEYS: [&str; 3] = ["interchange", "group", "set"];

/// Writes one interchange (ISA, one GS, the sets, GE, IEA) to `out`.
/// `at` is the date and time written into ISA09/10 and GS04/05.
pub fn write_interchange(
    out: &mut dyn Write,
    config: &EnvelopeConfig,
    controls: ControlNumbers,
    at: NaiveDateTime,
    sets: &[Value],
    definitions: &Definitions,
) -> Result<(), X12Error> {
    controls.check()?;
    let separators = separators_of(config)?;
    let version = config.version.gs08();
    let schemas = sets
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let id = record.pointer("/set/id").and_then(text_of).ok_or_else(|| record_error(format!("set {}: set.id (ST01) is missing", i + 1)))?;
            definitions.schema(&id, version)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let functional =
        schemas.first().map(|s| s.set.functional_group.clone()).ok_or_else(|| record_error("an interchange needs at least one transaction set"))?;
    if let Some(other) = schemas.iter().find(|s| s.set.functional_group != functional) {
        return Err(record_error(format!("sets of functional groups {functional} and {} cannot share one group", other.set.functional_group)));
    }
    let mut w = SegmentWriter { out: Vec::new(), separators, line_break: config.line_break, count: 0 };
    w.raw_isa(&isa_fields(config, controls.interchange, at)?);
    let app_sender = config.application_sender.as_deref().unwrap_or(&config.sender_id);
    let app_receiver = config.application_receiver.as_deref().unwrap_or(&config.receiver_id);
    for (name, value) in [("GS02", app_sender), ("GS03", app_receiver)] {
        if !(2..=15).contains(&value.len()) {
            return Err(record_error(format!("{name} '{}' must be 2 to 15 characters", clip(value))));
        }
    }
    let group = controls.group.to_string();
    let (date, time) = (at.format("%Y%m%d").to_string(), at.format("%H%M").to_string());
    w.segment("GS", &[&functional, app_sender, app_receiver, &date, &time, &group, "X", version].map(str::to_string))?;
    for (i, (record, schema)) in sets.iter().zip(&schemas).enumerate() {
        let control = match record.pointer("/set/control_number").and_then(text_of) {
            Some(c) => c,
            None => format!("{:04}", i + 1),
        };
        write_set(&mut w, record, *schema, &control)
            .map_err(|e| X12Error { message: format!("transaction set {} {control}: {}", schema.set.set, e.message), ..e })?;
    }
    w.segment("GE", &[sets.len().to_string(), group])?;
    w.segment("IEA", &["1".to_string(), format!("{:09}", controls.interchange)])?;
    out.write_all(&w.out)?;
    Ok(())
}

fn write_set(w: &mut SegmentWriter, record: &Value, schema: SetSchema<'_>, control: &str) -> Result<(), X12Error> {
    if !(4..=9).contains(&control.len()) || control.contains(|c: char| !c.is_ascii_alphanumeric()) {
        return Err(record_error(format!("the set control number '{}' must be 4 to 9 letters or digits", clip(control))));
    }
    let Value::Object(map) = record else { return Err(record_error("a record must be an object")) };
    let start = w.count;
    let convention = record.pointer("/set/convention").and_then(text_of).unwrap_or_default();
    w.segment("ST", &[schema.set.set.clone(), control.to_string(), convention])?;
    write_level(w, schema, &schema.set.structure, map, "", true)?;
    let count = w.count - start + 1;
    w.segment("SE", &[count.to_string(), control.to_string()])
}

/// Writes the nodes of one level from `map` (the set, or a loop instance whose
/// trigger segment was written already), then its unknown segments.
fn write_level(
    w: &mut SegmentWriter,
    schema: SetSchema<'_>,
    nodes: &[Node],
    map: &Map<String, Value>,
    path: &str,
    root: bool,
) -> Result<(), X12Error> {
    let trigger = if root { None } else { nodes.first().and_then(|n| schema.segment(n.id())) };
    for key in map.keys() {
        let known = nodes.iter().any(|n| n.id() == key)
            || key == UNKNOWN_KEY
            || (root && ENVELOPE_KEYS.contains(&key.as_str()))
            || trigger.is_some_and(|t| t.elements.iter().any(|e| &e.id == key))
            || nodes.iter().any(|n| matches!(n, Node::Loop { id, key: Some(k), .. } if *key == format!("{id}_by_{k}")));
        if !known {
            return Err(record_error(format!("{}'{key}' is not a segment, loop or element here", at_path(path))));
        }
    }
    for node in nodes.iter().skip(if root { 0 } else { 1 }) {
        let instances = instances_of(map.get(node.id()), path, node.id())?;
        if instances.len() < node.min() {
            return Err(record_error(format!("{}{} is required", at_path(path), node.id())));
        }
        if instances.len() > node.max() {
            return Err(record_error(format!("{}{} occurs {} times, at most {}", at_path(path), node.id(), instances.len(), node.max())));
        }
        for (i, instance) in instances.iter().enumerate() {
            let here = if instances.len() > 1 || node.max() > 1 { format!("{path}{}[{i}]", node.id()) } else { format!("{path}{}", node.id()) };
            let def = schema.segment(node.id()).ok_or_else(|| record_error(format!("no definition of segment {}", node.id())))?;
            if let Node::Segment { .. } = node
                && let Some(key) = instance.keys().find(|k| !def.elements.iter().any(|e| &e.id == *k))
            {
                return Err(record_error(format!("{here}: '{key}' is not an element of {}", node.id())));
            }
            write_defined(w, node.id(), def, instance, &here)?;
            if let Node::Loop { body, .. } = node {
                write_level(w, schema, body, instance, &format!("{here} > "), false)?;
            }
        }
    }
    if let Some(unknown) = map.get(UNKNOWN_KEY) {
        for (i, entry) in unknown.as_array().into_iter().flatten().enumerate() {
            let id = entry.get("segment").and_then(Value::as_str).unwrap_or_default();
            let elements: Option<Vec<String>> = entry.get("elements").and_then(Value::as_array).map(|l| l.iter().filter_map(text_of).collect());
            let (true, Some(elements)) = (!id.is_empty(), elements) else {
                return Err(record_error(format!("{}{UNKNOWN_KEY}[{i}] needs `segment` and `elements`", at_path(path))));
            };
            w.segment(id, &elements)?;
        }
    }
    Ok(())
}

/// One segment from an object of its elements (a loop instance may hold more keys).
fn write_defined(w: &mut SegmentWriter, id: &str, def: &SegmentDef, object: &Map<String, Value>, path: &str) -> Result<(), X12Error> {
    let mut elements = Vec::with_capacity(def.elements.len());
    for element in &def.elements {
        match object.get(&element.id).filter(|v| !v.is_null()) {
            Some(value) => {
                let text = write_value(element, value, &w.separators).map_err(|m| record_error(format!("{path}: {} {m}", element.id)))?;
                elements.push(text);
            }
            None if element.required => return Err(record_error(format!("{path}: {} is required", element.id))),
            None => elements.push(String::new()),
        }
    }
    w.segment(id, &elements)
}

fn instances_of<'v>(value: Option<&'v Value>, path: &str, id: &str) -> Result<Vec<&'v Map<String, Value>>, X12Error> {
    let not_object = || record_error(format!("{}{id} must be an object or a list of objects", at_path(path)));
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(o)) => Ok(vec![o]),
        Some(Value::Array(list)) => list.iter().map(|v| v.as_object().ok_or_else(not_object)).collect(),
        Some(_) => Err(not_object()),
    }
}

struct SegmentWriter {
    out: Vec<u8>,
    separators: Separators,
    line_break: bool,
    count: usize,
}

impl SegmentWriter {
    /// A segment, its trailing empty elements left out.
    fn segment(&mut self, id: &str, elements: &[String]) -> Result<(), X12Error> {
        let used = elements.iter().rposition(|e| !e.is_empty()).map_or(0, |i| i + 1);
        self.out.extend_from_slice(id.as_bytes());
        for element in elements.iter().take(used) {
            self.out.push(self.separators.element);
            self.out.extend_from_slice(element.as_bytes());
        }
        self.end();
        Ok(())
    }

    fn raw_isa(&mut self, fields: &[String]) {
        self.out.extend_from_slice(b"ISA");
        for field in fields {
            self.out.push(self.separators.element);
            self.out.extend_from_slice(field.as_bytes());
        }
        self.end();
    }

    fn end(&mut self) {
        self.out.push(self.separators.segment);
        if self.line_break && self.separators.segment != b'\n' {
            self.out.push(b'\n');
        }
        self.count += 1;
    }
}

/// ISA01..ISA16, each padded to its fixed width.
fn isa_fields(config: &EnvelopeConfig, control: u64, at: NaiveDateTime) -> Result<Vec<String>, X12Error> {
    let isa11 = match config.version {
        super::envelope::X12Version::V4010 => "U".to_string(),
        super::envelope::X12Version::V5010 => config.repetition_separator.to_string(),
    };
    let values = [
        "00".to_string(),
        String::new(),
        "00".to_string(),
        String::new(),
        config.sender_qualifier.clone(),
        config.sender_id.clone(),
        config.receiver_qualifier.clone(),
        config.receiver_id.clone(),
        at.format("%y%m%d").to_string(),
        at.format("%H%M").to_string(),
        isa11,
        config.version.isa12().to_string(),
        format!("{control:09}"),
        if config.ack_requested { "1" } else { "0" }.to_string(),
        match config.usage {
            super::envelope::Usage::Test => "T",
            super::envelope::Usage::Production => "P",
        }
        .to_string(),
        config.component_separator.to_string(),
    ];
    values
        .into_iter()
        .zip(ISA_WIDTHS)
        .enumerate()
        .map(|(i, (value, width))| {
            let length = value.chars().count();
            if length > width || value.contains(|c: char| !c.is_ascii()) {
                return Err(record_error(format!("ISA{:02} '{}' must be at most {width} ASCII characters", i + 1, clip(&value))));
            }
            Ok(format!("{value:<width$}"))
        })
        .collect()
}

fn separators_of(config: &EnvelopeConfig) -> Result<Separators, X12Error> {
    let byte = |name: &str, c: char| -> Result<u8, X12Error> {
        u8::try_from(c)
            .ok()
            .filter(|b| b.is_ascii() && !b.is_ascii_alphanumeric() && *b != b' ')
            .ok_or_else(|| record_error(format!("the {name} '{c}' must be one ASCII character other than a letter, digit or space")))
    };
    let repetition = match config.version {
        super::envelope::X12Version::V4010 => None,
        super::envelope::X12Version::V5010 => Some(byte("repetition separator", config.repetition_separator)?),
    };
    let s = Separators {
        element: byte("element separator", config.element_separator)?,
        component: byte("component separator", config.component_separator)?,
        repetition,
        segment: byte("segment terminator", config.segment_terminator)?,
    };
    let all = [Some(s.element), Some(s.component), Some(s.segment), s.repetition];
    if all.iter().enumerate().any(|(i, a)| a.is_some() && all.iter().skip(i + 1).any(|b| b == a)) {
        return Err(record_error("the separators and the segment terminator must all differ"));
    }
    Ok(s)
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn at_path(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!("{path}: ") }
}

fn record_error(message: impl Into<String>) -> X12Error {
    X12Error::new(X12ErrorKind::Record, message)
}
