use minijinja::{Expression, Value};

use super::env::{ExprEnv, KNOWN_FILTERS, KNOWN_FUNCTIONS};
use super::path::{PathExpr, parse_path};
use super::simple::{Simple, parse_simple};
use crate::diagnostic::did_you_mean;

/// A compiled expression and the text it came from.
pub struct Expr {
    pub(super) kind: ExprKind,
    pub text: String,
    /// Dotted variable paths the expression reads (`order.retailer.reference`).
    pub(super) vars: Vec<String>,
}

pub(super) enum ExprKind {
    Const(Value),
    Path(PathExpr),
    /// Evaluated natively; minijinja takes over for what the subset does not handle.
    Native(Simple, Expression<'static, 'static>),
    Jinja(Expression<'static, 'static>),
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.text)
    }
}

impl Expr {
    pub fn constant(value: Value) -> Expr {
        Expr { text: value.to_string(), kind: ExprKind::Const(value), vars: Vec::new() }
    }

    /// The constant value, if the expression needs no record at all.
    pub fn as_const(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Const(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the expression reads the variable `root` (`result`, `found`, …).
    pub fn reads(&self, root: &str) -> bool {
        self.vars.iter().any(|v| v.split('.').next() == Some(root))
    }

    /// Whether every name the expression reads is one of `roots`. A constant
    /// reads nothing; an expression that reads names minijinja does not list
    /// (those in a slice) is not known to read only `roots`. Functions called
    /// (`money_add(…)`) are listed by minijinja as names; they read nothing.
    pub fn reads_only(&self, roots: &[&str]) -> bool {
        match &self.kind {
            ExprKind::Const(_) => return true,
            // Its variable is the root and first key only: the paths in brackets count too.
            ExprKind::Path(p) => return p.roots().iter().all(|r| roots.contains(r)),
            _ => {}
        }
        let called: Vec<String> = scan_calls(&self.text).into_iter().filter(|c| matches!(c.kind, CallKind::Function)).map(|c| c.name).collect();
        let mut names = self.vars.iter().filter(|v| !called.contains(v)).peekable();
        names.peek().is_some() && names.all(|v| roots.contains(&v.split('.').next().unwrap_or_default()))
    }

    /// The fields the expression reads from the variable `root`: `found.status` → `status`.
    pub fn fields_read(&self, root: &str) -> Vec<String> {
        let fields = self.vars.iter().filter_map(|v| v.strip_prefix(root)?.strip_prefix('.'));
        fields.map(|f| f.split(['.', '[']).next().unwrap_or(f).to_string()).collect()
    }
}

impl Template {
    pub fn reads(&self, root: &str) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Expr(e) if e.reads(root)))
    }

    /// Whether every placeholder reads only `roots` (plain text reads nothing).
    pub fn reads_only(&self, roots: &[&str]) -> bool {
        self.parts.iter().all(|p| match p {
            Part::Text(_) => true,
            Part::Expr(e) => e.reads_only(roots),
        })
    }
}

/// A message with `{{ expression }}` placeholders, compiled once.
#[derive(Debug)]
pub struct Template {
    pub(super) parts: Vec<Part>,
    pub text: String,
}

#[derive(Debug)]
pub(super) enum Part {
    Text(String),
    Expr(Expr),
}

/// A problem found while compiling, positioned within the expression's text
/// (character offset and length) so the caller can point at it in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub kind: CompileErrorKind,
    pub message: String,
    pub offset: usize,
    pub len: usize,
    pub label: Option<String>,
    pub help: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileErrorKind {
    Error,
    Warning,
}

/// What names an expression may use where it is written.
pub struct Names<'a> {
    /// Variables in scope (`order`, `settings`, `lookup`, `line`, …).
    pub roots: &'a [&'a str],
    /// Keys of `settings`.
    pub settings: &'a [String],
    /// Names of the flow's look-ups.
    pub lookups: &'a [String],
    /// What variables are known to hold, innermost last: their paths are checked.
    pub shapes: &'a [(&'a str, super::Shape)],
}

impl Names<'_> {
    /// The known shape of the variable `root` where the expression is written.
    pub fn shape(&self, root: &str) -> Option<&super::Shape> {
        self.shapes.iter().rev().find(|(name, _)| *name == root).map(|(_, shape)| shape)
    }
}

pub struct Compiler<'a> {
    pub env: &'a ExprEnv,
}

impl Compiler<'_> {
    /// Compiles one expression, checking every name it uses.
    pub fn expr(&self, text: &str, names: &Names) -> Result<(Expr, Vec<CompileError>), Vec<CompileError>> {
        // Before anything parses it: every parser below recurses per part.
        super::size::check_size(text).map_err(|e| vec![e])?;
        let mut problems = Vec::new();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(vec![error(0, text.len(), "empty expression".into())]);
        }
        let (kind, vars) = if let Some(path) = parse_path(trimmed) {
            let var = std::iter::once(path.root.to_string()).chain(first_key(&path)).collect::<Vec<_>>().join(".");
            (ExprKind::Path(path), vec![var])
        } else {
            let compiled = self.env.compile(text).map_err(|e| vec![syntax_error(text, &e)])?;
            let mut vars: Vec<String> = compiled.undeclared_variables(true).into_iter().collect();
            // What runs: the same expression with each `*` bounded.
            let star = char_offset(text, text.find('*').unwrap_or(0));
            let compiled = self.env.compile_guarded(text).map_err(|m| vec![error(star, 1, m)])?.unwrap_or(compiled);
            vars.sort_by_key(|v| text.find(v.as_str()).unwrap_or(usize::MAX));
            match parse_simple(trimmed, &self.env.native_filters) {
                Some(simple) => (ExprKind::Native(simple, compiled), vars),
                None => (ExprKind::Jinja(compiled), vars),
            }
        };
        // minijinja lists a called function among the variables; it is checked as a function.
        let called: Vec<String> = scan_calls(text).into_iter().filter(|c| matches!(c.kind, CallKind::Function)).map(|c| c.name).collect();
        for var in vars.iter().filter(|v| !called.contains(v)) {
            check_name(text, var, names, &mut problems);
        }
        if problems.is_empty() {
            // Every name is known: now every path into what is known when the flow loads.
            super::shape::check_paths(text, names, &mut problems);
        }
        self.check_calls(text, &mut problems);
        super::arguments::check_constant_widths(text, &mut problems);
        check_plus(text, &mut problems);
        if problems.iter().any(|p| p.kind == CompileErrorKind::Error) {
            return Err(problems);
        }
        let mut expr = Expr { kind, text: text.to_string(), vars };
        if expr.vars.is_empty() {
            // Needs no record: its value, or its failure, is the same for every record.
            match expr.eval_constant() {
                Some(Ok(v)) => expr.kind = ExprKind::Const(v),
                Some(Err(e)) => return Err(vec![error(0, text.chars().count(), format!("the expression fails for every record: {e}"))]),
                None => {}
            }
        }
        Ok((expr, problems))
    }

    /// Compiles a message with `{{ … }}` placeholders.
    pub fn template(&self, text: &str, names: &Names) -> Result<(Template, Vec<CompileError>), Vec<CompileError>> {
        let mut parts = Vec::new();
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            let Some(end) = rest[start..].find("}}") else {
                errors.push(error(offset + start, 2, "`{{` is not closed by `}}`".into()));
                break;
            };
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let inner = &rest[start + 2..start + end];
            let inner_offset = offset + start + 2;
            match self.expr(inner, names) {
                Ok((e, w)) => {
                    parts.push(Part::Expr(e));
                    warnings.extend(w.into_iter().map(|p| shift(p, inner_offset)));
                }
                Err(es) => errors.extend(es.into_iter().map(|p| shift(p, inner_offset))),
            }
            offset += start + end + 2;
            rest = &rest[start + end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if errors.is_empty() { Ok((Template { parts, text: text.to_string() }, warnings)) } else { Err(errors) }
    }

    /// Filters, functions and tests are looked up when an expression runs;
    /// checking their names here reports a typo at load time.
    fn check_calls(&self, text: &str, problems: &mut Vec<CompileError>) {
        for call in scan_calls(text) {
            let (exists, known, what) = match call.kind {
                CallKind::Filter => (self.env.has_filter(&call.name), KNOWN_FILTERS, "filter"),
                CallKind::Function => (self.env.has_function(&call.name), KNOWN_FUNCTIONS, "function"),
                CallKind::Test => (self.env.has_test(&call.name), &[][..], "test"),
            };
            if !exists {
                let mut e = error(call.offset, call.name.chars().count(), format!("unknown {what} `{}`", call.name));
                let extra = if matches!(call.kind, CallKind::Filter) { self.env.system_filters.as_slice() } else { &[] };
                let candidates = known.iter().copied().chain(extra.iter().map(String::as_str));
                e.label = did_you_mean(&call.name, candidates).map(|n| format!("did you mean `{n}`?"));
                problems.push(e);
            }
        }
    }
}

fn first_key(path: &PathExpr) -> Option<String> {
    match path.segments.first() {
        Some(super::path::Segment::Key(k)) => k.as_str().map(str::to_string),
        _ => None,
    }
}

fn shift(mut p: CompileError, by: usize) -> CompileError {
    p.offset += by;
    p
}

fn error(offset: usize, len: usize, message: String) -> CompileError {
    CompileError { kind: CompileErrorKind::Error, message, offset, len, label: None, help: None }
}

fn char_offset(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.chars().count())
}

fn syntax_error(text: &str, e: &minijinja::Error) -> CompileError {
    let detail = e.detail().unwrap_or("syntax error");
    let (offset, len) = e
        .range()
        .map_or((0, text.chars().count()), |r| (char_offset(text, r.start), char_offset(text, r.end).saturating_sub(char_offset(text, r.start))));
    let mut err = error(offset.min(text.chars().count().saturating_sub(1)), len, format!("expression does not compile: {detail}"));
    if text.contains('{') && text.contains("{{") {
        err.help = Some("a mapping value is an expression already; write `order.id`, not `{{ order.id }}`".into());
    }
    err
}

fn check_name(text: &str, var: &str, names: &Names, problems: &mut Vec<CompileError>) {
    let mut parts = var.split('.');
    let root = parts.next().unwrap_or_default();
    let at = char_offset(text, text.find(var).unwrap_or(0));
    if !names.roots.contains(&root) {
        let mut e = error(at, root.chars().count(), format!("unknown name `{root}`"));
        e.label = did_you_mean(root, names.roots.iter().copied()).map(|n| format!("did you mean `{n}`?"));
        if e.label.is_none() {
            e.help = Some(format!("names available here: {}", names.roots.join(", ")));
        }
        problems.push(e);
        return;
    }
    let Some(second) = parts.next() else { return };
    let (list, what) = match root {
        "settings" => (names.settings, "setting"),
        "lookup" => (names.lookups, "lookup"),
        _ => return,
    };
    if !list.iter().any(|n| n == second) {
        let at = at + root.chars().count() + 1;
        let mut e = error(at, second.chars().count(), format!("unknown {what} `{second}`"));
        e.label = did_you_mean(second, list.iter().map(String::as_str)).map(|n| format!("did you mean `{n}`?"));
        if e.label.is_none() && !list.is_empty() {
            e.help = Some(format!("defined {what}s: {}", list.join(", ")));
        }
        problems.push(e);
    }
}

/// minijinja's `+` fails on text and a number at run time; a string literal
/// next to `+` is nearly always meant as joining text.
fn check_plus(text: &str, problems: &mut Vec<CompileError>) {
    let bytes = text.as_bytes();
    let mut in_str: Option<u8> = None;
    let mut last_str_end: Option<usize> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match in_str {
            Some(q) if b == q => {
                in_str = None;
                last_str_end = Some(i);
            }
            Some(_) => {}
            None if b == b'"' || b == b'\'' => {
                in_str = Some(b);
            }
            None if b == b'+' => {
                let before = last_str_end.is_some_and(|e| text[e + 1..i].trim().is_empty());
                let after = text[i + 1..].trim_start().starts_with(['"', '\'']);
                if before || after {
                    problems.push(CompileError {
                        kind: CompileErrorKind::Warning,
                        message: "`+` adds numbers; it fails when text meets a number".into(),
                        offset: char_offset(text, i),
                        len: 1,
                        label: Some("use `~` to join text".into()),
                        help: None,
                    });
                }
            }
            None => {}
        }
    }
}

/// Words of the expression language that may stand before `(` without being a call.
const KEYWORDS: [&str; 9] = ["and", "or", "not", "if", "else", "in", "is", "true", "false"];

pub(super) enum CallKind {
    Filter,
    Function,
    Test,
}

pub(super) struct Call {
    pub kind: CallKind,
    pub name: String,
    /// Character offset of the name.
    pub offset: usize,
}

/// Finds filter (`| name`), test (`is name`) and function (`name(`) names
/// outside string literals.
pub(super) fn scan_calls(text: &str) -> Vec<Call> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_token = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i += 1;
            prev_token = "str".into();
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace()).copied();
            if prev_token == "|" {
                out.push(Call { kind: CallKind::Filter, name: word.clone(), offset: start });
            } else if (prev_token == "is" || prev_token == "is not") && word != "not" {
                out.push(Call { kind: CallKind::Test, name: word.clone(), offset: start });
            } else if next == Some('(') && prev_token != "." && !KEYWORDS.contains(&word.as_str()) {
                out.push(Call { kind: CallKind::Function, name: word.clone(), offset: start });
            }
            prev_token = if prev_token == "is" && word == "not" { "is not".into() } else { word };
            continue;
        }
        if !c.is_whitespace() {
            prev_token = c.to_string();
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str) -> Result<String, Vec<String>> {
        let env = ExprEnv::new(&Vec::new()).expect("environment");
        let settings = vec!["currency".to_string()];
        let names = Names { roots: &["order", "settings"], settings: &settings, lookups: &[], shapes: &[] };
        Compiler { env: &env }.expr(text, &names).map(|(e, _)| e.text).map_err(|es| es.into_iter().map(|e| e.message).collect())
    }

    #[test]
    fn keywords_before_a_parenthesis_are_not_calls() {
        assert!(compile("order.currency or (settings.currency | upper)").is_ok());
        assert!(compile("not (order.id > 1) and (order.id < 9)").is_ok());
        assert_eq!(compile("nosuch(order.id)"), Err(vec!["unknown function `nosuch`".to_string()]));
    }

    #[test]
    fn what_fails_for_every_record_is_a_compile_error() {
        assert_eq!(
            compile("'x' * 9999999999999"),
            Err(vec![
                "the expression fails for every record: `*` would make 9999999999999 characters (1 × 9999999999999), more than 10000, the largest flowmap allows"
                    .to_string()
            ])
        );
        assert_eq!(
            compile("'%99999d' | format(1)"),
            Err(vec!["the expression fails for every record: format width 99999 is more than 10000, the largest flowmap allows".to_string()])
        );
        assert_eq!(compile("order.id | lpad(99999)"), Err(vec!["lpad width 99999 is more than 10000, the largest flowmap allows".to_string()]));
        // Names minijinja does not list (in a slice) are still read from the record.
        assert!(compile("order.ref[2:]").is_ok());
    }

    #[test]
    fn names_settings_and_filters_are_checked() {
        assert_eq!(compile("ordr.id"), Err(vec!["unknown name `ordr`".to_string()]));
        assert_eq!(compile("settings.curency"), Err(vec!["unknown setting `curency`".to_string()]));
        assert_eq!(compile("order.id | uper"), Err(vec!["unknown filter `uper`".to_string()]));
    }
}
