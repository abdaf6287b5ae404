//! The partner's functional acknowledgements (997) for what we send, in a live
//! run of a flow whose target is an X12 file system: the 997 files of its
//! inbox (`files.acknowledgements`) are taken first — each marks the group it
//! answers acknowledged or rejected in the state file — and the groups this
//! flow sent that no 997 answered within the connection's
//! `acknowledgement_due_hours` are named in the run's report for an operator.

use std::sync::Arc;

use super::{Live, LiveReport};
use crate::fetch::{FileJournal, FileSource, Source, Takes, X12Partner};
use crate::model::Transport;

impl Live<'_> {
    /// Takes the target's 997 files and reports groups overdue; nothing for other targets.
    pub(super) fn acknowledgements(&self, run: i64, report: &mut LiveReport) -> Result<(), String> {
        let name = &self.flow.target.system;
        let Some(system) = self.project.systems.get(name).filter(|s| s.def.transport != Transport::Http && s.format.kind() == "x12") else {
            return Ok(());
        };
        let Some(envelope) = self.registry.definition(name).and_then(|c| c.x12.clone()) else { return Ok(()) };
        let files = system.def.files.clone();
        if let Some((files, pattern)) = files.as_ref().and_then(|f| f.acknowledgements.as_ref().map(|p| (f, p))) {
            let store = self.registry.store(name).map_err(|e| e.to_string())?;
            let journal_name = format!("{name} 997");
            let source = FileSource {
                name: &journal_name,
                system: name,
                pattern,
                store: store.clone(),
                format: &*system.format,
                inbox: files.inbox.clone().unwrap_or_else(|| "/".into()),
                processed: files.processed.clone(),
                journal: Some(FileJournal {
                    state: &self.state,
                    run,
                    spool: self.state.path().parent().unwrap_or(std::path::Path::new(".")).join("spool"),
                }),
                page_size: system.def.page_size.unwrap_or(100) as usize,
                x12: Some(X12Partner {
                    state: &self.state,
                    store: Arc::clone(&store),
                    format: &*system.format,
                    outbox: files.outbox.clone().unwrap_or_default(),
                    envelope: envelope.clone(),
                    takes: Takes::Acknowledgements,
                }),
            };
            let mut pages = source.list();
            // Each 997 is applied as it is read; anything else in these files is not theirs to take.
            while let Some(page) = self.rt.block_on(pages.next_page()).map_err(|e| format!("taking the 997s: {}", e.0))? {
                for item in page.items {
                    match item {
                        Ok(_) => {
                            report.attention.push(format!("a file matching `{pattern}` holds a set that is not a 997: it is left to its own flow"))
                        }
                        Err(e) => report.attention.push(e.0),
                    }
                }
            }
        }
        let due_ms = i64::from(envelope.acknowledgement_due_hours) * 3_600_000;
        let now = chrono::Utc::now().timestamp_millis();
        for late in self.state.unacknowledged(&self.flow.name, now - due_ms).map_err(|e| e.to_string())? {
            let hours = (now - late.sent_at_ms) / 3_600_000;
            report.attention.push(format!(
                "{} was sent {hours} h ago in {} (group {}) and no 997 has answered it",
                late.key,
                late.file.as_deref().unwrap_or("a file"),
                late.group_control
            ));
        }
        Ok(())
    }
}
