//! Counters in Prometheus' text format, kept in one small registry: the
//! engine has a handful of series, which does not call for a metrics crate.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// A series: metric name and its labels, in order.
pub type Series = (&'static str, Vec<(&'static str, String)>);

struct Family {
    help: &'static str,
    kind: &'static str,
}

/// Every family the engine reports, so each is documented even before its first sample.
const FAMILIES: &[(&str, Family)] = &[
    ("flowmap_records_total", Family { help: "Records settled, by flow and how they ended.", kind: "counter" }),
    ("flowmap_runs_total", Family { help: "Runs, by flow, what started them and how they ended.", kind: "counter" }),
    ("flowmap_run_duration_seconds_sum", Family { help: "Time spent in runs, by flow.", kind: "counter" }),
    ("flowmap_run_duration_seconds_count", Family { help: "Runs timed, by flow.", kind: "counter" }),
    ("flowmap_api_calls_total", Family { help: "HTTP calls to the systems, by connection and status code.", kind: "counter" }),
    ("flowmap_rate_limit_wait_seconds_total", Family { help: "Time calls waited for rate-limit budgets, by connection.", kind: "counter" }),
    ("flowmap_reloads_total", Family { help: "Reloads of the flow files, by result.", kind: "counter" }),
    ("flowmap_flows_loaded", Family { help: "Flows in the running set.", kind: "gauge" }),
    ("flowmap_schedule_skipped_total", Family { help: "Scheduled runs skipped because the flow was still running.", kind: "counter" }),
    ("flowmap_webhooks_total", Family { help: "Webhook requests, by result.", kind: "counter" }),
    ("flowmap_inbox_records", Family { help: "Records in the inbox, by flow and status (waiting, dead).", kind: "gauge" }),
    ("flowmap_inbox_dead_letters_total", Family { help: "Inbox records given up as dead letters, by flow.", kind: "counter" }),
    ("flowmap_api_connections_refused_total", Family { help: "API connections turned away (503) because all were taken.", kind: "counter" }),
];

#[derive(Default)]
pub struct Metrics {
    values: Mutex<BTreeMap<Series, f64>>,
}

impl Metrics {
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], by: f64) {
        let key = (name, labels.iter().map(|(k, v)| (*k, v.to_string())).collect());
        *self.values.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(0.0) += by;
    }

    pub fn set(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        let key = (name, labels.iter().map(|(k, v)| (*k, v.to_string())).collect());
        self.values.lock().unwrap_or_else(|e| e.into_inner()).insert(key, value);
    }

    /// The exposition text; `extra` are samples read at scrape time (API calls).
    pub fn render(&self, extra: &[(Series, f64)]) -> String {
        let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for (name, family) in FAMILIES {
            let base = name.trim_end_matches("_sum").trim_end_matches("_count");
            if !name.ends_with("_count") {
                let _ = writeln!(out, "# HELP {base} {}", family.help);
                let kind = if name.ends_with("_sum") { "summary" } else { family.kind };
                let _ = writeln!(out, "# TYPE {base} {kind}");
            }
            let samples = values.iter().map(|(k, v)| (k, *v)).chain(extra.iter().map(|(k, v)| (k, *v)));
            for ((n, labels), value) in samples.filter(|((n, _), _)| n == name) {
                let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
                let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
                let _ = writeln!(out, "{n}{labels} {value}");
            }
        }
        out
    }
}

/// Label values escape backslash, quote and newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_rendered_under_their_family() {
        let m = Metrics::default();
        m.add("flowmap_records_total", &[("flow", "orders"), ("status", "sent")], 3.0);
        m.add("flowmap_records_total", &[("flow", "orders"), ("status", "sent")], 1.0);
        m.add("flowmap_reloads_total", &[("result", "failed")], 1.0);
        let text = m.render(&[(("flowmap_api_calls_total", vec![("connection", "exact".into()), ("code", "200".into())]), 7.0)]);
        assert!(text.contains("# TYPE flowmap_records_total counter\nflowmap_records_total{flow=\"orders\",status=\"sent\"} 4\n"), "{text}");
        assert!(text.contains("flowmap_api_calls_total{connection=\"exact\",code=\"200\"} 7\n"), "{text}");
        assert!(text.contains("flowmap_reloads_total{result=\"failed\"} 1\n"), "{text}");
        assert!(text.contains("# TYPE flowmap_run_duration_seconds summary\n"), "{text}");
    }
}
