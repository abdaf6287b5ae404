//! Constant arguments of filters, checked when the flow loads: a width or
//! count written in the expression (`lpad(9223372036854775807)`) would fail
//! for every record, so it is a `check` error at the number instead.

use super::compile::{CallKind, CompileError, CompileErrorKind, scan_calls};
use super::functions::{WIDTH_ARGUMENTS, width_problem};

/// Every width or count written as a number that is larger than the filters allow.
pub fn check_constant_widths(text: &str, problems: &mut Vec<CompileError>) {
    let chars: Vec<char> = text.chars().collect();
    for call in scan_calls(text) {
        if !matches!(call.kind, CallKind::Filter) {
            continue;
        }
        for &(filter, position, keyword, word) in WIDTH_ARGUMENTS.iter().filter(|(f, ..)| *f == call.name) {
            let after_name = call.offset + call.name.chars().count();
            for (index, arg) in arguments(&chars, after_name).into_iter().enumerate() {
                let (name, value, at) = split_keyword(&chars, arg);
                let this = match name {
                    Some(n) => Some(n.as_str()) == keyword,
                    None => index == position,
                };
                let literal: String = chars[value.clone()].iter().collect();
                let digits = literal.strip_prefix('+').unwrap_or(&literal);
                if !this || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                if let Some(message) = width_problem(&format!("{filter} {word}"), digits.parse().unwrap_or(u128::MAX)) {
                    problems.push(CompileError { kind: CompileErrorKind::Error, message, offset: at, len: value.len(), label: None, help: None });
                }
            }
        }
    }
}

/// The character ranges of the arguments in `(…)` right after `from`
/// (spaces around each trimmed), split at top-level commas.
fn arguments(chars: &[char], from: usize) -> Vec<std::ops::Range<usize>> {
    let mut i = from;
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    if chars.get(i) != Some(&'(') {
        return Vec::new();
    }
    let (mut out, mut depth, mut start) = (Vec::new(), 0usize, i + 1);
    i += 1;
    while let Some(&c) = chars.get(i) {
        match c {
            '"' | '\'' => {
                i += 1;
                while chars.get(i).is_some_and(|&d| d != c) {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth > 0 => depth -= 1,
            ',' | ')' if depth == 0 => {
                out.push(trim(chars, start..i));
                if c == ')' {
                    return out;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// `width=12` → (Some("width"), the range of `12`, its offset); anything else is positional.
fn split_keyword(chars: &[char], arg: std::ops::Range<usize>) -> (Option<String>, std::ops::Range<usize>, usize) {
    let name_end = (arg.start..arg.end).find(|&i| !(chars[i].is_alphanumeric() || chars[i] == '_')).unwrap_or(arg.end);
    let mut eq = name_end;
    while eq < arg.end && chars[eq].is_whitespace() {
        eq += 1;
    }
    if name_end > arg.start && chars.get(eq) == Some(&'=') && chars.get(eq + 1) != Some(&'=') && eq < arg.end {
        let value = trim(chars, eq + 1..arg.end);
        let name = chars[arg.start..name_end].iter().collect();
        return (Some(name), value.clone(), value.start);
    }
    (None, arg.clone(), arg.start)
}

fn trim(chars: &[char], mut r: std::ops::Range<usize>) -> std::ops::Range<usize> {
    while r.start < r.end && chars[r.start].is_whitespace() {
        r.start += 1;
    }
    while r.end > r.start && chars[r.end - 1].is_whitespace() {
        r.end -= 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        check_constant_widths(text, &mut out);
        out.into_iter().map(|p| (p.offset, p.len, p.message)).collect()
    }

    #[test]
    fn a_constant_width_too_large_is_found_at_its_digits() {
        assert_eq!(
            problems("order.id | lpad(9223372036854775807, '0')"),
            [(16, 19, "lpad width 9223372036854775807 is more than 10000, the largest flowmap allows".to_string())]
        );
        assert_eq!(problems("x | indent(first=true, width = 20000)").len(), 1);
        assert_eq!(problems("x | batch( +99999 ) | list").len(), 1);
        assert_eq!(
            problems("x | rpad(99999999999999999999999999999999999999999)")[0].2,
            "rpad width 340282366920938463463374607431768211455 is more than 10000, the largest flowmap allows"
        );
    }

    #[test]
    fn widths_within_bounds_and_other_arguments_pass() {
        for text in [
            "x | lpad(18)",
            "x | lpad(10000)",
            "x | lpad(n)",
            "x | lpad(18, '99999999')",
            "x | indent(2, 99999)",
            "x | slice(3, 99999)",
            "x | lpad((99999))",
            "x | replace('a', 'b', 99999)",
            "'x | lpad(99999)'",
        ] {
            assert_eq!(problems(text), [], "{text}");
        }
    }
}
