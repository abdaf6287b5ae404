//! The common shapes of expressions — paths, literals, comparisons, `~`,
//! `and`/`or`/`not`, `a if c else b`, `is defined`, the filters
//! `string`, `trim`, `upper`, `lower`, `length`, `lpad`, `rpad`, `default`
//! and the systems' YAML filters built from them, and the money functions
//! (`functions::native`) — evaluated natively. Comparisons order exact
//! numbers (`value::ExactNumber`) by value, which minijinja cannot.
//!
//! Every expression is still compiled by minijinja first (so syntax and
//! names are checked the same way); when it also fits this subset it runs
//! here instead of in the VM, with the same results: the operators below
//! use minijinja's own `Value` comparisons, truthiness and display, and
//! any case the subset does not handle (a filter given an unusual type, an
//! error to report) is handed back to minijinja to evaluate (`Native::Fallback`).

use std::collections::HashMap;

use minijinja::Value;
use minijinja::value::ValueKind;

use super::functions::{NativeCall, native_filter, native_function};
use super::path::{PathExpr, Segment};
use super::scope::Scope;
use crate::limits::MAX_NATIVE_DEPTH;

/// Why native evaluation stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Native {
    /// A path that resolves to nothing.
    Missing(String),
    /// Outside the subset for this value: evaluate with minijinja instead.
    Fallback,
}

/// The systems' YAML filters whose bodies are in the subset, by name.
pub type NativeFilters = HashMap<String, Simple>;

#[derive(Debug, Clone)]
pub enum Simple {
    Const(Value),
    Path(PathExpr),
    Concat(Vec<Simple>),
    Compare(Box<Simple>, CmpOp, Box<Simple>),
    And(Box<Simple>, Box<Simple>),
    Or(Box<Simple>, Box<Simple>),
    Not(Box<Simple>),
    If {
        then: Box<Simple>,
        cond: Box<Simple>,
        otherwise: Box<Simple>,
    },
    /// `path is defined` (or, negated, `is not defined`).
    Defined(PathExpr, bool),
    Filter(Box<Simple>, Filter),
    /// `money_add(a, b)`: a function of `functions::native`.
    Call(NativeCall, Vec<Simple>),
}

#[derive(Debug, Clone)]
pub enum Filter {
    String,
    Trim,
    Upper,
    Lower,
    Length,
    Pad {
        width: Box<Simple>,
        fill: Option<Box<Simple>>,
        left: bool,
    },
    Default(Box<Simple>),
    /// A system's YAML filter: its body, evaluated with `value` bound to the input.
    System(Box<Simple>),
    /// `money(2)`: a filter of `functions::native`, given its arguments.
    Call(NativeCall, Vec<Simple>),
}

#[derive(Debug, Clone, Copy)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Simple {
    /// Levels of the tree: evaluating it recurses once per level.
    fn depth(&self) -> usize {
        let max = |items: &[&Simple]| items.iter().map(|e| e.depth()).max().unwrap_or(0);
        1 + match self {
            Simple::Const(_) => 0,
            Simple::Path(p) | Simple::Defined(p, _) => p.depth(),
            Simple::Concat(parts) => parts.iter().map(Simple::depth).max().unwrap_or(0),
            Simple::Compare(a, _, b) | Simple::And(a, b) | Simple::Or(a, b) => max(&[a, b]),
            Simple::Not(a) => a.depth(),
            Simple::If { then, cond, otherwise } => max(&[then, cond, otherwise]),
            Simple::Filter(input, filter) => match filter {
                Filter::Pad { width, fill, .. } => max(&[input, width]).max(fill.as_ref().map_or(0, |f| f.depth())),
                Filter::Default(other) | Filter::System(other) => max(&[input, other]),
                Filter::Call(_, args) => input.depth().max(args.iter().map(Simple::depth).max().unwrap_or(0)),
                _ => input.depth(),
            },
            Simple::Call(_, args) => args.iter().map(Simple::depth).max().unwrap_or(0),
        }
    }

    pub fn eval(&self, scope: &Scope) -> Result<Value, Native> {
        Ok(match self {
            Simple::Const(v) => v.clone(),
            Simple::Path(p) => p.eval(scope).map_err(|m| Native::Missing(m.0))?,
            Simple::Concat(parts) => {
                let mut s = String::new();
                for p in parts {
                    let v = p.eval(scope)?;
                    match v.as_str() {
                        Some(t) => s.push_str(t),
                        None => s.push_str(&v.to_string()),
                    }
                }
                Value::from(s)
            }
            Simple::Compare(a, op, b) => {
                let (a, b) = (a.eval(scope)?, b.eval(scope)?);
                if let Some(order) = crate::value::compare(&a, &b) {
                    return Ok(Value::from(op.holds(order)));
                }
                Value::from(match op {
                    CmpOp::Eq => a == b,
                    CmpOp::Ne => a != b,
                    CmpOp::Lt => a < b,
                    CmpOp::Le => a <= b,
                    CmpOp::Gt => a > b,
                    CmpOp::Ge => a >= b,
                })
            }
            Simple::And(a, b) => {
                let a = a.eval(scope)?;
                if a.is_true() { b.eval(scope)? } else { a }
            }
            Simple::Or(a, b) => {
                let a = a.eval(scope)?;
                if a.is_true() { a } else { b.eval(scope)? }
            }
            Simple::Not(a) => Value::from(!a.eval(scope)?.is_true()),
            Simple::If { then, cond, otherwise } => {
                if cond.eval(scope)?.is_true() {
                    then.eval(scope)?
                } else {
                    otherwise.eval(scope)?
                }
            }
            Simple::Defined(p, want) => Value::from(p.eval(scope).is_ok() == *want),
            Simple::Filter(input, Filter::Default(fallback)) => match input.eval(scope) {
                Err(Native::Missing(_)) => fallback.eval(scope)?,
                other => other?,
            },
            Simple::Filter(input, filter) => apply(filter, input.eval(scope)?, scope)?,
            Simple::Call(f, args) => call(*f, Vec::with_capacity(args.len()), args, scope)?,
        })
    }
}

impl CmpOp {
    /// Whether the operator holds for `a` ordered against `b` as given.
    fn holds(self, order: std::cmp::Ordering) -> bool {
        match self {
            CmpOp::Eq => order.is_eq(),
            CmpOp::Ne => order.is_ne(),
            CmpOp::Lt => order.is_lt(),
            CmpOp::Le => order.is_le(),
            CmpOp::Gt => order.is_gt(),
            CmpOp::Ge => order.is_ge(),
        }
    }
}

/// Calls `f` with `values` (a filter's input, or nothing) followed by
/// `args`; an error goes back to minijinja, which reports it in its own words.
fn call(f: NativeCall, mut values: Vec<Value>, args: &[Simple], scope: &Scope) -> Result<Value, Native> {
    for arg in args {
        values.push(arg.eval(scope)?);
    }
    f(&values).map_err(|_| Native::Fallback)
}

fn apply(filter: &Filter, v: Value, scope: &Scope) -> Result<Value, Native> {
    let text = |f: fn(&str) -> String| v.as_str().map(|s| Value::from(f(s))).ok_or(Native::Fallback);
    match filter {
        Filter::String if v.as_str().is_some() => Ok(v),
        Filter::String if v.kind() == ValueKind::Number => Ok(Value::from(v.to_string())),
        Filter::Trim => text(|s| s.trim().to_string()),
        Filter::Upper => text(str::to_uppercase),
        Filter::Lower => text(str::to_lowercase),
        Filter::Length => {
            let n = match v.as_str() {
                Some(s) => Some(s.chars().count()),
                None => {
                    v.downcast_object_ref::<crate::value::Record>().map(|r| r.0.len()).or_else(|| v.downcast_object_ref::<Vec<Value>>().map(Vec::len))
                }
            };
            n.map(Value::from).ok_or(Native::Fallback)
        }
        Filter::Pad { width, fill, left } => {
            let width = usize::try_from(width.eval(scope)?.as_i64().ok_or(Native::Fallback)?).map_err(|_| Native::Fallback)?;
            let fill = match fill {
                None => ' ',
                Some(f) => {
                    let f = f.eval(scope)?;
                    let mut chars = f.as_str().ok_or(Native::Fallback)?.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => c,
                        _ => return Err(Native::Fallback),
                    }
                }
            };
            super::functions::pad_text(&v, width, fill, *left).map(Value::from).map_err(|_| Native::Fallback)
        }
        Filter::System(body) => {
            let mut inner = Scope::new();
            inner.push("value", v);
            body.eval(&inner).map_err(|_| Native::Fallback)
        }
        Filter::Call(f, args) => call(*f, vec![v], args, scope),
        _ => Err(Native::Fallback),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Dot,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Tilde,
    Pipe,
    Comma,
    Cmp(&'static str),
}

fn tokenize(text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '.' => {
                out.push(Tok::Dot);
                i += 1;
            }
            '[' | ']' | '(' | ')' | '~' | '|' | ',' => {
                out.push(match c {
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '|' => Tok::Pipe,
                    ',' => Tok::Comma,
                    _ => Tok::Tilde,
                });
                i += 1;
            }
            '\'' | '"' => {
                let end = chars[i + 1..].iter().position(|&d| d == c)? + i + 1;
                let s: String = chars[i + 1..end].iter().collect();
                if s.contains('\\') {
                    return None;
                }
                out.push(Tok::Str(s));
                i = end + 1;
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "==" => "==",
                    "!=" => "!=",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ if c == '<' => "<",
                    _ if c == '>' => ">",
                    _ => return None,
                };
                i += op.len();
                out.push(Tok::Cmp(op));
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                if s.contains('.') {
                    out.push(Tok::Float(s.parse().ok()?));
                } else {
                    out.push(Tok::Int(s.parse().ok()?));
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Parses `text` when it fits the subset; None sends it to minijinja.
/// `system` holds the systems' YAML filters that are themselves in the subset.
pub fn parse_simple(text: &str, system: &NativeFilters) -> Option<Simple> {
    let toks = tokenize(text)?;
    let mut p = P { toks, i: 0, system };
    let e = p.ternary()?;
    // Deeper trees run in minijinja's VM, which evaluates without recursing.
    (p.i == p.toks.len() && e.depth() <= MAX_NATIVE_DEPTH).then_some(e)
}

struct P<'a> {
    toks: Vec<Tok>,
    i: usize,
    system: &'a NativeFilters,
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(x)) if x == w)
    }

    fn ternary(&mut self) -> Option<Simple> {
        let then = self.or()?;
        if !self.word("if") {
            return Some(then);
        }
        self.i += 1;
        let cond = self.or()?;
        if !self.word("else") {
            return None;
        }
        self.i += 1;
        let otherwise = self.ternary()?;
        Some(Simple::If { then: Box::new(then), cond: Box::new(cond), otherwise: Box::new(otherwise) })
    }

    fn or(&mut self) -> Option<Simple> {
        let mut a = self.and()?;
        while self.word("or") {
            self.i += 1;
            a = Simple::Or(Box::new(a), Box::new(self.and()?));
        }
        Some(a)
    }

    fn and(&mut self) -> Option<Simple> {
        let mut a = self.not()?;
        while self.word("and") {
            self.i += 1;
            a = Simple::And(Box::new(a), Box::new(self.not()?));
        }
        Some(a)
    }

    fn not(&mut self) -> Option<Simple> {
        if self.word("not") {
            self.i += 1;
            return Some(Simple::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Option<Simple> {
        let a = self.concat()?;
        if self.word("is") {
            self.i += 1;
            let negated = self.word("not");
            if negated {
                self.i += 1;
            }
            if !self.word("defined") {
                return None;
            }
            self.i += 1;
            return match a {
                Simple::Path(p) => Some(Simple::Defined(p, !negated)),
                _ => None,
            };
        }
        let op = match self.peek() {
            Some(Tok::Cmp(op)) => *op,
            _ => return Some(a),
        };
        self.i += 1;
        let b = self.concat()?;
        let op = match op {
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        Some(Simple::Compare(Box::new(a), op, Box::new(b)))
    }

    fn concat(&mut self) -> Option<Simple> {
        let first = self.postfix()?;
        if self.peek() != Some(&Tok::Tilde) {
            return Some(first);
        }
        let mut parts = vec![first];
        while self.peek() == Some(&Tok::Tilde) {
            self.i += 1;
            parts.push(self.postfix()?);
        }
        Some(Simple::Concat(parts))
    }

    /// An atom and its filters: `x | trim | lpad(18)` (filters bind tightest).
    fn postfix(&mut self) -> Option<Simple> {
        let mut e = self.atom()?;
        while self.peek() == Some(&Tok::Pipe) {
            self.i += 1;
            let Some(Tok::Ident(name)) = self.peek().cloned() else { return None };
            self.i += 1;
            let args = self.args()?;
            let filter = match (name.as_str(), args.len()) {
                ("string", 0) => Filter::String,
                ("trim", 0) => Filter::Trim,
                ("upper", 0) => Filter::Upper,
                ("lower", 0) => Filter::Lower,
                ("length", 0) => Filter::Length,
                ("default", 1) => Filter::Default(Box::new(args.into_iter().next()?)),
                ("lpad" | "rpad", 1 | 2) => {
                    let mut args = args.into_iter();
                    let width = Box::new(args.next()?);
                    Filter::Pad { width, fill: args.next().map(Box::new), left: name == "lpad" }
                }
                (other, 0) if self.system.contains_key(other) => Filter::System(Box::new(self.system.get(other)?.clone())),
                // A system's filter of the same name replaces flowmap's.
                (other, _) if !self.system.contains_key(other) => Filter::Call(native_filter(other)?, args),
                _ => return None,
            };
            e = Simple::Filter(Box::new(e), filter);
        }
        Some(e)
    }

    /// Positional arguments of a filter, if it has parentheses.
    fn args(&mut self) -> Option<Vec<Simple>> {
        if self.peek() != Some(&Tok::LParen) {
            return Some(Vec::new());
        }
        self.i += 1;
        let mut args = Vec::new();
        if self.peek() == Some(&Tok::RParen) {
            self.i += 1;
            return Some(args);
        }
        loop {
            args.push(self.ternary()?);
            match self.peek()? {
                Tok::Comma => self.i += 1,
                Tok::RParen => {
                    self.i += 1;
                    return Some(args);
                }
                _ => return None,
            }
        }
    }

    fn atom(&mut self) -> Option<Simple> {
        let t = self.peek()?.clone();
        self.i += 1;
        Some(match t {
            Tok::Str(s) => Simple::Const(Value::from(s)),
            Tok::Int(n) => Simple::Const(Value::from(n)),
            Tok::Float(f) => Simple::Const(Value::from(f)),
            Tok::LParen => {
                let e = self.ternary()?;
                if self.peek() != Some(&Tok::RParen) {
                    return None;
                }
                self.i += 1;
                e
            }
            Tok::Ident(w) => match w.as_str() {
                "true" | "True" => Simple::Const(Value::from(true)),
                "false" | "False" => Simple::Const(Value::from(false)),
                "none" | "None" => Simple::Const(Value::from(())),
                "if" | "else" | "and" | "or" | "not" | "is" | "in" => return None,
                _ if self.peek() == Some(&Tok::LParen) => Simple::Call(native_function(&w)?, self.args()?),
                _ => {
                    self.i -= 1;
                    Simple::Path(self.path()?)
                }
            },
            _ => return None,
        })
    }

    fn path(&mut self) -> Option<PathExpr> {
        let Some(Tok::Ident(root)) = self.peek().cloned() else { return None };
        self.i += 1;
        // A call (`f(…)`) is not a path.
        if self.peek() == Some(&Tok::LParen) {
            return None;
        }
        let mut segments = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.i += 1;
                    match self.peek().cloned() {
                        Some(Tok::Ident(k)) => segments.push(Segment::Key(Value::from(k))),
                        Some(Tok::Int(n)) => segments.push(Segment::Index(n)),
                        _ => return None,
                    }
                    self.i += 1;
                }
                Some(Tok::LBracket) => {
                    self.i += 1;
                    let seg = match self.peek().cloned()? {
                        Tok::Str(s) => {
                            self.i += 1;
                            Segment::Key(Value::from(s))
                        }
                        Tok::Int(n) => {
                            self.i += 1;
                            Segment::Index(n)
                        }
                        Tok::Ident(_) => Segment::Dynamic(self.path()?),
                        _ => return None,
                    };
                    if self.peek() != Some(&Tok::RBracket) {
                        return None;
                    }
                    self.i += 1;
                    segments.push(seg);
                }
                _ => break,
            }
        }
        if self.peek() == Some(&Tok::LParen) {
            return None;
        }
        Some(PathExpr { root: super::names::intern(&root), segments })
    }
}

#[cfg(test)]
mod tests;
