//! GET answers: lists with `$filter`, `$select`, `$expand`, `$orderby`, `$top` and 60-row (bulk:
//! 1,000-row) pages linked by `__next`; single records; `current/Me`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::Exact;
use super::envelope::{self, SELECT_REQUIRED, SYNTAX_ERROR};
use super::odata::{Filter, OrderBy};
use super::projection::Projection;
use super::store::{Entity, Record, key_literal};
use crate::http::request::{ApiRequest, decode_component};
use crate::http::response::ApiResponse;

const PAGE_SIZE: usize = 60;
const BULK_PAGE_SIZE: usize = 1000;

/// The query options of a GET, checked against the entity.
struct Options {
    /// Whether a `$select` was sent (a list needs one, or `$top=1`).
    selects: bool,
    projection: Projection,
    filter: Option<Filter>,
    order_by: Option<OrderBy>,
    top: Option<usize>,
    skip_after: Option<String>,
}

pub fn list(exact: &Exact, entity: &Entity, request: &ApiRequest, bulk: bool) -> ApiResponse {
    let options = match options(entity, request) {
        Ok(options) => options,
        Err(refused) => return refused,
    };
    if !bulk && options.filter.is_none() && !entity.mandatory_filter.is_empty() {
        return envelope::error(StatusCode::BAD_REQUEST, &format!("{MANDATORY_FILTER}{}.", entity.mandatory_filter.join(",")));
    }
    let select_required = if bulk { !options.selects } else { !options.selects && options.top != Some(1) };
    if select_required {
        return envelope::error(StatusCode::BAD_REQUEST, SELECT_REQUIRED);
    }
    let mut rows = rows(entity, &options).into_iter();
    let base = exact.api_base();
    let shape = |record: &Record| Value::Object(options.projection.serve(entity, record, &base));

    if let Some(top) = options.top {
        return envelope::data(StatusCode::OK, Value::Array(rows.take(top).map(shape).collect()));
    }
    let page_size = if bulk { BULK_PAGE_SIZE } else { PAGE_SIZE };
    let page: Vec<&Record> = rows.by_ref().take(page_size).collect();
    let mut d = Map::new();
    d.insert("results".into(), Value::Array(page.iter().map(|r| shape(r)).collect()));
    let last_key = page.last().and_then(|r| entity.key_of(r));
    if let (Some(last_key), true) = (last_key, rows.next().is_some()) {
        d.insert("__next".into(), Value::String(next_link(exact, request, &last_key)));
    }
    envelope::data(StatusCode::OK, Value::Object(d))
}

/// The rows a list answers, in its order, from just after the skip token's record.
fn rows<'e>(entity: &'e Entity, options: &Options) -> Vec<&'e Record> {
    let kept = |r: &&Record| options.filter.as_ref().is_none_or(|f| f.matches(r));
    let Some(order_by) = &options.order_by else {
        // Store order: resume after the token's record wherever it is, even if it no longer matches.
        let start = match &options.skip_after {
            Some(key) => entity.position(key).map_or(entity.records.len(), |i| i + 1),
            None => 0,
        };
        return entity.records[start..].iter().filter(kept).collect();
    };
    let mut rows: Vec<&Record> = entity.records.iter().filter(kept).collect();
    rows.sort_by(|a, b| order_by.compare(a, b));
    let start = match &options.skip_after {
        Some(key) => rows.iter().position(|r| entity.key_of(r).is_some_and(|k| k.eq_ignore_ascii_case(key))).map_or(rows.len(), |i| i + 1),
        None => 0,
    };
    rows.split_off(start)
}

/// Exact's answer to a list without the `$filter` an entity's catalogue `mandatory_filter` asks for
/// (picqer/exact-php-client #591, verbatim); the bulk and sync endpoints list them whole.
const MANDATORY_FILTER: &str = "This endpoint has mandatory filtering applied. A GET request for this endpoint must have a $filter parameter with one of the following fields in the url:";

pub fn single(exact: &Exact, entity: &Entity, request: &ApiRequest, key: &str) -> ApiResponse {
    let options = match options(entity, request) {
        Ok(options) => options,
        Err(refused) => return refused,
    };
    match entity.get(key) {
        Some(record) => envelope::data(StatusCode::OK, Value::Object(options.projection.serve(entity, record, &exact.api_base()))),
        None => envelope::not_found(),
    }
}

/// The link of a `__deferred` line collection (`PurchaseOrders(guid'…')/PurchaseOrderLines`):
/// the record's lines as a list, each with its `__metadata`, `$select` naming line fields.
pub fn lines_of(exact: &Exact, entity: &Entity, request: &ApiRequest, key: &str, navigation: &str) -> ApiResponse {
    let Some(lines) = entity.lines.as_ref().filter(|l| l.property == navigation) else {
        return envelope::not_found();
    };
    let Some(record) = entity.get(key) else {
        return envelope::not_found();
    };
    // The same as the record's expansion, with the `$select` taken as paths into the lines.
    let select = request.query_param("$select").map(|text| {
        let fields: Vec<String> = text.split(',').map(str::trim).filter(|f| !f.is_empty()).map(|f| format!("{}/{f}", lines.property)).collect();
        fields.join(",")
    });
    let projection = match Projection::parse(entity, Some(select.as_deref().unwrap_or(&lines.property)), Some(&lines.property)) {
        Ok(projection) => projection,
        Err(refused) => return refused,
    };
    let served = projection.serve(entity, record, &exact.api_base());
    let results = served.get(&lines.property).and_then(|l| l.get("results")).cloned().unwrap_or_else(|| json!([]));
    envelope::data(StatusCode::OK, json!({ "results": results }))
}

/// `current/Me`: the sandbox user, working in the configured division.
pub fn me(exact: &Exact, request: &ApiRequest) -> ApiResponse {
    const TYPE: &str = "Exact.Web.Api.System.Me";
    let me = json!({
        "__metadata": { "uri": format!("{}/api/v1/current/Me(guid'{}')", exact.base_url, exact.user_id), "type": TYPE },
        "CurrentDivision": exact.division,
        "UserID": exact.user_id,
        "UserName": "sandbox",
        "FullName": "Sandbox User",
    });
    let Value::Object(me) = me else { return envelope::not_found() };
    let select = match request.query_param("$select").map(select_list) {
        Some(fields) => match fields.iter().find(|f| !me.contains_key(*f)) {
            Some(unknown) => return envelope::unknown_property(unknown, TYPE),
            None => Some(fields),
        },
        None => None,
    };
    envelope::data(StatusCode::OK, json!({ "results": [project(me, select.as_deref())] }))
}

fn options(entity: &Entity, request: &ApiRequest) -> Result<Options, ApiResponse> {
    let syntax = || envelope::error(StatusCode::BAD_REQUEST, SYNTAX_ERROR);
    let known = |field: &str| entity.fields.contains(field);
    let select = request.query_param("$select");
    let projection = Projection::parse(entity, select, request.query_param("$expand"))?;
    let filter = match request.query_param("$filter") {
        Some(text) => Some(Filter::parse(text).map_err(|_| syntax())?),
        None => None,
    };
    if let Some(unknown) = filter.iter().flat_map(Filter::fields).find(|f| !known(f)) {
        return Err(envelope::unknown_property(unknown, &entity.type_name));
    }
    let order_by = match request.query_param("$orderby") {
        Some(text) => Some(OrderBy::parse(text).map_err(|_| syntax())?),
        None => None,
    };
    if let Some(unknown) = order_by.iter().flat_map(OrderBy::fields).find(|f| !known(f)) {
        return Err(envelope::unknown_property(unknown, &entity.type_name));
    }
    let top = match request.query_param("$top") {
        Some(text) => Some(text.trim().parse::<usize>().map_err(|_| syntax())?),
        None => None,
    };
    // `guid'…'` from our own `__next`; a plain key is taken as it is.
    let skip_after = request.query_param("$skiptoken").map(|t| {
        let t = t.trim();
        t.strip_prefix("guid'").and_then(|g| g.strip_suffix('\'')).unwrap_or(t).to_string()
    });
    Ok(Options { selects: select.is_some(), projection, filter, order_by, top, skip_after })
}

fn select_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_string).collect()
}

/// Only `__metadata` and the selected fields, in the order asked; `*` or no `$select` keeps all.
fn project(record: Record, select: Option<&[String]>) -> Record {
    let Some(select) = select.filter(|s| !s.iter().any(|f| f == "*")) else {
        return record;
    };
    let mut out = Map::new();
    if let Some(metadata) = record.get("__metadata") {
        out.insert("__metadata".into(), metadata.clone());
    }
    for field in select {
        out.insert(field.clone(), record.get(field).cloned().unwrap_or(Value::Null));
    }
    out
}

/// The same query on this server, resuming after `last_key`.
fn next_link(exact: &Exact, request: &ApiRequest, last_key: &str) -> String {
    let mut parts: Vec<&str> =
        request.raw_query.split('&').filter(|p| !p.is_empty() && decode_component(p.split('=').next().unwrap_or_default()) != "$skiptoken").collect();
    let token = format!("$skiptoken={}", key_literal(last_key));
    parts.push(&token);
    format!("{}{}?{}", exact.base_url, request.path, parts.join("&"))
}
