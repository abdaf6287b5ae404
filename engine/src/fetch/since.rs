//! "What changed since the last run" (`source.since`): the condition a
//! source's listing gets from the flow's watermark, and how a run's newest
//! value is found. The condition is written in the system's query language
//! (a protocol: OData here), every literal formed by the engine.

use minijinja::Value;

use crate::expr::functions::instant_ms;

/// The OData condition on `field` for records changed at or after `mark`
/// (`/Date(ms)/` or ISO). `ge`, not `gt`: a record changed in the same
/// millisecond as the watermark, after the run that set it, is not lost;
/// the one taken before comes again and its version keeps it from being sent twice.
pub fn odata_condition(field: &str, mark: &str) -> Result<String, String> {
    let ms = instant_ms(mark).ok_or_else(|| format!("the watermark `{mark}` of `{field}` is not a date"))?;
    let at = chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("the watermark `{mark}` of `{field}` is out of range"))?;
    // OData v2/v3 datetime literal: no zone (Exact reads it as its `/Date()/` values are written).
    Ok(format!("{field} ge datetime'{}'", at.naive_utc().format("%Y-%m-%dT%H:%M:%S%.3f")))
}

/// How a listing asks for what changed since the watermark, by what the source system can do.
#[derive(Debug, Clone, PartialEq)]
pub enum SinceAsk {
    /// An OData `$filter` condition added to the listing's.
    Filter(String),
    /// The system's change feed (`http.changes`), from this instant (epoch ms).
    Changed(i64),
    /// A header on the listing (`http.since_header`, Xero's `If-Modified-Since`) and its value.
    Header(String, String),
}

/// The ask for records changed at or after `mark`, as the source system can be asked: an OData
/// filter, else its change feed, else its since-header. None when it can be asked none of them
/// (`check` refuses such a flow).
pub fn since_ask(field: &str, mark: &str, system: &crate::model::SystemDef) -> Result<SinceAsk, String> {
    if system.query() == crate::model::QueryLanguage::Odata {
        return odata_condition(field, mark).map(SinceAsk::Filter);
    }
    let ms = instant_ms(mark).ok_or_else(|| format!("the watermark `{mark}` of `{field}` is not a date"))?;
    if system.http.changes.is_some() {
        return Ok(SinceAsk::Changed(ms));
    }
    let at = chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("the watermark `{mark}` of `{field}` is out of range"))?;
    match &system.http.since_header {
        Some(header) => Ok(SinceAsk::Header(header.clone(), at.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())),
        None => Err(format!("`{}` cannot be asked for what changed since a moment", system.system)),
    }
}

/// `query` with the condition added to its `$filter` (and-ed with the flow's own).
pub fn with_condition(query: &[(String, String)], condition: &str) -> Vec<(String, String)> {
    let mut query = query.to_vec();
    match query.iter_mut().find(|(k, _)| k == "$filter") {
        Some((_, filter)) => *filter = format!("({filter}) and {condition}"),
        None => query.push(("$filter".into(), condition.to_string())),
    }
    query
}

/// The newest of the `field` values of records taken so far (compared as instants).
#[derive(Debug, Default, Clone)]
pub struct Newest {
    best: Option<(i64, String)>,
}

impl Newest {
    /// Takes `field` of `record`, a dotted path (`MetaData.LastUpdatedTime`).
    pub fn take(&mut self, record: &Value, field: &str) {
        let mut v = record.clone();
        for part in field.split('.') {
            match v.get_attr(part) {
                Ok(inner) => v = inner,
                Err(_) => return,
            }
        }
        let Some(text) = v.as_str() else { return };
        let Some(ms) = instant_ms(text) else { return };
        if self.best.as_ref().is_none_or(|(b, _)| ms > *b) {
            self.best = Some((ms, text.to_string()));
        }
    }

    pub fn value(&self) -> Option<&str> {
        self.best.as_ref().map(|(_, t)| t.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_condition_is_an_odata_datetime_from_either_date_form() {
        assert_eq!(odata_condition("Modified", "/Date(1764583200000)/").unwrap(), "Modified ge datetime'2025-12-01T10:00:00.000'");
        assert_eq!(odata_condition("Modified", "2025-12-01T10:00:00Z").unwrap(), "Modified ge datetime'2025-12-01T10:00:00.000'");
        assert_eq!(odata_condition("Modified", "x' or 1 eq 1").unwrap_err(), "the watermark `x' or 1 eq 1` of `Modified` is not a date");
    }

    #[test]
    fn the_condition_is_anded_with_the_flows_filter() {
        let q = vec![("$filter".to_string(), "OrderStatus eq 10 or OrderStatus eq 40".to_string()), ("$select".into(), "ID".into())];
        assert_eq!(
            with_condition(&q, "Modified ge datetime'2025-12-01T10:00:00.000'"),
            vec![
                ("$filter".to_string(), "(OrderStatus eq 10 or OrderStatus eq 40) and Modified ge datetime'2025-12-01T10:00:00.000'".to_string()),
                ("$select".into(), "ID".into())
            ]
        );
    }

    #[test]
    fn the_newest_is_compared_as_an_instant() {
        let mut newest = Newest::default();
        for m in ["/Date(1700000000000)/", "/Date(1800000000000)/", "/Date(999)/", "not a date"] {
            newest.take(&crate::value::from_json(&serde_json::json!({"Modified": m})), "Modified");
        }
        assert_eq!(newest.value(), Some("/Date(1800000000000)/"));
    }
}
