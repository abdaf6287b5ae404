//! One event of a signed delivery: ignored (a deleted record, another
//! account), refused (a topic no flow takes, a key its flows do not take), or
//! kept in the inbox of every flow bound to its topic before anyone is told
//! yes — unless it was received before within [`REPEAT_WINDOW`] (the system
//! retrying, or a captured body replayed).

use flowmap_state::Received;

use super::account::is_other;
use super::events::Event;
use crate::keys::{check, shown};
use crate::model::WebhooksDef;
use crate::serve::engine::Engine;
use crate::serve::flow_set::FlowSet;

/// How long an event is remembered, so that receiving it again starts nothing.
/// Exact is said to retry an event about 10 times over some 34 hours, Xero for
/// up to 24 hours; two days cover that with room, at a few hundred bytes per
/// event in the state file.
pub const REPEAT_WINDOW: std::time::Duration = std::time::Duration::from_secs(48 * 3600);

/// What became of one event.
pub enum Outcome {
    /// In the inbox of these flows, to be started for its key.
    Kept {
        event: Event,
        flows: Vec<String>,
    },
    Repeated {
        event: Event,
        first_at_ms: i64,
    },
    /// The record is gone: nothing to fetch.
    Deleted {
        event: Event,
        action: String,
    },
    OtherAccount {
        event: Event,
    },
    UnknownTopic {
        event: Event,
    },
    BadKey {
        event: Event,
        why: String,
    },
    Malformed {
        why: String,
    },
    /// The state file could not keep it: the delivery must not be acknowledged.
    NotKept {
        event: Event,
    },
}

impl Outcome {
    /// Its name in `flowmap_webhooks_total{result=…}`.
    pub fn result(&self) -> &'static str {
        match self {
            Outcome::Kept { .. } => "accepted",
            Outcome::Repeated { .. } => "duplicate",
            Outcome::Deleted { .. } => "ignored",
            Outcome::OtherAccount { .. } => "other_account",
            Outcome::UnknownTopic { .. } => "unknown_topic",
            Outcome::BadKey { .. } => "bad_key",
            Outcome::Malformed { .. } => "malformed",
            Outcome::NotKept { .. } => "failed",
        }
    }
}

pub fn keep(engine: &Engine, set: &FlowSet, system: &str, hooks: &WebhooksDef, own: &[String], read: Result<Event, String>) -> Outcome {
    let event = match read {
        Ok(event) => event,
        Err(why) => {
            tracing::warn!(system, why = %why, "webhook event unreadable");
            return Outcome::Malformed { why };
        }
    };
    let topic = event.topic.as_str();
    if is_other(own, event.account.as_deref()) {
        tracing::info!(system, topic, account = %shown(event.account.as_deref().unwrap_or_default()), "webhook for another account: ignored");
        return Outcome::OtherAccount { event };
    }
    if let Some(action) = event.action.as_deref().filter(|a| hooks.deleted.iter().any(|d| d.eq_ignore_ascii_case(a))) {
        tracing::info!(system, topic, key = %shown(&event.key), "webhook for a deleted record: nothing to fetch");
        let action = action.to_string();
        return Outcome::Deleted { event, action };
    }
    let bound: Vec<String> = set
        .flows
        .values()
        .filter(|f| f.webhook.as_ref().is_some_and(|w| w.system == system && w.topic.eq_ignore_ascii_case(topic)))
        .map(|f| f.name.clone())
        .collect();
    if bound.is_empty() {
        tracing::warn!(system, topic, key = %shown(&event.key), "webhook for a topic no flow takes");
        return Outcome::UnknownTopic { event };
    }
    // The key goes into URLs, the inbox, the journal and logs: only one the system and
    // every bound flow take (the shapes their YAML declares) is kept.
    let key = event.key.as_str();
    let system_shape = set.project.systems.get(system).and_then(|s| hooks.key_shape.as_ref().and_then(|name| s.key_shapes.get(name)).cloned());
    let refusal = check(key, system_shape.as_deref()).err().map(|bad| bad.to_string()).or_else(|| {
        bound.iter().find_map(|name| {
            let flow = set.flows.get(name)?;
            check(key, flow.source.key_shape.as_deref()).err().map(|bad| format!("flow {name}: {bad}"))
        })
    });
    if let Some(why) = refusal {
        tracing::warn!(system, topic, why = %why, "webhook refused: not a key its flows take");
        return Outcome::BadKey { event, why };
    }
    let origin = format!("{system} {topic} {}", event.action.as_deref().unwrap_or("event"));
    let window_ms = i64::try_from(REPEAT_WINDOW.as_millis()).unwrap_or(i64::MAX);
    match engine.state.receive_event(&event_id(system, &event), window_ms, &bound, key, &origin) {
        Ok(Received::New) => Outcome::Kept { event, flows: bound },
        Ok(Received::Again { first_at_ms }) => {
            tracing::info!(system, topic, key, "webhook received again: acknowledged, nothing started");
            Outcome::Repeated { event, first_at_ms }
        }
        Err(e) => {
            tracing::error!(system, topic, key, error = %e, "webhook not kept");
            Outcome::NotKept { event }
        }
    }
}

/// What makes an event the same event: the id the system gave it; else its topic,
/// key, action and the moment it was raised (Exact's `EventCreatedOn`, Xero's
/// `eventDateUtc`); else the event exactly as received.
fn event_id(system: &str, event: &Event) -> String {
    use sha2::Digest;
    let identity = match (&event.id, &event.at) {
        (Some(id), _) => format!("{system}\nid\n{id}"),
        (None, Some(at)) => {
            format!("{system}\n{}\n{}\n{}\n{at}", event.topic.to_lowercase(), event.key, event.action.as_deref().unwrap_or_default().to_lowercase())
        }
        (None, None) => format!("{system}\nbytes\n{}", event.text),
    };
    sha2::Sha256::digest(identity.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: Option<&str>, at: Option<&str>, text: &str) -> Event {
        Event {
            topic: "SalesOrders".into(),
            key: "k".into(),
            action: Some("Update".into()),
            account: None,
            id: id.map(Into::into),
            at: at.map(Into::into),
            text: text.into(),
        }
    }

    #[test]
    fn the_same_event_is_known_by_its_id_else_its_moment_else_its_text() {
        assert_eq!(event_id("qbo", &event(Some("a"), Some("t1"), "x")), event_id("qbo", &event(Some("a"), Some("t2"), "y")));
        assert_ne!(event_id("qbo", &event(Some("a"), None, "x")), event_id("qbo", &event(Some("b"), None, "x")));
        assert_ne!(event_id("qbo", &event(Some("a"), None, "x")), event_id("xero", &event(Some("a"), None, "x")));
        assert_eq!(event_id("exact", &event(None, Some("t1"), "x")), event_id("exact", &event(None, Some("t1"), "y")));
        assert_ne!(event_id("exact", &event(None, Some("t1"), "x")), event_id("exact", &event(None, Some("t2"), "x")));
        assert_ne!(event_id("exact", &event(None, None, "x")), event_id("exact", &event(None, None, "y")));
    }
}
