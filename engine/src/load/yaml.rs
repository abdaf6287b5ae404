use std::path::Path;
use std::sync::Arc;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

use super::pointer::pointer_child;
use super::span_index::{NodeLoc, SpanIndex};
use crate::diagnostic::{Diagnostic, Location, Pos, SourceFile, Span};

/// A parsed YAML file: its JSON value and where each node was written.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: Arc<SourceFile>,
    pub value: Value,
    pub spans: SpanIndex,
}

pub fn read_yaml(path: &Path) -> Result<Document, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| Diagnostic::error(format!("cannot read {}: {e}", crate::diagnostic::display_path(path))))?;
    // Shown paths are relative to the working directory; a canonical path
    // keeps `a/../b` out of them.
    parse_yaml(SourceFile::new(path.canonicalize().unwrap_or_else(|_| path.to_path_buf()), text))
}

pub fn parse_yaml(file: Arc<SourceFile>) -> Result<Document, Diagnostic> {
    let docs = MarkedYaml::load_from_str(&file.text).map_err(|e| parse_error(&file, e.marker().line(), e.marker().col(), e.info()))?;
    let mut spans = SpanIndex::default();
    let value = match docs.first() {
        Some(root) => convert(root, "", None, &file, &mut spans)?,
        None => {
            // An empty file: its problems are reported at its first line.
            spans.insert(String::new(), NodeLoc { file: Arc::clone(&file), key: None, value: Span::point(1, 0), text_offset: None });
            Value::Object(Map::new())
        }
    };
    Ok(Document { file, value, spans })
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

fn convert(node: &MarkedYaml, pointer: &str, key: Option<Span>, file: &Arc<SourceFile>, spans: &mut SpanIndex) -> Result<Value, Diagnostic> {
    let span = span_of(node);
    spans.insert(pointer.to_string(), NodeLoc { file: Arc::clone(file), key, value: span, text_offset: text_offset(file, span) });
    let at = || Some(Location::new(file, span));
    Ok(match &node.data {
        YamlData::Value(Scalar::FloatingPoint(f)) => {
            Value::Number(float_as_written(file, span, f.into_inner()).ok_or_else(|| Diagnostic::error("invalid number (NaN or infinite)").at(at()))?)
        }
        YamlData::Value(s) => scalar(s).ok_or_else(|| Diagnostic::error("invalid number (NaN or infinite)").at(at()))?,
        YamlData::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(convert(item, &format!("{pointer}/{i}"), None, file, spans)?);
            }
            Value::Array(out)
        }
        YamlData::Mapping(entries) => {
            let mut out = Map::new();
            for (k, v) in entries {
                let name =
                    key_text(k).ok_or_else(|| Diagnostic::error("a key must be text or a number").at(Some(Location::new(file, span_of(k)))))?;
                let child = pointer_child(pointer, &name);
                out.insert(name, convert(v, &child, Some(span_of(k)), file, spans)?);
            }
            Value::Object(out)
        }
        YamlData::Tagged(_, inner) => convert(inner, pointer, key, file, spans)?,
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Alias(_) | YamlData::BadValue => return Err(Diagnostic::error("unsupported YAML value").at(at())),
    })
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
fn float_as_written(file: &SourceFile, span: Span, parsed: f64) -> Option<Number> {
    let written = (span.start.line == span.end.line)
        .then(|| file.line(span.start.line))
        .flatten()
        .map(|line| line.chars().skip(span.start.col).take(span.end.col.saturating_sub(span.start.col)).collect::<String>())
        .and_then(|text| crate::value::json_number(text.trim()))
        .filter(|number| number.as_f64() == Some(parsed));
    written.or_else(|| Number::from_f64(parsed))
}

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
/// once for plain text, unknown for block scalars (`|`, `>`).
fn text_offset(file: &SourceFile, span: Span) -> Option<usize> {
    let first = file.line(span.start.line)?.chars().nth(span.start.col)?;
    match first {
        '\'' | '"' => Some(1),
        '|' | '>' | '{' | '[' => None,
        _ => Some(0),
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
