use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minijinja::Value;

use super::{Access, AccessError, AccessFailure, FindQuery, ListQuery, Page};
use crate::http::{CallError, Cursor, Lister, Registry};
use crate::lookup::query_parts;
use crate::model::{BulkDef, PagingDef, QueryLanguage};
use crate::project::Project;

/// What is needed to ask a system questions.
struct SystemInfo {
    language: QueryLanguage,
    paging: PagingDef,
    page_size: usize,
    records: jmespath::Expression<'static>,
    next_link: Option<jmespath::Expression<'static>>,
    /// For reading the answer to a creation: the system's name and refusals inside a 200.
    title: String,
    element_errors: Option<jmespath::Expression<'static>>,
    bulk: Option<BulkDef>,
    /// Every field of each entity, for OData's mandatory `$select`.
    fields: HashMap<String, Vec<String>>,
    /// Number fields of each entity (OData number literals).
    numeric: HashMap<String, Vec<String>>,
    /// The line collections of each entity (`PurchaseOrderLines`): OData gives a
    /// selected one only as a link unless it is also expanded.
    collections: HashMap<String, Vec<String>>,
}

/// Asks live systems for records matching keys: the query in the system's
/// language (literals escaped), `$select` always sent on OData, every page read.
pub struct Asker {
    registry: Arc<Registry>,
    systems: HashMap<String, SystemInfo>,
}

impl Asker {
    pub fn new(project: &Project, registry: Arc<Registry>) -> Self {
        let systems = project
            .systems
            .iter()
            .map(|(name, s)| {
                let fields = s.catalogue.entities.iter().map(|(e, def)| (e.clone(), def.fields.keys().cloned().collect())).collect();
                let numeric = s
                    .catalogue
                    .entities
                    .keys()
                    .map(|e| {
                        let fields = s.entity(e).map(|d| d.fields.keys().filter(|f| s.numeric_field(e, f)).cloned().collect()).unwrap_or_default();
                        (e.clone(), fields)
                    })
                    .collect();
                let collections = s
                    .catalogue
                    .entities
                    .iter()
                    .map(|(e, def)| {
                        let lists = def.fields.iter().filter(|(_, f)| f.kind == crate::model::FieldType::List).map(|(name, _)| name.clone());
                        (e.clone(), lists.collect())
                    })
                    .collect();
                let info = SystemInfo {
                    language: s.def.query(),
                    paging: s.def.paging().clone(),
                    page_size: s.def.page_size.unwrap_or(100) as usize,
                    records: s.records.clone(),
                    next_link: s.next_link.clone(),
                    title: s.def.title.clone(),
                    element_errors: s.element_errors.clone(),
                    bulk: s.def.http.bulk.clone(),
                    fields,
                    numeric,
                    collections,
                };
                (name.clone(), info)
            })
            .collect();
        Asker { registry, systems }
    }

    fn info(&self, system: &str) -> Result<&SystemInfo, CallError> {
        self.systems.get(system).ok_or_else(|| CallError::Stop { message: format!("unknown system `{system}`") })
    }

    /// With no fields chosen, all the catalogue knows of the entity: OData questions always carry `$select`.
    fn select(info: &SystemInfo, entity: &str, select: &[String]) -> Vec<String> {
        if !select.is_empty() || info.language != QueryLanguage::Odata {
            return select.to_vec();
        }
        info.fields.get(entity).cloned().unwrap_or_default()
    }

    /// The selected line collections, for `$expand` (OData): a look-up of a purchase order
    /// sees its lines as a listing with `$expand` does, `{"results": [...]}`.
    fn expand(info: &SystemInfo, entity: &str, select: &[String]) -> Option<String> {
        let lists = info.collections.get(entity).filter(|_| info.language == QueryLanguage::Odata)?;
        let expand: Vec<&str> = select.iter().filter(|f| lists.contains(f)).map(String::as_str).collect();
        (!expand.is_empty()).then(|| expand.join(","))
    }

    /// Records of `entity` whose `field` is one of `keys`.
    pub async fn find(
        &self,
        system: &str,
        entity: &str,
        field: &str,
        keys: &[String],
        select: &[String],
    ) -> Result<Vec<serde_json::Value>, CallError> {
        let info = self.info(system)?;
        let select = Self::select(info, entity, select);
        let numeric = info.numeric.get(entity).is_some_and(|f| f.iter().any(|f| f == field));
        // A key that is not a number cannot match a number field: not asked, not found.
        let numbers;
        let keys = if numeric {
            numbers = crate::lookup::numeric_keys(keys);
            if numbers.is_empty() {
                return Ok(Vec::new());
            }
            &numbers[..]
        } else {
            keys
        };
        let (path, mut query) = query_parts(info.language, entity, field, keys, &select, numeric);
        if let Some(expand) = Self::expand(info, entity, &select) {
            query.push(("$expand".into(), expand));
        }
        let conn = self.registry.connection(system).await?;
        let lister = Lister {
            conn: &conn,
            paging: &info.paging,
            page_size: info.page_size,
            records: &info.records,
            next_link: info.next_link.as_ref(),
            headers: &[],
        };
        lister.all(&conn.url(&path), &query).await
    }

    /// Creates a record (a look-up's `create`) and answers it as the system has it now.
    pub async fn create(&self, request: &crate::deliver::PlannedRequest) -> Result<serde_json::Value, crate::deliver::DeliverError> {
        let info = self.info(&request.system).map_err(|e| crate::deliver::DeliverError::Misconfigured { message: e.to_string() })?;
        let reader = crate::deliver::AnswerReader { title: &info.title, records: &info.records, element_errors: info.element_errors.as_ref() };
        crate::deliver::send(&self.registry, request, &reader).await
    }

    /// One page of the entity's bulk listing; None when the system has none for it.
    pub async fn bulk_page(&self, q: &ListQuery<'_>, cursor: Option<&str>) -> Option<Result<(Vec<serde_json::Value>, Option<String>), CallError>> {
        let info = self.systems.get(q.system)?;
        let bulk = info.bulk.as_ref().filter(|b| b.entities.iter().any(|e| e == q.entity))?;
        let mut select = Self::select(info, q.entity, q.select);
        if !select.iter().any(|f| f == q.field) {
            select.push(q.field.to_string());
        }
        let path = bulk.path.replace("{entity}", q.entity);
        let cursor = cursor.map(|c| Cursor::Link(c.to_string())).unwrap_or(Cursor::First);
        let asked = async {
            let conn = self.registry.connection(q.system).await?;
            let lister = Lister {
                conn: &conn,
                paging: &info.paging,
                page_size: bulk.page_size as usize,
                records: &info.records,
                next_link: info.next_link.as_ref(),
                headers: &[],
            };
            let (list, next) = lister.page(&conn.url(&path), &[("$select".to_string(), select.join(","))], &cursor).await?;
            let next = match next {
                Some(Cursor::Link(l)) => Some(l),
                _ => None,
            };
            Ok((list, next))
        };
        Some(asked.await)
    }
}

/// The `Access` of live runs. The run stages are synchronous; the questions
/// of one stage are asked concurrently on the tokio runtime this blocks on
/// (each connection bounds how many are in flight).
pub struct HttpAccess {
    rt: tokio::runtime::Handle,
    asker: Arc<Asker>,
    /// Set when a call said the run cannot go on (consent lost, daily budget spent).
    stop: Arc<Mutex<Option<String>>>,
}

impl HttpAccess {
    pub fn new(asker: Arc<Asker>, rt: tokio::runtime::Handle, stop: Arc<Mutex<Option<String>>>) -> Self {
        HttpAccess { rt, asker, stop }
    }

    fn note(&self, e: CallError) -> AccessError {
        if let CallError::Stop { message } = &e {
            let mut stop = self.stop.lock().unwrap_or_else(|p| p.into_inner());
            stop.get_or_insert_with(|| message.clone());
        }
        let kind = match e {
            // The system refused the question as it was put: a malformed query.
            CallError::Refused { status: 400 | 414 | 422, .. } | CallError::Invalid { .. } => AccessFailure::Malformed,
            _ => AccessFailure::Unavailable,
        };
        AccessError { message: e.to_string(), kind }
    }
}

impl Access for HttpAccess {
    fn find(&mut self, q: &FindQuery) -> Result<Vec<Value>, AccessError> {
        self.find_many(std::slice::from_ref(q)).pop().unwrap_or_else(|| Ok(Vec::new()))
    }

    fn find_many(&mut self, queries: &[FindQuery]) -> Vec<Result<Vec<Value>, AccessError>> {
        let asker = &self.asker;
        let answers =
            self.rt.block_on(futures_util::future::join_all(queries.iter().map(|q| asker.find(q.system, q.entity, q.field, q.keys, q.select))));
        answers.into_iter().map(|a| a.map(|list| list.iter().map(crate::value::from_json).collect()).map_err(|e| self.note(e))).collect()
    }

    fn create(&mut self, _target: &crate::compile::CompiledTarget, request: &crate::deliver::PlannedRequest) -> Result<Value, AccessError> {
        use crate::deliver::DeliverError;
        match self.rt.block_on(self.asker.create(request)) {
            Ok(record) => Ok(crate::value::from_json(&record)),
            Err(DeliverError::Refused { reason }) => Err(AccessError { message: reason, kind: AccessFailure::Refused }),
            Err(DeliverError::Misconfigured { message }) => Err(AccessError { message, kind: AccessFailure::Malformed }),
            Err(DeliverError::Stop { message }) => Err(self.note(CallError::Stop { message })),
            // Applied or not, nobody knows: the next run's look-up finds it, or creates it (with
            // the same idempotency key where the system takes one).
            Err(e @ (DeliverError::Unknown { .. } | DeliverError::Failed { .. })) => Err(AccessError::unavailable(e.to_string())),
        }
    }

    fn list_page(&mut self, q: &ListQuery, cursor: Option<&str>) -> Option<Result<Page, AccessError>> {
        let asked = self.rt.block_on(self.asker.bulk_page(q, cursor))?;
        Some(match asked {
            Ok((list, next)) => Ok(Page { records: list.iter().map(crate::value::from_json).collect(), next }),
            Err(e) => Err(self.note(e)),
        })
    }
}
