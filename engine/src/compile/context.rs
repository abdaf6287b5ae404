use indexmap::IndexMap;

use crate::diagnostic::Diagnostic;
use crate::expr::{CompileError, CompileErrorKind, Compiler, Expr, Names, Shape, Template};
use crate::load::SpanIndex;

/// What the compiler carries while it walks one flow: where each node was
/// written, and the problems found so far (all are reported in one pass).
pub struct Ctx<'a> {
    pub spans: &'a SpanIndex,
    pub compiler: Compiler<'a>,
    pub settings: Vec<String>,
    /// The settings' values as the flow loads: a mapping that writes one writes a constant.
    pub setting_values: IndexMap<String, serde_json::Value>,
    pub lookups: Vec<String>,
    /// What variables are known to hold (`settings`, the record, `lookup`, an `each` entry), innermost last.
    pub shapes: Vec<(&'static str, Shape)>,
    pub problems: Vec<Diagnostic>,
    /// Names the flow adds wherever look-ups are in scope (`previous`, with `source.version`).
    pub stage_roots: Vec<&'static str>,
}

impl Ctx<'_> {
    pub fn error(&mut self, d: Diagnostic) {
        self.problems.push(d);
    }

    /// Compiles the expression written at `pointer`, with `roots` in scope.
    pub fn expr(&mut self, pointer: &str, text: &str, roots: &[&str]) -> Option<Expr> {
        let roots = &self.with_stage_roots(roots);
        let names = Names { roots, settings: &self.settings, lookups: &self.lookups, shapes: &self.shapes };
        match self.compiler.expr(text, &names) {
            Ok((e, warnings)) => {
                self.report(pointer, warnings);
                Some(e)
            }
            Err(errors) => {
                self.report(pointer, errors);
                None
            }
        }
    }

    /// Compiles what `each` walks, and makes `alias` an entry of it for what follows,
    /// until `end_each`.
    pub fn each(&mut self, pointer: &str, text: &str, roots: &[&str], alias: &'static str) -> Option<Expr> {
        let roots = &self.with_stage_roots(roots);
        let names = Names { roots, settings: &self.settings, lookups: &self.lookups, shapes: &self.shapes };
        let entry = crate::expr::shape::shape_of(text, &names).entry();
        let each = self.expr(pointer, text, roots);
        self.shapes.push((alias, entry));
        each
    }

    /// The end of what an `each` entry's alias is known in.
    pub fn end_each(&mut self) {
        self.shapes.pop();
    }

    pub fn template(&mut self, pointer: &str, text: &str, roots: &[&str]) -> Option<Template> {
        let roots = &self.with_stage_roots(roots);
        let names = Names { roots, settings: &self.settings, lookups: &self.lookups, shapes: &self.shapes };
        match self.compiler.template(text, &names) {
            Ok((t, warnings)) => {
                self.report(pointer, warnings);
                Some(t)
            }
            Err(errors) => {
                self.report(pointer, errors);
                None
            }
        }
    }

    /// `roots`, and where look-ups are in scope, the names the flow adds there.
    fn with_stage_roots<'r>(&self, roots: &[&'r str]) -> Vec<&'r str> {
        let mut all = roots.to_vec();
        if roots.contains(&"lookup") {
            all.extend(self.stage_roots.iter().copied());
        }
        all
    }

    fn report(&mut self, pointer: &str, problems: Vec<CompileError>) {
        for p in problems {
            let d = match p.kind {
                CompileErrorKind::Warning => Diagnostic::warning(p.message),
                CompileErrorKind::Error => Diagnostic::error(p.message),
            };
            let mut d = d.at(self.spans.text_loc(pointer, p.offset, p.len));
            if let Some(l) = p.label {
                d = d.label(l);
            }
            if let Some(h) = p.help {
                d = d.help(h);
            }
            self.problems.push(d);
        }
    }

    /// `file:line:col` of the key at `pointer`, for block reasons.
    pub fn origin(&self, pointer: &str) -> String {
        self.spans.key_loc(pointer).map(|l| l.to_string()).unwrap_or_default()
    }
}
