//! JMESPath selectors (`records`, `paging.next`, …), compiled within bounds:
//! the jmespath parser and interpreter recurse per bracket, parenthesis,
//! brace, `!` and `&`, and a few hundred of them overflow a worker thread's
//! stack. See `crate::limits`.

use std::fmt;

use crate::limits::{MAX_JMESPATH_CHARS, MAX_JMESPATH_NESTING};

pub enum SelectorError {
    /// Longer or more nested than flowmap allows.
    TooBig(String),
    Invalid(jmespath::JmespathError),
}

impl SelectorError {
    /// The reason alone, without jmespath's quote of the expression.
    pub fn reason(&self) -> String {
        match self {
            SelectorError::TooBig(m) => m.clone(),
            SelectorError::Invalid(e) => e.reason.to_string(),
        }
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectorError::TooBig(m) => f.write_str(m),
            SelectorError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

pub fn compile_selector(text: &str) -> Result<jmespath::Expression<'static>, SelectorError> {
    if text.chars().nth(MAX_JMESPATH_CHARS).is_some() {
        return Err(SelectorError::TooBig(format!("it is longer than {MAX_JMESPATH_CHARS} characters")));
    }
    if nesting(text) > MAX_JMESPATH_NESTING {
        return Err(SelectorError::TooBig(format!("it has more than {MAX_JMESPATH_NESTING} brackets, parentheses, braces, `!` and `&`")));
    }
    jmespath::compile(text).map_err(SelectorError::Invalid)
}

/// Every character that may open a level, outside quoted text: more than the
/// deepest nesting, never less.
fn nesting(text: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut count = 0;
    for c in text.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            None if matches!(c, '(' | '[' | '{' | '!' | '&') => count += 1,
            None => {}
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_selectors_compile_and_deep_ones_are_refused() {
        assert!(compile_selector("not_null(d.results, d)").is_ok());
        assert!(compile_selector("[?status == 'a[(!'] | [0]").is_ok());
        let deep = format!("{}a{}", "(".repeat(65), ")".repeat(65));
        assert_eq!(
            compile_selector(&deep).err().map(|e| e.to_string()).as_deref(),
            Some("it has more than 64 brackets, parentheses, braces, `!` and `&`")
        );
        assert_eq!(compile_selector(&"!".repeat(5_000)).err().map(|e| e.reason()).as_deref(), Some("it is longer than 1000 characters"));
        assert!(matches!(compile_selector("a.["), Err(SelectorError::Invalid(_))));
    }

    /// At the bound, the deepest selectors compile and run on a small stack.
    #[test]
    fn the_deepest_selectors_allowed_hold_on_a_one_mib_stack() {
        let worst =
            [format!("{}a{}", "(".repeat(64), ")".repeat(64)), format!("{}a", "!".repeat(64)), format!("{}a{}", "[".repeat(64), "]".repeat(64))];
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                for text in worst {
                    if let Ok(e) = compile_selector(&text) {
                        let _ = e.search(serde_json::json!({"a": [1]}));
                    }
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
