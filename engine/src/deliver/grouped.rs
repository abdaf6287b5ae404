//! Records gathered into the files a file target writes, for live runs and
//! dry-runs alike: with `target.group`, the records of one batch with the same
//! group value share ONE file (X12: one interchange, one functional group, one
//! transaction set per record; JSON: an array; CSV: the lines); without it,
//! each record is its own file, under the name the runner gave it.
//!
//! A record the format refuses is refused alone (each is written by itself
//! first), so the others of its group still go. A configuration the format
//! cannot work with stops the run before anything is journaled or written.

use indexmap::IndexMap;
use minijinja::Value;

use super::{FileTargetShape, PlannedRequest};
use crate::compile::CompiledFlow;
use crate::format::{Control, WriteError};
use crate::run::reason::{of_failure, template_reads_record};
use crate::run::{Context, Reason, ReasonKind};
use crate::transport::files::{join, plain_name};

/// One record offered to a file: its mapped payload and what it was mapped from.
pub struct Offered<'a> {
    pub key: &'a str,
    pub request: &'a PlannedRequest,
    pub context: &'a Context,
}

/// A file to write: its name, exact bytes, control numbers, and the records in it.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    /// The plain name in the outbox.
    pub name: String,
    /// The outbox and the name: where the file is written.
    pub path: String,
    pub bytes: Vec<u8>,
    /// X12 only (formats that number their files).
    pub control: Option<Control>,
    /// The records of the file, in the file's order: the index of each among those offered,
    /// and its place in the file (X12: the set control number, ST02; else its position).
    pub members: Vec<(usize, String)>,
}

impl PlannedFile {
    /// What the target holds of member `set` once the file is there: the file, its size, and
    /// (X12) the interchange (ISA13), the group (GS06) and the set (ST02) the record is.
    pub fn answer(&self, set: &str) -> serde_json::Value {
        let mut answer = serde_json::json!({"file": self.path, "bytes": self.bytes.len()});
        match self.control {
            Some(c) => {
                answer["interchange"] = c.interchange.into();
                answer["group"] = c.group.into();
                answer["set"] = set.into();
            }
            None => answer["record"] = set.into(),
        }
        answer
    }

    /// The record's id at the target: the file and its place in it (`PO_1.x12#0002`), unique per record.
    pub fn target_id(&self, set: &str) -> String {
        format!("{}#{set}", self.name)
    }
}

/// The records offered, gathered: the files to write, the records refused (by index,
/// with why), or the run's stop (a configuration the format cannot work with).
#[derive(Debug, Default)]
pub struct Gathered {
    pub files: Vec<PlannedFile>,
    pub refused: Vec<(usize, Reason)>,
    pub stop: Option<String>,
}

/// Gathers `offered` into files. `control` gives each numbered file its control numbers
/// (the state store's, or 1 in a dry-run); it is asked only for a file that will be written.
pub fn gather(
    flow: &CompiledFlow,
    settings: &Value,
    shape: &FileTargetShape<'_>,
    offered: &[Offered<'_>],
    control: &mut dyn FnMut() -> Result<Control, String>,
) -> Gathered {
    let mut gathered = Gathered::default();
    let records: Vec<serde_json::Value> = offered.iter().map(|o| o.request.body.as_ref().map(crate::value::to_json).unwrap_or_default()).collect();
    // Each record written by itself first: a record the format refuses is blocked alone.
    let one = Control { interchange: 1, group: 1 };
    let mut groups: IndexMap<String, Vec<usize>> = IndexMap::new();
    for (i, o) in offered.iter().enumerate() {
        match shape.format.write(std::slice::from_ref(&records[i]), shape.envelope, one) {
            Ok(_) => {}
            Err(WriteError::Record(reason)) => {
                gathered.refused.push((i, Reason::record(reason)));
                continue;
            }
            Err(WriteError::Configuration(message)) => {
                gathered.stop = Some(message);
                return gathered;
            }
        }
        match group_of(flow, settings, o) {
            Ok(group) => groups.entry(group).or_default().push(i),
            Err(reason) if reason.kind == ReasonKind::Flow => {
                gathered.stop = Some(reason.stop_message());
                return gathered;
            }
            Err(reason) => gathered.refused.push((i, reason)),
        }
    }
    for (group, members) in groups {
        let mut set: Vec<serde_json::Value> = members.iter().map(|&i| records[i].clone()).collect();
        // A grouped JSON file is an array whatever its size: the partner reads one shape.
        if flow.target.group.is_some() && shape.format.kind() == "json" && set.len() == 1 {
            set = vec![serde_json::Value::Array(set)];
        }
        let numbered = shape.format.numbered();
        let numbers = if numbered {
            match control() {
                Ok(c) => Some(c),
                Err(message) => {
                    gathered.stop = Some(message);
                    return gathered;
                }
            }
        } else {
            None
        };
        let bytes = match shape.format.write(&set, shape.envelope, numbers.unwrap_or(one)) {
            Ok(bytes) => bytes,
            // Each record was fine alone: what the file refuses is the records together
            // (sets of two functional groups), which no record can be blamed for alone.
            Err(WriteError::Record(reason)) => {
                gathered
                    .refused
                    .extend(members.iter().map(|&i| (i, Reason::record(format!("in one file with the others of group {group}: {reason}")))));
                continue;
            }
            Err(WriteError::Configuration(message)) => {
                gathered.stop = Some(message);
                return gathered;
            }
        };
        let first = &offered[members[0]];
        let name = match name_of(flow, settings, first, &group, numbers) {
            Ok(name) => name,
            Err(reason) if reason.kind == ReasonKind::Flow => {
                gathered.stop = Some(reason.stop_message());
                return gathered;
            }
            Err(reason) => {
                gathered.refused.extend(members.iter().map(|&i| (i, reason.clone())));
                continue;
            }
        };
        let places = members.iter().enumerate().map(|(at, &i)| (i, place(&records[i], at, numbered))).collect();
        gathered.files.push(PlannedFile { path: join(&shape.outbox, &name), name, bytes, control: numbers, members: places });
    }
    gathered
}

/// The record's group: `target.group`'s value, or (no `group`) its own file's name.
fn group_of(flow: &CompiledFlow, settings: &Value, o: &Offered<'_>) -> Result<String, Reason> {
    let Some(group) = &flow.target.group else { return Ok(format!("\u{0}{}", o.key)) };
    let scope = o.context.scope(flow, settings);
    match group.eval(&scope) {
        Ok(v) if crate::value::is_empty(&v) => {
            Err(Reason::record(format!("the group `{}` is empty: the record's file would go to no one", group.text.trim())))
        }
        Ok(v) => Ok(crate::value::key_text(&v)),
        Err(e) => Err(Reason::new(of_failure(group, &e), format!("the group `{}`: {e}", group.text.trim()), "")),
    }
}

/// The file's name: the runner's (no `group`), else `target.file` with the first record's
/// names, `group` and `interchange` in scope. Record data never chooses another folder.
fn name_of(flow: &CompiledFlow, settings: &Value, first: &Offered<'_>, group: &str, control: Option<Control>) -> Result<String, Reason> {
    let name = match (&flow.target.group, &flow.target.file) {
        (Some(_), Some(template)) => {
            let mut scope = first.context.scope(flow, settings);
            scope.push(crate::compile::GROUP_NAME, Value::from(group));
            scope.push(crate::compile::INTERCHANGE_NAME, control.map_or(Value::from(()), |c| Value::from(c.interchange)));
            template.render(&scope).map_err(|e| {
                let kind = if template_reads_record(template) { ReasonKind::Record } else { ReasonKind::Flow };
                Reason::new(kind, format!("the file name `{}`: {e}", template.text), "")
            })?
        }
        _ => first.request.path.clone(),
    };
    if !plain_name(&name) {
        return Err(Reason::record(format!("the file name `{name}` is not a plain file name (no `/`, `\\` or `..`)")));
    }
    Ok(name)
}

/// The record's place in its file: the X12 set control number (ST02) as the writer writes
/// it (the record's own `set.control_number`, else its position as 0001, 0002, …), or its
/// position.
fn place(record: &serde_json::Value, at: usize, numbered: bool) -> String {
    if !numbered {
        return (at + 1).to_string();
    }
    match record.pointer("/set/control_number") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => format!("{:04}", at + 1),
    }
}
