//! The source port over HTTP: the flow's listing page by page (the system's
//! paging), and one record by its key through `source.get_one`.

use std::sync::Arc;

use super::{FetchError, Fut, NotHad, One, Pages, Source, SourcePage, source_call};
use crate::compile::CompiledFlow;
use crate::http::{CallError, Connection, Cursor, Lister, Registry};
use crate::project::{Project, System};

pub struct HttpSource<'a> {
    flow: &'a CompiledFlow,
    system: &'a System,
    registry: Arc<Registry>,
    /// Where the listing is asked: `source.get`, or the system's query endpoint (`http.listing`).
    path: String,
    /// The listing's query: the flow's, with the watermark's condition when it has one.
    query: Vec<(String, String)>,
    /// Changed since this instant (epoch ms), asked of the system's change feed first.
    changed: Option<i64>,
    /// Headers of the listing's requests (`If-Modified-Since`).
    headers: Vec<(String, String)>,
}

impl<'a> HttpSource<'a> {
    pub fn new(project: &'a Project, flow: &'a CompiledFlow, registry: Arc<Registry>) -> Result<Self, FetchError> {
        let system = project.systems.get(&flow.source.system).ok_or_else(|| FetchError(format!("unknown system `{}`", flow.source.system)))?;
        let mut query = flow.source.query.clone();
        let path = match &system.def.http.listing {
            // The entity is listed by a statement (QuickBooks: `select * from Invoice`).
            Some(listing) => {
                query.push((listing.param.clone(), listing.statement.replace("{entity}", &flow.source.get)));
                listing.path.clone()
            }
            None => flow.source.get.clone(),
        };
        Ok(HttpSource { flow, system, registry, path, query, changed: None, headers: Vec::new() })
    }

    /// Lists only what changed since the watermark (`source.since`): an OData condition, or the
    /// system's change feed while the watermark is recent enough for it.
    pub fn since(mut self, ask: Option<super::SinceAsk>) -> Self {
        match ask {
            Some(super::SinceAsk::Filter(c)) => self.query = super::with_condition(&self.query, &c),
            Some(super::SinceAsk::Changed(ms)) => self.changed = Some(ms),
            Some(super::SinceAsk::Header(name, value)) => self.headers.push((name, value)),
            None => {}
        }
        self
    }

    fn failed(&self, e: impl std::fmt::Display) -> FetchError {
        FetchError(format!("fetching {} {}: {e}", self.flow.source.system, self.flow.source.get))
    }
}

struct HttpPages<'s> {
    source: &'s HttpSource<'s>,
    conn: Option<Arc<Connection>>,
    /// The change feed's instant, until its page was asked.
    changed: Option<i64>,
    /// Where the next page is; None once the last was read.
    cursor: Option<Cursor>,
}

impl Pages for HttpPages<'_> {
    fn next_page(&mut self) -> Fut<'_, Result<Option<SourcePage>, FetchError>> {
        Box::pin(async move {
            let source = self.source;
            let conn = match &self.conn {
                Some(c) => c.clone(),
                None => {
                    let c = source.registry.connection(&source.flow.source.system).await.map_err(|e| source.failed(e))?;
                    self.conn = Some(c.clone());
                    c
                }
            };
            // The change feed answers in one go; when it cannot answer for all, the listing does.
            if let Some(since) = self.changed.take()
                && let Some(feed) = &source.system.def.http.changes
                && let Some(records) = super::changes::changed(&conn, feed, &source.flow.source.get, since).await.map_err(|e| source.failed(e))?
            {
                self.cursor = None;
                let items = records.iter().map(|r| Ok(crate::value::from_json(r))).collect();
                return Ok(Some(SourcePage { items, call: Some(source_call(source.flow)) }));
            }
            let Some(cursor) = self.cursor.take() else { return Ok(None) };
            let def = &source.system.def;
            let lister = Lister {
                conn: &conn,
                paging: def.paging(),
                page_size: def.page_size.unwrap_or(100) as usize,
                records: &source.flow.source.records,
                next_link: source.system.next_link.as_ref(),
                headers: &source.headers,
            };
            let (records, next) = lister.page(&conn.url(&source.path), &source.query, &cursor).await.map_err(|e| source.failed(e))?;
            self.cursor = next;
            let items = records.iter().map(|r| Ok(crate::value::from_json(r))).collect();
            Ok(Some(SourcePage { items, call: Some(source_call(source.flow)) }))
        })
    }
}

impl Source for HttpSource<'_> {
    fn list(&self) -> Box<dyn Pages + '_> {
        Box::new(HttpPages { source: self, conn: None, changed: self.changed, cursor: Some(Lister::first_cursor(self.system.def.paging())) })
    }

    fn get_one<'b>(&'b self, key: &'b str) -> Option<Fut<'b, Result<One, FetchError>>> {
        let one = self.flow.source.get_one.as_ref()?;
        Some(Box::pin(async move {
            let source = &self.flow.source;
            let odata = self.system.def.query() == crate::model::QueryLanguage::Odata;
            // The fields a listing selects are selected for one record too.
            let select: Vec<(String, String)> =
                if odata { source.query.iter().filter(|(k, _)| k == "$select").cloned().collect() } else { Vec::new() };
            let conn = self.registry.connection(&source.system).await.map_err(|e| FetchError(e.to_string()))?;
            let literal = if odata { key.replace('\'', "''") } else { key.to_string() };
            let url = conn.url(&one.replace("{key}", &encode_path_part(&literal)));
            match conn.get(&url, &select).await {
                Ok(a) => Ok(One::Found(crate::value::from_json(&one_record(&self.system.records, a.body)))),
                Err(CallError::Refused { status, message }) => Ok(match NotHad::of_status(status) {
                    NotHad::Missing => One::NotHad(NotHad::Missing, format!("the source has no record `{key}`")),
                    not_had => One::NotHad(not_had, format!("{} refused to give `{key}`: {message} (HTTP {status})", source.system)),
                }),
                Err(CallError::Invalid { message }) => {
                    Ok(One::NotHad(NotHad::Refused, format!("{} `{key}` cannot be asked for: {message}", source.system)))
                }
                Err(e) => Err(FetchError(format!("fetching {} `{key}`: {e}", source.system))),
            }
        }))
    }
}

/// The record in a single-record answer: the system's `records` path when it
/// leads to one record (`{"d": {…}}`), else the answer itself (a bare object).
pub fn one_record(records: &jmespath::Expression<'static>, body: serde_json::Value) -> serde_json::Value {
    match crate::value::search(records, &body).ok().map(|v| serde_json::to_value(&*v).unwrap_or_default()) {
        Some(serde_json::Value::Object(o)) => serde_json::Value::Object(o),
        Some(serde_json::Value::Array(mut a)) if a.len() == 1 => a.remove(0),
        _ => body,
    }
}

/// Characters a key keeps in a URL path; everything else is percent-encoded,
/// so a `/`, `?` or `#` in a key cannot change the request.
const PATH_PART: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'\'');

fn encode_path_part(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PATH_PART).to_string()
}
