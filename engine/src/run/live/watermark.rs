//! `source.since` in a live run: the listing asks only for what changed since
//! the flow's watermark, the newest value taken is watched as pages go by, and
//! the watermark moves to it only when the run settled every record it took —
//! a run that failed a record, left one in doubt or stopped early keeps the
//! old watermark, so its records come again (and `source.version` keeps those
//! delivered from going twice).

use std::sync::{Arc, Mutex};

use super::{Live, LiveReport};
use crate::fetch::{FetchError, Fut, Newest, Pages, SinceAsk, SourcePage, since_ask};

impl Live<'_> {
    /// How the listing asks for what changed at or after the watermark (or `since.start`);
    /// None when the flow takes everything.
    pub(super) fn since_condition(&self) -> Result<Option<SinceAsk>, String> {
        let Some(since) = &self.flow.source.since else { return Ok(None) };
        let mark = self.state.watermark(&self.flow.name).map_err(|e| e.to_string())?.map(|w| w.value).or_else(|| since.start.clone());
        let system = self.project.systems.get(&self.flow.source.system).ok_or_else(|| format!("unknown system `{}`", self.flow.source.system))?;
        mark.map(|m| since_ask(&since.field, &m, &system.def)).transpose()
    }

    /// Moves the watermark to the newest value the run took, when the run settled everything.
    pub(super) fn advance_watermark(&self, report: &LiveReport, newest: &Mutex<Newest>) -> Result<(), String> {
        let settled_all = report.failed == 0 && report.unknown == 0 && report.left == 0 && report.stopped.is_none();
        let newest = newest.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let (true, Some(value)) = (settled_all, newest.value()) else { return Ok(()) };
        self.state.set_watermark(&self.flow.name, value, Some(report.run)).map_err(|e| e.to_string())
    }
}

/// A source's pages, with the newest `field` value of their records watched.
pub(super) struct Watched<'a> {
    pub inner: Box<dyn Pages + 'a>,
    pub field: String,
    pub newest: Arc<Mutex<Newest>>,
}

impl Pages for Watched<'_> {
    fn next_page(&mut self) -> Fut<'_, Result<Option<SourcePage>, FetchError>> {
        Box::pin(async move {
            let page = self.inner.next_page().await?;
            if let Some(page) = &page {
                let mut newest = self.newest.lock().unwrap_or_else(|p| p.into_inner());
                for record in page.items.iter().flatten() {
                    newest.take(record, &self.field);
                }
            }
            Ok(page)
        })
    }
}
