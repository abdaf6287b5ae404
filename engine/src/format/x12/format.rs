//! X12 as a record format: one record per transaction set when reading; one
//! interchange (one group) per file when writing, enveloped by the
//! connection's `x12:` settings and numbered from the state store.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use super::{ControlNumbers, Definitions, EnvelopeConfig, Reader, write_interchange};
use crate::fetch::InputError;
use crate::format::{Control, FileRecords, RecordFormat, WriteError};

/// Catalogue entities by name.
pub type Entities = indexmap::IndexMap<String, crate::model::EntityDef>;

pub struct X12Format {
    pub definitions: Definitions,
}

/// The X12 format of a project (the transaction-set definitions under `mappings/x12/`),
/// and the catalogue entities its sets make.
pub fn format(root: &Path) -> Result<(Arc<dyn RecordFormat>, Entities), String> {
    let dir = root.join("mappings").join("x12");
    let definitions = Definitions::load(&dir).map_err(|e| e.to_string())?;
    let entities = super::catalogue_entities(&definitions);
    Ok((Arc::new(X12Format { definitions }), entities))
}

impl RecordFormat for X12Format {
    fn kind(&self) -> &'static str {
        "x12"
    }

    fn extension(&self) -> &'static str {
        "x12"
    }

    fn numbered(&self) -> bool {
        true
    }

    fn read<'a>(&'a self, input: Box<dyn BufRead + Send + 'a>, file: &str) -> Result<FileRecords<'a>, InputError> {
        let reader = Reader::new(input, file, &self.definitions);
        Ok(Box::new(reader.map(|set| set.map(|s| crate::value::from_json(&s.record)).map_err(|e| InputError(e.to_string())))))
    }

    fn receive(&self, input: Box<dyn BufRead + Send + '_>, file: &str) -> Option<super::FileReceipt> {
        Some(super::receive(input, file, &self.definitions))
    }

    /// The interchange's date and time are the moment it is written, in UTC.
    fn write(&self, records: &[serde_json::Value], envelope: Option<&EnvelopeConfig>, control: Control) -> Result<Vec<u8>, WriteError> {
        let envelope = envelope.ok_or_else(|| {
            WriteError::Configuration("an X12 file needs the connection's `x12:` envelope (sender and receiver ids and qualifiers, usage)".into())
        })?;
        let mut out = Vec::new();
        let controls = ControlNumbers { interchange: u64::from(control.interchange), group: u64::from(control.group) };
        write_interchange(&mut out, envelope, controls, chrono::Utc::now().naive_utc(), records, &self.definitions)
            .map_err(|e| WriteError::Record(e.to_string()))?;
        Ok(out)
    }
}

impl EnvelopeConfig {
    /// Who sends to whom (`ZZ:ACME>ZZ:SUPPLIER`): control numbers count per pair.
    pub fn pair(&self) -> String {
        format!("{}:{}>{}:{}", self.sender_qualifier, self.sender_id, self.receiver_qualifier, self.receiver_id)
    }
}

/// The `x12:` envelope of the connection of `system` in the connections file at `path`, if any
/// (a dry-run reads it to show the exact bytes a live run would write).
pub fn envelope_in(path: &Path, system: &str) -> Option<EnvelopeConfig> {
    let (file, _) = crate::load::load_typed::<crate::model::ConnectionsFile>(path, crate::load::SchemaKind::Connections).ok()?;
    file.connections.iter().find(|(name, c)| c.system.as_deref().unwrap_or(name) == system).and_then(|(_, c)| c.x12.clone())
}

/// The envelope of `system` in the project's connections file (`FLOWMAP_CONNECTIONS`, else
/// `mappings/connections.yaml`), for dry-runs and flow tests, which open no connection.
pub fn project_envelope(project: &crate::project::Project, system: &str) -> Option<EnvelopeConfig> {
    let path = std::env::var_os("FLOWMAP_CONNECTIONS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| project.root.join("mappings").join("connections.yaml"));
    envelope_in(&path, system)
}
