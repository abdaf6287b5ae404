//! Which records a live run takes: those an earlier run left in doubt (from
//! the journal) first, then the source's listing; or a replay's keys from
//! the journal; or keys chosen from outside, fetched one by one (or picked
//! from the listing when the source cannot give one record).

use std::collections::HashSet;

use minijinja::Value;

use crate::compile::CompiledFlow;
use crate::fetch::{FetchError, Fut, NotHad, One, Pages, Source, SourcePage, key_of};

/// Which records a run takes.
pub enum Records {
    /// Fetch them from the source (and first settle any left in doubt by an earlier run).
    Fetch,
    /// The source records stored in the journal for these keys (`flowmap replay`).
    Stored(Vec<String>),
    /// These keys, fetched from the source now (`flowmap run --key`, a trigger for chosen
    /// records, a webhook): one by one through `get_one`, else picked from the listing.
    Chosen(Vec<String>),
}

impl Records {
    /// Chosen keys (from outside: a command, an API call, an event) are bounded
    /// in number and each checked (`keys.rs`); keys of a replay are checked each,
    /// however many the journal gives.
    pub fn check_keys(&self, flow: &CompiledFlow) -> Result<(), crate::keys::KeysError> {
        let shape = flow.source.key_shape.as_deref();
        match self {
            Records::Fetch => Ok(()),
            Records::Chosen(keys) => crate::keys::check_all(keys, shape),
            Records::Stored(keys) => crate::keys::check_each(keys, shape).map_err(crate::keys::KeysError::Bad),
        }
    }
}

/// A chosen key the source did not give: the key, why, and whether asking again can help.
pub struct Missing {
    pub key: String,
    pub why: String,
    pub not_had: NotHad,
}

/// The records of chosen keys, one by one; None when the source cannot give one record.
pub async fn fetch_each(source: &dyn Source, keys: &[String]) -> Option<Result<(Vec<Value>, Vec<Missing>), FetchError>> {
    let asks: Vec<Fut<'_, Result<One, FetchError>>> = keys.iter().map(|k| source.get_one(k)).collect::<Option<_>>()?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (key, answer) in keys.iter().zip(futures_util::future::join_all(asks).await) {
        match answer {
            Ok(One::Found(record)) => found.push(record),
            Ok(One::NotHad(not_had, why)) => missing.push(Missing { key: key.clone(), why, not_had }),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok((found, missing)))
}

/// The listing kept to the chosen keys (each once), for sources without `get_one`.
pub struct Picked<'a> {
    pub inner: Box<dyn Pages + 'a>,
    pub flow: &'a CompiledFlow,
    pub keys: HashSet<String>,
    pub seen: HashSet<String>,
}

impl Picked<'_> {
    /// The chosen keys the listing did not have.
    pub fn missing(&self, keys: &[String]) -> Vec<Missing> {
        keys.iter()
            .filter(|k| !self.seen.contains(*k))
            .map(|k| Missing { key: k.clone(), why: format!("the source has no record `{k}`"), not_had: NotHad::Missing })
            .collect()
    }
}

impl Pages for Picked<'_> {
    fn next_page(&mut self) -> Fut<'_, Result<Option<SourcePage>, FetchError>> {
        Box::pin(async move {
            let Some(page) = self.inner.next_page().await? else { return Ok(None) };
            let flow = self.flow;
            let items = page
                .items
                .into_iter()
                .filter(|item| {
                    let Ok(record) = item else { return false };
                    let key = key_of(flow, &flow.settings, record);
                    self.keys.contains(&key) && self.seen.insert(key)
                })
                .collect();
            Ok(Some(SourcePage { items, call: page.call }))
        })
    }
}

/// A page already in hand (the records of chosen keys).
pub struct InHand(pub Option<Vec<Value>>);

impl Pages for InHand {
    fn next_page(&mut self) -> Fut<'_, Result<Option<SourcePage>, FetchError>> {
        let page = self.0.take().filter(|r| !r.is_empty()).map(|records| SourcePage { items: records.into_iter().map(Ok).collect(), call: None });
        Box::pin(std::future::ready(Ok(page)))
    }
}
