//! A case's expectation against what the flow did: what differs, and what
//! the case would have to expect instead (for `flowmap test --update`).

use serde_json::{Map, Value, json};

use super::compare::{diff_lines, diff_text, in_order_of, normalise};
use crate::model::Expectation;
use crate::run::{Outcome, Status};
use crate::value::to_json;

/// What happened, for a case that expected something else: a payload is
/// shown whole, so a wrong expectation can be fixed from the message.
fn describe(o: &Outcome) -> String {
    if let Some(error) = o.configuration_error() {
        return format!("{} (a mistake in the flow, not in the record)", error.as_configuration_error());
    }
    match o.status {
        Status::Ready => format!("ready with payload:\n{}", indent(&serde_json::to_string_pretty(&normalise(&payload(o))).unwrap_or_default())),
        Status::Blocked => format!("blocked:\n{}", o.reasons.iter().map(|r| format!("  - {r}\n")).collect::<String>()),
        Status::Skipped => format!("skipped: {}", o.message.as_deref().unwrap_or_default()),
        Status::Ignored => "ignored (filtered out by the source's query or `where`)".into(),
    }
}

pub fn compare(expect: &Expectation, o: &Outcome) -> Option<String> {
    let wanted = [expect.ready.is_some(), expect.blocked.is_some(), expect.skipped.is_some(), expect.ignored, expect.configuration_error.is_some()];
    if wanted.iter().filter(|w| **w).count() != 1 {
        return Some("`expect` needs exactly one of ready, blocked, skipped, ignored, configuration_error".into());
    }
    let mut problems = Vec::new();
    if let Some(payload) = &expect.ready {
        match (&o.status, &o.request) {
            (Status::Ready, Some(req)) => {
                let actual = req.body.as_ref().map(to_json).unwrap_or(Value::Null);
                if normalise(payload) != normalise(&actual) {
                    problems.push(format!("payload differs (- expected, + actual):\n{}", diff_text(payload, &actual)));
                }
            }
            _ => problems.push(format!("expected ready, got {}", describe(o))),
        }
    }
    if let Some(reasons) = &expect.blocked {
        if o.status != Status::Blocked || o.configuration_error().is_some() {
            problems.push(format!("expected blocked, got {}", describe(o)));
        } else if o.reasons.iter().map(|r| &r.text).ne(reasons.iter()) {
            let e = reasons.iter().map(|r| format!("{r}\n")).collect::<String>();
            let a = o.reasons.iter().map(|r| format!("{r}\n")).collect::<String>();
            problems.push(format!("block reasons differ (- expected, + actual):\n{}", diff_lines(&e, &a)));
        }
    }
    if let Some(wanted) = &expect.configuration_error {
        match o.configuration_error() {
            Some(error) if &error.text == wanted => {}
            Some(error) => problems.push(format!(
                "configuration error differs (- expected, + actual):\n{}",
                diff_lines(&format!("{wanted}\n"), &format!("{}\n", error.text))
            )),
            None => problems.push(format!("expected a configuration error, got {}", describe(o))),
        }
    }
    if let Some(message) = &expect.skipped {
        if o.status != Status::Skipped {
            problems.push(format!("expected skipped, got {}", describe(o)));
        } else if o.message.as_deref() != Some(message.as_str()) {
            problems.push(format!(
                "skip message differs (- expected, + actual):\n{}",
                diff_lines(&format!("{message}\n"), &format!("{}\n", o.message.as_deref().unwrap_or_default()))
            ));
        }
    }
    if expect.ignored && o.status != Status::Ignored {
        problems.push(format!("expected ignored, got {}", describe(o)));
    }
    if let Some(writes) = &expect.writes_back {
        let actual = Value::Array(o.write_backs.iter().map(crate::deliver::PlannedRequest::to_json).collect());
        let expected = Value::Array(writes.clone());
        if normalise(&expected) != normalise(&actual) {
            problems.push(format!("write-backs differ (- expected, + actual):\n{}", diff_text(&expected, &actual)));
        }
    }
    (!problems.is_empty()).then(|| problems.join("\n"))
}

/// The body the flow would send (null when it sends none).
fn payload(o: &Outcome) -> Value {
    o.request.as_ref().and_then(|r| r.body.as_ref()).map(to_json).unwrap_or(Value::Null)
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

/// The `expect` that `o` passes: its status with the payload, reasons or
/// message, and the write-backs when `expect` checks them; keys in the order
/// the expectation had them, so rewriting it changes only what differs.
pub fn actual_expectation(expect: &Expectation, o: &Outcome) -> Value {
    let mut actual = Map::new();
    let (key, value) = match o.status {
        _ if o.configuration_error().is_some() => ("configuration_error", json!(o.configuration_error().map(|e| e.text.clone()))),
        Status::Ready => ("ready", in_order_of(&expect.ready.clone().unwrap_or(Value::Null), &normalise(&payload(o)))),
        Status::Blocked => ("blocked", json!(o.reasons.iter().map(|r| &r.text).collect::<Vec<_>>())),
        Status::Skipped => ("skipped", json!(o.message.as_deref().unwrap_or_default())),
        Status::Ignored => ("ignored", json!(true)),
    };
    actual.insert(key.into(), value);
    if expect.writes_back.is_some() {
        let writes = o.write_backs.iter().map(crate::deliver::PlannedRequest::to_json).collect::<Vec<_>>();
        let expected = Value::Array(expect.writes_back.clone().unwrap_or_default());
        actual.insert("writes_back".into(), in_order_of(&expected, &normalise(&Value::Array(writes))));
    }
    Value::Object(actual)
}
