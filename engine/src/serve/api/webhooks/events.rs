//! The events of a signed delivery, read as the system's YAML says
//! (`http.webhooks`: `events`, `topic`, `key`, `action`, `account`, `id`, `at`).

use jmespath::Expression;
use regex::Regex;
use serde_json::Value;

use crate::model::{EventField, WebhooksDef};
use crate::value::search;

/// What one event names, as text (a number is its digits: Exact's `Division`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub topic: String,
    pub key: String,
    pub action: Option<String>,
    pub account: Option<String>,
    pub id: Option<String>,
    pub at: Option<String>,
    /// The event as received, for what identifies it when it has neither `id` nor `at`.
    pub text: String,
}

/// A field of `http.webhooks` that does not compile: which (`topic.pattern`) and why.
#[derive(Debug)]
pub struct Misdefined {
    pub field: String,
    pub why: String,
}

impl Misdefined {
    fn at(field: &str, why: impl std::fmt::Display) -> Misdefined {
        Misdefined { field: field.to_string(), why: why.to_string() }
    }
}

impl std::fmt::Display for Misdefined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http.webhooks.{}: {}", self.field, self.why)
    }
}

/// The compiled reading of one system's events.
pub struct Reader {
    events: Expression<'static>,
    topic: Field,
    key: Field,
    action: Option<Field>,
    account: Option<Field>,
    id: Option<Field>,
    at: Option<Field>,
}

struct Field {
    path: Expression<'static>,
    /// Matched against the whole text; its first group is the value.
    pattern: Option<Regex>,
}

impl Reader {
    /// Every expression of `def`, compiled; the error names the field at fault.
    pub fn compile(def: &WebhooksDef) -> Result<Reader, Misdefined> {
        let optional = |field: &Option<EventField>, name: &str| field.as_ref().map(|f| Field::compile(f, name)).transpose();
        let account = def.account.as_ref().map(|a| Field::compile(&EventField::Path(a.path.clone()), "account.path")).transpose()?;
        Ok(Reader {
            events: selector(&def.events, "events")?,
            topic: Field::compile(&def.topic, "topic")?,
            key: Field::compile(&def.key, "key")?,
            action: optional(&def.action, "action")?,
            account,
            id: optional(&def.id, "id")?,
            at: optional(&def.at, "at")?,
        })
    }

    /// The delivery's events, each read or refused with why; `Err` when the
    /// delivery holds no list of events at all.
    pub fn read(&self, signed: &Value) -> Result<Vec<Result<Event, String>>, String> {
        let found = search(&self.events, signed).map_err(|e| format!("the events cannot be read: {e}"))?;
        let found = serde_json::to_value(&*found).unwrap_or(Value::Null);
        let list = match found {
            Value::Array(items) => items,
            one @ Value::Object(_) => vec![one],
            _ => return Err("the delivery holds no events".into()),
        };
        Ok(list.iter().map(|event| self.event(event)).collect())
    }

    fn event(&self, event: &Value) -> Result<Event, String> {
        let optional = |field: &Option<Field>| field.as_ref().and_then(|f| f.read(event));
        let topic = self.topic.read(event).ok_or("the event has no topic")?;
        let key = self.key.read(event).ok_or("the event has no key")?;
        Ok(Event {
            topic,
            key,
            action: optional(&self.action),
            account: optional(&self.account),
            id: optional(&self.id),
            at: optional(&self.at),
            text: event.to_string(),
        })
    }
}

impl Field {
    fn compile(field: &EventField, name: &str) -> Result<Field, Misdefined> {
        Ok(match field {
            EventField::Path(path) => Field { path: selector(path, name)?, pattern: None },
            EventField::Pattern { path, pattern } => {
                let whole = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| Misdefined::at(&format!("{name}.pattern"), e))?;
                if whole.captures_len() < 2 {
                    return Err(Misdefined::at(&format!("{name}.pattern"), "it has no group to take the value from"));
                }
                Field { path: selector(path, name)?, pattern: Some(whole) }
            }
        })
    }

    /// The text found, or nothing for a value that is absent, empty, not text or a number,
    /// or does not match the pattern.
    fn read(&self, event: &Value) -> Option<String> {
        let found = serde_json::to_value(&*search(&self.path, event).ok()?).ok()?;
        let text = match found {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let value = match &self.pattern {
            Some(pattern) => pattern.captures(&text)?.get(1)?.as_str().to_string(),
            None => text,
        };
        (!value.is_empty()).then_some(value)
    }
}

fn selector(text: &str, name: &str) -> Result<Expression<'static>, Misdefined> {
    crate::expr::compile_selector(text).map_err(|e| Misdefined::at(name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped definition of `system`, loaded as the engine loads it.
    fn definition(system: &str) -> WebhooksDef {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository");
        let project = crate::project::Project::load(repo).unwrap_or_else(|p| panic!("the project loads: {p:?}"));
        project.systems[system].def.http.webhooks.clone().expect("webhooks")
    }

    #[test]
    fn quickbooks_cloudevents_name_topic_and_action_inside_type() {
        let reader = Reader::compile(&definition("qbo")).unwrap();
        let body: Value = serde_json::from_str(
            r#"[{"specversion":"1.0","id":"88cd52aa-1","source":"intuit.x","type":"qbo.invoice.created.v1","datacontenttype":"application/json",
                "time":"2025-09-10T21:31:25.179Z","intuitentityid":"1234","intuitaccountid":"310687","data":{}},
               {"specversion":"1.0","id":"88cd52aa-2","type":"qbo.salesreceipt.deleted.v1","intuitentityid":"77","intuitaccountid":"310687"}]"#,
        )
        .unwrap();
        let events: Vec<Event> = reader.read(&body).unwrap().into_iter().map(Result::unwrap).collect();
        let named: Vec<_> =
            events.iter().map(|e| (e.topic.as_str(), e.key.as_str(), e.action.as_deref(), e.account.as_deref(), e.id.as_deref())).collect();
        assert_eq!(
            named,
            vec![
                ("invoice", "1234", Some("created"), Some("310687"), Some("88cd52aa-1")),
                ("salesreceipt", "77", Some("deleted"), Some("310687"), Some("88cd52aa-2"))
            ]
        );
        // A type of another shape names no topic: that event is refused, the others are not.
        let odd: Value = serde_json::from_str(r#"[{"type":"invoice","intuitentityid":"1"}]"#).unwrap();
        assert_eq!(reader.read(&odd).unwrap(), vec![Err("the event has no topic".to_string())]);
    }

    #[test]
    fn xero_events_are_in_events_and_an_exact_content_is_a_list_of_one() {
        let xero = Reader::compile(&definition("xero")).unwrap();
        let body: Value = serde_json::from_str(
            r#"{"events":[{"resourceUrl":"https://api.xero.com/api.xro/2.0/Contacts/717f2bfc-c6d4-41fd-b238-3f2f0c0cf777",
                "resourceId":"717f2bfc-c6d4-41fd-b238-3f2f0c0cf777","eventDateUtc":"2024-06-21T01:15:39.902","eventType":"UPDATE",
                "eventCategory":"CONTACT","tenantId":"c2cc9b6e-9458-4c7d-93cc-f02b81b0594f","tenantType":"ORGANISATION"}],
               "lastEventSequence":1,"firstEventSequence":1,"entropy":"S0m3r4Nd0mt3xt"}"#,
        )
        .unwrap();
        let event = xero.read(&body).unwrap().remove(0).unwrap();
        assert_eq!(
            (event.topic.as_str(), event.key.as_str(), event.action.as_deref(), event.account.as_deref(), event.at.as_deref()),
            (
                "CONTACT",
                "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777",
                Some("UPDATE"),
                Some("c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"),
                Some("2024-06-21T01:15:39.902")
            )
        );
        let intent: Value = serde_json::from_str(r#"{"events":[],"lastEventSequence":0,"firstEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"}"#).unwrap();
        assert_eq!(xero.read(&intent).unwrap(), vec![]);

        let exact = Reader::compile(&definition("exact")).unwrap();
        let content: Value =
            serde_json::from_str(r#"{"Topic":"SalesOrders","Division":3012345,"Action":"Update","Key":"c3a1f7e2-5b0d-4e8f-9a61-2d7c4b8e9f10"}"#)
                .unwrap();
        let event = exact.read(&content).unwrap().remove(0).unwrap();
        assert_eq!((event.topic.as_str(), event.account.as_deref()), ("SalesOrders", Some("3012345")));
        assert_eq!(exact.read(&Value::String("x".into())), Err("the delivery holds no events".to_string()));
    }

    #[test]
    fn a_field_that_does_not_compile_is_named() {
        let mut def = definition("qbo");
        def.topic = EventField::Pattern { path: "type".into(), pattern: "qbo\\.[a-z]+".into() };
        let e = Reader::compile(&def).err().unwrap();
        assert_eq!(e.to_string(), "http.webhooks.topic.pattern: it has no group to take the value from");
        def.topic = EventField::Path("type[".into());
        assert_eq!(Reader::compile(&def).err().map(|e| e.field), Some("topic".to_string()));
    }
}
