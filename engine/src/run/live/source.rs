//! Where a live run's records come from: every page of the source's listing,
//! or chosen keys one by one (`source.get_one`), else picked from the listing.

use std::collections::HashSet;

use super::{Live, NotHad};
use crate::expr::Scope;
use crate::http::{CallError, Lister};

/// Records of chosen keys found in the source, and the keys not had (with why).
pub(super) struct Chosen {
    pub(super) found: Vec<serde_json::Value>,
    pub(super) missing: Vec<(String, String)>,
    /// Each missing key and what asking again could do.
    pub(super) not_had: Vec<(String, NotHad)>,
}

impl Live<'_> {
    /// The records of chosen keys, and the keys that could not be had (with why).
    pub(super) fn fetch_chosen(&self, keys: &[String]) -> Result<Chosen, String> {
        let source = &self.flow.source;
        let Some(one) = &source.get_one else {
            // No endpoint for one record: the listing, kept to the chosen keys.
            let all = self.fetch()?;
            let mut found = Vec::new();
            let mut seen = HashSet::new();
            for record in all {
                let mut scope = Scope::new();
                scope.push("settings", self.flow.settings.clone());
                scope.push(source.alias, crate::value::from_json(&record));
                let key = source.key.eval(&scope).map(|k| crate::value::key_text(&k)).unwrap_or_default();
                if keys.contains(&key) && seen.insert(key) {
                    found.push(record);
                }
            }
            let missing: Vec<(String, String)> =
                keys.iter().filter(|k| !seen.contains(*k)).map(|k| (k.clone(), format!("the source has no record `{k}`"))).collect();
            let not_had = missing.iter().map(|(k, _)| (k.clone(), NotHad::Missing)).collect();
            return Ok(Chosen { found, missing, not_had });
        };
        let system = self.project.systems.get(&source.system).ok_or_else(|| format!("unknown system `{}`", source.system))?;
        let odata = system.def.query == crate::model::QueryLanguage::Odata;
        // The fields a listing selects are selected for one record too.
        let select: Vec<(String, String)> = if odata { source.query.iter().filter(|(k, _)| k == "$select").cloned().collect() } else { Vec::new() };
        self.rt.block_on(async {
            let conn = self.registry.connection(&source.system).await.map_err(|e| e.to_string())?;
            let asks = keys.iter().map(|key| {
                let literal = if odata { key.replace('\'', "''") } else { key.clone() };
                let url = conn.url(&one.replace("{key}", &encode_path_part(&literal)));
                let (conn, select) = (conn.clone(), &select);
                async move { (key.clone(), conn.get(&url, select).await) }
            });
            let mut chosen = Chosen { found: Vec::new(), missing: Vec::new(), not_had: Vec::new() };
            for (key, answer) in futures_util::future::join_all(asks).await {
                let (why, not_had) = match answer {
                    Ok(a) => {
                        chosen.found.push(one_record(&system.records, a.body));
                        continue;
                    }
                    Err(CallError::Refused { status, message }) => match NotHad::of_status(status) {
                        NotHad::Missing => (format!("the source has no record `{key}`"), NotHad::Missing),
                        not_had => (format!("{} refused to give `{key}`: {message} (HTTP {status})", source.system), not_had),
                    },
                    Err(CallError::Invalid { message }) => (format!("{} `{key}` cannot be asked for: {message}", source.system), NotHad::Refused),
                    Err(e) => return Err(format!("fetching {} `{key}`: {e}", source.system)),
                };
                chosen.not_had.push((key.clone(), not_had));
                chosen.missing.push((key, why));
            }
            Ok(chosen)
        })
    }

    /// Every source record the flow's query returns, all pages.
    pub(super) fn fetch(&self) -> Result<Vec<serde_json::Value>, String> {
        let source = &self.flow.source;
        let system = self.project.systems.get(&source.system).ok_or_else(|| format!("unknown system `{}`", source.system))?;
        let page_size = system.def.page_size.unwrap_or(100) as usize;
        self.rt
            .block_on(async {
                let conn = self.registry.connection(&source.system).await?;
                let lister =
                    Lister { conn: &conn, paging: &system.def.paging, page_size, records: &source.records, next_link: system.next_link.as_ref() };
                lister.all(&conn.url(&source.get), &source.query).await
            })
            .map_err(|e| format!("fetching {} {}: {e}", source.system, source.get))
    }
}

/// The record in a single-record answer: the system's `records` path when it
/// leads to one record (`{"d": {…}}`), else the answer itself (a bare object).
pub(super) fn one_record(records: &jmespath::Expression<'static>, body: serde_json::Value) -> serde_json::Value {
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
