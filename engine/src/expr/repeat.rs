//! `*` on text and lists, bounded.
//!
//! minijinja's `*` repeats text up to 100 MB and a tuple up to 100 million
//! items, allocated at once, and a list lazily up to 100 million items (which
//! `| list` or `| join` then make): `'-' * order.count` with a large count
//! in a record would take the process's memory. An operator has no hook, so
//! the expression that runs is the one written with every `a * b` read as
//! `a | __times(b)`: the filter checks what a repetition would make against
//! `MAX_WIDTH` and then multiplies with minijinja's own `*`, so numbers
//! multiply exactly as before. Positions in the text, names and checks all
//! come from the expression as written.

use std::sync::OnceLock;

use minijinja::machinery::ast::{BinOpKind, CallArg, Expr as Ast, UnaryOpKind};
use minijinja::value::ValueKind;
use minijinja::{Environment, Error, ErrorKind, Expression, Value};

use crate::limits::{MAX_EXPR_NESTING, MAX_WIDTH};

/// The filter `*` is read as.
pub const TIMES: &str = "__times";

/// The text to run instead of `text` when it multiplies (None when it does
/// not), or why it cannot run: the parentheses the rewrite adds around a
/// `/`, `**` or sign before a `*` would nest too deep to parse safely.
pub fn guarded(text: &str) -> Result<Option<String>, String> {
    let Some(rewritten) = guard_multiplication(text) else { return Ok(None) };
    if super::size::max_nesting(&rewritten) > MAX_EXPR_NESTING {
        return Err(format!("with each `*` checked, the expression nests more than {MAX_EXPR_NESTING} brackets deep"));
    }
    Ok(Some(rewritten))
}

/// `text` with every `a * b` read as `a | __times(b)`; None when it does not multiply.
pub fn guard_multiplication(text: &str) -> Option<String> {
    if !text.contains('*') {
        return None;
    }
    let ast = minijinja::machinery::parse_expr(text).ok()?;
    let mut edits = Vec::new();
    collect(&ast, text, &mut edits);
    if edits.is_empty() {
        return None;
    }
    // At one position a closing parenthesis (the end of an operand before it) goes
    // before an opening one (the start of an operand after it).
    edits.sort_by_key(|e| (e.at, e.order));
    let mut out = String::with_capacity(text.len() + edits.len() * 12);
    let mut from = 0;
    for e in edits {
        out.push_str(&text[from..e.at]);
        out.push_str(e.insert);
        from = e.at + e.replaces;
    }
    out.push_str(&text[from..]);
    Some(out)
}

struct Edit {
    at: usize,
    replaces: usize,
    insert: &'static str,
    order: u8,
}

fn collect(e: &Ast<'_>, text: &str, edits: &mut Vec<Edit>) {
    let mut walk = |e: &Ast<'_>| collect(e, text, edits);
    match e {
        Ast::Var(_) | Ast::Const(_) => {}
        Ast::Slice(s) => {
            walk(&s.expr);
            for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                walk(part);
            }
        }
        Ast::UnaryOp(u) => walk(&u.expr),
        Ast::BinOp(b) => {
            walk(&b.left);
            walk(&b.right);
            if matches!(b.op, BinOpKind::Mul) {
                times(&b.left, &b.right, text, edits);
            }
        }
        Ast::Compare(c) => {
            walk(&c.expr);
            c.ops.iter().for_each(|op| walk(&op.expr));
        }
        Ast::IfExpr(i) => {
            walk(&i.test_expr);
            walk(&i.true_expr);
            if let Some(f) = &i.false_expr {
                walk(f);
            }
        }
        Ast::Filter(f) => {
            if let Some(x) = &f.expr {
                walk(x);
            }
            f.args.iter().for_each(|a| walk(arg(a)));
        }
        Ast::Test(t) => {
            walk(&t.expr);
            t.args.iter().for_each(|a| walk(arg(a)));
        }
        Ast::GetAttr(g) => walk(&g.expr),
        Ast::GetItem(g) => {
            walk(&g.expr);
            walk(&g.subscript_expr);
        }
        Ast::Call(c) => {
            walk(&c.expr);
            c.args.iter().for_each(|a| walk(arg(a)));
        }
        Ast::List(l) => l.items.iter().for_each(walk),
        Ast::Tuple(t) => t.items.iter().for_each(walk),
        Ast::Map(m) => m.keys.iter().chain(&m.values).for_each(walk),
    }
}

fn arg<'a>(a: &'a CallArg<'a>) -> &'a Ast<'a> {
    match a {
        CallArg::Pos(e) | CallArg::Kwarg(_, e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) => e,
    }
}

/// `left * right` → `left | __times(right)`. A filter binds tighter than
/// `/`, `%`, `**` and a sign, so such a left operand is put in parentheses
/// (`a / b * c` is `(a / b) * c`); another `*` on the left needs none
/// (`a * b * c` is `a | __times(b) | __times(c)`).
fn times(left: &Ast<'_>, right: &Ast<'_>, text: &str, edits: &mut Vec<Edit>) {
    let (l, r) = (left.span(), right.span());
    let (left_end, right_start) = (l.end_offset as usize, r.start_offset as usize);
    let Some(star) = text.get(left_end..right_start).and_then(|between| between.find('*')).map(|i| left_end + i) else { return };
    let wrap = match left {
        Ast::BinOp(b) => !matches!(b.op, BinOpKind::Mul),
        Ast::UnaryOp(u) => matches!(u.op, UnaryOpKind::Neg | UnaryOpKind::Not),
        Ast::IfExpr(_) | Ast::Compare(_) | Ast::Test(_) => true,
        _ => false,
    };
    if wrap {
        edits.push(Edit { at: l.start_offset as usize, replaces: 0, insert: "(", order: 1 });
        edits.push(Edit { at: left_end, replaces: 0, insert: ")", order: 0 });
    }
    edits.push(Edit { at: star, replaces: 1, insert: "| __times(", order: 2 });
    edits.push(Edit { at: r.end_offset as usize, replaces: 0, insert: ")", order: 0 });
}

/// `a * b`, once what it would repeat is known to be within `MAX_WIDTH`.
pub fn times_filter(a: Value, b: Value) -> Result<Value, Error> {
    if a.is_undefined() || b.is_undefined() {
        // As the operator would in strict mode: the caller names the missing path.
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    for (unit, count) in [(&a, &b), (&b, &a)] {
        let Some(count) = count.as_i64().filter(|_| count.kind() == ValueKind::Number) else { continue };
        let (size, what) = match unit.as_str() {
            Some(s) => (s.chars().count(), "characters"),
            None if matches!(unit.kind(), ValueKind::Seq | ValueKind::Iterable) => match unit.len() {
                Some(n) => (n, "items"),
                None => continue,
            },
            None => continue,
        };
        let made = size as u128 * count.max(0) as u128;
        if made > MAX_WIDTH as u128 {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("`*` would make {made} {what} ({size} × {count}), more than {MAX_WIDTH}, the largest flowmap allows"),
            ));
        }
    }
    multiply().eval(minijinja::context! { a, b })
}

/// minijinja's own `a * b`.
fn multiply() -> &'static Expression<'static, 'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    static MUL: OnceLock<Expression<'static, 'static>> = OnceLock::new();
    MUL.get_or_init(|| ENV.get_or_init(Environment::new).compile_expression("a * b").expect("`a * b` compiles"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_multiplication_is_read_as_the_filter_with_the_same_precedence() {
        for (written, read) in [
            ("a * b", "a | __times( b)"),
            ("a * b * c", "a | __times( b) | __times( c)"),
            ("x + a * b", "x + a | __times( b)"),
            ("a * b + c", "a | __times( b) + c"),
            ("2 ** 3 * 4", "(2 ** 3) | __times( 4)"),
            ("a / b * c", "(a / b) | __times( c)"),
            ("-a * b", "(-a) | __times( b)"),
            ("a * -b", "a | __times( -b)"),
            ("(a + b) * c", "((a + b)) | __times( c)"),
            ("a * (b * c)", "a | __times( (b | __times( c)))"),
            ("f(a * b, [c * 2])", "f(a | __times( b), [c | __times( 2)])"),
            ("'*' ~ a ** 2", "'*' ~ a ** 2"),
        ] {
            assert_eq!(guard_multiplication(written).unwrap_or_else(|| written.to_string()), read, "{written}");
        }
    }

    #[test]
    fn numbers_multiply_as_before_and_repetition_is_bounded() {
        let env = {
            let mut env = Environment::new();
            env.add_filter(TIMES, times_filter);
            env
        };
        let eval = |text: &str| {
            let guarded = guard_multiplication(text).unwrap_or_else(|| text.to_string());
            env.compile_expression(&guarded)
                .unwrap()
                .eval(minijinja::context! { n => i64::MAX, q => 3, p => 1.5 })
                .map(|v| v.to_string())
                .map_err(|e| e.to_string())
        };
        for (text, expected) in
            [("q * p", "4.5"), ("2 ** 3 * 4", "32"), ("12 / 4 * 3", "9.0"), ("-q * 2", "-6"), ("'ab' * 3", "ababab"), ("[1] * 2", "[1, 1]")]
        {
            assert_eq!(eval(text), Ok(expected.to_string()), "{text}");
        }
        assert_eq!(
            eval("'-' * n"),
            Err("invalid operation: `*` would make 9223372036854775807 characters (1 × 9223372036854775807), more than 10000, the largest flowmap allows (in <expression>:1)".to_string())
        );
        assert!(eval("(1, 2) * 5001").unwrap_err().contains("`*` would make 10002 items (2 × 5001), more than 10000"));
        assert_eq!(eval("n * n"), Ok("85070591730234615847396907784232501249".to_string()), "integers widen as minijinja's do");
    }
}
