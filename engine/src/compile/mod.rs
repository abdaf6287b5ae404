//! Compile: a loaded (merged) flow → a `CompiledFlow`. Every expression is
//! compiled and every reference (system, entity, field, setting, look-up) is
//! resolved here, once, so running a record does no checking or parsing.

mod context;
mod flow;
mod mapping;

pub use flow::*;

use std::path::Path;

use context::Ctx;
use mapping::{Schema, compile_fields};

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::{Compiler, names::intern};
use crate::load::{LoadedFlow, load_flow};
use crate::model::{FlowFile, Request, Selection};
use crate::project::{Project, System, file_start};

/// Loads, merges and compiles a flow file. Warnings come back with the flow.
pub fn compile_file(project: &Project, path: &Path) -> Result<(CompiledFlow, Vec<Diagnostic>), Vec<Diagnostic>> {
    let loaded = load_flow(path)?;
    compile_flow(project, &loaded)
}

pub fn compile_flow(project: &Project, loaded: &LoadedFlow) -> Result<(CompiledFlow, Vec<Diagnostic>), Vec<Diagnostic>> {
    let flow: FlowFile =
        serde_json::from_value(loaded.value.clone()).map_err(|e| vec![Diagnostic::error(format!("{e}")).at(loaded.spans.value_loc(""))])?;
    let mut ctx = Ctx {
        spans: &loaded.spans,
        compiler: Compiler { env: &project.env },
        settings: flow.settings.keys().cloned().collect(),
        lookups: flow.lookups.keys().cloned().collect(),
        problems: loaded.problems.clone(),
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
    let record_roots = [alias, "settings"];
    let records = match &source.records {
        Some(text) => match jmespath::compile(text) {
            Ok(e) => Some(e),
            Err(e) => {
                ctx.error(
                    Diagnostic::error(format!("`records` is not a valid JMESPath expression: {}", e.reason))
                        .at(ctx.spans.value_loc("/source/records")),
                );
                None
            }
        },
        None => source_system.map(|s| s.records.clone()),
    };
    let key = ctx.expr("/source/key", &source.key, &record_roots);
    let filter = source.filter.as_ref().map(|w| ctx.expr("/source/where", w, &record_roots));

    // Look-ups.
    let mut lookups = Vec::new();
    for (lname, l) in &flow.lookups {
        let at = format!("/lookups/{lname}");
        let sys = system(project, ctx, &format!("{at}/system"), &l.system);
        if let Some(sys) = sys {
            entity_field(ctx, sys, &format!("{at}/entity"), &l.entity, Some((&format!("{at}/match"), &l.match_field)));
        }
        let each_alias = intern(l.alias.as_deref().unwrap_or("item"));
        let each = l.each.as_ref().map(|e| ctx.expr(&format!("{at}/each"), e, &record_roots));
        let key_roots: Vec<&str> = if l.each.is_some() { vec![alias, "settings", each_alias] } else { vec![alias, "settings"] };
        let key = ctx.expr(&format!("{at}/key"), &l.key, &key_roots);
        let mut msg_roots = key_roots.clone();
        msg_roots.push("key");
        let default_msg = format!("{{{{ key }}}} was not found in {} {} by {}", l.system, l.entity, l.match_field);
        let missing = match &l.missing {
            Some(m) => ctx.template(&format!("{at}/missing"), m, &msg_roots),
            None => ctx.template(&format!("{at}/missing"), &default_msg, &msg_roots),
        };
        let fallback = l.fallback.as_ref().map(|f| ctx.expr(&format!("{at}/fallback"), f, &msg_roots));
        let (select, select_one) = match &l.select {
            Some(Selection::One(s)) => (vec![s.clone()], true),
            Some(Selection::Many(v)) => (v.clone(), false),
            None => (Vec::new(), false),
        };
        if let (Some(key), Some(missing), Some(sys)) = (key, missing, sys) {
            lookups.push(CompiledLookup {
                name: lname.clone(),
                system: l.system.clone(),
                entity: l.entity.clone(),
                match_field: l.match_field.clone(),
                key,
                each: match each {
                    Some(Some(e)) => Some((e, each_alias)),
                    _ => None,
                },
                select,
                select_one,
                batch: l.batch.unwrap_or(sys.def.batch).max(1) as usize,
                required: l.required,
                fallback: fallback.flatten(),
                missing,
                language: sys.def.query,
            });
        }
    }

    // Target and mapping.
    let target_system = system(project, ctx, "/target/system", &target.system);
    let target_entity = target_system.and_then(|s| entity_field(ctx, s, "/target/entity", &target.entity, None));
    let title = target_entity.map(|e| e.title.clone()).unwrap_or_else(|| target.entity.clone());
    let map_roots = [alias, "settings", "lookup"];
    let schema = target_entity.map(|e| Schema { title: e.title.clone(), fields: &e.fields });
    let mapping = compile_fields(ctx, "/mapping", &flow.mapping, &map_roots, schema);

    // Rules.
    let mut rules = Vec::new();
    for (rname, r) in &flow.rules {
        let at = format!("/rules/{rname}");
        let each_alias = intern(r.alias.as_deref().unwrap_or("item"));
        let mut roots = vec![alias, "settings", "lookup", "out"];
        let each = r.each.as_ref().map(|e| ctx.expr(&format!("{at}/each"), e, &roots));
        if r.each.is_some() {
            roots.push(each_alias);
        }
        let check = ctx.expr(&format!("{at}/check"), &r.check, &roots);
        let when = r.when.as_ref().map(|w| ctx.expr(&format!("{at}/when"), w, &roots));
        let message = ctx.template(&format!("{at}/message"), &r.message, &roots);
        if let (Some(check), Some(message)) = (check, message) {
            rules.push(CompiledRule {
                name: rname.clone(),
                check,
                each: match each {
                    Some(Some(e)) => Some((e, each_alias)),
                    _ => None,
                },
                when: when.flatten(),
                message,
            });
        }
    }

    // Existence check.
    let exists = flow.exists.as_ref().and_then(|x| {
        let sys = system(project, ctx, "/exists/system", &x.system)?;
        let entity = entity_field(ctx, sys, "/exists/entity", &x.entity, Some(("/exists/match", &x.match_field)));
        let id_field = entity.and_then(|e| e.key.clone());
        let roots = [alias, "settings", "lookup", "out"];
        let key = ctx.expr("/exists/key", &x.key, &roots);
        let default_msg = format!("{} with {} {{{{ key }}}} already exists in {}", x.entity, x.match_field, sys.def.title);
        let msg_roots = [alias, "settings", "lookup", "out", "key", "found"];
        let message = ctx.template("/exists/message", x.message.as_deref().unwrap_or(&default_msg), &msg_roots);
        Some(CompiledExists {
            system: x.system.clone(),
            entity: x.entity.clone(),
            match_field: x.match_field.clone(),
            key: key?,
            show: x.show.clone(),
            then: x.then,
            message: message?,
            language: sys.def.query,
            batch: sys.def.batch as usize,
            id_field,
        })
    });

    // Write-backs.
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
    let after = CompiledAfter {
        sent: requests("sent", after.sent.as_ref(), &["lookup", "out", "result"]),
        blocked: requests("blocked", after.blocked.as_ref(), &["reasons"]),
        skipped: requests("skipped", after.skipped.as_ref(), &["lookup", "out", "found"]),
    };

    let settings = crate::value::from_json(&serde_json::Value::Object(flow.settings.clone().into_iter().collect()));
    Some(CompiledFlow {
        name: name.clone(),
        path: loaded.path.clone(),
        version: version_of(&loaded.value),
        source: CompiledSource {
            system: source.system.clone(),
            get: source.get.clone(),
            query: source.query.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect(),
            records: records?,
            key: key?,
            alias,
            filter: match filter {
                Some(Some(f)) => Some(f),
                Some(None) => return None,
                None => None,
            },
        },
        settings,
        lookups,
        exists,
        mapping,
        rules,
        target: CompiledTarget {
            system: target.system.clone(),
            entity: target.entity.clone(),
            title,
            method: target.method.clone().unwrap_or_else(|| "POST".into()),
            path: target.path.clone().unwrap_or_else(|| target.entity.clone()),
            key_field: target_entity.and_then(|e| e.key.clone()),
            update_method: target_system.map(|s| s.def.update_method.clone()).unwrap_or_default(),
            update_path: target_system.map(|s| s.def.update_path.clone()).unwrap_or_default(),
        },
        after,
    })
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
    Some(CompiledRequest { system: r.system.clone(), method: r.method.to_uppercase(), path: path?, when: when.flatten(), body })
}

/// Resolves a system name, reporting an unknown one with a suggestion.
fn system<'p>(project: &'p Project, ctx: &mut Ctx, pointer: &str, name: &str) -> Option<&'p System> {
    let found = project.systems.get(name);
    if found.is_none() {
        let mut d = Diagnostic::error(format!("unknown system `{name}`")).at(ctx.spans.value_loc(pointer));
        match did_you_mean(name, project.systems.keys().map(String::as_str)) {
            Some(near) => d = d.label(format!("did you mean `{near}`?")),
            None => {
                d = d.help(format!("systems are declared in mappings/systems/: {}", project.systems.keys().cloned().collect::<Vec<_>>().join(", ")))
            }
        }
        ctx.error(d);
    }
    found
}

/// Resolves an entity (and optionally one of its fields) in a system's catalogue.
fn entity_field<'s>(ctx: &mut Ctx, sys: &'s System, pointer: &str, entity: &str, field: Option<(&str, &str)>) -> Option<&'s crate::model::EntityDef> {
    let Some(def) = sys.entity(entity) else {
        let mut d = Diagnostic::error(format!("unknown entity `{entity}` in {}", sys.def.title)).at(ctx.spans.value_loc(pointer));
        if let Some(near) = did_you_mean(entity, sys.catalogue.entities.keys().map(String::as_str)) {
            d = d.label(format!("did you mean `{near}`?"));
        }
        ctx.error(d);
        return None;
    };
    if let Some((fp, fname)) = field
        && !def.fields.contains_key(fname)
    {
        let mut d = Diagnostic::error(format!("unknown field `{fname}` for {}", def.title)).at(ctx.spans.value_loc(fp));
        if let Some(near) = did_you_mean(fname, def.fields.keys().map(String::as_str)) {
            d = d.label(format!("did you mean `{near}`?"));
        }
        ctx.error(d);
    }
    Some(def)
}

/// A short, stable fingerprint of the merged flow (FNV-1a over its JSON).
fn version_of(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}
