//! Lists that come in pages: OData's `__next` links (Exact), page-number
//! parameters with `X-Pagination-*` headers (Le New Black) or without (Xero),
//! and positions in a query statement (QuickBooks).

use super::connection::{Answer, Connection};
use super::{CallError, redact};
use crate::model::PagingDef;

/// The query with page `n` of `size` records asked in the statement of `param`
/// (` STARTPOSITION 1 MAXRESULTS 1000`; 1-based, as QuickBooks counts).
fn positioned(query: &[(String, String)], param: &str, n: u32, size: usize) -> Vec<(String, String)> {
    let start = (u64::from(n.max(1)) - 1) * size as u64 + 1;
    query
        .iter()
        .map(|(k, v)| if k == param { (k.clone(), format!("{v} STARTPOSITION {start} MAXRESULTS {size}")) } else { (k.clone(), v.clone()) })
        .collect()
}

/// Where the next page is.
#[derive(Debug, Clone, PartialEq)]
pub enum Cursor {
    /// The first page: the request as given.
    First,
    /// OData `__next`: an absolute URL holding the whole query.
    Link(String),
    /// A page number.
    Page(u32),
}

/// How one system's lists are read.
pub struct Lister<'a> {
    pub conn: &'a Connection,
    pub paging: &'a PagingDef,
    pub page_size: usize,
    pub records: &'a jmespath::Expression<'static>,
    /// The compiled `paging.next` of OData paging.
    pub next_link: Option<&'a jmespath::Expression<'static>>,
    /// Headers of every page's request (`If-Modified-Since`).
    pub headers: &'a [(String, String)],
}

impl Lister<'_> {
    /// One page of records and where the next one is (None: this was the last).
    pub async fn page(&self, url: &str, query: &[(String, String)], cursor: &Cursor) -> Result<(Vec<serde_json::Value>, Option<Cursor>), CallError> {
        let answer = match (cursor, self.paging) {
            (Cursor::Link(next), _) => self.conn.get_with(next, &[], self.headers).await?,
            (Cursor::Page(n), PagingDef::PageParam { param, .. }) => {
                let mut q = query.to_vec();
                q.push((param.clone(), n.to_string()));
                self.conn.get_with(url, &q, self.headers).await?
            }
            (Cursor::Page(n), PagingDef::QboStartposition { param }) => {
                self.conn.get_with(url, &positioned(query, param, *n, self.page_size), self.headers).await?
            }
            _ => self.conn.get_with(url, query, self.headers).await?,
        };
        let records = self.records_of(&answer)?;
        let next = self.next(&answer, cursor, records.len())?;
        Ok((records, next))
    }

    /// Where a listing starts: page 1 of numbered pages, else the request as given.
    pub fn first_cursor(paging: &PagingDef) -> Cursor {
        match paging {
            PagingDef::PageParam { .. } | PagingDef::QboStartposition { .. } => Cursor::Page(1),
            _ => Cursor::First,
        }
    }

    /// Every record, page after page (look-ups, whose answers are a few records per key).
    pub async fn all(&self, url: &str, query: &[(String, String)]) -> Result<Vec<serde_json::Value>, CallError> {
        let mut out = Vec::new();
        let mut cursor = Self::first_cursor(self.paging);
        loop {
            let (mut records, next) = self.page(url, query, &cursor).await?;
            out.append(&mut records);
            match next {
                Some(n) => cursor = n,
                None => return Ok(out),
            }
        }
    }

    fn records_of(&self, answer: &Answer) -> Result<Vec<serde_json::Value>, CallError> {
        let found = crate::value::search(self.records, &answer.body)
            .map_err(|e| CallError::Refused { status: answer.status, message: format!("the answer has no records: {e}") })?;
        match serde_json::to_value(&*found).unwrap_or_default() {
            serde_json::Value::Array(items) => Ok(items),
            serde_json::Value::Null => Ok(Vec::new()),
            other => Ok(vec![other]),
        }
    }

    fn next(&self, answer: &Answer, cursor: &Cursor, got: usize) -> Result<Option<Cursor>, CallError> {
        match self.paging {
            PagingDef::OdataNext { .. } => {
                let link = self.next_link.and_then(|e| crate::value::search(e, &answer.body).ok()).and_then(|v| v.as_string().cloned());
                match link {
                    // A link to another host would carry our token there.
                    Some(l) if !l.starts_with(&self.conn.host) => {
                        Err(CallError::Refused { status: answer.status, message: redact(&format!("the next-page link points to another host: {l}")) })
                    }
                    Some(l) => Ok(Some(Cursor::Link(l))),
                    None => Ok(None),
                }
            }
            PagingDef::PageParam { has_more_header, .. } => {
                let n = match cursor {
                    Cursor::Page(n) => *n,
                    _ => 1,
                };
                let more = match has_more_header.as_deref().and_then(|h| answer.header(h)) {
                    Some(v) => v.trim().eq_ignore_ascii_case("true") || v.trim() == "1",
                    None => got >= self.page_size && got > 0,
                };
                Ok(more.then_some(Cursor::Page(n + 1)))
            }
            PagingDef::None {} => Ok(None),
            PagingDef::QboStartposition { .. } => {
                let n = match cursor {
                    Cursor::Page(n) => *n,
                    _ => 1,
                };
                Ok((got >= self.page_size && got > 0).then_some(Cursor::Page(n + 1)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::positioned;

    #[test]
    fn quickbooks_pages_are_positions_in_the_statement() {
        let query = vec![("query".to_string(), "select * from Invoice".to_string()), ("minorversion".to_string(), "75".to_string())];
        assert_eq!(positioned(&query, "query", 1, 1000)[0].1, "select * from Invoice STARTPOSITION 1 MAXRESULTS 1000");
        assert_eq!(positioned(&query, "query", 3, 1000)[0].1, "select * from Invoice STARTPOSITION 2001 MAXRESULTS 1000");
        assert_eq!(positioned(&query, "query", 3, 1000)[1].1, "75");
    }
}
