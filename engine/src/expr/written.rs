//! The variable paths an expression's text reads, as written, with the place
//! of each part: `order.lines[0].sku` is the root `order`, the key `lines`, an
//! index and the key `sku`. The checks of `super::shape` walk them.

/// A path as written: a variable and the parts that follow it.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenPath {
    pub root: String,
    /// Character offset of the root in the expression.
    pub offset: usize,
    pub parts: Vec<WrittenPart>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WrittenPart {
    pub step: Step,
    /// Character offset and length of the part (a key's name, or the brackets).
    pub offset: usize,
    pub len: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name` or `["name"]`
    Key(String),
    /// `[0]`
    Index,
    /// `[other.path]`, `[1:]`: known only when a record runs.
    Dynamic,
}

/// Words that stand where a variable could, and are none.
const KEYWORDS: [&str; 15] = ["and", "or", "not", "if", "else", "in", "is", "true", "false", "none", "True", "False", "None", "recursive", "loop"];

/// Every variable path in `text`, outside string literals; filter, test,
/// function and method names and keyword arguments are not paths.
pub fn written_paths(text: &str) -> Vec<WrittenPath> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    scan(&chars, 0, chars.len(), &mut out);
    out
}

fn scan(chars: &[char], start: usize, end: usize, out: &mut Vec<WrittenPath>) {
    let mut i = start;
    let mut prev = String::new();
    while i < end {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i = skip_string(chars, i, end);
            prev = "str".into();
            continue;
        }
        if c.is_ascii_digit() {
            // A number (`1.5`, `2e3`): no name starts inside it.
            while i < end && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            prev = "number".into();
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let word_start = i;
            i = ident_end(chars, i, end);
            let word: String = chars[word_start..i].iter().collect();
            let next = next_char(chars, i, end);
            let is_name = prev != "." && prev != "|" && prev != "is" && prev != "is not" && !KEYWORDS.contains(&word.as_str());
            let is_call = next == Some('(');
            let is_keyword_argument = next == Some('=') && next_char(chars, skip_spaces(chars, i, end) + 1, end) != Some('=');
            if is_name && !is_call && !is_keyword_argument {
                let (parts, after) = parts(chars, i, end, out);
                out.push(WrittenPath { root: word.clone(), offset: word_start, parts });
                i = after;
                prev = "path".into();
                continue;
            }
            prev = if prev == "is" && word == "not" { "is not".into() } else { word };
            continue;
        }
        if !c.is_whitespace() {
            prev = c.to_string();
        }
        i += 1;
    }
}

/// The parts after a root at `i`; paths inside brackets are scanned too.
fn parts(chars: &[char], mut i: usize, end: usize, out: &mut Vec<WrittenPath>) -> (Vec<WrittenPart>, usize) {
    let mut parts = Vec::new();
    while i < end {
        match chars[i] {
            '.' if i + 1 < end && (chars[i + 1].is_alphabetic() || chars[i + 1] == '_') => {
                let key_end = ident_end(chars, i + 1, end);
                // `.upper()`: a method, not a part of the path.
                if next_char(chars, key_end, end) == Some('(') {
                    break;
                }
                parts.push(WrittenPart { step: Step::Key(chars[i + 1..key_end].iter().collect()), offset: i + 1, len: key_end - i - 1 });
                i = key_end;
            }
            '[' => {
                let Some(close) = closing_bracket(chars, i, end) else { break };
                let inner: String = chars[i + 1..close].iter().collect();
                let trimmed = inner.trim();
                let step = if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit()) {
                    Step::Index
                } else if let Some(key) = quoted(trimmed) {
                    Step::Key(key)
                } else {
                    scan(chars, i + 1, close, out);
                    Step::Dynamic
                };
                parts.push(WrittenPart { step, offset: i, len: close + 1 - i });
                i = close + 1;
            }
            _ => break,
        }
    }
    (parts, i)
}

/// `"name"` or `'name'` without escapes: the name.
fn quoted(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote) && !inner.contains('\\')).then(|| inner.to_string())
}

fn closing_bracket(chars: &[char], open: usize, end: usize) -> Option<usize> {
    let mut depth = 0;
    let mut i = open;
    while i < end {
        match chars[i] {
            '"' | '\'' => {
                i = skip_string(chars, i, end);
                continue;
            }
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn skip_string(chars: &[char], open: usize, end: usize) -> usize {
    let quote = chars[open];
    let mut i = open + 1;
    while i < end && chars[i] != quote {
        i += if chars[i] == '\\' { 2 } else { 1 };
    }
    (i + 1).min(end)
}

fn ident_end(chars: &[char], mut i: usize, end: usize) -> usize {
    while i < end && (chars[i].is_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    i
}

fn skip_spaces(chars: &[char], mut i: usize, end: usize) -> usize {
    while i < end && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

fn next_char(chars: &[char], i: usize, end: usize) -> Option<char> {
    let i = skip_spaces(chars, i, end);
    (i < end).then(|| chars[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> Vec<String> {
        written_paths(text)
            .into_iter()
            .map(|p| {
                let mut s = format!("{}@{}", p.root, p.offset);
                for part in p.parts {
                    match part.step {
                        Step::Key(k) => s.push_str(&format!(".{k}@{}", part.offset)),
                        Step::Index => s.push_str("[0]"),
                        Step::Dynamic => s.push_str("[?]"),
                    }
                }
                s
            })
            .collect()
    }

    #[test]
    fn paths_with_their_places() {
        assert_eq!(shown("order.lines[0].sku"), vec!["order@0.lines@6[0].sku@15"]);
        assert_eq!(shown("lookup.item[line.sku]"), vec!["line@12.sku@17", "lookup@0.item@7[?]"]);
        assert_eq!(shown("settings['a'].b"), vec!["settings@0.a@8.b@14"]);
        assert_eq!(shown("order.ref[2:]"), vec!["order@0.ref@6[?]"]);
    }

    #[test]
    fn names_that_are_not_variables_are_left_out() {
        assert_eq!(shown("'order.x' ~ order.id | default(x='a') is defined"), vec!["order@12.id@18"]);
        assert_eq!(shown("now() if 1.5 else order.name.upper()"), vec!["order@18.name@24"]);
        assert_eq!(shown("order.x is not none and not order.y"), vec!["order@0.x@6", "order@28.y@34"]);
    }
}
