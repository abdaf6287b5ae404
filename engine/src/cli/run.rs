mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use super::live_setup::{LiveOptions, compile, runtime};
use super::{Failure, Out};
use crate::run::{Live, LiveReport, Progress, Records};
use progress::Shown;

/// `flowmap run FLOW` and `flowmap replay FLOW`: the flow against the live systems.
pub fn run(root: Option<PathBuf>, options: &LiveOptions, flow: PathBuf, records: Records, json: bool) -> Result<ExitCode, Failure> {
    let setup = options.open(root, Some(&flow), false)?;
    let compiled = compile(&setup.project, &flow)?;
    let rt = runtime()?;
    let live = Live {
        project: &setup.project,
        flow: &compiled,
        registry: setup.registry.clone(),
        state: setup.state.clone(),
        rt: rt.handle().clone(),
        cancel: None,
    };
    let mode = if matches!(records, Records::Stored(_)) { "replay" } else { "run" };
    let name_each = !matches!(records, Records::Fetch);
    let shown = Shown::start(json, &setup.project, &setup.registry, rt.handle());
    let report = live.run(mode, "command", records, &mut |p| {
        if let Progress::Records { done, total } = p {
            shown.records(done, total);
        }
    });
    shown.finish();
    let report = report?;
    // The run is journaled whatever happens to its summary here.
    if json {
        let mut out = Out::raw();
        out.json_line(&report)?;
        out.finish()?;
    } else {
        let mut out = Out::text();
        write!(out, "{}", render(&compiled.name, mode, name_each, &report))?;
        out.finish()?;
    }
    let failed = report.failed + report.unknown > 0 || report.stopped.is_some();
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The summary; `name_each` lists every record (a run of chosen keys, a replay).
pub fn render(flow: &str, mode: &str, name_each: bool, r: &LiveReport) -> String {
    let mut out = String::new();
    out.push_str(&format!("{mode} {} of {flow}: {} in {:.1} s\n", r.run, r.ending(), r.elapsed_ms as f64 / 1000.0));
    if let Some(why) = &r.stopped {
        out.push_str(&format!("  stopped: {why}\n"));
    }
    let counts = std::iter::once(("fetched", r.fetched)).chain(r.by_ending());
    let shown: Vec<String> =
        counts.filter(|(_, n)| *n > 0).map(|(k, n)| if k == "left" { format!("{n} left for the next run") } else { format!("{n} {k}") }).collect();
    out.push_str(&format!("  {}\n", if shown.is_empty() { "no records".to_string() } else { shown.join(", ") }));
    for note in &r.attention {
        out.push_str(&format!("  attention: {note}\n"));
    }
    if r.write_backs_failed > 0 {
        out.push_str(&format!("  {} write-backs failed (they are repeated by the next run)\n", r.write_backs_failed));
    }
    // Chosen records are each named; a run of everything names only the problems.
    if name_each {
        for (key, what, why) in &r.done {
            match why {
                Some(why) => out.push_str(&format!("  {what} {key}: {why}\n")),
                None => out.push_str(&format!("  {what} {key}\n")),
            }
        }
    }
    for (key, what, reasons) in &r.problems {
        out.push_str(&format!("  {what} {key}\n"));
        for reason in reasons {
            out.push_str(&format!("    - {reason}\n"));
        }
    }
    let calls: Vec<String> = r.calls.iter().map(|(c, n)| format!("{c} {n}")).collect();
    out.push_str(&format!(
        "  API calls: {}; waited {:.1} s on rate limits\n",
        if calls.is_empty() { "none".to_string() } else { calls.join(", ") },
        r.waited_on_rate_limits_ms as f64 / 1000.0
    ));
    out
}
