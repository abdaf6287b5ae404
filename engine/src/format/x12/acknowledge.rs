//! Acknowledging what we received: a file's [`FileReceipt`] (the reader's, or
//! [`receive`] for the bytes alone), and per group the 997 record — in the
//! reader's record shape for `mappings/x12/997.yaml` — that the writer writes
//! with `set.id = "997"` in a GS of functional id FA.

use std::io::BufRead;

use serde_json::{Map, Value, json};

use super::definitions::Definitions;
use super::envelope::EnvelopeConfig;
use super::reader::Reader;
use super::receipt::{FileReceipt, GroupReceipt, SegmentError, SetReceipt};

/// Reads a whole file for its receipt alone (its records are dropped as they come).
pub fn receive(input: impl BufRead, file: &str, definitions: &Definitions) -> FileReceipt {
    let mut reader = Reader::new(input, file, definitions).with_receipt();
    reader.by_ref().for_each(drop);
    reader.into_receipt().unwrap_or_default()
}

/// Why a group cannot be acknowledged: AK1 must name it by GS01 and GS06.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnidentifiableGroup {
    pub functional_id: String,
    pub control_number: String,
}

impl std::fmt::Display for UnidentifiableGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "group '{}' '{}' cannot be acknowledged: a 997 names a group by GS01 (two characters) and GS06 (1 to 9 digits)",
            self.functional_id, self.control_number
        )
    }
}

impl std::error::Error for UnidentifiableGroup {}

/// The 997 record acknowledging one received group. `envelope` is the one the
/// 997 will be written with: a bad value copied into AK404 loses its
/// separators. A set whose ST01/ST02 cannot be written back gets no AK2 (it
/// still counts in AK9 as received and not accepted).
pub fn acknowledgement(group: &GroupReceipt, envelope: &EnvelopeConfig) -> Result<Value, UnidentifiableGroup> {
    let identifiable = group.functional_id.len() == 2
        && group.functional_id.bytes().all(|b| b.is_ascii_alphanumeric())
        && (1..=9).contains(&group.control_number.len())
        && group.control_number.bytes().all(|b| b.is_ascii_digit());
    if !identifiable {
        return Err(UnidentifiableGroup { functional_id: group.functional_id.clone(), control_number: group.control_number.clone() });
    }
    let separators = [envelope.element_separator, envelope.component_separator, envelope.repetition_separator, envelope.segment_terminator];
    let sets: Vec<Value> = group.sets.iter().filter(|s| writable(s)).map(|s| set_response(s, &separators)).collect();
    let mut ak9 = json!({
        "AK901": group.verdict().code(),
        // AK902 is an N0 of up to 6 digits: a GE01 beyond it is not repeated.
        "AK902": group.included.filter(|n| *n <= 999_999).unwrap_or(group.received()),
        "AK903": group.received(),
        "AK904": group.accepted(),
    });
    for (code, key) in group.errors.iter().zip(["AK905", "AK906", "AK907", "AK908", "AK909"]) {
        ak9[key] = json!(code.code());
    }
    let mut record = json!({
        "set": {"id": "997"},
        "AK1": {"AK101": group.functional_id, "AK102": group.control_number},
    });
    if !sets.is_empty() {
        record["AK2"] = Value::Array(sets);
    }
    record["AK9"] = ak9;
    Ok(record)
}

/// ST01 of three digits and ST02 of 4 to 9 letters or digits fit AK201/AK202.
fn writable(set: &SetReceipt) -> bool {
    set.id.len() == 3
        && set.id.bytes().all(|b| b.is_ascii_digit())
        && (4..=9).contains(&set.control_number.len())
        && set.control_number.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn set_response(set: &SetReceipt, separators: &[char]) -> Value {
    let mut ak5 = Map::new();
    ak5.insert("AK501".into(), json!(set.verdict().code()));
    for (code, key) in set.errors.iter().zip(["AK502", "AK503", "AK504", "AK505", "AK506"]) {
        ak5.insert(key.into(), json!(code.code()));
    }
    let mut response = json!({"AK201": set.id, "AK202": set.control_number});
    let notes: Vec<Value> =
        set.segment_errors.iter().filter(|e| is_segment_id(&e.segment_id) && e.position <= 999_999).map(|e| segment_note(e, separators)).collect();
    if !notes.is_empty() {
        response["AK3"] = Value::Array(notes);
    }
    response["AK5"] = Value::Object(ak5);
    response
}

fn segment_note(error: &SegmentError, separators: &[char]) -> Value {
    let mut note = json!({"AK301": error.segment_id, "AK302": error.position, "AK304": error.code.code()});
    if let Some(loop_id) = error.loop_id.as_deref().filter(|l| (1..=6).contains(&l.len())) {
        note["AK303"] = json!(loop_id);
    }
    let elements: Vec<Value> = error
        .elements
        .iter()
        .map(|e| {
            let mut ak4 = json!({"AK401": e.position.to_string(), "AK403": e.code.code()});
            if let Some(reference) = e.reference {
                ak4["AK402"] = json!(reference);
            }
            if let Some(copy) = e.value.as_deref().map(|v| bad_value_copy(v, separators)).filter(|c| !c.is_empty()) {
                ak4["AK404"] = json!(copy);
            }
            ak4
        })
        .collect();
    if !elements.is_empty() {
        note["AK4"] = Value::Array(elements);
    }
    note
}

/// AK301 is an ID of 2 or 3: an id the tokenizer could not read gets no AK3.
fn is_segment_id(id: &str) -> bool {
    (2..=3).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// AK404 (AN 1..99): the bad value without the 997's separators or control
/// characters, cut to 99 characters.
fn bad_value_copy(value: &str, separators: &[char]) -> String {
    value.chars().filter(|c| !separators.contains(c) && !c.is_control()).take(99).collect::<String>().trim().to_string()
}
