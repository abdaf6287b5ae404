use std::collections::HashMap;

use minijinja::Value;

use super::query::query_text;
use crate::access::{Access, AccessError, FindQuery};
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
}

/// Answers keys in batches and remembers every answer for the rest of the
/// run, so a customer shared by a thousand orders is asked about once.
/// Questions about the same entity field share one cache (a slot), whatever
/// look-up asked them.
#[derive(Default)]
pub struct Resolver {
    slots: HashMap<(String, String, String), usize>,
    caches: Vec<HashMap<String, Answer>>,
}

impl Resolver {
    /// The cache slot of an entity field; ask once per flow, not per record.
    pub fn slot(&mut self, system: &str, entity: &str, field: &str) -> usize {
        let next = self.caches.len();
        let slot = *self.slots.entry((system.to_string(), entity.to_string(), field.to_string())).or_insert(next);
        if slot == next {
            self.caches.push(HashMap::new());
        }
        slot
    }

    /// Makes sure every key in `keys` has an answer, asking only for the new ones.
    pub fn resolve(&mut self, slot: usize, q: &Question, keys: impl IntoIterator<Item = String>, access: &mut dyn Access, calls: &mut CallLog) {
        let cache = &mut self.caches[slot];
        let mut seen = std::collections::HashSet::new();
        let new: Vec<String> = keys.into_iter().filter(|k| !cache.contains_key(k) && seen.insert(k.clone())).collect();
        for chunk in new.chunks(q.batch) {
            calls.record(q.system, "GET", q.entity, q.purpose, || query_text(q.language, q.entity, q.field, chunk, q.select));
            let found = access.find(&FindQuery { system: q.system, entity: q.entity, field: q.field, keys: chunk, select: q.select });
            match found {
                Ok(records) => {
                    for k in chunk {
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
                    for k in chunk {
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

    pub fn answer(&self, slot: usize, key: &str) -> Option<&Answer> {
        self.caches[slot].get(key)
    }
}
