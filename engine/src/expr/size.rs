//! The size of an expression, checked before anything parses it.
//!
//! minijinja's parser, compiler and drop, and the native subset's parser and
//! evaluator, each recurse once per operator, filter, dot or bracket of a
//! chain (`a ~ b ~ c …`, `x | f | g …`, `not not …`): an expression of a few
//! thousand parts overflows a worker thread's stack and aborts the process.
//! Counting parts is one pass over the text with no recursion; see
//! `crate::limits` for the bounds and why.

use super::compile::{CompileError, CompileErrorKind};
use crate::limits::{MAX_EXPR_CHARS, MAX_EXPR_NESTING, MAX_EXPR_TOKENS};

/// An error at the first character or part past the limits, if the text is too big.
pub fn check_size(text: &str) -> Result<(), CompileError> {
    if let Some((_, _)) = text.char_indices().nth(MAX_EXPR_CHARS) {
        return Err(too_big(
            MAX_EXPR_CHARS,
            format!("the expression is longer than {} characters", thousands(MAX_EXPR_CHARS)),
            "the rest of the expression starts here",
        ));
    }
    let (mut count, mut depth) = (0, 0usize);
    for (offset, first) in parts(text) {
        count += 1;
        if count > MAX_EXPR_TOKENS {
            return Err(too_big(
                offset,
                format!("the expression has more than {MAX_EXPR_TOKENS} parts (names, values, operators)"),
                &format!("part {count}"),
            ));
        }
        match first {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_EXPR_NESTING {
            return Err(too_big(offset, format!("the expression nests more than {MAX_EXPR_NESTING} brackets deep"), &format!("level {depth}")));
        }
    }
    Ok(())
}

/// The most brackets open at once.
pub fn max_nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0);
    for (_, first) in parts(text) {
        match first {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        max = max.max(depth);
    }
    max
}

fn too_big(offset: usize, message: String, label: &str) -> CompileError {
    CompileError {
        kind: CompileErrorKind::Error,
        message,
        offset,
        len: 1,
        label: Some(label.to_string()),
        help: Some("split it up: a table in `settings` for `translate`, or a filter in the system's YAML".into()),
    }
}

/// The character offset and first character of each part of the expression: a name or
/// number, a quoted string (escapes included), a two-character operator, or
/// any other single character that is not a space. Every level any parser
/// nests starts with one of these, so their count bounds the depth.
fn parts(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut chars = text.chars().enumerate().peekable();
    std::iter::from_fn(move || {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let (at, c) = chars.next()?;
        match c {
            '"' | '\'' => {
                let mut escaped = false;
                for (_, d) in chars.by_ref() {
                    match d {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        _ if d == c => break,
                        _ => {}
                    }
                }
            }
            // A dot is always a part of its own (`1.5` counts 3): counting too many is safe, too few is not.
            c if c.is_alphanumeric() || c == '_' => while chars.next_if(|(_, d)| d.is_alphanumeric() || *d == '_').is_some() {},
            '=' | '!' | '<' | '>' | '/' | '*' => {
                chars.next_if(|(_, d)| *d == '=' || (*d == c && matches!(c, '/' | '*')));
            }
            _ => {}
        }
        Some((at, c))
    })
}

/// `4096` → `4,096`, as figures are written in messages.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str) -> usize {
        parts(text).count()
    }

    #[test]
    fn parts_are_names_values_and_operators() {
        assert_eq!(count(r#""PO" ~ order.line.id"#), 7);
        assert_eq!(count("a >= 1.5 and not b"), 8);
        assert_eq!(count(r#"'it\'s' ~ "a \" b""#), 3);
        assert_eq!(count("x // 2 ** 3"), 5);
        assert_eq!(count("  "), 0);
        assert_eq!(count("'unterminated"), 1);
    }

    #[test]
    fn the_first_part_too_many_is_pointed_at() {
        let at_limit = vec!["a"; MAX_EXPR_TOKENS / 2 + 1].join("~");
        assert_eq!(count(&at_limit), MAX_EXPR_TOKENS + 1);
        let e = check_size(&at_limit).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str(), e.label.as_deref()),
            (MAX_EXPR_TOKENS, "the expression has more than 300 parts (names, values, operators)", Some("part 301"))
        );
        assert!(check_size(&at_limit[..at_limit.len() - 2]).is_ok());
    }

    #[test]
    fn brackets_nest_at_most_so_deep() {
        let deep = format!("{}1{}", "(".repeat(MAX_EXPR_NESTING + 1), ")".repeat(MAX_EXPR_NESTING + 1));
        let e = check_size(&deep).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str(), e.label.as_deref()),
            (MAX_EXPR_NESTING, "the expression nests more than 32 brackets deep", Some("level 33"))
        );
        assert!(check_size(&format!("{}1{}", "[(".repeat(MAX_EXPR_NESTING / 2), ")]".repeat(MAX_EXPR_NESTING / 2))).is_ok());
    }

    #[test]
    fn a_long_expression_is_cut_at_the_limit() {
        let long = format!("'{}'", "é".repeat(MAX_EXPR_CHARS));
        let e = check_size(&long).unwrap_err();
        assert_eq!((e.offset, e.message.as_str()), (MAX_EXPR_CHARS, "the expression is longer than 4,096 characters"));
        assert!(check_size(&long[..long.len() - 3]).is_ok(), "4,096 characters are allowed");
    }
}
