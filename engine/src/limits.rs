//! How big and how deep an input may be. Every bound in one place, each with
//! the reason for its number.
//!
//! The parsers behind flow files (saphyr's tree, minijinja, jmespath, and our
//! own native subset) recurse once per level of nesting, so input nested
//! deeply enough overflows the stack, which aborts the process: in
//! `flowmap serve` a saved file would take the engine down. The files of a
//! set are compiled on worker threads with 2 MiB stacks (set in
//! `compile/files.rs`; a reload itself runs on a tokio blocking thread, also
//! 2 MiB), against the main thread's 8 MiB. The bounds below are chosen to
//! hold on half that, a 1 MiB stack, in a debug build (the largest frames):
//! the tests at the end of this file load, compile and run the deepest and
//! longest inputs the bounds let through on a 1 MiB thread.
//!
//! Measured in a debug build on a 2 MiB stack, before the bounds: YAML nested
//! ~410 levels, ~1,000 `~` terms, ~1,140 `not`s, ~75 parentheses (about 20 KiB
//! of stack each in minijinja's parser) and ~385 JMESPath `!` or parentheses
//! overflowed it.

/// Levels of YAML nesting (mappings and lists, block or flow style) in one
/// file. A flow nests about 6 deep; 64 leaves room for any settings table.
pub const MAX_YAML_DEPTH: usize = 64;

/// Files in one `extends` chain, the flow itself included (each file is
/// loaded one frame deeper). A customer adaptation of a send mode of a flow
/// is 3.
pub const MAX_EXTENDS: usize = 16;

/// Characters of one expression. The longest shipped one has under 160.
pub const MAX_EXPR_CHARS: usize = 4_096;

/// Parts of one expression: names, literals, operators, dots, brackets.
/// Every parser of an expression recurses at most once per part; the longest
/// shipped expression has under 40.
pub const MAX_EXPR_TOKENS: usize = 300;

/// Levels of an expression evaluated natively (`expr/simple.rs`, plain
/// paths): evaluation recurses once per level, with large frames in a debug
/// build. Deeper expressions run in minijinja's VM, which does not recurse
/// when it evaluates. The common shapes nest 2 to 5 levels.
pub const MAX_NATIVE_DEPTH: usize = 32;

/// Brackets, parentheses and braces open at once in one expression.
/// minijinja's parser goes through a dozen functions per parenthesis, about
/// 20 KiB of stack per level in a debug build (its own limit, about 75
/// levels, is too deep for a worker's stack). Real expressions nest 1 to 4.
pub const MAX_EXPR_NESTING: usize = 32;

/// Characters of one JMESPath selector (`records`, `paging.next`, …).
pub const MAX_JMESPATH_CHARS: usize = 1_000;

/// Brackets, parentheses, braces, `!` and `&` in one JMESPath selector: each
/// may nest one level deeper (about 5 KiB of stack per level in a debug build).
pub const MAX_JMESPATH_NESTING: usize = 64;

/// The largest width or count a filter may be asked for (`lpad`, `rpad`,
/// `indent`, `batch`, `slice`, `format` widths and precisions) and the most
/// characters or items `*` may repeat: what they make is allocated at once,
/// so a width of 2^63 from a typo or from data would abort on allocation.
/// Fixed-width fields of the systems flowmap feeds are at most a few hundred
/// characters.
pub const MAX_WIDTH: usize = 10_000;

/// Problems shown for one flow file; the rest are counted.
pub const MAX_PROBLEMS: usize = 100;

/// Characters of one source line a diagnostic quotes; a longer line is cut
/// around the caret, with `…` where it was cut.
pub const QUOTED_LINE_CHARS: usize = 120;

/// Characters of a diagnostic's message, label or help (they quote names and
/// values from the file, which may be megabytes long).
pub const MESSAGE_CHARS: usize = 300;

/// The claim above, checked: the deepest inputs the bounds let through load,
/// compile and run on a 1 MiB stack (half a worker's) in this build.
#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::expr::{Compiler, Names, Scope};

    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(1 << 20).spawn(f).expect("a thread").join().expect("no panic")
    }

    /// `unit` repeated until the expression has `MAX_EXPR_TOKENS` parts.
    fn longest(head: &str, unit: &str, tail: &str, unit_parts: usize, fixed_parts: usize) -> String {
        format!("{head}{}{tail}", unit.repeat((MAX_EXPR_TOKENS - fixed_parts) / unit_parts))
    }

    /// The longest chains of each kind of part, and the deepest nests of each kind of bracket.
    fn worst_expressions() -> Vec<String> {
        let d = MAX_EXPR_NESTING;
        vec![
            longest("", "not ", "x.a", 1, 3),
            longest("x.a", " ~ x.a", "", 4, 3),
            longest("x.a", " or x.a", "", 4, 3),
            longest("x.a", " + 1", "", 2, 3),
            longest("x.a", " | string", "", 2, 3),
            longest("x", ".a", "", 2, 1),
            longest("x.l", "[0]", "", 3, 3),
            longest("", "x.a if x.b else ", "x.a", 8, 3),
            longest("", "- ", "1", 1, 1),
            longest("x.a", " ~ (x.a)", "", 6, 3),
            format!("{}x.a{}", "(".repeat(d), ")".repeat(d)),
            format!("{}1{}", "[".repeat(d), "]".repeat(d)),
            format!("{}1{}", "{'k': ".repeat(d), "}".repeat(d)),
            format!("{}1{}", "money_add(".repeat(d), ", 1)".repeat(d)),
            format!("{}x.a{}", "x.m | default(".repeat(d), ")".repeat(d)),
            format!("{}x.a{}", "x.m | default(not ".repeat(d), ")".repeat(d)),
            format!("{}0{}", "x.l[".repeat(d), "]".repeat(d)),
        ]
    }

    #[test]
    fn the_longest_expressions_allowed_compile_and_run_on_a_small_stack() {
        for text in worst_expressions() {
            assert_eq!(crate::expr::size::check_size(&text).map_err(|e| e.message), Ok(()), "{text}");
        }
        let outcomes = on_small_stack(|| {
            let env = crate::expr::ExprEnv::new(&vec![("code".into(), "value | string | trim | lpad(18)".into())]).expect("environment");
            let record = crate::value::parse_json(r#"{"a": "A", "b": true, "l": [[[1]]], "m": null}"#).expect("json");
            let mut scope = Scope::new();
            scope.push("x", record);
            let names = Names { roots: &["x"], settings: &[], lookups: &[], shapes: &[] };
            worst_expressions()
                .into_iter()
                .map(|text| match (Compiler { env: &env }).expr(&text, &names) {
                    Ok((e, _)) => format!("compiles, {}", if e.eval(&scope).is_ok() { "runs" } else { "fails" }),
                    Err(problems) => format!("refused: {}", problems[0].message),
                })
                .collect::<Vec<_>>()
        });
        // Each gives its answer without overflowing the stack; those that fail do so on
        // the record (`"A" + 1`, `x.a.a`, `x.l[0][0]…`, `x.l[[[1]]]` have no value).
        let fails = [3, 5, 6, 16];
        let expected: Vec<&str> = (0..outcomes.len()).map(|i| if fails.contains(&i) { "compiles, fails" } else { "compiles, runs" }).collect();
        assert_eq!(outcomes, expected);
    }

    #[test]
    fn the_deepest_yaml_allowed_loads_and_compiles_on_a_small_stack() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository").to_path_buf();
        let orders = std::fs::read_to_string(repo.join("mappings/lnb-exact/orders.flow.yaml")).expect("the orders flow");
        // The document (1) and `settings` (2) are levels too.
        let deep: String =
            (0..MAX_YAML_DEPTH - 2).map(|i| format!("{}k:\n", "  ".repeat(i + 1))).collect::<String>() + &"  ".repeat(MAX_YAML_DEPTH - 1) + "v\n";
        let flow = orders
            .replacen("settings:\n", &format!("settings:\n{deep}"), 1)
            .replace(r#"YourRef: '"PO" ~ order.line.id'"#, &format!("YourRef: '{}order.line.id'", "not ".repeat(MAX_EXPR_TOKENS - 5)));
        let dir = tempfile::tempdir().expect("a temp dir");
        let file = dir.path().join("deep.flow.yaml");
        std::fs::write(&file, flow).expect("written");
        let project = crate::project::Project::load(&repo).unwrap_or_else(|p| panic!("the project loads: {p:?}"));
        let answer = on_small_stack(move || {
            crate::compile::compile_file(&project, &file).map(|_| ()).map_err(|p| p.into_iter().map(|d| d.message).collect::<Vec<_>>())
        });
        assert_eq!(answer, Ok(()));
    }
}
