//! The target port over HTTP: the planned request sent on the target's connection.

use std::sync::Arc;

use minijinja::Value;

use super::{DeliverError, Delivered, Fut, PlannedRequest, Target};
use crate::fetch::one_record;
use crate::http::{CallError, Registry};
use crate::project::Project;

pub struct HttpTarget<'a> {
    pub project: &'a Project,
    pub registry: Arc<Registry>,
    pub target: &'a crate::compile::CompiledTarget,
}

impl Target for HttpTarget<'_> {
    fn deliver<'a>(&'a self, request: &'a PlannedRequest, found: Option<&'a Value>) -> Fut<'a, Result<Delivered, DeliverError>> {
        Box::pin(async move {
            let system = self
                .project
                .systems
                .get(&request.system)
                .ok_or_else(|| DeliverError::Misconfigured { message: format!("unknown system `{}`", request.system) })?;
            let reader = AnswerReader { title: &system.def.title, records: &system.records, element_errors: system.element_errors.as_ref() };
            let sent = send(&self.registry, request, &reader).await;
            // An update of a record changed since it was read (QuickBooks 5010): once more, with
            // what it carries (its SyncToken) read again.
            let stale = self.target.update.as_ref().and_then(|u| u.stale.as_ref());
            let answer = match (sent, stale, found) {
                (Err(DeliverError::Refused { reason }), Some(stale), Some(found)) if reason.contains(&stale.says) => {
                    let again = self.reread(request, found, stale, system).await.map_err(|e| match e {
                        DeliverError::Refused { reason: why } => DeliverError::Refused { reason: format!("{reason}; reading it again: {why}") },
                        other => other,
                    })?;
                    send(&self.registry, &again, &reader).await?
                }
                (sent, ..) => sent?,
            };
            Ok(Delivered { answer, written: None })
        })
    }
}

impl HttpTarget<'_> {
    /// The update `request`, with the carried fields of the record as the system has it now.
    async fn reread(
        &self,
        request: &PlannedRequest,
        found: &Value,
        stale: &crate::model::StaleDef,
        system: &crate::project::System,
    ) -> Result<PlannedRequest, DeliverError> {
        let id = self.target.key_field.as_deref().and_then(|k| found.get_attr(k).ok()).map(|v| crate::value::key_text(&v)).unwrap_or_default();
        let entity = &self.target.entity;
        let path = stale.reread.replace("{entity}", entity).replace("{entity_lowercase}", &entity.to_lowercase()).replace("{id}", &id);
        let now = async {
            let conn = self.registry.connection(&request.system).await?;
            conn.get(&conn.url(&path), &[]).await
        }
        .await
        .map_err(|e| match e {
            CallError::Refused { status, message } => DeliverError::Refused { reason: format!("{message} (HTTP {status})") },
            CallError::Stop { message } => DeliverError::Stop { message },
            other => DeliverError::Failed { message: other.to_string() },
        })?;
        let now = crate::value::from_json(&one_record(&system.records, now.body));
        let record = request.body.as_ref().map(|b| super::record_of(self.target, b)).unwrap_or_default();
        let mut again = request.clone();
        let body = super::request::carried(self.target, record, &now);
        again.body = Some(match &self.target.envelope {
            Some(name) => crate::value::map([(name.clone(), Value::from(vec![body]))]),
            None => body,
        });
        // Another write: a key of its own, so the system does not answer it with the refusal.
        again.idempotency_key = request.idempotency_key.as_ref().map(|k| format!("{k}-2"));
        Ok(again)
    }
}

/// How a system's answer to a write is read: its name for messages, where the record is
/// (Exact: `{"d":{…}}`), and where the messages of a record refused inside a successful answer are.
pub struct AnswerReader<'a> {
    pub title: &'a str,
    pub records: &'a jmespath::Expression<'static>,
    pub element_errors: Option<&'a jmespath::Expression<'static>>,
}

impl AnswerReader<'_> {
    /// The messages of a record refused inside a successful answer (`http.element_errors`).
    pub fn refusals(&self, record: &serde_json::Value) -> Vec<String> {
        let Some(found) = self.element_errors.and_then(|e| crate::value::search(e, record).ok()) else { return Vec::new() };
        let texts = match serde_json::to_value(&*found).unwrap_or_default() {
            serde_json::Value::Array(items) => items.iter().filter_map(|m| m.as_str().map(str::to_string)).collect(),
            serde_json::Value::String(s) => vec![s],
            _ => Vec::new(),
        };
        texts.into_iter().filter(|m| !m.trim().is_empty()).collect()
    }
}

/// Sends a planned write on its system's connection and answers the record the system now has.
pub async fn send(registry: &Registry, request: &PlannedRequest, reader: &AnswerReader<'_>) -> Result<serde_json::Value, DeliverError> {
    let body = request.body.as_ref().map(crate::value::to_json);
    let answer = async {
        let conn = registry.connection(&request.system).await?;
        conn.call_once(&request.method, &conn.url(&request.path), &[], body.as_ref(), request.idempotency_key.as_deref()).await
    }
    .await;
    let refused = |said: String| DeliverError::Refused { reason: format!("{} refused {} {}: {said}", reader.title, request.method, request.path) };
    match answer {
        Ok(answer) => {
            let record = one_record(reader.records, answer.body);
            // Refused inside a successful answer (Xero with summarizeErrors=false).
            let refusals = reader.refusals(&record);
            if refusals.is_empty() { Ok(record) } else { Err(refused(crate::http::redact(&refusals.join("; ")))) }
        }
        Err(CallError::Refused { status, message }) => Err(refused(format!("{message} (HTTP {status})"))),
        Err(CallError::Unknown { message }) => Err(DeliverError::Unknown { message }),
        Err(CallError::Stop { message }) => Err(DeliverError::Stop { message }),
        Err(e) => Err(DeliverError::Failed { message: e.to_string() }),
    }
}
