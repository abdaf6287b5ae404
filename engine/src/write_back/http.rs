//! The write-back port over HTTP.

use std::sync::Arc;

use super::WriteBack;
use crate::deliver::{Fut, PlannedRequest};
use crate::http::{Registry, redact};

pub struct HttpWriteBack {
    pub registry: Arc<Registry>,
}

impl WriteBack for HttpWriteBack {
    /// A write-back is a status update that may be repeated safely, so a
    /// failure is reported, not retried here: the next run finds the record
    /// again and writes back again.
    fn send<'a>(&'a self, r: &'a PlannedRequest) -> Fut<'a, Result<(), String>> {
        Box::pin(async move {
            if let Some(file) = &r.file {
                return super::upload::send(&self.registry, r, file).await;
            }
            let conn = self.registry.connection(&r.system).await.map_err(|e| redact(&e.to_string()))?;
            let body = r.body.as_ref().map(crate::value::to_json);
            conn.call(&r.method, &conn.url(&r.path), &[], body.as_ref()).await.map(|_| ()).map_err(|e| redact(&e.to_string()))
        })
    }
}
