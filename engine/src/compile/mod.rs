//! Compile: a loaded (merged) flow → a `CompiledFlow`. Every expression is
//! compiled and every reference (system, entity, field, setting, look-up) is
//! resolved here, once, so running a record does no checking or parsing.

mod after;
mod context;
mod exists;
mod files;
mod flow;
mod lookups;
mod mapping;
mod overlap;
mod references;
mod rules;
mod set;
mod shapes;
mod since;
mod target_file;
mod transports;
mod triggers;
mod values;

pub use files::{CompileResult, compile_files};
pub use flow::*;
pub use overlap::shared_targets;
pub use set::{LoadedSet, flow_files, load_set};
pub use since::CompiledSince;
pub use triggers::{CompiledSchedule, CompiledWebhook};

use std::path::Path;

use after::compile_after;
use context::Ctx;
use exists::compile_exists;
use lookups::compile_lookups;
use mapping::{Schema, compile_fields};
use references::{entity_field, system};
use rules::compile_rules;
pub use target_file::{GROUP as GROUP_NAME, INTERCHANGE as INTERCHANGE_NAME};
use triggers::{compile_schedule, compile_webhook};

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::{Compiler, names::intern};
use crate::load::{LoadedFlow, load_flow};
use crate::model::FlowFile;
use crate::project::{Project, file_start};

/// Loads, merges and compiles a flow file. Warnings come back with the flow.
pub fn compile_file(project: &Project, path: &Path) -> Result<(CompiledFlow, Vec<Diagnostic>), Vec<Diagnostic>> {
    let loaded = load_flow(path).map_err(|p| at_most(p, path))?;
    compile_flow(project, &loaded).map_err(|p| at_most(p, path))
}

/// The first `MAX_PROBLEMS` problems and a count of the rest: a file with a
/// hundred thousand unknown keys on one line would otherwise print each with
/// its line, and nobody fixes the hundred-and-first before the first.
fn at_most(mut problems: Vec<Diagnostic>, path: &Path) -> Vec<Diagnostic> {
    let max = crate::limits::MAX_PROBLEMS;
    if problems.len() > max {
        let more = problems.len() - max;
        problems.truncate(max);
        problems.push(Diagnostic::error(format!("{more} more problems in {} are not shown", crate::diagnostic::display_path(path))));
    }
    problems
}

pub fn compile_flow(project: &Project, loaded: &LoadedFlow) -> Result<(CompiledFlow, Vec<Diagnostic>), Vec<Diagnostic>> {
    let flow: FlowFile =
        serde_json::from_value(loaded.value.clone()).map_err(|e| vec![Diagnostic::error(format!("{e}")).at(loaded.spans.value_loc(""))])?;
    let mut ctx = Ctx {
        spans: &loaded.spans,
        compiler: Compiler { env: &project.env },
        settings: flow.settings.keys().cloned().collect(),
        setting_values: flow.settings.clone(),
        lookups: flow.lookups.keys().cloned().collect(),
        shapes: vec![("settings", shapes::settings_shape(&flow)), ("lookup", shapes::lookups_shape(project, &flow))],
        problems: loaded.problems.clone(),
        // A record delivered before is known as `previous` when the flow keeps versions.
        stage_roots: if flow.source.as_ref().is_some_and(|s| s.version.is_some()) { vec!["previous"] } else { Vec::new() },
    };
    let compiled = build(project, loaded, &flow, &mut ctx);
    let problems = ctx.problems;
    match compiled {
        Some(c) if !problems.iter().any(Diagnostic::is_error) => Ok((c, problems)),
        _ => Err(problems),
    }
}

fn build(project: &Project, loaded: &LoadedFlow, flow: &FlowFile, ctx: &mut Ctx) -> Option<CompiledFlow> {
    let top = loaded.spans.get("").map(|n| n.file.clone()).and_then(|f| file_start(&f));
    let missing =
        |what: &str| Diagnostic::error(format!("the flow has no `{what}` (neither this file nor the flows it extends define it)")).at(top.clone());
    let (name, source, target) = match (&flow.flow, &flow.source, &flow.target) {
        (Some(n), Some(s), Some(t)) => (n, s, t),
        (n, s, t) => {
            for (absent, what) in [(n.is_none(), "flow"), (s.is_none(), "source"), (t.is_none(), "target")] {
                if absent {
                    ctx.error(missing(what));
                }
            }
            return None;
        }
    };
    if flow.mapping.is_empty() {
        ctx.error(missing("mapping"));
    }

    // Source.
    let source_system = system(project, ctx, "/source/system", &source.system);
    let alias = intern(source.alias.as_deref().unwrap_or("record"));
    let record = shapes::record_shape(ctx, source_system, source);
    ctx.shapes.push((alias, record));
    let record_roots = [alias, "settings"];
    let records = match &source.records {
        Some(text) => match crate::expr::compile_selector(text) {
            Ok(e) => Some(e),
            Err(e) => {
                ctx.error(
                    Diagnostic::error(format!("`records` is not a valid JMESPath expression: {}", e.reason()))
                        .at(ctx.spans.value_loc("/source/records")),
                );
                None
            }
        },
        None => source_system.map(|s| s.records.clone()),
    };
    let key = ctx.expr("/source/key", &source.key, &record_roots);
    let key_shape = source.key_shape.as_ref().and_then(|name| key_shape(ctx, source_system, name));
    let filter = source.filter.as_ref().map(|w| ctx.expr("/source/where", w, &record_roots));
    let version = since::compile_version(ctx, source, &record_roots);
    let document = source.document.as_ref().map(|d| ctx.expr("/source/document", d, &record_roots));
    let since = since::compile_since(ctx, source, source_system);

    let lookups = compile_lookups(project, ctx, flow, alias);

    // Target and mapping.
    let target_system = system(project, ctx, "/target/system", &target.system);
    let target_entity = target_system.and_then(|s| entity_field(ctx, s, "/target/entity", &target.entity, None));
    let title = target_entity.map(|e| e.title.clone()).unwrap_or_else(|| target.entity.clone());
    let map_roots = [alias, "settings", "lookup"];
    let schema = target_entity.map(|e| Schema { title: e.title.clone(), fields: &e.fields });
    let mapping = compile_fields(ctx, "/mapping", &flow.mapping, &map_roots, schema);

    let rules = compile_rules(ctx, flow, alias);
    let transport = target_system.map(|s| s.def.transport).unwrap_or_default();
    let target_file = target_file::compile_target_file(ctx, target, transport, target_system.is_some_and(|s| s.format.numbered()), alias);
    let source_transport = source_system.map(|s| s.def.transport).unwrap_or_default();
    if source.pattern.is_some() && source_transport == crate::model::Transport::Http {
        ctx.error(
            Diagnostic::error(format!("`pattern` names the files a flow takes; `{}` is an http system", source.system))
                .at(ctx.spans.key_loc("/source/pattern")),
        );
    }
    let pattern = source.pattern.clone().or_else(|| source_system.and_then(|s| s.def.files.as_ref()).map(|f| f.pattern.clone()));

    let exists = compile_exists(project, ctx, flow, alias);

    let after = compile_after(project, ctx, flow, alias);
    transports::check_transports(project, ctx, flow);

    let schedule = compile_schedule(ctx, flow);
    let webhook = compile_webhook(project, ctx, flow);
    if let Some(one) = &source.get_one
        && !one.contains("{key}")
    {
        ctx.error(
            Diagnostic::error(format!("`get_one` has no `{{key}}`: `{one}`"))
                .at(ctx.spans.value_loc("/source/get_one"))
                .help("the key of the record is filled in there, e.g. `/orders/{key}`"),
        );
    }

    let settings = crate::value::from_json(&serde_json::Value::Object(flow.settings.clone().into_iter().collect()));
    let target_file = target_file?;
    // An unknown target system is reported at `target.system` already.
    let http = flow::http_target(target_system?, &target.entity, target_entity);
    Some(CompiledFlow {
        name: name.clone(),
        name_at: loaded.spans.value_loc("/flow"),
        path: loaded.path.clone(),
        version: version_of(&loaded.value),
        source: CompiledSource {
            system: source.system.clone(),
            get: source.get.clone(),
            get_one: source.get_one.clone(),
            key_shape,
            query: source.query.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect(),
            records: records?,
            key: key?,
            alias,
            filter: match filter {
                Some(Some(f)) => Some(f),
                Some(None) => return None,
                None => None,
            },
            pattern,
            document: match document {
                Some(Some(d)) => Some(d),
                Some(None) => return None,
                None => None,
            },
            version: match version {
                Some(Some(v)) => Some(v),
                Some(None) => return None,
                None => None,
            },
            since,
        },
        settings,
        lookups,
        exists,
        mapping,
        rules,
        target: CompiledTarget {
            title,
            method: target.method.clone().unwrap_or(http.method),
            path: target.path.clone().unwrap_or(http.path),
            file: target_file.file,
            group: target_file.group,
            ..http
        },
        after,
        schedule,
        webhook,
    })
}

/// The source system's key shape `name`, or a problem at `source.key_shape`.
fn key_shape(ctx: &mut Ctx, system: Option<&crate::project::System>, name: &str) -> Option<std::sync::Arc<crate::keys::KeyShape>> {
    // An unknown system is reported at `source.system` already.
    let system = system?;
    if let Some(shape) = system.key_shapes.get(name) {
        return Some(shape.clone());
    }
    let mut d =
        Diagnostic::error(format!("system `{}` declares no key shape `{name}`", system.def.system)).at(ctx.spans.value_loc("/source/key_shape"));
    d = match did_you_mean(name, system.key_shapes.keys().map(String::as_str)) {
        Some(near) => d.help(format!("did you mean `{near}`?")),
        None if system.key_shapes.is_empty() => d.help(format!("`key_shapes` in the definition of `{}` lists none", system.def.system)),
        None => d.help(format!("the system declares: {}", system.key_shapes.keys().cloned().collect::<Vec<_>>().join(", "))),
    };
    ctx.error(d);
    None
}

/// A short, stable fingerprint of the merged flow (FNV-1a over its JSON).
fn version_of(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}
