//! The compiled flow: every expression compiled, every reference resolved.
//! Built once when a flow loads; the run stages only read it.

use std::path::PathBuf;

use minijinja::Value;

use crate::expr::{Expr, Template};
use crate::model::{ExistsAction, QueryLanguage};

pub struct CompiledFlow {
    pub name: String,
    /// Where the name is written (`flow:`'s value), for problems of the set.
    pub name_at: Option<crate::diagnostic::Location>,
    pub path: PathBuf,
    /// Hash of the merged flow, so runs can say which version they used.
    pub version: String,
    pub source: CompiledSource,
    pub settings: Value,
    pub lookups: Vec<CompiledLookup>,
    pub exists: Option<CompiledExists>,
    pub mapping: Vec<CompiledField>,
    pub rules: Vec<CompiledRule>,
    pub target: CompiledTarget,
    pub after: CompiledAfter,
    /// When `flowmap serve` runs it by itself.
    pub schedule: Option<super::CompiledSchedule>,
    /// The webhook topic that starts it for one record.
    pub webhook: Option<super::CompiledWebhook>,
}

pub struct CompiledSource {
    pub system: String,
    pub get: String,
    /// The endpoint of one record, `{key}` to be filled in.
    pub get_one: Option<String>,
    /// The shape keys given from outside must have (the source system's, named by the flow).
    pub key_shape: Option<std::sync::Arc<crate::keys::KeyShape>>,
    pub query: Vec<(String, String)>,
    pub records: jmespath::Expression<'static>,
    pub key: Expr,
    pub alias: &'static str,
    pub filter: Option<Expr>,
    /// For a file system: the names taken from its inbox (the flow's `pattern`, else the system's).
    pub pattern: Option<String>,
    /// The business document the record is about (`source.document`).
    pub document: Option<Expr>,
    /// The record's version: delivered once per version (`source.version`).
    pub version: Option<Expr>,
    /// Only what changed since the watermark (`source.since`).
    pub since: Option<super::CompiledSince>,
}

impl CompiledFlow {
    /// Every system the flow calls: source, look-ups, existence check, target, write-backs.
    pub fn systems(&self) -> Vec<&str> {
        let mut all = vec![self.source.system.as_str()];
        all.extend(self.lookups.iter().map(|l| l.system.as_str()));
        all.extend(self.exists.iter().map(|e| e.system.as_str()));
        all.push(self.target.system.as_str());
        for r in self.after.sent.iter().chain(&self.after.blocked).chain(&self.after.skipped) {
            all.push(r.system.as_str());
        }
        let mut seen = std::collections::HashSet::new();
        all.retain(|s| seen.insert(*s));
        all
    }
}

impl CompiledSource {
    /// How a record stands against the source query: `Some(true)` when every
    /// query field is present and equal, `Some(false)` when one is present and
    /// differs, `None` when some are absent (a live source would not have
    /// returned it; a record given directly is given the benefit of the doubt).
    pub fn query_match(&self, record: &Value) -> Option<bool> {
        let mut all_present = true;
        // OData options (`$filter`, `$select`) are not field equalities: the
        // server applies them, and the flow's `where` says the same for records given here.
        for (field, wanted) in self.query.iter().filter(|(k, _)| !k.starts_with('$')) {
            match record.get_attr(field).ok().filter(|v| !v.is_undefined()) {
                Some(v) if crate::value::key_text(&v) != *wanted => return Some(false),
                Some(_) => {}
                None => all_present = false,
            }
        }
        all_present.then_some(true)
    }
}

pub struct CompiledLookup {
    pub name: String,
    pub system: String,
    pub entity: String,
    pub match_field: String,
    pub key: Expr,
    pub each: Option<(Expr, &'static str)>,
    pub select: Vec<String>,
    /// One field selected (`select: ID`) rather than several.
    pub select_one: bool,
    pub batch: usize,
    pub required: bool,
    pub fallback: Option<Expr>,
    pub missing: Template,
    pub language: QueryLanguage,
    /// The matched field is a number in the catalogue (literals unquoted).
    pub numeric: bool,
    /// `file:line:col` of the look-up, for reasons.
    pub origin: String,
    /// What a key not found becomes (`create`): a new record of the look-up's entity.
    pub create: Option<CompiledCreate>,
    /// The key (or list) reads earlier look-ups: it is computed once they are answered.
    pub reads_lookups: bool,
}

/// A record a look-up creates: its fields, and where it is sent (the entity as a target).
pub struct CompiledCreate {
    pub fields: Vec<CompiledField>,
    pub target: CompiledTarget,
}

pub struct CompiledExists {
    pub system: String,
    pub entity: String,
    pub match_field: String,
    pub key: Expr,
    pub show: Vec<String>,
    /// The found record counts only when this holds (`found` and `key` in scope).
    pub when: Option<Expr>,
    pub then: ExistsAction,
    pub message: Template,
    pub language: QueryLanguage,
    /// The matched field is a number in the catalogue (literals unquoted).
    pub numeric: bool,
    pub batch: usize,
    /// The target entity's key field, read from a found record for updates.
    pub id_field: Option<String>,
    /// `file:line:col` of the existence check, for reasons.
    pub origin: String,
}

pub struct CompiledField {
    pub name: String,
    pub kind: FieldKind,
    pub optional: bool,
    pub when: Option<Expr>,
    pub create_only: bool,
    /// `file:line:col` of the field, quoted in block reasons.
    pub origin: String,
}

pub enum FieldKind {
    Value(Expr),
    Object(Vec<CompiledField>),
    List { each: Expr, alias: &'static str, fields: Vec<CompiledField> },
}

pub struct CompiledRule {
    pub name: String,
    pub check: Expr,
    pub each: Option<(Expr, &'static str)>,
    pub when: Option<Expr>,
    pub message: Template,
    /// `file:line:col` of the rule, for reasons.
    pub origin: String,
}

pub struct CompiledTarget {
    pub system: String,
    pub entity: String,
    pub title: String,
    pub method: String,
    pub path: String,
    /// The entity's key field (the ID a created record gets).
    pub key_field: Option<String>,
    pub update_method: String,
    pub update_path: String,
    /// What an update carries beyond the mapping, and how a stale one is sent again.
    pub update: Option<crate::model::UpdateDef>,
    /// A write's body is the record in a list under this name (Xero: `{"Invoices":[…]}`).
    pub envelope: Option<String>,
    /// Whether the target takes an idempotency key on writes (`http.idempotency`).
    pub idempotent: bool,
    /// How the target system is reached.
    pub transport: crate::model::Transport,
    /// For a file system: the name of each record's file (a template; None: `{entity}_{key}.{extension}`).
    pub file: Option<Template>,
    /// For a file system: what gathers the records of one batch into one file (`target.group`).
    pub group: Option<Expr>,
    /// The ending of the target format's files (`x12`, `csv`, `json`).
    pub extension: &'static str,
}

/// A record of `entity` sent to `system` as its definition says: the system's methods, paths,
/// envelope and idempotency (a flow's target, or the records its look-ups create).
pub fn http_target(system: &crate::project::System, entity: &str, def: Option<&crate::model::EntityDef>) -> CompiledTarget {
    let s = &system.def;
    CompiledTarget {
        system: s.system.clone(),
        entity: entity.to_string(),
        title: def.map_or_else(|| entity.to_string(), |e| e.title.clone()),
        method: s.create_method.clone(),
        path: s.create_path.replace("{entity}", entity).replace("{entity_lowercase}", &entity.to_lowercase()),
        key_field: def.and_then(|e| e.key.clone()),
        update_method: s.update_method.clone(),
        update_path: s.update_path.clone(),
        update: s.update.clone(),
        envelope: s.http.envelope.as_ref().map(|e| e.replace("{entity}", entity)),
        idempotent: s.http.idempotency.is_some(),
        transport: s.transport,
        file: None,
        group: None,
        extension: s.format.as_ref().map_or("json", crate::format::FormatDef::extension),
    }
}

#[derive(Default)]
pub struct CompiledAfter {
    pub sent: Vec<CompiledRequest>,
    pub blocked: Vec<CompiledRequest>,
    pub skipped: Vec<CompiledRequest>,
}

pub struct CompiledRequest {
    pub system: String,
    pub method: String,
    pub path: Template,
    pub when: Option<Expr>,
    pub body: Vec<CompiledField>,
    pub file: Option<CompiledFile>,
    pub once: Option<Expr>,
}

/// A multipart request's file part (`model::Multipart`), its expressions compiled.
pub struct CompiledFile {
    pub json_part: String,
    pub file_part: String,
    pub from: String,
    pub url: Expr,
    pub name: Expr,
    pub content_type: Expr,
}

impl CompiledRequest {
    /// Whether any part of the request reads the variable `root`.
    pub fn reads(&self, root: &str) -> bool {
        let file = self.file.as_ref().is_some_and(|f| [&f.url, &f.name, &f.content_type].iter().any(|e| e.reads(root)));
        self.path.reads(root)
            || self.when.as_ref().is_some_and(|w| w.reads(root))
            || fields_read(&self.body, root)
            || file
            || self.once.as_ref().is_some_and(|o| o.reads(root))
    }
}

fn fields_read(fields: &[CompiledField], root: &str) -> bool {
    fields.iter().any(|f| {
        f.when.as_ref().is_some_and(|w| w.reads(root))
            || match &f.kind {
                FieldKind::Value(e) => e.reads(root),
                FieldKind::Object(inner) => fields_read(inner, root),
                FieldKind::List { each, fields, .. } => each.reads(root) || fields_read(fields, root),
            }
    })
}
