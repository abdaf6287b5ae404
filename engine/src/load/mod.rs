//! Loading: YAML text → JSON values with a span for every node, schema checks
//! with positions, and `extends` chains merged into one flow.

mod extends;
mod pointer;
mod schema_check;
mod span_index;
mod text;
mod yaml;

pub use extends::{LoadedFlow, load_flow};
pub use pointer::{pointer_child, pointer_from_dotted, pointer_parent};
pub use schema_check::{SchemaKind, check_schema, schema_json};
pub use span_index::{NodeLoc, SpanIndex};
pub use yaml::{Document, parse_yaml, read_yaml};

use crate::diagnostic::Diagnostic;

/// Parses a file, checks it against the schema of `kind` and deserialises it.
/// Every problem found is returned, each with its position.
pub fn load_typed<T: serde::de::DeserializeOwned>(path: &std::path::Path, kind: SchemaKind) -> Result<(T, Document), Vec<Diagnostic>> {
    let doc = read_yaml(path).map_err(|d| vec![d])?;
    let problems = check_schema(kind, &doc.value, &doc.spans);
    if !problems.is_empty() {
        return Err(problems);
    }
    let typed = serde_json::from_value(doc.value.clone()).map_err(|e| vec![Diagnostic::error(format!("{e}")).at(doc.spans.value_loc(""))])?;
    Ok((typed, doc))
}
