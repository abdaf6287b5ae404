//! The ports of a live run, by the systems' transports: HTTP systems are
//! reached through the connection registry; file systems (sftp, folder)
//! through the connection's file store and the system's format.

use super::Live;
use crate::deliver::{FileTarget, FileTargetShape, HttpTarget, Target};
use crate::fetch::{FetchError, FileJournal, FileSource, HttpSource, Source, Takes, X12Partner};
use crate::model::Transport;

impl Live<'_> {
    /// The source port; `run` journals the files a file source takes (None: a preview, which moves nothing).
    pub(super) fn source(&self, run: Option<i64>) -> Result<Box<dyn Source + '_>, FetchError> {
        let name = &self.flow.source.system;
        let system = self.project.systems.get(name).ok_or_else(|| FetchError(format!("unknown system `{name}`")))?;
        if system.def.transport == Transport::Http {
            let condition = self.since_condition().map_err(FetchError)?;
            return Ok(Box::new(HttpSource::new(self.project, self.flow, self.registry.clone())?.since(condition)));
        }
        let store = self.registry.store(name).map_err(|e| FetchError(e.to_string()))?;
        let files = system.def.files.clone();
        // A live run answers an X12 partner's groups with 997s and takes each interchange once.
        let x12 = match (run, self.registry.definition(name).and_then(|c| c.x12.clone())) {
            (Some(_), Some(envelope)) if system.format.kind() == "x12" => Some(X12Partner {
                state: &self.state,
                store: store.clone(),
                format: &*system.format,
                outbox: files.as_ref().and_then(|f| f.outbox.clone()).unwrap_or_else(|| "/".into()),
                envelope,
                takes: Takes::SetsOf(self.flow.source.get.clone()),
            }),
            _ => None,
        };
        let journal = run.map(|run| FileJournal {
            state: &self.state,
            run,
            spool: self.state.path().parent().unwrap_or(std::path::Path::new(".")).join("spool"),
        });
        Ok(Box::new(FileSource {
            name: &self.flow.name,
            system: &self.flow.source.system,
            pattern: self.flow.source.pattern.as_deref().unwrap_or("*"),
            store,
            format: &*system.format,
            inbox: files.as_ref().and_then(|f| f.inbox.clone()).unwrap_or_else(|| "/".into()),
            processed: files.map(|f| f.processed).unwrap_or_default(),
            journal,
            page_size: system.def.page_size.unwrap_or(100) as usize,
            x12,
        }))
    }

    /// The target port.
    pub(super) fn target(&self) -> Result<Box<dyn Target + '_>, String> {
        match self.file_target()? {
            Some(files) => Ok(Box::new(files)),
            None => Ok(Box::new(HttpTarget { project: self.project, registry: self.registry.clone(), target: &self.flow.target })),
        }
    }

    /// The target port of a file system (sftp, folder); None for an http one.
    pub(super) fn file_target(&self) -> Result<Option<FileTarget<'_>>, String> {
        let name = &self.flow.target.system;
        let system = self.project.systems.get(name).ok_or_else(|| format!("unknown system `{name}`"))?;
        if system.def.transport == Transport::Http {
            return Ok(None);
        }
        let store = self.registry.store(name).map_err(|e| e.to_string())?;
        let connection = self.registry.definition(name);
        let envelope = connection.and_then(|c| c.x12.as_ref());
        // Control numbers count per partner pair: who sends to whom.
        let pair = envelope.map_or_else(|| name.clone(), crate::format::x12::EnvelopeConfig::pair);
        Ok(Some(FileTarget {
            store,
            shape: FileTargetShape {
                format: &*system.format,
                envelope,
                outbox: system.def.files.as_ref().and_then(|f| f.outbox.clone()).unwrap_or_else(|| "/".into()),
            },
            control: system.format.numbered().then(|| (&*self.state, pair)),
        }))
    }

    /// Whether the flow's source is a file system (its records have no key to be fetched by).
    pub(super) fn source_is_files(&self) -> bool {
        self.project.systems.get(&self.flow.source.system).is_some_and(|s| s.def.transport != Transport::Http)
    }
}
