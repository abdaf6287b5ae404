//! A system's change feed (QuickBooks' Change Data Capture): the records of an entity changed
//! since a moment, in one answer. The feed has limits — how far back it answers, how many
//! records one answer holds — and past them the run lists the whole entity instead, so nothing
//! is missed (`source.version` and the existence check keep the unchanged from going twice).

use crate::http::{CallError, Connection};
use crate::model::ChangesDef;

/// The records of `entity` changed at or after `since_ms`, without those the feed reports
/// deleted; None when the feed cannot answer for all of them (the watermark is older than it
/// reaches back, or the answer is full).
pub async fn changed(conn: &Connection, feed: &ChangesDef, entity: &str, since_ms: i64) -> Result<Option<Vec<serde_json::Value>>, CallError> {
    let now = conn.clock.now_ms();
    if now - since_ms > i64::from(feed.days) * 86_400_000 {
        return Ok(None);
    }
    let Some(since) = chrono::DateTime::from_timestamp_millis(since_ms) else { return Ok(None) };
    let since = since.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let query: Vec<(String, String)> =
        feed.query.iter().map(|(k, v)| (k.clone(), v.replace("{entity}", entity).replace("{since}", &since))).collect();
    let answer = conn.get(&conn.url(&feed.path), &query).await?;
    let stop = |e: String| CallError::Stop { message: format!("`http.changes` of `{}`: {e}", conn.system) };
    let records = crate::expr::compile_selector(&feed.records.replace("{entity}", entity)).map_err(|e| stop(e.to_string()))?;
    let deleted = feed.deleted.as_deref().map(crate::expr::compile_selector).transpose().map_err(|e| stop(e.to_string()))?;
    let found = crate::value::search(&records, &answer.body).map_err(|e| stop(e.to_string()))?;
    let list = match serde_json::to_value(&*found).unwrap_or_default() {
        serde_json::Value::Array(items) => items,
        _ => Vec::new(),
    };
    if list.len() >= feed.most {
        return Ok(None);
    }
    let gone = |r: &serde_json::Value| {
        deleted
            .as_ref()
            .and_then(|d| crate::value::search(d, r).ok())
            .is_some_and(|v| serde_json::to_value(&*v).unwrap_or_default() == serde_json::Value::Bool(true))
    };
    Ok(Some(list.into_iter().filter(|r| !gone(r)).collect()))
}
