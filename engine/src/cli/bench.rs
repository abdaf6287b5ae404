use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::{Failure, Out, paths};
use crate::bench::{generate, peak_rss_kib, run_jq};
use crate::compile::compile_file;

/// `flowmap bench`: generate orders, dry-run the LNB → Exact orders flow over
/// them (JSON lines in and out, look-ups from in-memory fixtures), report
/// orders/s and peak memory, and time jq doing the same mapping.
pub fn run(orders: usize, lines: usize, runs: usize, jq: bool, dir: Option<PathBuf>) -> Result<ExitCode, Failure> {
    let root = paths::project_root(None, None)?;
    let project = paths::load_project(&root).map_err(|p| p.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; "))?;
    let flow_path = root.join("mappings/lnb-exact/orders.flow.yaml");
    let (flow, _) = compile_file(&project, &flow_path).map_err(|p| p.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; "))?;
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("flowmap-bench-{}", std::process::id())));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;

    let _ = writeln!(std::io::stderr(), "generating {orders} orders of {lines} lines in {} …", dir.display());
    let world = generate(&dir, orders, lines).map_err(|e| e.to_string())?;
    let rss_before = peak_rss_kib().unwrap_or(0);

    // Timings on a shared machine vary from run to run; the median of
    // several runs over the same data is what is reported.
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let out_path = dir.join("flowmap-out.jsonl");
        let mut out = BufWriter::new(std::fs::File::create(&out_path).map_err(|e| e.to_string())?);
        let started = Instant::now();
        let result = super::dry_run::execute(&project, &flow, Some(&world.orders), &world.fixtures, &mut |o| -> Result<(), String> {
            let written = match o {
                Ok(o) => serde_json::to_writer(&mut out, &o),
                Err(e) => serde_json::to_writer(&mut out, &serde_json::json!({"status": "unreadable", "error": e.0})),
            };
            written.map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| format!("cannot write {}: {e}", out_path.display()))
        })?;
        out.flush().map_err(|e| e.to_string())?;
        times.push(started.elapsed());
        last = Some(result);
    }
    let result = last.expect("at least one run");
    times.sort();
    let elapsed = times[times.len() / 2];
    let rss_after = peak_rss_kib().unwrap_or(0);

    let s = &result.summary;
    let mut out = Out::text();
    writeln!(out, "flowmap dry-run of {} over {orders} orders × {lines} lines (JSON lines in and out, one thread)", flow.name)?;
    writeln!(out, "  records:      {} ready, {} blocked, {} skipped", s.ready, s.blocked, s.skipped)?;
    let shown: Vec<String> = times.iter().map(|t| format!("{:.0}", orders as f64 / t.as_secs_f64())).collect();
    writeln!(out, "  time:         {:.3} s (median of {} runs)", elapsed.as_secs_f64(), times.len())?;
    writeln!(out, "  throughput:   {:.0} orders/s (runs: {} orders/s)", orders as f64 / elapsed.as_secs_f64(), shown.join(", "))?;
    writeln!(out, "  peak memory:  {:.1} MiB (before the run: {:.1} MiB)", rss_after as f64 / 1024.0, rss_before as f64 / 1024.0)?;
    writeln!(
        out,
        "  API calls a live run would make: {} ({} look-up/exists requests for {} accounts and {} items)",
        result.calls.total(),
        lookups(&result.calls),
        world.accounts,
        world.items
    )?;
    if jq {
        match run_jq(&world, &dir) {
            None => writeln!(out, "jq: not installed (apt-get install jq)")?,
            Some(Err(e)) => writeln!(out, "jq: failed: {e}")?,
            Some(Ok(t)) => writeln!(
                out,
                "jq, same mapping:  {:.3} s, {:.0} orders/s (flowmap is {:.1}× faster)",
                t.as_secs_f64(),
                orders as f64 / t.as_secs_f64(),
                t.as_secs_f64() / elapsed.as_secs_f64()
            )?,
        }
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn lookups(calls: &crate::run::CallLog) -> u64 {
    calls.stats.iter().filter(|((_, method, _, purpose), _)| method == "GET" && purpose != "fetch source").map(|(_, s)| s.count).sum()
}
