//! Understanding a 997 we received: which group of ours it acknowledges, the
//! verdict on the group and on each set, and its AK3/AK4 errors as text a
//! person can act on (`set 850 0001: segment PO1 at 7: mandatory element
//! PO102 missing`). It reads the record the reader makes of a 997.

use serde::Serialize;
use serde_json::Value;

use super::ack_codes::{ElementSyntaxError, GroupSyntaxError, GroupVerdict, SegmentSyntaxError, SetSyntaxError, SetVerdict};
use super::envelope::same_control;

/// A received 997, read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Acknowledged {
    /// AK101: the functional id (GS01) of the group acknowledged.
    pub functional_id: String,
    /// AK102: its control number (GS06), as written in the 997.
    pub group_control: String,
    /// AK901.
    pub verdict: GroupVerdict,
    /// AK902, AK903, AK904: sets included, received, accepted.
    pub included: Option<u64>,
    pub received: Option<u64>,
    pub accepted: Option<u64>,
    /// AK905..AK909, as written (`errors` holds the ones this code list knows).
    pub group_codes: Vec<String>,
    pub errors: Vec<GroupSyntaxError>,
    /// One per AK2 loop.
    pub sets: Vec<SetAcknowledged>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetAcknowledged {
    /// AK201 (ST01) and AK202 (ST02) of the set acknowledged.
    pub set_id: String,
    pub control_number: String,
    /// AK501.
    pub verdict: SetVerdict,
    /// AK502..AK506 as written, and the ones this code list knows.
    pub codes: Vec<String>,
    pub errors: Vec<SetSyntaxError>,
    pub segments: Vec<SegmentNote>,
}

/// One AK3 with its AK4s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentNote {
    pub segment_id: String,
    pub position: Option<u64>,
    pub loop_id: Option<String>,
    /// AK304 as written, and what it means when this code list knows it.
    pub code: Option<String>,
    pub error: Option<SegmentSyntaxError>,
    pub elements: Vec<ElementNote>,
}

/// One AK4.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementNote {
    /// AK401: the element's position (`2`, or `2:1` for a component).
    pub position: String,
    pub reference: Option<u64>,
    pub code: String,
    pub error: Option<ElementSyntaxError>,
    pub value: Option<String>,
}

/// Why a record is not a readable 997.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotA997(pub String);

impl std::fmt::Display for NotA997 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a readable 997: {}", self.0)
    }
}

impl std::error::Error for NotA997 {}

/// Reads a 997 record (as the reader gives it).
pub fn read_acknowledgement(record: &Value) -> Result<Acknowledged, NotA997> {
    if let Some(id) = record.pointer("/set/id").and_then(text).filter(|id| id != "997") {
        return Err(NotA997(format!("it is transaction set {id}")));
    }
    let ak1 = record.get("AK1").ok_or_else(|| NotA997("AK1 is missing".into()))?;
    let ak9 = record.get("AK9").ok_or_else(|| NotA997("AK9 is missing".into()))?;
    let verdict_code = ak9.get("AK901").and_then(text).unwrap_or_default();
    let verdict = GroupVerdict::read(&verdict_code).ok_or_else(|| NotA997(format!("AK901 '{verdict_code}' is not a group verdict")))?;
    let group_codes = codes(ak9, "AK9", 5);
    let sets = instances(record.get("AK2")).iter().map(|ak2| read_set(ak2)).collect::<Result<_, _>>()?;
    Ok(Acknowledged {
        functional_id: ak1.get("AK101").and_then(text).unwrap_or_default(),
        group_control: ak1.get("AK102").and_then(text).unwrap_or_default(),
        verdict,
        included: ak9.get("AK902").and_then(number),
        received: ak9.get("AK903").and_then(number),
        accepted: ak9.get("AK904").and_then(number),
        errors: group_codes.iter().filter_map(|c| GroupSyntaxError::from_code(c)).collect(),
        group_codes,
        sets,
    })
}

impl Acknowledged {
    /// Whether this 997 answers the group we sent with GS01 `functional_id`
    /// and GS06 `control_number` (`000000017` and `17` are the same number).
    pub fn acknowledges(&self, functional_id: &str, control_number: &str) -> bool {
        self.functional_id == functional_id && same_control(&self.group_control, control_number)
    }

    /// Each problem the 997 reports, one line each: the group's, then each set's.
    pub fn problems(&self) -> Vec<String> {
        let group = self.group_codes.iter().map(|c| {
            let meaning = GroupSyntaxError::from_code(c).map_or_else(|| format!("error code {c}"), |e| e.text().to_string());
            format!("group {} {}: {meaning}", self.functional_id, self.group_control)
        });
        let mut lines: Vec<String> = group.chain(self.sets.iter().flat_map(SetAcknowledged::problems)).collect();
        if lines.is_empty() && self.verdict == GroupVerdict::Rejected {
            lines.push(format!("group {} {}: rejected", self.functional_id, self.group_control));
        }
        lines
    }
}

impl SetAcknowledged {
    /// `set 850 0001: segment PO1 at 7: mandatory element PO102 missing`, one
    /// line per AK4 (or AK3 without one, or AK5 code).
    pub fn problems(&self) -> Vec<String> {
        let name = format!("set {} {}", self.set_id, self.control_number);
        let mut lines = Vec::new();
        for segment in &self.segments {
            let at = match segment.position {
                Some(p) => format!("segment {} at {p}", segment.segment_id),
                None => format!("segment {}", segment.segment_id),
            };
            if segment.elements.is_empty() || segment.error.is_some_and(|e| e != SegmentSyntaxError::SegmentHasDataElementErrors) {
                let meaning = match (segment.error, &segment.code) {
                    (Some(e), _) => e.text().to_string(),
                    (None, Some(c)) => format!("error code {c}"),
                    (None, None) => "in error".to_string(),
                };
                lines.push(format!("{name}: {at}: {meaning}"));
            }
            for element in &segment.elements {
                lines.push(format!("{name}: {at}: {}", element_text(&segment.segment_id, element)));
            }
        }
        let named = self.errors.iter().filter(|e| **e != SetSyntaxError::OneOrMoreSegmentsInError || self.segments.is_empty());
        lines.extend(named.map(|e| format!("{name}: {}", e.text())));
        lines.extend(self.codes.iter().filter(|c| SetSyntaxError::from_code(c).is_none()).map(|c| format!("{name}: error code {c}")));
        if lines.is_empty() && self.verdict == SetVerdict::Rejected {
            lines.push(format!("{name}: rejected"));
        }
        lines
    }
}

fn read_set(ak2: &Value) -> Result<SetAcknowledged, NotA997> {
    let set_id = ak2.get("AK201").and_then(text).unwrap_or_default();
    let control_number = ak2.get("AK202").and_then(text).unwrap_or_default();
    let ak5 = ak2.get("AK5").ok_or_else(|| NotA997(format!("set {set_id} {control_number}: AK5 is missing")))?;
    let code = ak5.get("AK501").and_then(text).unwrap_or_default();
    let verdict = SetVerdict::read(&code).ok_or_else(|| NotA997(format!("set {set_id} {control_number}: AK501 '{code}' is not a set verdict")))?;
    let codes = codes(ak5, "AK5", 2);
    let segments = instances(ak2.get("AK3")).iter().map(|ak3| read_segment(ak3)).collect();
    Ok(SetAcknowledged {
        set_id,
        control_number,
        verdict,
        errors: codes.iter().filter_map(|c| SetSyntaxError::from_code(c)).collect(),
        codes,
        segments,
    })
}

fn read_segment(ak3: &Value) -> SegmentNote {
    let code = ak3.get("AK304").and_then(text);
    SegmentNote {
        segment_id: ak3.get("AK301").and_then(text).unwrap_or_default(),
        position: ak3.get("AK302").and_then(number),
        loop_id: ak3.get("AK303").and_then(text),
        error: code.as_deref().and_then(SegmentSyntaxError::from_code),
        code,
        elements: instances(ak3.get("AK4"))
            .iter()
            .map(|ak4| {
                let code = ak4.get("AK403").and_then(text).unwrap_or_default();
                ElementNote {
                    position: ak4.get("AK401").and_then(text).unwrap_or_default(),
                    reference: ak4.get("AK402").and_then(number),
                    error: ElementSyntaxError::from_code(&code),
                    code,
                    value: ak4.get("AK404").and_then(text),
                }
            })
            .collect(),
    }
}

/// `mandatory element PO102 missing`, `element BEG05 'x': invalid date`.
fn element_text(segment: &str, element: &ElementNote) -> String {
    // AK401 is the position, or position and component (`2>1` as read: a composite's text).
    let position: String = element.position.chars().take_while(char::is_ascii_digit).collect();
    let id = match position.parse::<u32>() {
        Ok(p) => format!("{segment}{p:02}"),
        Err(_) => format!("{segment} element {}", element.position),
    };
    let value = element.value.as_deref().map(|v| format!(" '{v}'")).unwrap_or_default();
    match element.error {
        Some(ElementSyntaxError::MandatoryDataElementMissing) => format!("mandatory element {id} missing"),
        Some(ElementSyntaxError::ConditionalRequiredDataElementMissing) => format!("conditional required element {id} missing"),
        Some(ElementSyntaxError::TooManyDataElements) => format!("too many elements ({id}{value} is past the last)"),
        Some(e) => format!("element {id}{value}: {}", e.text()),
        None => format!("element {id}{value}: error code {}", element.code),
    }
}

/// The codes in elements `<segment>02..` (AK502..AK506, AK905..AK909).
fn codes(segment: &Value, id: &str, first: usize) -> Vec<String> {
    (first..=first + 4).filter_map(|n| segment.get(format!("{id}{n:02}")).and_then(text)).collect()
}

/// A loop or repeating segment: a list, or one object.
fn instances(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.to_string().parse().ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
