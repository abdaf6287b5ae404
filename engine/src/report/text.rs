use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use crate::deliver::PlannedRequest;
use crate::run::{CallLog, Outcome, Status, Summary};

const GREEN: Style = AnsiColor::Green.on_default().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// One record, for people.
pub fn render_outcome(o: &Outcome) -> String {
    let mut out = String::new();
    let (mark, word, style) = match o.status {
        Status::Ready => ("✔", "ready", GREEN),
        Status::Blocked => ("✘", "blocked", RED),
        Status::Skipped => ("↷", "skipped", YELLOW),
        Status::Ignored => ("·", "ignored", DIM),
    };
    let _ = write!(out, "{style}{mark} {word:<8}{style:#} {BOLD}{}{BOLD:#}", o.key);
    match o.status {
        Status::Ready => {
            if let (Some(r), Some(w)) = (&o.request, &o.written) {
                // A file target: the exact bytes of the file, as they would be written.
                let _ = writeln!(out, "  {} {} {} ({} bytes)", r.method, r.system, w.name, w.bytes.len());
                for line in String::from_utf8_lossy(&w.bytes).lines() {
                    let _ = writeln!(out, "    {line}");
                }
            } else if let Some(r) = &o.request {
                let _ = writeln!(out, "  {} {} {}", r.method, r.system, r.path);
                if let Some(body) = &r.body {
                    for line in pretty(body).lines() {
                        let _ = writeln!(out, "    {line}");
                    }
                }
            }
        }
        Status::Blocked => {
            let _ = writeln!(out);
            for reason in &o.reasons {
                let _ = writeln!(out, "    - {reason}");
            }
        }
        Status::Skipped => {
            let _ = writeln!(out, "  {}", o.message.as_deref().unwrap_or_default());
            if let Some(found) = &o.found {
                let _ = writeln!(out, "    {DIM}found{DIM:#} {}", compact(found));
            }
        }
        Status::Ignored => {
            let _ = writeln!(out, "  {DIM}filtered out by the source's query or `where`{DIM:#}");
        }
    }
    for w in &o.write_backs {
        let _ = writeln!(out, "    {DIM}then{DIM:#} {}", one_line(w));
    }
    out
}

fn one_line(r: &PlannedRequest) -> String {
    match &r.body {
        Some(b) => format!("{} {} {} {}", r.method, r.system, r.path, compact(b)),
        None => format!("{} {} {}", r.method, r.system, r.path),
    }
}

fn pretty(v: &minijinja::Value) -> String {
    serde_json::to_string_pretty(&crate::value::Json(v)).unwrap_or_default()
}

fn compact(v: &minijinja::Value) -> String {
    serde_json::to_string(&crate::value::Json(v)).unwrap_or_default()
}

/// Counts and the API calls a live run would make.
pub fn render_summary(summary: &Summary, calls: &CallLog, unreadable: u64) -> String {
    let mut out = String::new();
    let mut parts = vec![
        format!("{GREEN}{} ready{GREEN:#}", summary.ready),
        format!("{RED}{} blocked{RED:#}", summary.blocked),
        format!("{YELLOW}{} skipped{YELLOW:#}", summary.skipped),
    ];
    if summary.ignored > 0 {
        parts.push(format!("{} ignored", summary.ignored));
    }
    if unreadable > 0 {
        parts.push(format!("{RED}{unreadable} unreadable{RED:#}"));
    }
    let _ = writeln!(out, "\n{BOLD}{} records{BOLD:#}: {}", summary.total() + unreadable, parts.join(", "));
    let _ = writeln!(out, "\n{BOLD}API calls a live run would make{BOLD:#} ({} in all):", calls.total());
    let width = calls.stats.keys().map(|(s, m, p, _)| s.len() + m.len() + p.len() + 2).max().unwrap_or(0);
    let pwidth = calls.stats.keys().map(|(_, _, _, purpose)| purpose.len()).max().unwrap_or(0);
    for ((system, method, path, purpose), stat) in &calls.stats {
        let what = format!("{system} {method} {path}");
        let _ = writeln!(out, "  {what:<width$}  {purpose:<pwidth$}  {:>5}  {DIM}e.g. {}{DIM:#}", stat.count, shorten(&stat.example, 110));
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max).collect::<String>()) }
}
