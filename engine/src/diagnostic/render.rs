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
        if let Some(text) = loc.file.line(line_no) {
            let start = loc.span.start.col;
            let width = if loc.span.end.line == line_no && loc.span.end.col > start {
                loc.span.end.col - start
            } else {
                text.chars().count().saturating_sub(start).max(1)
            };
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
