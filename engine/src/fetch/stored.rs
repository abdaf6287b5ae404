//! Source records kept in the journal: a replay takes them from there, and
//! records an earlier run left in doubt are settled from there first (the
//! source may no longer list them).

use flowmap_state::State;

use super::{FetchError, Fut, Pages, SourcePage};

/// The journal's last source record of each key, a page at a time.
pub struct StoredPages<'a> {
    state: &'a State,
    flow: &'a str,
    keys: std::vec::IntoIter<String>,
    page_size: usize,
}

impl<'a> StoredPages<'a> {
    pub fn new(state: &'a State, flow: &'a str, keys: Vec<String>, page_size: usize) -> Self {
        StoredPages { state, flow, keys: keys.into_iter(), page_size: page_size.max(1) }
    }
}

impl Pages for StoredPages<'_> {
    fn next_page(&mut self) -> Fut<'_, Result<Option<SourcePage>, FetchError>> {
        Box::pin(async move {
            let mut items = Vec::new();
            for key in self.keys.by_ref().take(self.page_size) {
                match self.state.last_source(self.flow, &key).map_err(|e| FetchError(e.to_string()))? {
                    Some(source) => items.push(Ok(crate::value::from_json(&source))),
                    None => return Err(FetchError(format!("the journal has no source record of `{key}` in flow {}", self.flow))),
                }
            }
            Ok((!items.is_empty()).then_some(SourcePage { items, call: None }))
        })
    }
}
