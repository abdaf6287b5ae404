//! Resolving names of systems, entities and entity fields, with suggestions.

use super::context::Ctx;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::project::{Project, System};

/// Resolves a system name, reporting an unknown one with a suggestion.
pub fn system<'p>(project: &'p Project, ctx: &mut Ctx, pointer: &str, name: &str) -> Option<&'p System> {
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
pub fn entity_field<'s>(
    ctx: &mut Ctx,
    sys: &'s System,
    pointer: &str,
    entity: &str,
    field: Option<(&str, &str)>,
) -> Option<&'s crate::model::EntityDef> {
    let Some(def) = sys.entity(entity) else {
        let mut d = Diagnostic::error(format!("unknown entity `{entity}` in {}", sys.def.title)).at(ctx.spans.value_loc(pointer));
        if let Some(near) = did_you_mean(entity, sys.catalogue.entities.keys().map(String::as_str)) {
            d = d.label(format!("did you mean `{near}`?"));
        }
        ctx.error(d);
        return None;
    };
    if let Some((fp, fname)) = field {
        known_field(ctx, def, fp, fname);
    }
    Some(def)
}

/// Reports `name` at `pointer` when it is not a field of the entity.
pub fn known_field(ctx: &mut Ctx, def: &crate::model::EntityDef, pointer: &str, name: &str) {
    if def.fields.contains_key(name) {
        return;
    }
    let mut d = Diagnostic::error(format!("unknown field `{name}` for {}", def.title)).at(ctx.spans.value_loc(pointer));
    if let Some(near) = did_you_mean(name, def.fields.keys().map(String::as_str)) {
        d = d.label(format!("did you mean `{near}`?"));
    }
    if let Some(source) = &def.source {
        d = d.help(format!("the fields of {} are listed in {source}", def.title));
    }
    ctx.error(d);
}

/// Checks the fields a look-up selects or an existence check shows: a
/// single name at `pointer`, or a list whose items are at `pointer/i`.
pub fn known_fields(ctx: &mut Ctx, def: &crate::model::EntityDef, pointer: &str, names: &[String], listed: bool) {
    for (i, name) in names.iter().enumerate() {
        let at = if listed { format!("{pointer}/{i}") } else { pointer.to_string() };
        known_field(ctx, def, &at, name);
    }
}
