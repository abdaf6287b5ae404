use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use serde_json::json;

use super::{Diagnostic, Severity};

const BOLD: Style = Style::new().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const BLUE: Style = AnsiColor::Blue.on_default().bold();

/// Renders a diagnostic the way compilers do:
///
/// ```text
/// error: unknown field `YourRf` for Exact SalesOrder
///   --> mappings/customers/acme/orders.flow.yaml:12:3
///    |
/// 12 |   YourRf: '"PO" ~ order.id'
///    |   ^^^^^^ did you mean `YourRef`?
/// ```
///
/// Styles are ANSI escapes; the caller's stream strips them when not on a terminal.
pub fn render_text(d: &Diagnostic) -> String {
    let mut out = String::new();
    let (word, style) = match d.severity {
        Severity::Error => ("error", RED),
        Severity::Warning => ("warning", YELLOW),
    };
    let _ = writeln!(out, "{style}{word}{style:#}{BOLD}: {}{BOLD:#}", d.message);
    if let Some(loc) = &d.location {
        let line_no = loc.span.start.line;
        let gutter = line_no.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, "{pad}{BLUE}-->{BLUE:#} {loc}");
        if let Some(line) = loc.file.line(line_no) {
            let start = loc.span.start.col;
            let len = line.chars().count();
            let width =
                if loc.span.end.line == line_no && loc.span.end.col > start { loc.span.end.col - start } else { len.saturating_sub(start).max(1) };
            let (text, start, width) = window(line, len, start, width);
            let indent: String = text.chars().take(start).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            let label = d.label.as_deref().map(|l| format!(" {l}")).unwrap_or_default();
            let _ = writeln!(out, "{pad} {BLUE}|{BLUE:#}");
            let _ = writeln!(out, "{BLUE}{line_no}{BLUE:#} {BLUE}|{BLUE:#} {text}");
            let _ = writeln!(out, "{pad} {BLUE}|{BLUE:#} {indent}{style}{}{label}{style:#}", "^".repeat(width));
        }
    }
    for help in &d.help {
        let _ = writeln!(out, "{}{BLUE}={BLUE:#} {BOLD}help{BOLD:#}: {help}", " ".repeat(gutter_width(d) + 1));
    }
    out
}

/// The part of a long line around the caret: at most `QUOTED_LINE_CHARS`
/// characters, `…` where it was cut; the caret's column and width within it.
/// A line of a few characters more than the limit is cut too: what matters is
/// that a 10 MB line is not printed (three times, with the caret and label).
fn window(line: &str, len: usize, start: usize, width: usize) -> (std::borrow::Cow<'_, str>, usize, usize) {
    const MAX: usize = crate::limits::QUOTED_LINE_CHARS;
    if len <= MAX {
        return (line.into(), start, width);
    }
    // A third of the window before the caret, the rest after it; a full window at the line's end.
    let begin = start.saturating_sub(MAX / 3).min(len - MAX);
    let end = begin + MAX;
    let byte = |c: usize| line.char_indices().nth(c).map_or(line.len(), |(i, _)| i);
    let (head, tail) = (if begin > 0 { "…" } else { "" }, if end < len { "…" } else { "" });
    let shown = format!("{head}{}{tail}", &line[byte(begin)..byte(end)]);
    let caret = start - begin + head.chars().count();
    (shown.into(), caret, width.min(end.saturating_sub(start)).max(1))
}

fn gutter_width(d: &Diagnostic) -> usize {
    d.location.as_ref().map_or(0, |l| l.span.start.line.to_string().len())
}

/// A diagnostic as a JSON object, for editors and CI (`--format json`).
pub fn render_json(d: &Diagnostic) -> serde_json::Value {
    let mut v = json!({
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": d.message,
    });
    if let Some(loc) = &d.location {
        v["file"] = json!(loc.file.display_path());
        v["line"] = json!(loc.span.start.line);
        v["column"] = json!(loc.span.start.col + 1);
        v["end_line"] = json!(loc.span.end.line);
        v["end_column"] = json!(loc.span.end.col + 1);
    }
    if let Some(label) = &d.label {
        v["label"] = json!(label);
    }
    if !d.help.is_empty() {
        v["help"] = json!(d.help);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Location, SourceFile, Span};

    fn shown(line: &str, col: usize, len: usize) -> String {
        let file = SourceFile::new("f.yaml", format!("{line}\n"));
        let at = Location::new(&file, Span::point(1, col)).sub(0, len);
        let plain = render_text(&Diagnostic::error("bad").at(Some(at)).label("here"));
        String::from_utf8(anstream::adapter::strip_bytes(plain.as_bytes()).into_vec()).unwrap().replace("f.yaml", "F")
    }

    #[test]
    fn a_short_line_is_quoted_whole() {
        assert_eq!(shown("key: value", 5, 5), "error: bad\n --> F:1:6\n  |\n1 | key: value\n  |      ^^^^^ here\n");
    }

    #[test]
    fn a_long_line_is_cut_around_the_caret() {
        let line = format!("{}BAD{}", "a".repeat(5_000), "z".repeat(5_000_000));
        let text = shown(&line, 5_000, 3);
        let quoted = format!("…{}BAD{}…", "a".repeat(40), "z".repeat(77));
        assert_eq!(text, format!("error: bad\n --> F:1:5001\n  |\n1 | {quoted}\n  | {}^^^ here\n", " ".repeat(41)));
    }

    #[test]
    fn the_start_and_end_of_a_long_line_keep_their_side() {
        let line = "b".repeat(1_000);
        let start = shown(&line, 0, 1_000);
        assert!(start.contains(&format!("1 | {}…\n  | ^{} here", "b".repeat(120), "^".repeat(119))), "{start}");
        let end = shown(&line, 999, 1);
        assert!(end.contains(&format!("1 | …{}\n  | {}^ here", "b".repeat(120), " ".repeat(120))), "{end}");
    }

    #[test]
    fn long_messages_are_clipped() {
        let d = Diagnostic::error(format!("unknown name `{}`", "x".repeat(10_000_000))).label("y".repeat(400)).help("z".repeat(400));
        assert_eq!(d.message, format!("unknown name `{}…", "x".repeat(300 - 14)));
        assert_eq!(d.label, Some(format!("{}…", "y".repeat(300))));
        assert_eq!(d.help, [format!("{}…", "z".repeat(300))]);
    }
}
