//! The pipeline's driver, one for dry-runs, flow tests and live runs: pages
//! from the source port, batches through the stages (`Runner`: look up, map,
//! validate, exists), and each batch's outcomes handed to a [`Settler`] —
//! the dry one delivers to recording ports, the live one journals and
//! delivers to the real ones. A page is settled before the next is fetched,
//! so memory is one page whatever the source holds, and a source that fails
//! at its last page has had every earlier page settled.

use minijinja::Value;

use super::calls::CallLog;
use super::outcome::Outcome;
use super::runner::Runner;
use crate::fetch::{FetchError, InputError, Pages};

/// The outcomes of one batch, and the items of it that could not be read, by position.
pub struct Batch {
    pub outcomes: Vec<Outcome>,
    pub unreadable: Vec<(usize, InputError)>,
    /// Items taken from the source so far, this batch's page included.
    pub fetched: u64,
}

/// Whether the run goes on after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Go {
    On,
    Stop,
}

/// What is done with each batch's outcomes.
pub trait Settler {
    type Error;
    /// `calls` is the run's call summary (a dry-run adds what it would have sent).
    fn settle(&mut self, batch: Batch, calls: &mut CallLog) -> Result<Go, Self::Error>;
}

/// How a drive ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Driven {
    /// Every page was taken.
    Done,
    /// The settler stopped it; the items of the page in hand not run yet.
    Stopped { unsettled: usize },
    /// The source failed; the pages before were settled.
    SourceFailed(FetchError),
}

pub struct Driver<'r, 'f> {
    pub runner: &'r mut Runner<'f>,
    pub rt: &'r tokio::runtime::Handle,
    /// Records per batch: look-ups are asked per batch.
    pub batch: usize,
    /// Records numbered so far (positions are 1-based and go on across pages and sources).
    pub position: usize,
    /// Items taken from sources so far.
    pub fetched: u64,
}

impl Driver<'_, '_> {
    /// Drives every page of `pages` through the stages and the settler.
    pub fn drive<S: Settler>(&mut self, pages: &mut dyn Pages, settler: &mut S) -> Result<Driven, S::Error> {
        loop {
            let page = match self.rt.block_on(pages.next_page()) {
                Ok(Some(page)) => page,
                Ok(None) => return Ok(Driven::Done),
                Err(e) => return Ok(Driven::SourceFailed(e)),
            };
            self.fetched += page.items.len() as u64;
            if let Some(c) = &page.call {
                self.runner.calls.record(&c.system, &c.method, &c.path, "fetch source", || c.example.clone());
            }
            let mut items = page.items.into_iter().peekable();
            while items.peek().is_some() {
                let mut records: Vec<(usize, Value)> = Vec::new();
                let mut unreadable = Vec::new();
                for item in items.by_ref().take(self.batch.max(1)) {
                    self.position += 1;
                    match item {
                        Ok(r) => records.push((self.position, r)),
                        Err(e) => unreadable.push((self.position, e)),
                    }
                }
                let outcomes = self.runner.run_batch(records);
                if settler.settle(Batch { outcomes, unreadable, fetched: self.fetched }, &mut self.runner.calls)? == Go::Stop {
                    return Ok(Driven::Stopped { unsettled: items.count() });
                }
            }
        }
    }
}
