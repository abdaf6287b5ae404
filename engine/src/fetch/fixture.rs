//! The source port over recorded answers and input files: a dry-run, a flow
//! test or the benchmark reads `fixtures/<system>/<entity>.json` (filtered by
//! the flow's query, as the live source would) or a file given with
//! `--input`, page by page like a live listing.

use std::path::{Path, PathBuf};

use minijinja::Value;

use super::{FetchError, Fut, InputError, One, Pages, RecordReader, Source, SourceCall, SourcePage, key_of, source_call};
use crate::access::{FixtureAccess, read_records};
use crate::compile::CompiledFlow;
use crate::format::RecordFormat;
use crate::project::Project;

/// What a live run calls to fetch a page: the listing's GET, or a file system's inbox listed.
fn call_of(project: &Project, flow: &CompiledFlow) -> SourceCall {
    let files =
        project.systems.get(&flow.source.system).filter(|s| s.def.transport != crate::model::Transport::Http).and_then(|s| s.def.files.as_ref());
    match files {
        Some(files) => {
            let inbox = files.inbox.clone().unwrap_or_else(|| "/".into());
            let example = crate::transport::files::join(&inbox, flow.source.pattern.as_deref().unwrap_or("*"));
            SourceCall { system: flow.source.system.clone(), method: "LIST".into(), path: inbox, example }
        }
        None => source_call(flow),
    }
}

/// The format of the flow's source system when it is a file system.
fn file_format<'p>(project: &'p Project, flow: &CompiledFlow) -> Option<&'p dyn RecordFormat> {
    let system = project.systems.get(&flow.source.system)?;
    (system.def.transport != crate::model::Transport::Http).then_some(&*system.format)
}

pub struct FixtureSource<'f> {
    flow: &'f CompiledFlow,
    from: From,
    page_size: usize,
    /// The source system's file format, when it is a file system: its files are read by it.
    format: Option<&'f dyn RecordFormat>,
    /// The call a live run makes for a page: a GET of the listing, or a listing of the inbox.
    call: SourceCall,
}

enum From {
    /// The source system's fixture file of the listed entity.
    Fixtures(PathBuf),
    /// A file given by the user, in the source's shape (records as the API gives them).
    Input(PathBuf),
}

impl<'f> FixtureSource<'f> {
    /// The records a live run would fetch, answered from the fixtures in `dir`.
    /// A file system's fixture is a file in its format: `fixtures/<system>/<get>.<extension>`.
    pub fn fixtures(project: &'f Project, flow: &'f CompiledFlow, dir: &Path, page_size: usize) -> Self {
        let format = file_format(project, flow);
        let file = match format {
            Some(f) => dir.join(&flow.source.system).join(format!("{}.{}", flow.source.get.trim_start_matches('/').replace('/', "_"), f.extension())),
            None => FixtureAccess::file_of(dir, &flow.source.system, &flow.source.get),
        };
        FixtureSource { flow, from: From::Fixtures(file), page_size: page_size.max(1), format, call: call_of(project, flow) }
    }

    /// The records of an input file: in the source's format for a file system (an X12
    /// file for an X12 source), else a JSON array, JSON lines, or a recorded answer.
    pub fn input(project: &'f Project, flow: &'f CompiledFlow, path: &Path, page_size: usize) -> Self {
        FixtureSource {
            flow,
            from: From::Input(path.to_path_buf()),
            page_size: page_size.max(1),
            format: file_format(project, flow),
            call: call_of(project, flow),
        }
    }

    /// Every record, read ahead of the paging (fixture files are small; input files stream).
    fn reader(&self) -> Result<Box<dyn Iterator<Item = Result<Value, InputError>> + Send + '_>, FetchError> {
        if let (Some(format), From::Fixtures(path) | From::Input(path)) = (self.format, &self.from) {
            let name = crate::diagnostic::display_path(path);
            let file = std::fs::File::open(path).map_err(|e| FetchError(format!("cannot read {name}: {e}")))?;
            return format.read(Box::new(std::io::BufReader::with_capacity(256 * 1024, file)), &name).map_err(|e| FetchError(e.0));
        }
        match &self.from {
            From::Fixtures(file) => {
                let records = read_records(file, Some(&self.flow.source.records)).map_err(|e| FetchError(e.message))?;
                let flow = self.flow;
                let kept: Vec<Value> = records.into_iter().filter(|r| flow.source.query_match(r) == Some(true)).collect();
                Ok(Box::new(kept.into_iter().map(Ok)))
            }
            From::Input(path) => Ok(Box::new(RecordReader::open(path, &self.flow.source.records).map_err(|e| FetchError(e.0))?)),
        }
    }
}

struct FixturePages<'f> {
    source: &'f FixtureSource<'f>,
    items: Option<Box<dyn Iterator<Item = Result<Value, InputError>> + Send + 'f>>,
    started: bool,
}

impl Pages for FixturePages<'_> {
    fn next_page(&mut self) -> Fut<'_, Result<Option<SourcePage>, FetchError>> {
        Box::pin(async move {
            if self.items.is_none() {
                if self.started {
                    return Ok(None);
                }
                self.items = Some(self.source.reader()?);
            }
            let first = !self.started;
            self.started = true;
            let Some(items) = self.items.as_mut() else { return Ok(None) };
            let page: Vec<_> = items.take(self.source.page_size).collect();
            // An empty listing is still one call; after that, an empty page is the end.
            if page.is_empty() && !first {
                self.items = None;
                return Ok(None);
            }
            if page.len() < self.source.page_size {
                self.items = None;
            }
            Ok(Some(SourcePage { items: page, call: Some(self.source.call.clone()) }))
        })
    }
}

impl Source for FixtureSource<'_> {
    fn list(&self) -> Box<dyn Pages + '_> {
        Box::new(FixturePages { source: self, items: None, started: false })
    }

    fn get_one<'a>(&'a self, key: &'a str) -> Option<Fut<'a, Result<One, FetchError>>> {
        Some(Box::pin(async move {
            for record in self.reader()?.flatten() {
                if key_of(self.flow, &self.flow.settings, &record) == key {
                    return Ok(One::Found(record));
                }
            }
            Ok(One::NotHad(super::NotHad::Missing, format!("the source has no record `{key}`")))
        }))
    }
}
