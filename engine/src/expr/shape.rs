//! What a variable is known to hold when a flow loads (the source record's
//! catalogue entity, the settings, the look-ups' selected fields), so a path
//! into it that cannot exist is a compile error at the part that is wrong,
//! not a block reason on every record.

use indexmap::IndexMap;

use super::compile::{CompileError, CompileErrorKind, Names};
use super::written::{Step, written_paths};
use crate::diagnostic::did_you_mean;

#[derive(Debug, Clone)]
pub enum Shape {
    /// Nothing is known: no part below is checked.
    Any,
    /// Named fields (a record, an object, the settings).
    Fields(Box<Fields>),
    /// A list; an index gives an entry.
    List(Box<Shape>),
    /// A map whose keys are data (a look-up with `each`): any key gives an entry.
    Map(Box<Shape>),
    /// A value without fields; the text says what it is, e.g. "a string".
    Scalar(String),
    /// A field that exists but is not answered (left out of a `$select` or a look-up's `select`): why.
    NotSelected(String),
}

#[derive(Debug, Clone)]
pub struct Fields {
    pub fields: IndexMap<String, Shape>,
    pub naming: Naming,
    /// Where the fields come from, shown with an unknown one.
    pub about: Option<String>,
}

/// How an unknown name is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// "`order` has no field `x`"
    Field,
    /// "unknown setting `warehouse.x`"
    Setting,
}

impl Shape {
    pub fn fields(fields: IndexMap<String, Shape>, naming: Naming, about: Option<String>) -> Shape {
        Shape::Fields(Box::new(Fields { fields, naming, about }))
    }

    /// The shape of an entry, for a list walked with `each`.
    pub fn entry(&self) -> Shape {
        match self {
            Shape::List(entry) | Shape::Map(entry) => (**entry).clone(),
            _ => Shape::Any,
        }
    }
}

/// The shape a plain path (`order.lines`) reaches, when `text` is one.
pub fn shape_of(text: &str, names: &Names) -> Shape {
    let paths = written_paths(text);
    let [path] = paths.as_slice() else { return Shape::Any };
    let whole = path.parts.last().map_or(path.offset + path.root.chars().count(), |p| p.offset + p.len);
    if whole != text.trim_end().chars().count() || text.chars().take(path.offset).any(|c| !c.is_whitespace()) {
        return Shape::Any;
    }
    let Some(mut shape) = names.shape(&path.root) else { return Shape::Any };
    for part in &path.parts {
        shape = match next(shape, &part.step) {
            Next::Shape(s) => s,
            _ => return Shape::Any,
        };
    }
    shape.clone()
}

enum Next<'a> {
    Shape(&'a Shape),
    /// Nothing more is known below.
    Stop,
    Unknown(&'a Fields),
    NotSelected(&'a str),
    NoFields(&'a str),
}

fn next<'a>(shape: &'a Shape, step: &Step) -> Next<'a> {
    match (shape, step) {
        (Shape::Fields(f), Step::Key(k)) => match f.fields.get(k) {
            Some(Shape::NotSelected(why)) => Next::NotSelected(why),
            Some(s) => Next::Shape(s),
            None => Next::Unknown(f),
        },
        (Shape::List(entry), Step::Index | Step::Dynamic) | (Shape::Map(entry), _) => Next::Shape(entry),
        (Shape::Scalar(what), Step::Key(_)) => Next::NoFields(what),
        _ => Next::Stop,
    }
}

/// Checks every path of `text` whose variable has a known shape; the first
/// wrong part of each is reported.
pub fn check_paths(text: &str, names: &Names, problems: &mut Vec<CompileError>) {
    let chars: Vec<char> = text.chars().collect();
    for path in written_paths(text) {
        if !names.roots.contains(&path.root.as_str()) {
            continue;
        }
        let Some(mut shape) = names.shape(&path.root) else { continue };
        for part in &path.parts {
            let Step::Key(name) = &part.step else {
                match next(shape, &part.step) {
                    Next::Shape(s) => {
                        shape = s;
                        continue;
                    }
                    _ => break,
                }
            };
            let before: String = chars[path.offset..part.offset].iter().collect();
            let before = before.trim_end_matches(['.', '[']).to_string();
            let problem = match next(shape, &part.step) {
                Next::Shape(s) => {
                    shape = s;
                    continue;
                }
                Next::Stop => break,
                Next::Unknown(fields) => unknown(fields, &before, name),
                Next::NotSelected(why) => (format!("`{before}.{name}` is not selected"), None, Some(why.to_string())),
                Next::NoFields(what) => (format!("`{before}` has no field `{name}`"), None, Some(format!("`{before}` is {what}"))),
            };
            let (message, label, help) = problem;
            problems.push(CompileError { kind: CompileErrorKind::Error, message, offset: part.offset, len: part.len, label, help });
            break;
        }
    }
}

fn unknown(fields: &Fields, before: &str, name: &str) -> (String, Option<String>, Option<String>) {
    let available = || fields.fields.iter().filter(|(_, s)| !matches!(s, Shape::NotSelected(_))).map(|(k, _)| k.as_str());
    let near = did_you_mean(name, available()).map(|n| format!("did you mean `{n}`?"));
    let message = match fields.naming {
        Naming::Field => format!("`{before}` has no field `{name}`"),
        Naming::Setting => {
            let inside = before.strip_prefix("settings").unwrap_or(before).trim_start_matches('.');
            format!("unknown setting `{}{name}`", if inside.is_empty() { String::new() } else { format!("{inside}.") })
        }
    };
    let help = match (&near, fields.naming, &fields.about) {
        (_, Naming::Field, Some(about)) => Some(about.clone()),
        (None, Naming::Setting, _) => Some(format!("`{before}` has: {}", available().collect::<Vec<_>>().join(", "))),
        _ => None,
    };
    (message, near, help)
}
