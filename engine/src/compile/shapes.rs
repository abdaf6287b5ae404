//! What the flow's variables are known to hold when it loads: the source
//! record (its system's catalogue entity, narrowed by an OData `$select`), the
//! settings (their very values) and the look-ups (the fields they select).
//! Expressions are checked against these once, at compile time.

use indexmap::IndexMap;

use super::context::Ctx;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::expr::{Naming, Shape};
use crate::model::{EntityDef, FieldDef, FieldType, FlowFile, Selection, Source};
use crate::project::{Project, System};

/// The shape of the source record, or `Any` when no catalogue entity is known
/// (then nothing is checked: a system or entity the catalogue lacks is not a mistake).
pub fn record_shape(ctx: &mut Ctx, system: Option<&System>, source: &Source) -> Shape {
    let Some(system) = system else { return Shape::Any };
    let entity = match &source.entity {
        Some(name) => match system.entity(name) {
            Some(def) => Some((name.as_str(), def)),
            None => {
                let mut d = Diagnostic::error(format!("unknown entity `{name}` in {}", system.def.title)).at(ctx.spans.value_loc("/source/entity"));
                if let Some(near) = did_you_mean(name, system.catalogue.entities.keys().map(String::as_str)) {
                    d = d.label(format!("did you mean `{near}`?"));
                }
                ctx.error(d);
                return Shape::Any;
            }
        },
        // `/orders` names the entity `orders`, `salesorder/SalesOrders` itself.
        None => {
            let named = source.get.trim_start_matches('/');
            system.entity(named).map(|def| (named, def))
        }
    };
    let selected = selected_fields(source);
    match (entity, selected) {
        (None, None) => Shape::Any,
        (None, Some(selected)) => {
            let about = format!("the source query's `$select` names only: {}", selected.join(", "));
            Shape::fields(selected.into_iter().map(|f| (f, Shape::Any)).collect(), Naming::Field, Some(about))
        }
        (Some((name, def)), selected) => {
            let about = catalogue_about(system, name, def);
            let mut fields = entity_fields(&def.fields, Some(&about));
            if let Some(selected) = selected {
                let why = format!(
                    "{} answers only the fields the source query's `$select` names ({}): add it there",
                    system.def.title,
                    selected.join(", ")
                );
                for (field, shape) in fields.iter_mut() {
                    if !selected.contains(field) {
                        *shape = Shape::NotSelected(why.clone());
                    }
                }
            }
            Shape::fields(fields, Naming::Field, Some(about))
        }
    }
}

/// The top-level fields of an OData `$select` (`Lines/Item` selects `Lines`).
fn selected_fields(source: &Source) -> Option<Vec<String>> {
    let select = source.query.get("$select")?.as_str()?;
    let mut names: Vec<String> = Vec::new();
    for name in select.split(',').map(|f| f.split('/').next().unwrap_or_default().trim()).filter(|f| !f.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Some(names)
}

fn catalogue_about(system: &System, name: &str, def: &EntityDef) -> String {
    format!("the fields of {} are listed in schemas/catalogue/{}.yaml (entity `{name}`)", def.title, system.def.system)
}

fn entity_fields(fields: &IndexMap<String, FieldDef>, about: Option<&str>) -> IndexMap<String, Shape> {
    fields.iter().map(|(name, def)| (name.clone(), field_shape(def, about))).collect()
}

fn field_shape(def: &FieldDef, about: Option<&str>) -> Shape {
    let nested = || def.fields.as_ref().map(|f| Shape::fields(entity_fields(f, about), Naming::Field, about.map(str::to_string)));
    match def.kind {
        FieldType::Object => nested().unwrap_or(Shape::Any),
        FieldType::List => Shape::List(Box::new(nested().unwrap_or(Shape::Any))),
        FieldType::String => Shape::Scalar("text".into()),
        FieldType::Guid => Shape::Scalar("a GUID".into()),
        FieldType::Date => Shape::Scalar("a date".into()),
        FieldType::Datetime => Shape::Scalar("a date and time".into()),
        FieldType::Number | FieldType::Integer => Shape::Scalar("a number".into()),
        FieldType::Boolean => Shape::Scalar("true or false".into()),
    }
}

/// The settings, as they are when the flow loads.
pub fn settings_shape(flow: &FlowFile) -> Shape {
    let fields = flow.settings.iter().map(|(k, v)| (k.clone(), setting_shape(v))).collect();
    Shape::fields(fields, Naming::Setting, None)
}

fn setting_shape(value: &serde_json::Value) -> Shape {
    match value {
        serde_json::Value::Object(map) => Shape::fields(map.iter().map(|(k, v)| (k.clone(), setting_shape(v))).collect(), Naming::Setting, None),
        serde_json::Value::Array(_) => Shape::List(Box::new(Shape::Any)),
        serde_json::Value::Null => Shape::Scalar("empty (null)".into()),
        other => {
            let shown = other.to_string();
            let shown = if shown.chars().count() > 40 { format!("{}…", shown.chars().take(40).collect::<String>()) } else { shown };
            Shape::Scalar(format!("the value {shown}"))
        }
    }
}

/// `lookup`: each look-up's answer, as its `select` makes it.
pub fn lookups_shape(project: &Project, flow: &FlowFile) -> Shape {
    let mut fields = IndexMap::new();
    for (name, l) in &flow.lookups {
        let system = project.systems.get(&l.system);
        let entity = system.and_then(|s| s.entity(&l.entity));
        let answer = match &l.select {
            Some(Selection::One(field)) => {
                Shape::Scalar(format!("the `{field}` look-up `{name}` selects, not a record (select a list of fields to read several)"))
            }
            Some(Selection::Many(selected)) => {
                let why = format!("look-up `{name}` selects only {}: add it to its `select`", selected.join(", "));
                let about = Some(format!("look-up `{name}` selects: {}", selected.join(", ")));
                let mut answer: IndexMap<String, Shape> = match entity {
                    Some(def) => def.fields.iter().map(|(f, _)| (f.clone(), Shape::NotSelected(why.clone()))).collect(),
                    None => IndexMap::new(),
                };
                for field in selected {
                    let shape = entity.and_then(|d| d.fields.get(field)).map_or(Shape::Any, |d| field_shape(d, None));
                    answer.insert(field.clone(), shape);
                }
                Shape::fields(answer, Naming::Field, about)
            }
            // The whole record found.
            None => match (system, entity) {
                (Some(system), Some(def)) => {
                    let about = catalogue_about(system, &l.entity, def);
                    Shape::fields(entity_fields(&def.fields, Some(&about)), Naming::Field, Some(about))
                }
                _ => Shape::Any,
            },
        };
        let shape = if l.each.is_some() { Shape::Map(Box::new(answer)) } else { answer };
        fields.insert(name.clone(), shape);
    }
    Shape::fields(fields, Naming::Field, None)
}
