use std::collections::HashMap;

use minijinja::Value;

use super::query::query_text;
use crate::access::{Access, AccessError, FindQuery, ListQuery};
use crate::model::QueryLanguage;
use crate::run::CallLog;

/// What a key resolved to: the found record, nothing, or an access failure.
#[derive(Debug, Clone)]
pub enum Answer {
    Found(Value),
    NotFound,
    Failed(AccessError),
}

/// One kind of question: records of an entity matched on a field.
pub struct Question<'a> {
    pub purpose: &'a str,
    pub system: &'a str,
    pub entity: &'a str,
    pub field: &'a str,
    pub select: &'a [String],
    pub batch: usize,
    pub language: QueryLanguage,
    /// The matched field is a number: OData number literals, non-numeric keys never asked.
    pub numeric: bool,
    /// Whether listing the whole entity may replace batched questions when
    /// that costs fewer calls (look-ups; not existence checks, whose entity
    /// grows without bound).
    pub prefetch: bool,
}

/// Answers keys in batches and remembers every answer for the rest of the
/// run, so a customer shared by a thousand orders is asked about once.
/// Questions about the same entity field share one cache (a slot), whatever
/// look-up asked them.
#[derive(Default)]
pub struct Resolver {
    slots: HashMap<(String, String, String), usize>,
    caches: Vec<HashMap<String, Answer>>,
    /// Slots whose entity was listed whole: a key not in the cache does not exist.
    complete: Vec<bool>,
}

impl Resolver {
    /// The cache slot of an entity field; ask once per flow, not per record.
    pub fn slot(&mut self, system: &str, entity: &str, field: &str) -> usize {
        let next = self.caches.len();
        let slot = *self.slots.entry((system.to_string(), entity.to_string(), field.to_string())).or_insert(next);
        if slot == next {
            self.caches.push(HashMap::new());
            self.complete.push(false);
        }
        slot
    }

    /// Makes sure every key in `keys` has an answer, asking only for the new ones.
    pub fn resolve(&mut self, slot: usize, q: &Question, keys: impl IntoIterator<Item = String>, access: &mut dyn Access, calls: &mut CallLog) {
        let cache = &mut self.caches[slot];
        let mut seen = std::collections::HashSet::new();
        let mut new: Vec<String> = keys.into_iter().filter(|k| !cache.contains_key(k) && seen.insert(k.clone())).collect();
        if new.is_empty() {
            return;
        }
        if !self.complete[slot] && q.prefetch && new.len() > q.batch {
            self.complete[slot] = prefetch(cache, q, new.len().div_ceil(q.batch) - 1, access, calls);
            new.retain(|k| !cache.contains_key(k));
        }
        if self.complete[slot] {
            for k in new {
                cache.insert(k, Answer::NotFound);
            }
            return;
        }
        let chunks: Vec<&[String]> = new.chunks(q.batch).collect();
        for chunk in &chunks {
            calls.record(q.system, "GET", q.entity, q.purpose, || query_text(q.language, q.entity, q.field, chunk, q.select, q.numeric));
        }
        let questions: Vec<FindQuery> =
            chunks.iter().map(|chunk| FindQuery { system: q.system, entity: q.entity, field: q.field, keys: chunk, select: q.select }).collect();
        let answers = access.find_many(&questions);
        for (chunk, found) in chunks.iter().zip(answers) {
            match found {
                Ok(records) => {
                    for k in chunk.iter() {
                        cache.insert(k.clone(), Answer::NotFound);
                    }
                    // Every key of the chunk is in the cache now; a record
                    // answers the key it matches (systems may return extras).
                    for r in records {
                        if let Ok(v) = r.get_attr(q.field)
                            && let Some(slot) = cache.get_mut(&crate::value::key_text(&v))
                            && matches!(slot, Answer::NotFound)
                        {
                            *slot = Answer::Found(r);
                        }
                    }
                }
                Err(e) => {
                    for k in chunk.iter() {
                        cache.insert(k.clone(), Answer::Failed(e.clone()));
                    }
                }
            }
        }
    }

    /// Drops a slot's answers: existence-check keys are unique per record, so
    /// keeping them for the run would only make memory grow with the input.
    pub fn forget(&mut self, slot: usize) {
        self.caches[slot].clear();
    }

    /// Answers `key` with what the run learnt otherwise (a record it created).
    pub fn set(&mut self, slot: usize, key: String, answer: Answer) {
        self.caches[slot].insert(key, answer);
    }

    pub fn answer(&self, slot: usize, key: &str) -> Option<&Answer> {
        self.caches[slot].get(key)
    }
}

/// Lists the whole entity while that is cheaper than asking for the keys:
/// at most `budget` pages (one fewer than the batched questions would cost).
/// Returns whether the listing was complete.
fn prefetch(cache: &mut HashMap<String, Answer>, q: &Question, budget: usize, access: &mut dyn Access, calls: &mut CallLog) -> bool {
    let list = ListQuery { system: q.system, entity: q.entity, field: q.field, select: q.select };
    let mut cursor: Option<String> = None;
    for _ in 0..budget {
        let Some(page) = access.list_page(&list, cursor.as_deref()) else { return false };
        calls.record(q.system, "GET", q.entity, "bulk listing", || format!("bulk listing of {} (all records, page by page)", q.entity));
        let Ok(page) = page else { return false };
        for r in page.records {
            if let Ok(v) = r.get_attr(q.field)
                && !v.is_undefined()
                && !v.is_none()
            {
                cache.entry(crate::value::key_text(&v)).or_insert(Answer::Found(r));
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return true,
        }
    }
    false
}
