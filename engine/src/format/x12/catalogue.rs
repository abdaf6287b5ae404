//! The catalogue of an X12 system, made from the transaction-set definitions
//! (`mappings/x12/`), so a flow's paths and mapping keys are checked against
//! the record shape the reader gives and the writer takes, with nothing
//! written twice: one entity per set (`850`, `855`, …), its envelope facts,
//! segments by id, loops by their first segment (and `<loop>_by_<key>`).

use indexmap::IndexMap;

use super::{Definitions, ElementType, Node, SetSchema};
use crate::model::{EntityDef, FieldDef, FieldType};

/// The version whose structures the catalogue shows (005010 changes no path a flow reads).
const VERSION: &str = "004010";

pub fn entities(definitions: &Definitions) -> IndexMap<String, EntityDef> {
    let mut entities = IndexMap::new();
    for set in definitions.sets() {
        let Ok(schema) = definitions.schema(&set.set, VERSION) else { continue };
        let mut fields = IndexMap::new();
        fields.insert("interchange".into(), object(envelope(&INTERCHANGE), "ISA: who sent it to whom, when, its control number (ISA13)"));
        fields.insert("group".into(), object(envelope(&GROUP), "GS: the functional group, its control number (GS06)"));
        fields.insert("set".into(), object(envelope(&SET), "ST: the set's id (ST01) and control number (ST02)"));
        nodes(&schema, &set.structure, &mut fields);
        fields.insert(super::UNKNOWN_KEY.into(), field(FieldType::List, None, "segments not expected where they stood, kept as read"));
        let title = format!("X12 {} {}", set.set, set.name.clone().unwrap_or_default()).trim().to_string();
        entities.insert(set.set.clone(), EntityDef { title, key: None, fields, mandatory_filter: Vec::new(), source: None });
    }
    entities
}

const INTERCHANGE: [&str; 10] =
    ["sender_qualifier", "sender_id", "receiver_qualifier", "receiver_id", "date", "time", "version", "control_number", "ack_requested", "usage"];
const GROUP: [&str; 8] = ["functional_id", "application_sender", "application_receiver", "date", "time", "control_number", "agency", "version"];
const SET: [&str; 3] = ["id", "control_number", "convention"];

fn envelope(names: &[&str]) -> IndexMap<String, FieldDef> {
    names.iter().map(|n| (n.to_string(), field(FieldType::String, None, ""))).collect()
}

/// The fields of a sequence of segments and loops.
fn nodes(schema: &SetSchema, body: &[Node], into: &mut IndexMap<String, FieldDef>) {
    for node in body {
        let many = node.max() > 1;
        match node {
            Node::Segment { segment, .. } => {
                let (elements, doc) = segment_fields(schema, segment);
                into.insert(segment.clone(), if many { list(elements, &doc) } else { object(elements, &doc) });
            }
            Node::Loop { id, key, body, .. } => {
                // A loop instance holds its first segment's elements, then its other segments and loops.
                let (mut fields, doc) = segment_fields(schema, id);
                nodes(schema, body.get(1..).unwrap_or_default(), &mut fields);
                let doc = format!("the {id} loop: {doc}");
                into.insert(id.clone(), if many { list(fields, &doc) } else { object(fields, &doc) });
                if let Some(key) = key {
                    // Instances by a code (`N1_by_N101.ST`): the codes are the partner's, not checked.
                    into.insert(format!("{id}_by_{key}"), field(FieldType::Object, None, &format!("the {id} loops by {key}, the first of each")));
                }
            }
        }
    }
}

fn segment_fields(schema: &SetSchema, id: &str) -> (IndexMap<String, FieldDef>, String) {
    let Some(segment) = schema.segment(id) else { return (IndexMap::new(), id.to_string()) };
    let fields = segment
        .elements
        .iter()
        .map(|e| {
            let kind = match e.kind {
                ElementType::Real | ElementType::Implied(_) => FieldType::Number,
                _ => FieldType::String,
            };
            let mut f = field(kind, None, e.name.as_deref().unwrap_or_default());
            if kind == FieldType::String {
                f.max_length = u32::try_from(e.max).ok();
            }
            (e.id.clone(), f)
        })
        .collect();
    (fields, segment.name.clone().unwrap_or_else(|| id.to_string()))
}

fn object(fields: IndexMap<String, FieldDef>, doc: &str) -> FieldDef {
    field(FieldType::Object, Some(fields), doc)
}

fn list(fields: IndexMap<String, FieldDef>, doc: &str) -> FieldDef {
    field(FieldType::List, Some(fields), doc)
}

fn field(kind: FieldType, fields: Option<IndexMap<String, FieldDef>>, doc: &str) -> FieldDef {
    FieldDef {
        kind,
        required: false,
        max_length: None,
        doc: (!doc.is_empty()).then(|| doc.to_string()),
        read_only: false,
        edition: None,
        values: None,
        fields,
        source: None,
    }
}
