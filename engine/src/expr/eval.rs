use minijinja::Value;

use super::compile::{Expr, ExprKind, Part, Template};
use super::error::EvalError;
use super::scope::Scope;
use super::simple::Native;

impl Expr {
    /// Evaluates for one record. Never returns Undefined.
    pub fn eval(&self, scope: &Scope) -> Result<Value, EvalError> {
        match &self.kind {
            ExprKind::Const(v) => Ok(v.clone()),
            ExprKind::Path(p) => p.eval(scope).map_err(|m| EvalError::Missing(m.0)),
            ExprKind::Native(s, e) => match s.eval(scope) {
                Ok(v) => Ok(v),
                Err(Native::Missing(path)) => Err(EvalError::Missing(path)),
                Err(Native::Fallback) => self.vm(e, scope),
            },
            ExprKind::Jinja(e) => self.vm(e, scope),
        }
    }

    fn vm(&self, e: &minijinja::Expression<'static, 'static>, scope: &Scope) -> Result<Value, EvalError> {
        match e.eval(scope.to_context()) {
            Ok(v) if v.is_undefined() => Err(self.missing(scope)),
            Ok(v) => Ok(v),
            Err(err) if err.kind() == minijinja::ErrorKind::UndefinedError => Err(self.missing(scope)),
            Err(err) => Err(EvalError::from_minijinja(&err)),
        }
    }

    /// For an expression that names no variable: its value, or the error it
    /// gives every record. None when it reads a name after all: minijinja
    /// does not list every name it reads (not those in a slice, `a.b[2:]`).
    pub(super) fn eval_constant(&self) -> Option<Result<Value, EvalError>> {
        let e = match &self.kind {
            ExprKind::Const(v) => return Some(Ok(v.clone())),
            ExprKind::Path(_) => return None,
            ExprKind::Native(_, e) | ExprKind::Jinja(e) => e,
        };
        match e.eval(Scope::new().to_context()) {
            Ok(v) if v.is_undefined() => None,
            Ok(v) => Some(Ok(v)),
            Err(err) if err.kind() == minijinja::ErrorKind::UndefinedError => None,
            Err(err) => Some(Err(EvalError::from_minijinja(&err))),
        }
    }

    /// Like `eval`, but a missing value is `None` instead of an error
    /// (for optional fields and `when` conditions over optional data).
    pub fn eval_opt(&self, scope: &Scope) -> Result<Option<Value>, EvalError> {
        match self.eval(scope) {
            Ok(v) => Ok(Some(v)),
            Err(EvalError::Missing(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A condition (`when`, `where`): true only for a true value; a missing value is false.
    pub fn holds(&self, scope: &Scope) -> Result<bool, EvalError> {
        Ok(self.eval_opt(scope)?.is_some_and(|v| v.is_true()))
    }

    /// Finds which of the expression's paths does not resolve, to name it.
    fn missing(&self, scope: &Scope) -> EvalError {
        for var in &self.vars {
            let mut parts = var.split('.');
            let root = parts.next().unwrap_or_default();
            let Some(mut current) = scope.get(root).cloned() else {
                return EvalError::Missing(root.to_string());
            };
            let mut shown = root.to_string();
            for part in parts {
                shown.push('.');
                shown.push_str(part);
                match current.get_attr(part) {
                    Ok(v) if !v.is_undefined() => current = v,
                    _ => return EvalError::Missing(shown),
                }
            }
        }
        EvalError::Failed(format!("`{}` gave no value", self.text))
    }
}

impl Template {
    pub fn render(&self, scope: &Scope) -> Result<String, EvalError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => {
                    let v = e.eval(scope)?;
                    match v.as_str() {
                        Some(s) => out.push_str(s),
                        None => out.push_str(&v.to_string()),
                    }
                }
            }
        }
        Ok(out)
    }

    /// Renders, and if a placeholder fails says so in the text rather than losing the message.
    pub fn render_lossy(&self, scope: &Scope) -> String {
        self.render(scope).unwrap_or_else(|e| format!("{} (message could not be rendered: {e})", self.text))
    }
}
