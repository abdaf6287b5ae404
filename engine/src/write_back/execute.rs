use crate::deliver::PlannedRequest;
use crate::http::{CallError, Registry};

/// Sends the write-backs of one record, in order. Each is a status update
/// that may be repeated safely, so a failure is reported, not retried here:
/// the next run finds the record again and writes back again.
pub async fn execute(registry: &Registry, requests: &[PlannedRequest]) -> Vec<(String, Result<(), CallError>)> {
    let mut done = Vec::with_capacity(requests.len());
    for r in requests {
        let what = format!("{} {} {}", r.system, r.method, r.path);
        let result = async {
            let conn = registry.connection(&r.system).await?;
            let body = r.body.as_ref().map(crate::value::to_json);
            conn.call(&r.method, &conn.url(&r.path), &[], body.as_ref()).await.map(|_| ())
        }
        .await;
        done.push((what, result));
    }
    done
}
