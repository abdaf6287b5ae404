//! What each transport can be asked, checked when a flow loads: a file system
//! (sftp, folder) gives records in files and takes records as files, so the
//! http keys of a source or target (`get_one`, `query`, `records`, `method`,
//! `path`) mean nothing for it, and it answers no look-up, existence check or
//! write-back (those are questions and requests to an API).

use super::context::Ctx;
use crate::diagnostic::Diagnostic;
use crate::load::pointer_child;
use crate::model::{FlowFile, Transport};
use crate::project::Project;

fn transport(project: &Project, system: &str) -> Option<Transport> {
    project.systems.get(system).map(|s| s.def.transport).filter(|t| *t != Transport::Http)
}

/// The transport with its article: "an sftp", "a folder".
fn a(t: Transport) -> &'static str {
    match t {
        Transport::Http => "an http",
        Transport::Sftp => "an sftp",
        Transport::Folder => "a folder",
    }
}

pub fn check_transports(project: &Project, ctx: &mut Ctx, flow: &FlowFile) {
    let refuse = |ctx: &mut Ctx, at: &str, what: String| {
        ctx.error(Diagnostic::error(what).at(ctx.spans.key_loc(at)));
    };
    if let Some(source) = &flow.source
        && let Some(t) = transport(project, &source.system)
    {
        let keys = [("get_one", source.get_one.is_some()), ("query", !source.query.is_empty()), ("records", source.records.is_some())];
        for (key, given) in keys {
            if given {
                let what = format!("`{key}` asks an http API; `{}` is {} system, whose records come in files", source.system, a(t));
                refuse(ctx, &format!("/source/{key}"), what);
            }
        }
    }
    if let Some(target) = &flow.target
        && let Some(t) = transport(project, &target.system)
    {
        for (key, given) in [("method", target.method.is_some()), ("path", target.path.is_some())] {
            if given {
                let what = format!("`{key}` is an http request's; `{}` is {} system: name each record's file with `file`", target.system, a(t));
                refuse(ctx, &format!("/target/{key}"), what);
            }
        }
    }
    for (name, lookup) in &flow.lookups {
        if let Some(t) = transport(project, &lookup.system) {
            let what = format!("`{}` is {} system: it answers no look-ups (its records come in files)", lookup.system, a(t));
            refuse(ctx, &format!("{}/system", pointer_child("/lookups", name)), what);
        }
    }
    if let Some(exists) = &flow.exists
        && let Some(t) = transport(project, &exists.system)
    {
        let what = format!("`{}` is {} system: it answers no existence checks (its records come in files)", exists.system, a(t));
        refuse(ctx, "/exists/system", what);
    }
    let after = flow.after.iter().flat_map(|a| [("sent", &a.sent), ("blocked", &a.blocked), ("skipped", &a.skipped)]);
    for (when, requests) in after {
        for (i, r) in requests.iter().flat_map(|r| r.as_slice()).enumerate() {
            if let Some(t) = transport(project, &r.system) {
                let at = match requests {
                    Some(crate::model::Requests::Many(_)) => format!("/after/{when}/{i}/system"),
                    _ => format!("/after/{when}/system"),
                };
                refuse(ctx, &at, format!("`{}` is {} system: a write-back is an http request", r.system, a(t)));
            }
        }
    }
}
