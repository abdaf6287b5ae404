//! Write-backs: the requests sent to the source after a delivery, a block or a skip.

use super::context::Ctx;
use super::flow::{CompiledAfter, CompiledFile, CompiledRequest};
use super::mapping::{Schema, compile_fields};
use super::references::{entity_field, system};
use crate::model::{FlowFile, Request};
use crate::project::Project;

pub fn compile_after(project: &Project, ctx: &mut Ctx, flow: &FlowFile, alias: &'static str) -> CompiledAfter {
    let after = flow.after.clone().unwrap_or_default();
    let mut requests = |key: &str, list: Option<&crate::model::Requests>, extra: &[&'static str]| -> Vec<CompiledRequest> {
        let mut roots = vec![alias, "settings"];
        roots.extend_from_slice(extra);
        list.map(|l| l.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(i, r)| request(project, ctx, &format!("/after/{key}{}", index_suffix(list, i)), r, &roots))
            .collect()
    };
    CompiledAfter {
        sent: requests("sent", after.sent.as_ref(), &["lookup", "out", "result", "found"]),
        blocked: requests("blocked", after.blocked.as_ref(), &["lookup", "reasons"]),
        skipped: requests("skipped", after.skipped.as_ref(), &["lookup", "out", "found"]),
    }
}

fn index_suffix(list: Option<&crate::model::Requests>, i: usize) -> String {
    match list {
        Some(crate::model::Requests::Many(_)) => format!("/{i}"),
        _ => String::new(),
    }
}

fn request(project: &Project, ctx: &mut Ctx, at: &str, r: &Request, roots: &[&str]) -> Option<CompiledRequest> {
    let sys = system(project, ctx, &format!("{at}/system"), &r.system);
    let entity_name = r.entity.clone().unwrap_or_else(|| r.path.trim_start_matches('/').to_string());
    let entity = sys.and_then(|s| s.entity(&entity_name));
    if r.entity.is_some()
        && let Some(s) = sys
    {
        entity_field(ctx, s, &format!("{at}/entity"), &entity_name, None);
    }
    let path = ctx.template(&format!("{at}/path"), &r.path, roots);
    let when = r.when.as_ref().map(|w| ctx.expr(&format!("{at}/when"), w, roots));
    let schema = entity.map(|e| Schema { title: e.title.clone(), fields: &e.fields });
    let body = compile_fields(ctx, &format!("{at}/body"), &r.body, roots, schema);
    let file = match &r.multipart {
        Some(m) => Some(file(project, ctx, &format!("{at}/multipart"), m, roots)?),
        None => None,
    };
    let once = r.once.as_ref().map(|o| ctx.expr(&format!("{at}/once"), o, roots));
    Some(CompiledRequest {
        system: r.system.clone(),
        method: r.method.to_uppercase(),
        path: path?,
        when: when.flatten(),
        body,
        file,
        once: once.flatten(),
    })
}

/// A multipart request's file: fetched on a connection of a known system, its URL, name and type expressions.
fn file(project: &Project, ctx: &mut Ctx, at: &str, m: &crate::model::Multipart, roots: &[&str]) -> Option<CompiledFile> {
    system(project, ctx, &format!("{at}/file/from"), &m.file.from)?;
    let url = ctx.expr(&format!("{at}/file/url"), &m.file.url, roots);
    let name = ctx.expr(&format!("{at}/file/name"), &m.file.name, roots);
    let content_type = ctx.expr(&format!("{at}/file/content_type"), &m.file.content_type, roots);
    Some(CompiledFile {
        json_part: m.json_part.clone(),
        file_part: m.file_part.clone(),
        from: m.file.from.clone(),
        url: url?,
        name: name?,
        content_type: content_type?,
    })
}
