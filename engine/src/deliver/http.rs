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
            let body = request.body.as_ref().map(crate::value::to_json);
            let answer = async {
                let conn = self.registry.connection(&request.system).await?;
                conn.call(&request.method, &conn.url(&request.path), &[], body.as_ref()).await
            }
            .await;
            match answer {
                // The record in the answer (Exact: `{"d":{…}}`), via the system's `records` selector.
                Ok(answer) => Ok(Delivered {
                    answer: match self.project.systems.get(&request.system) {
                        Some(s) => one_record(&s.records, answer.body),
                        None => answer.body,
                    },
                    written: None,
                }),
                Err(CallError::Refused { status, message }) => {
                    let title = self.project.systems.get(&request.system).map_or(request.system.as_str(), |s| s.def.title.as_str());
                    Err(DeliverError::Refused { reason: format!("{title} refused {} {}: {message} (HTTP {status})", request.method, request.path) })
                }
                Err(CallError::Unknown { message }) => Err(DeliverError::Unknown { message }),
                Err(CallError::Stop { message }) => Err(DeliverError::Stop { message }),
                Err(e) => Err(DeliverError::Failed { message: e.to_string() }),
            }
        })
    }
}
