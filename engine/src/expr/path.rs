use minijinja::Value;

use super::scope::Scope;
use crate::limits::MAX_NATIVE_DEPTH;

/// A plain path such as `order.retailer.reference`, `lines[0].sku` or
/// `lookup.item[line.sku]`, recognised at compile time so it can be evaluated
/// without the minijinja VM.
#[derive(Debug, Clone)]
pub struct PathExpr {
    pub root: &'static str,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
pub enum Segment {
    /// `.name` or `["name"]`
    Key(Value),
    /// `[0]`
    Index(i64),
    /// `[other.path]`: the key is computed from another path.
    Dynamic(PathExpr),
}

/// A value reached by a path: borrowed from the scope while it can be.
enum Step<'a> {
    Borrowed(&'a Value),
    Owned(Value),
}

impl<'a> Step<'a> {
    fn child(self, key: &Value) -> Option<Step<'a>> {
        match self {
            Step::Borrowed(v) => match borrowed_child(v, key) {
                Some(c) => Some(Step::Borrowed(c)),
                None => owned_child(v, key).map(Step::Owned),
            },
            Step::Owned(v) => owned_child(&v, key).map(Step::Owned),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Step::Borrowed(v) => v.clone(),
            Step::Owned(v) => v,
        }
    }
}

/// The child of a record or list, by reference.
fn borrowed_child<'v>(v: &'v Value, key: &Value) -> Option<&'v Value> {
    if let Some(record) = v.downcast_object_ref::<crate::value::Record>() {
        return record.get(key.as_str()?);
    }
    let items = v.downcast_object_ref::<Vec<Value>>()?;
    items.get(usize::try_from(key.as_i64()?).ok()?)
}

/// Any other value's child, through minijinja (negative indices, maps of other kinds…).
fn owned_child(v: &Value, key: &Value) -> Option<Value> {
    v.get_item(key).ok().filter(|c| !c.is_undefined())
}

/// Why a path did not resolve: the text of the part that was found to be
/// missing, e.g. `order.retailer.reference`.
pub struct Missing(pub String);

impl PathExpr {
    /// The names the path reads: its root and the roots of paths in brackets
    /// (`settings.vat[order.vat_code]` reads `settings` and `order`).
    pub fn roots(&self) -> Vec<&'static str> {
        let mut roots = vec![self.root];
        for s in &self.segments {
            if let Segment::Dynamic(p) = s {
                roots.extend(p.roots());
            }
        }
        roots
    }

    /// Levels of paths inside brackets (`a[b[c]]` is 3): evaluation recurses once per level.
    pub fn depth(&self) -> usize {
        1 + self.segments.iter().map(|s| if let Segment::Dynamic(p) = s { p.depth() } else { 0 }).max().unwrap_or(0)
    }

    pub fn eval(&self, scope: &Scope) -> Result<Value, Missing> {
        let root = scope.get(self.root).ok_or_else(|| Missing(self.root.to_string()))?;
        // Walk by reference through records and lists (no reference-count
        // traffic per step); only other kinds of values are looked up by value.
        let mut current = Step::Borrowed(root);
        for (i, seg) in self.segments.iter().enumerate() {
            let next = match seg {
                Segment::Key(k) => current.child(k),
                Segment::Index(n) => current.child(&Value::from(*n)),
                Segment::Dynamic(p) => current.child(&p.eval(scope)?),
            };
            current = next.ok_or_else(|| Missing(self.shown(scope, i + 1)))?;
        }
        Ok(current.into_value())
    }

    /// The text of the first `n` segments, for the error (built only on failure).
    fn shown(&self, scope: &Scope, n: usize) -> String {
        let mut shown = self.root.to_string();
        for seg in &self.segments[..n] {
            match seg {
                Segment::Key(k) => {
                    shown.push('.');
                    shown.push_str(k.as_str().unwrap_or_default());
                }
                Segment::Index(i) => shown.push_str(&format!("[{i}]")),
                Segment::Dynamic(p) => match p.eval(scope) {
                    Ok(key) => shown.push_str(&format!("[{}]", display_key(&key))),
                    Err(m) => shown.push_str(&format!("[{}]", m.0)),
                },
            }
        }
        shown
    }
}

fn display_key(key: &Value) -> String {
    match key.as_str() {
        Some(s) => format!("{s:?}"),
        None => key.to_string(),
    }
}

/// Parses `text` as a plain path, or returns None when it is anything more
/// (operators, filters, calls, literals), which minijinja then compiles.
pub fn parse_path(text: &str) -> Option<PathExpr> {
    let mut p = Parser { s: text.trim().as_bytes(), i: 0 };
    let path = p.path()?;
    (p.i == p.s.len() && path.depth() <= MAX_NATIVE_DEPTH).then_some(path)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

const KEYWORDS: [&str; 12] = ["true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if"];

impl Parser<'_> {
    fn ident(&mut self) -> Option<String> {
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        let word = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        let valid = !word.is_empty() && !word.as_bytes()[0].is_ascii_digit() && !KEYWORDS.contains(&word);
        valid.then(|| word.to_string())
    }

    fn path(&mut self) -> Option<PathExpr> {
        let root = super::names::intern(&self.ident()?);
        let mut segments = Vec::new();
        while self.i < self.s.len() {
            match self.s[self.i] {
                b'.' => {
                    self.i += 1;
                    segments.push(Segment::Key(Value::from(self.ident()?)));
                }
                b'[' => {
                    self.i += 1;
                    segments.push(self.bracket()?);
                    if self.s.get(self.i) != Some(&b']') {
                        return None;
                    }
                    self.i += 1;
                }
                _ => break,
            }
        }
        Some(PathExpr { root, segments })
    }

    fn bracket(&mut self) -> Option<Segment> {
        let c = *self.s.get(self.i)?;
        if c == b'"' || c == b'\'' {
            let end = self.s[self.i + 1..].iter().position(|&b| b == c)? + self.i + 1;
            let text = std::str::from_utf8(&self.s[self.i + 1..end]).ok()?;
            if text.contains('\\') {
                return None;
            }
            self.i = end + 1;
            return Some(Segment::Key(Value::from(text)));
        }
        if c.is_ascii_digit() {
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            return std::str::from_utf8(&self.s[start..self.i]).ok()?.parse().ok().map(Segment::Index);
        }
        self.path().map(Segment::Dynamic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        let mut s = Scope::new();
        let order: Value = serde_json::from_str(r#"{"retailer":{"reference":"10023"},"lines":[{"sku":"A"}]}"#).unwrap();
        s.push("order", order);
        s.push("lookup", crate::value::map([("item", crate::value::map([("A", Value::from("guid-a"))]))]));
        s.push("line", serde_json::from_str(r#"{"sku":"A"}"#).unwrap());
        s
    }

    fn eval(text: &str) -> Result<String, String> {
        parse_path(text).expect("a path").eval(&scope()).map(|v| v.to_string()).map_err(|m| m.0)
    }

    #[test]
    fn plain_paths_resolve() {
        assert_eq!(eval("order.retailer.reference"), Ok("10023".into()));
        assert_eq!(eval("order.lines[0].sku"), Ok("A".into()));
        assert_eq!(eval("lookup.item[line.sku]"), Ok("guid-a".into()));
        assert_eq!(eval("order['retailer'].reference"), Ok("10023".into()));
    }

    #[test]
    fn a_missing_part_is_named() {
        assert_eq!(eval("order.retailer.name"), Err("order.retailer.name".into()));
        assert_eq!(eval("order.lines[3].sku"), Err("order.lines[3]".into()));
        assert_eq!(eval("lookup.item[order.lines[0].sku]"), Ok("guid-a".into()));
    }

    #[test]
    fn anything_else_is_not_a_path() {
        for text in ["order.id ~ 'x'", "a | upper", "f(x)", "true", "1", "'x'", "a.b + 1", "not a"] {
            assert!(parse_path(text).is_none(), "{text}");
        }
    }
}
