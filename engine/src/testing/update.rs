//! `flowmap test --update`: each failing case's `expect` becomes what the
//! flow did. Only those `expect` blocks are rewritten; every other line of
//! the file (comments, blank lines, the other cases) stays as written.

use std::path::Path;

use super::runner::FileResult;
use super::yaml_out::entry_value;

/// What `update_file` rewrote.
pub struct Updated {
    /// The names of the cases whose `expect` was rewritten, in file order.
    pub cases: Vec<String>,
}

/// Rewrites the `expect` of every failing case of `result` in its file.
pub fn update_file(result: &FileResult) -> Result<Updated, String> {
    let path = &result.file;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", shown(path)))?;
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut failing: Vec<_> = result.cases.iter().filter(|c| c.failure.is_some()).collect();
    // From the end of the file up, so the lines of the cases above keep their numbers.
    failing.sort_by_key(|c| std::cmp::Reverse(c.expect_key.map(|s| s.start.line)));
    let mut updated = Vec::new();
    for case in failing {
        let Some(key) = case.expect_key else {
            return Err(format!("{}: case `{}` has no `expect` to update", shown(path), case.name));
        };
        replace_entry(&mut lines, key.start.line - 1, key.start.col, &entry_value(&case.actual, key.start.col + 2))
            .ok_or_else(|| format!("{}:{}: cannot find the `expect:` of case `{}`", shown(path), key.start.line, case.name))?;
        updated.push(case.name.clone());
    }
    updated.reverse();
    if !updated.is_empty() {
        std::fs::write(path, lines.join("\n")).map_err(|e| format!("cannot write {}: {e}", shown(path)))?;
    }
    Ok(Updated { cases: updated })
}

/// Replaces the value of the mapping entry whose key starts at `line`
/// (0-based), character `col`: the rest of that line after the colon and
/// every line below indented deeper than the key (the block), up to its last
/// written line; comments and blank lines after the block stay.
fn replace_entry(lines: &mut Vec<String>, line: usize, col: usize, value: &str) -> Option<()> {
    let key_line = lines.get(line)?;
    let after_key: String = key_line.chars().skip(col).collect();
    let colon = after_key.find(':')?;
    let head: String = key_line.chars().take(col).collect::<String>() + &after_key[..=colon];
    let mut end = line;
    for (i, l) in lines.iter().enumerate().skip(line + 1) {
        let content = l.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if l.chars().take_while(|c| *c == ' ').count() <= col {
            break;
        }
        end = i;
    }
    let new: Vec<String> = (head + value).split('\n').map(str::to_string).collect();
    lines.splice(line..=end, new);
    Some(())
}

fn shown(path: &Path) -> String {
    crate::diagnostic::display_path(path)
}

#[cfg(test)]
mod tests {
    use super::replace_entry;

    fn replaced(text: &str, line: usize, col: usize, value: &str) -> String {
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        replace_entry(&mut lines, line, col, value).unwrap();
        lines.join("\n")
    }

    #[test]
    fn the_block_is_replaced_and_what_follows_it_stays() {
        let text = "  - name: a\n    expect:\n      ready:\n        # the old payload\n        A: 1\n\n  # the next case\n  - name: b\n";
        assert_eq!(
            replaced(text, 1, 4, "\n      ready:\n        A: 2"),
            "  - name: a\n    expect:\n      ready:\n        A: 2\n\n  # the next case\n  - name: b\n"
        );
    }

    #[test]
    fn a_value_on_the_key_line_is_replaced() {
        let text = "    expect: { skipped: old }\n    other: 1";
        assert_eq!(replaced(text, 0, 4, "\n      skipped: new"), "    expect:\n      skipped: new\n    other: 1");
    }
}
