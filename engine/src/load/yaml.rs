use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use saphyr::{MarkedYaml, Scalar, YamlData, YamlLoader};
use saphyr_parser::{Event, Parser, ScalarStyle, SpannedEventReceiver};
use serde_json::{Map, Number, Value};

use super::pointer::pointer_child;
use super::span_index::{NodeLoc, SpanIndex};
use crate::diagnostic::{Diagnostic, Location, Pos, SourceFile, Span};
use crate::limits::MAX_YAML_DEPTH;

/// A parsed YAML file: its JSON value and where each node was written.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: Arc<SourceFile>,
    pub value: Value,
    pub spans: SpanIndex,
}

pub fn read_yaml(path: &Path) -> Result<Document, Diagnostic> {
    // Shown paths are relative to the working directory; a canonical path
    // keeps `a/../b` out of them.
    let shown = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    parse_yaml(super::text::read_text(path, shown)?)
}

pub fn parse_yaml(file: Arc<SourceFile>) -> Result<Document, Diagnostic> {
    let mut spans = SpanIndex::default();
    // The tree borrows the file's text: it is gone before the file moves into the document.
    let value = {
        let (docs, written) = load_bounded(&file)?;
        match docs.first() {
            Some(root) => {
                Converter { file: &file, spans: &mut spans, text_offsets: written.text_offsets, floats: written.floats }.convert(root, "", None)?
            }
            None => {
                // An empty file: its problems are reported at its first line.
                spans.insert(String::new(), NodeLoc { file: Arc::clone(&file), key: None, value: Span::point(1, 0), text_offset: None });
                Value::Object(Map::new())
            }
        }
    };
    Ok(Document { file, value, spans })
}

/// saphyr's tree, built from the parser's events read one at a time, nesting
/// counted on the way: the tree, its conversion and its drop all recurse per
/// level (and so does saphyr's own `Parser::load`), so a file nested deeper
/// than `MAX_YAML_DEPTH` stops here, at the line that went too deep, before
/// anything recurses. With it, where each scalar's text starts within its
/// span, from its style (see `text_offset`), by the index of its first character.
fn load_bounded(file: &Arc<SourceFile>) -> Result<(Vec<MarkedYaml<'_>>, Written), Diagnostic> {
    let mut loader = YamlLoader::<MarkedYaml>::default();
    let mut written = Written::default();
    let mut depth = 0usize;
    for event in Parser::new_from_str(&file.text) {
        let (event, span) = event.map_err(|e| parse_error(file, e.marker().line(), e.marker().col(), e.info()))?;
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                depth += 1;
                if depth > MAX_YAML_DEPTH {
                    let at = Location::new(file, Span::point(span.start.line(), span.start.col()));
                    return Err(Diagnostic::error(format!("the YAML nests more than {MAX_YAML_DEPTH} levels deep"))
                        .at(Some(at))
                        .label(format!("level {depth}")));
                }
            }
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            Event::Scalar(ref text, style, ..) => {
                if let Some(offset) = text_offset(style) {
                    written.text_offsets.insert(span.start.index(), offset);
                }
                // A plain scalar's text is as written: an amount keeps its digits.
                if style == ScalarStyle::Plain && text.contains(['.', 'e', 'E']) {
                    written.floats.insert(span.start.index(), text.to_string());
                }
            }
            _ => {}
        }
        loader.on_event(event, span);
        if let Some(e) = loader.error() {
            return Err(parse_error(file, e.marker().line(), e.marker().col(), e.info()));
        }
    }
    Ok((loader.into_documents(), written))
}

/// What the parser's events tell about scalars, by the index of their first character.
#[derive(Default)]
struct Written {
    /// Where the text starts within the span (see `text_offset`).
    text_offsets: HashMap<usize, usize>,
    /// Plain scalars that may be floats, as written.
    floats: HashMap<usize, String>,
}

/// Turns the YAML error into a diagnostic, recognising the mistake every
/// newcomer makes: an expression that starts with a quoted string.
fn parse_error(file: &Arc<SourceFile>, line: usize, col: usize, info: &str) -> Diagnostic {
    let loc = Location::new(file, Span::point(line, col));
    let mut d = Diagnostic::error(format!("invalid YAML: {info}")).at(Some(loc));
    if info.contains("after double-quoted scalar")
        && let Some(text) = file.line(line)
        && let Some((key, expr)) = text.split_once(':')
    {
        let expr = expr.trim().replace(" + ", " ~ ");
        d = d.label("the value goes on after the quoted string").help(format!(
            "quote the whole expression and join text with `~`: {}: '{}'",
            key.trim(),
            expr.replace('\'', "''")
        ));
    }
    d
}

/// Turns saphyr's tree into a JSON value, noting where every node was written.
struct Converter<'f> {
    file: &'f Arc<SourceFile>,
    spans: &'f mut SpanIndex,
    text_offsets: HashMap<usize, usize>,
    floats: HashMap<usize, String>,
}

impl Converter<'_> {
    /// A float as its text was written (`1234567890123456.78` keeps every digit),
    /// else as parsed (`.5`, which JSON does not write so).
    fn float_as_written(&self, index: usize, parsed: f64) -> Option<Number> {
        let written =
            self.floats.get(&index).and_then(|text| crate::value::json_number(text.trim())).filter(|number| number.as_f64() == Some(parsed));
        written.or_else(|| Number::from_f64(parsed))
    }

    fn convert(&mut self, node: &MarkedYaml, pointer: &str, key: Option<Span>) -> Result<Value, Diagnostic> {
        let span = span_of(node);
        let text_offset = self.text_offsets.get(&node.span.start.index()).copied();
        self.spans.insert(pointer.to_string(), NodeLoc { file: Arc::clone(self.file), key, value: span, text_offset });
        let at = |span| Some(Location::new(self.file, span));
        Ok(match &node.data {
            YamlData::Value(Scalar::FloatingPoint(f)) => Value::Number(
                self.float_as_written(node.span.start.index(), f.into_inner())
                    .ok_or_else(|| Diagnostic::error("invalid number (NaN or infinite)").at(at(span)))?,
            ),
            YamlData::Value(s) => scalar(s).ok_or_else(|| Diagnostic::error("invalid number (NaN or infinite)").at(at(span)))?,
            YamlData::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.convert(item, &format!("{pointer}/{i}"), None)?);
                }
                Value::Array(out)
            }
            YamlData::Mapping(entries) => {
                let mut out = Map::new();
                for (k, v) in entries {
                    let name = key_text(k).ok_or_else(|| Diagnostic::error("a key must be text or a number").at(at(span_of(k))))?;
                    let child = pointer_child(pointer, &name);
                    out.insert(name, self.convert(v, &child, Some(span_of(k)))?);
                }
                Value::Object(out)
            }
            YamlData::Tagged(_, inner) => self.convert(inner, pointer, key)?,
            YamlData::Representation(text, _, _) => Value::String(text.to_string()),
            YamlData::Alias(_) | YamlData::BadValue => return Err(Diagnostic::error("unsupported YAML value").at(at(span))),
        })
    }
}

fn scalar(s: &Scalar) -> Option<Value> {
    Some(match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Value::Number(Number::from_f64(f.into_inner())?),
        Scalar::String(t) => Value::String(t.to_string()),
    })
}

/// A float with the digits written in the file, not those of the binary
/// float it parsed to: `1234567890123456.78` is an amount, and a float would
/// make it 1234567890123456.8 (serde_json's `arbitrary_precision` keeps the
/// text). The parsed float when the text is not on one line or does not
/// read as the same number.
/// Keys are text; numeric keys (`21:` in a VAT table) become their text.
fn key_text(k: &MarkedYaml) -> Option<String> {
    match &k.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn span_of(node: &MarkedYaml) -> Span {
    let m = |m: &saphyr::Marker| Pos { line: m.line(), col: m.col() };
    Span { start: m(&node.span.start), end: m(&node.span.end) }
}

/// Where a scalar's text begins inside its span: after an opening quote, at
/// once for plain text, unknown for block scalars (`|`, `>`). From the style
/// the parser saw, not from the line: looking a column up in a line is a scan
/// of it, and a line of a million nodes made loading quadratic.
fn text_offset(style: ScalarStyle) -> Option<usize> {
    match style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Some(1),
        ScalarStyle::Plain => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Value {
        parse_yaml(SourceFile::new("t.yaml", text.to_string())).expect("YAML").value
    }

    /// Issue 9: a YAML amount (a flow test's record or expected payload, a
    /// constant) keeps every digit.
    #[test]
    fn floats_keep_their_digits() {
        let v = parsed("total: 1234567890123456.78\nflow: { a: 99999999999999.99, b: [0.1, -2.50e3] }\nlist:\n  - .5\n  - 1.0\n");
        assert_eq!(v.to_string(), r#"{"total":1234567890123456.78,"flow":{"a":99999999999999.99,"b":[0.1,-2.50e+3]},"list":[0.5,1.0]}"#);
        assert!(parse_yaml(SourceFile::new("t.yaml", "x: .nan\n".to_string())).is_err());
    }
}
