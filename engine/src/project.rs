//! A project: the folder holding `mappings/` (flows and system definitions),
//! `schemas/` (entity catalogues) and `fixtures/`. Systems are loaded once and
//! shared by every flow compiled in the project.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::diagnostic::{Diagnostic, Location, Span};
use crate::expr::{ExprEnv, SystemFilters};
use crate::keys::KeyShape;
use crate::load::{SchemaKind, load_typed};
use crate::model::{Catalogue, EntityDef, SystemDef};

pub struct System {
    pub def: SystemDef,
    pub catalogue: Catalogue,
    pub file: PathBuf,
    /// `def.records`, compiled.
    pub records: jmespath::Expression<'static>,
    /// The next-page link of OData paging, compiled.
    pub next_link: Option<jmespath::Expression<'static>>,
    /// `def.http.element_errors`, compiled.
    pub element_errors: Option<jmespath::Expression<'static>>,
    /// `def.key_shapes`, compiled.
    pub key_shapes: IndexMap<String, Arc<KeyShape>>,
    /// What its files hold (file systems), or how a recorded answer reads (JSON by `records`).
    pub format: Arc<dyn crate::format::RecordFormat>,
}

impl System {
    pub fn entity(&self, path: &str) -> Option<&EntityDef> {
        self.catalogue.entities.get(path)
    }

    /// Whether `field` of `entity` is a number (an OData question then takes number literals).
    pub fn numeric_field(&self, entity: &str, field: &str) -> bool {
        use crate::model::FieldType;
        let numeric = self.entity(entity).and_then(|e| e.fields.get(field)).is_some_and(|f| matches!(f.kind, FieldType::Integer | FieldType::Number));
        numeric && self.def.query() == crate::model::QueryLanguage::Odata
    }
}

pub struct Project {
    pub root: PathBuf,
    pub systems: IndexMap<String, System>,
    pub env: ExprEnv,
}

impl Project {
    /// The nearest folder at or above `start` that has `mappings/systems/`.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let start = start.canonicalize().ok()?;
        let mut dir = if start.is_dir() { start.as_path() } else { start.parent()? };
        loop {
            if dir.join("mappings").join("systems").is_dir() {
                return Some(dir.to_path_buf());
            }
            dir = dir.parent()?;
        }
    }

    pub fn fixtures_dir(&self) -> PathBuf {
        self.root.join("fixtures")
    }

    /// The system definition files under `root`, sorted: `mappings/systems/*.yaml`.
    pub fn system_files(root: &Path) -> Result<Vec<PathBuf>, String> {
        let dir = root.join("mappings").join("systems");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            // Hidden names are editors' (Emacs keeps `.#exact.yaml` while a buffer has unsaved edits).
            .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Loads every system definition and its catalogue; all problems are reported together.
    pub fn load(root: &Path) -> Result<Project, Vec<Diagnostic>> {
        let files = Project::system_files(root).map_err(|e| vec![Diagnostic::error(e)])?;
        let mut problems = Vec::new();
        let mut systems = IndexMap::new();
        let mut filters: SystemFilters = Vec::new();
        let mut filter_locs = Vec::new();
        for file in files {
            match load_system(&file, root) {
                Ok((mut system, doc)) => {
                    system.catalogue.locate(&catalogue_name(root, &system));
                    for (name, text) in &system.def.filters {
                        filters.push((name.clone(), text.clone()));
                        filter_locs.push(doc.spans.value_loc(&crate::load::pointer_child("/filters", name)));
                    }
                    systems.insert(system.def.system.clone(), system);
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        let env = match ExprEnv::new(&filters) {
            Ok(env) => Some(env),
            Err((i, e)) => {
                problems.push(Diagnostic::error(format!("filter `{}` does not compile: {e}", filters[i].0)).at(filter_locs[i].clone()));
                None
            }
        };
        match env {
            Some(env) if problems.is_empty() => Ok(Project { root: root.to_path_buf(), systems, env }),
            _ => Err(problems),
        }
    }
}

fn load_system(file: &Path, root: &Path) -> Result<(System, crate::load::Document), Vec<Diagnostic>> {
    let (def, doc) = load_typed::<SystemDef>(file, SchemaKind::System)?;
    transport_keys(&def, &doc)?;
    let records = crate::expr::compile_selector(def.records.as_deref().unwrap_or("@"))
        .map_err(|e| vec![Diagnostic::error(format!("`records` is not a valid JMESPath expression: {e}")).at(doc.spans.value_loc("/records"))])?;
    let next_link = match def.paging() {
        crate::model::PagingDef::OdataNext { next } => Some(crate::expr::compile_selector(next).map_err(|e| {
            vec![Diagnostic::error(format!("`paging.next` is not a valid JMESPath expression: {e}")).at(doc.spans.value_loc("/paging/next"))]
        })?),
        _ => None,
    };
    let element_errors = match &def.http.element_errors {
        Some(e) => Some(crate::expr::compile_selector(e).map_err(|e| {
            vec![
                Diagnostic::error(format!("`http.element_errors` is not a valid JMESPath expression: {e}"))
                    .at(doc.spans.value_loc("/http/element_errors")),
            ]
        })?),
        None => None,
    };
    let key_shapes = key_shapes(&def, &doc)?;
    // A webhooks definition that cannot read events is found here, not at the first delivery.
    if let Some(hooks) = &def.http.webhooks
        && let Err(e) = crate::serve::check_webhooks(hooks)
    {
        let at = doc.spans.value_loc(&format!("/http/webhooks/{}", e.field.replace('.', "/"))).or_else(|| doc.spans.value_loc("/http/webhooks"));
        return Err(vec![Diagnostic::error(e.to_string()).at(at)]);
    }
    let catalogue_path = file.parent().unwrap_or(Path::new(".")).join(&def.catalogue);
    if !catalogue_path.is_file() {
        return Err(vec![Diagnostic::error(format!("the catalogue `{}` does not exist", def.catalogue)).at(doc.spans.value_loc("/catalogue"))]);
    }
    let (mut catalogue, _) = load_typed::<Catalogue>(&catalogue_path, SchemaKind::Catalogue)?;
    // The format is compiled (and its definitions read) once. An X12 system's entities are its
    // transaction sets, made from those definitions (an entity the catalogue file describes itself is kept).
    let (format, entities) = crate::format::compile(&def, &records, &doc, root)?;
    for (name, mut entity) in entities {
        if !catalogue.entities.contains_key(&name) {
            entity.source = Some(std::sync::Arc::from("mappings/x12/"));
            catalogue.entities.insert(name, entity);
        }
    }
    Ok((System { def, catalogue, file: file.to_path_buf(), records, next_link, element_errors, key_shapes, format }, doc))
}

/// An http system has the http transport's keys; a file system has none of them, and says where its files are.
fn transport_keys(def: &SystemDef, doc: &crate::load::Document) -> Result<(), Vec<Diagnostic>> {
    let transport = def.transport.as_str();
    let mut problems: Vec<Diagnostic> = def
        .transport_problems()
        .into_iter()
        .map(|(key, missing)| {
            let at = format!("/{key}");
            if missing {
                Diagnostic::error(format!("`{key}` is missing: system `{}` uses the http transport, which needs it", def.system))
                    .at(doc.spans.key_loc("/system"))
            } else {
                Diagnostic::error(format!("`{key}` is a key of the http transport; system `{}` uses {transport}", def.system))
                    .at(doc.spans.key_loc(&at))
                    .help("remove it, or set `transport: http`")
            }
        })
        .collect();
    match (def.transport, &def.files) {
        (crate::model::Transport::Http, Some(_)) => problems.push(
            Diagnostic::error(format!("`files` is a key of the file transports; system `{}` uses http", def.system))
                .at(doc.spans.key_loc("/files"))
                .help("set `transport: sftp` or `transport: folder`"),
        ),
        (crate::model::Transport::Sftp | crate::model::Transport::Folder, None) => problems.push(
            Diagnostic::error(format!("`files` is missing: system `{}` uses {transport}, which reads and writes files", def.system))
                .at(doc.spans.key_loc("/system"))
                .help("say which folders: `files: { inbox: /out, outbox: /in, pattern: \"*.x12\" }`"),
        ),
        _ => {}
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// The catalogue's path from the project folder (`schemas/catalogue/exact.yaml`), for diagnostics.
fn catalogue_name(root: &Path, system: &System) -> String {
    let path = system.file.parent().unwrap_or(Path::new(".")).join(&system.def.catalogue);
    let (Ok(path), Ok(root)) = (path.canonicalize(), root.canonicalize()) else { return system.def.catalogue.clone() };
    path.strip_prefix(&root).map(|p| p.display().to_string()).unwrap_or_else(|_| path.display().to_string())
}

/// The system's key shapes, compiled; the webhooks' shape must be one of them.
fn key_shapes(def: &SystemDef, doc: &crate::load::Document) -> Result<IndexMap<String, Arc<KeyShape>>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut shapes = IndexMap::new();
    for (name, shape) in &def.key_shapes {
        match KeyShape::compile(name, shape) {
            Ok(compiled) => {
                shapes.insert(name.clone(), Arc::new(compiled));
            }
            Err(e) => {
                let at = crate::load::pointer_child(&crate::load::pointer_child("/key_shapes", name), "pattern");
                problems.push(Diagnostic::error(e).at(doc.spans.value_loc(&at)));
            }
        }
    }
    if let Some(shape) = def.http.webhooks.as_ref().and_then(|w| w.key_shape.as_ref())
        && !def.key_shapes.contains_key(shape)
    {
        let mut d = Diagnostic::error(format!("unknown key shape `{shape}`")).at(doc.spans.value_loc("/http/webhooks/key_shape"));
        d = match crate::diagnostic::did_you_mean(shape, def.key_shapes.keys().map(String::as_str)) {
            Some(near) => d.help(format!("did you mean `{near}`?")),
            None => d.help("name one of the system's `key_shapes`"),
        };
        problems.push(d);
    }
    if problems.is_empty() { Ok(shapes) } else { Err(problems) }
}

/// The first line of a file, for problems that concern the file as a whole.
pub fn file_start(file: &std::sync::Arc<crate::diagnostic::SourceFile>) -> Option<Location> {
    Some(Location::new(file, Span::point(1, 0)))
}
