//! Transaction-set definitions, loaded from YAML (`mappings/x12/`): segment
//! dictionaries per version (element ids, types, lengths, code lists) and set
//! structures (segments and loops, with their repeats). All knowledge of 850,
//! 855, 810 and 997 lives in those files; a partner's variant is a YAML change.
//! Everything is checked once here, at load time.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::error::{X12Error, X12ErrorKind};

/// An element's data type (X12 data element types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    /// AN: text.
    Text,
    /// ID: a code.
    Id,
    /// DT: a date, CCYYMMDD or YYMMDD.
    Date,
    /// TM: a time, HHMM[SS[d..]].
    Time,
    /// R: a decimal number with an explicit point.
    Real,
    /// Nn: a number with `n` implied decimals (N0 an integer, N2 cents).
    Implied(u8),
}

impl<'de> Deserialize<'de> for ElementType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "AN" => ElementType::Text,
            "ID" => ElementType::Id,
            "DT" => ElementType::Date,
            "TM" => ElementType::Time,
            "R" => ElementType::Real,
            _ => match s.strip_prefix('N').and_then(|n| n.parse::<u8>().ok()).filter(|n| *n <= 9) {
                Some(n) => ElementType::Implied(n),
                None => return Err(serde::de::Error::custom(format!("unknown element type '{s}' (AN, ID, DT, TM, R, N0..N9)"))),
            },
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElementDef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ElementType,
    pub min: usize,
    pub max: usize,
    #[serde(default)]
    pub required: bool,
    /// The codes accepted when writing (an ID element); empty: any.
    #[serde(default)]
    pub codes: Vec<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// The X12 data element reference number (e.g. 330 for PO102), given in a 997's AK402.
    #[serde(default)]
    pub reference: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentDef {
    #[serde(default)]
    pub name: Option<String>,
    pub elements: Vec<ElementDef>,
}

/// One entry of a set's structure: a segment, or a loop (whose first body
/// entry is its trigger segment, of the loop's id).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Node {
    Loop {
        #[serde(rename = "loop")]
        id: String,
        #[serde(default)]
        min: usize,
        #[serde(default = "one")]
        max: usize,
        /// An element of the trigger segment that names each instance (e.g. N101):
        /// the record gets `<loop>_by_<key>` with the instances by that value.
        #[serde(default)]
        key: Option<String>,
        body: Vec<Node>,
    },
    Segment {
        segment: String,
        #[serde(default)]
        min: usize,
        #[serde(default = "one")]
        max: usize,
    },
}

fn one() -> usize {
    1
}

impl Node {
    pub fn id(&self) -> &str {
        match self {
            Node::Loop { id, .. } => id,
            Node::Segment { segment, .. } => segment,
        }
    }

    pub fn max(&self) -> usize {
        match self {
            Node::Loop { max, .. } | Node::Segment { max, .. } => *max,
        }
    }

    pub fn min(&self) -> usize {
        match self {
            Node::Loop { min, .. } | Node::Segment { min, .. } => *min,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetDef {
    /// ST01, e.g. "850".
    pub set: String,
    #[serde(default)]
    pub name: Option<String>,
    /// GS01 for a group of these sets, e.g. "PO".
    pub functional_group: String,
    /// Versions (GS08's first six characters) this structure is for; empty: all.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Between ST and SE (both handled by the codec).
    pub structure: Vec<Node>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DictionaryFile {
    version: String,
    /// Another version whose segments this one starts from (its own replace them).
    #[serde(default)]
    base: Option<String>,
    segments: HashMap<String, SegmentDef>,
}

/// All definitions of a folder.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    sets: Vec<SetDef>,
    dictionaries: HashMap<String, HashMap<String, SegmentDef>>,
}

/// A set's structure with the segment dictionary of its version.
#[derive(Debug, Clone, Copy)]
pub struct SetSchema<'a> {
    pub set: &'a SetDef,
    pub segments: &'a HashMap<String, SegmentDef>,
}

impl<'a> SetSchema<'a> {
    pub fn segment(&self, id: &str) -> Option<&'a SegmentDef> {
        self.segments.get(id)
    }
}

impl Definitions {
    /// Loads every `*.yaml` of `dir`: segment dictionaries (`version:` +
    /// `segments:`) and set structures (`set:` + `structure:`).
    pub fn load(dir: &Path) -> Result<Definitions, X12Error> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| definition_error(dir, format!("cannot read the folder: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        let mut dictionaries = Vec::new();
        let mut sets = Vec::new();
        for path in &files {
            let doc = crate::load::read_yaml(path).map_err(|d| definition_error(path, d.message))?;
            if doc.value.get("set").is_some() {
                sets.push(serde_json::from_value::<SetDef>(doc.value).map_err(|e| definition_error(path, e.to_string()))?);
            } else {
                dictionaries.push(serde_json::from_value::<DictionaryFile>(doc.value).map_err(|e| definition_error(path, e.to_string()))?);
            }
        }
        let definitions = Definitions { sets, dictionaries: resolve_bases(dictionaries).map_err(|m| definition_error(dir, m))? };
        definitions.check().map_err(|m| definition_error(dir, m))?;
        Ok(definitions)
    }

    /// The schema for set `id` (ST01) in `version` (GS08; `004010VICS` is 004010).
    /// Every transaction set defined.
    pub fn sets(&self) -> impl Iterator<Item = &SetDef> {
        self.sets.iter()
    }

    /// Whether a segment dictionary exists for `version` (GS08; `004010VICS` is 004010).
    pub fn has_version(&self, version: &str) -> bool {
        self.dictionaries.contains_key(version.get(..6).unwrap_or(version))
    }

    pub fn schema(&self, id: &str, version: &str) -> Result<SetSchema<'_>, X12Error> {
        let version = version.get(..6).unwrap_or(version);
        let segments = self
            .dictionaries
            .get(version)
            .ok_or_else(|| X12Error::new(X12ErrorKind::UnknownSet, format!("no X12 definitions for version {version}")))?;
        let applies = |s: &&SetDef| s.set == id && (s.versions.is_empty() || s.versions.iter().any(|v| v == version));
        // A structure for this exact version wins over one for all versions.
        let set = self
            .sets
            .iter()
            .filter(applies)
            .max_by_key(|s| !s.versions.is_empty())
            .ok_or_else(|| X12Error::new(X12ErrorKind::UnknownSet, format!("no definition of transaction set {id} for version {version}")))?;
        Ok(SetSchema { set, segments })
    }

    /// Every structure's segments exist in each version it applies to; loops
    /// start with their trigger segment; key elements exist.
    fn check(&self) -> Result<(), String> {
        let mut versions: Vec<_> = self.dictionaries.iter().collect();
        versions.sort_by(|a, b| a.0.cmp(b.0));
        for set in &self.sets {
            for (version, segments) in &versions {
                if set.versions.is_empty() || set.versions.contains(*version) {
                    check_nodes(&set.structure, segments).map_err(|m| format!("set {} ({version}): {m}", set.set))?;
                }
            }
        }
        Ok(())
    }
}

fn check_nodes(nodes: &[Node], segments: &HashMap<String, SegmentDef>) -> Result<(), String> {
    for node in nodes {
        if node.max() == 0 || node.min() > node.max() {
            return Err(format!("{}: min {} and max {} do not make sense", node.id(), node.min(), node.max()));
        }
        match node {
            Node::Segment { segment, .. } => {
                if !segments.contains_key(segment) {
                    return Err(format!("segment {segment} is not in the segment dictionary"));
                }
            }
            Node::Loop { id, key, body, .. } => {
                if !matches!(body.first(), Some(Node::Segment { segment, .. }) if segment == id) {
                    return Err(format!("loop {id} must start with segment {id}"));
                }
                if let Some(key) = key {
                    let known = segments.get(id).is_some_and(|s| s.elements.iter().any(|e| &e.id == key));
                    if !known {
                        return Err(format!("loop {id}: key {key} is not an element of {id}"));
                    }
                }
                check_nodes(body, segments)?;
            }
        }
    }
    Ok(())
}

/// Each version's full dictionary: its base's segments, replaced by its own.
fn resolve_bases(files: Vec<DictionaryFile>) -> Result<HashMap<String, HashMap<String, SegmentDef>>, String> {
    let by_version: HashMap<String, &DictionaryFile> = files.iter().map(|f| (f.version.clone(), f)).collect();
    let mut resolved = HashMap::new();
    for file in &files {
        let mut chain: Vec<&DictionaryFile> = vec![file];
        while let Some(base) = &chain.last().and_then(|f| f.base.as_ref()) {
            let next = by_version.get(*base).ok_or_else(|| format!("version {}: base version {base} is not defined", file.version))?;
            if chain.len() > 8 || chain.iter().any(|f| f.version == next.version) {
                return Err(format!("version {}: its bases form a cycle", file.version));
            }
            chain.push(*next);
        }
        let mut segments = HashMap::new();
        for f in chain.iter().rev() {
            segments.extend(f.segments.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        resolved.insert(file.version.clone(), segments);
    }
    Ok(resolved)
}

fn definition_error(path: &Path, message: impl Into<String>) -> X12Error {
    X12Error::new(X12ErrorKind::Definition, message).in_file(&path.display().to_string())
}
