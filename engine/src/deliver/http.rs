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
}

impl Target for HttpTarget<'_> {
    fn deliver<'a>(&'a self, request: &'a PlannedRequest, _found: Option<&'a Value>) -> Fut<'a, Result<Delivered, DeliverError>> {
        Box::pin(async move {
            let system = self
                .project
                .systems
                .get(&request.system)
                .ok_or_else(|| DeliverError::Misconfigured { message: format!("unknown system `{}`", request.system) })?;
            let reader = AnswerReader { title: &system.def.title, records: &system.records, element_errors: system.element_errors.as_ref() };
            let answer = send(&self.registry, request, &reader).await?;
            Ok(Delivered { answer, written: None })
        })
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
