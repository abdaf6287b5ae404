//! Exact's webhooks (shared/reference/exact-online.md §6): subscriptions in
//! `webhooks/WebhookSubscriptions`, the empty POST to a new subscription's callback URL that decides
//! whether it is created, and events signed with the app's webhook secret, sent when a record of a
//! subscribed topic is written through the API or when a test fires one.
//!
//! An event's body is `{"Content":{…},"HashCode":"…"}`, where `HashCode` is the uppercase hex of
//! HMAC-SHA256 over the `Content` JSON exactly as it appears in the body. Events go out in the
//! background, each with a deadline, so a slow callback never holds up an API answer.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::store::{Store, key_literal};
use super::{Exact, envelope, write};
use crate::http::client;
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

/// The entity set of the subscriptions.
pub const SUBSCRIPTIONS: &str = "webhooks/WebhookSubscriptions";

/// How long a callback has to answer, the check on creation and every event alike.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The topics the sandbox knows, and the entity each one's events point at.
const TOPICS: &[(&str, &str)] = &[
    ("Accounts", "crm/Accounts"),
    ("Contacts", "crm/Contacts"),
    ("Items", "logistics/Items"),
    ("SalesOrders", "salesorder/SalesOrders"),
    ("SalesInvoices", "salesinvoice/SalesInvoices"),
    ("PurchaseOrders", "purchaseorder/PurchaseOrders"),
    ("GoodsDeliveries", "salesorder/GoodsDeliveries"),
    ("FinancialTransactions", "financialtransaction/Transactions"),
];

/// The topic as Exact spells it, for a name in any casing.
pub fn topic(name: &str) -> Option<&'static str> {
    TOPICS.iter().find(|(topic, _)| topic.eq_ignore_ascii_case(name.trim())).map(|(topic, _)| *topic)
}

pub fn topic_names() -> String {
    TOPICS.iter().map(|(topic, _)| *topic).collect::<Vec<_>>().join(", ")
}

/// `Update` (creations too) or `Delete`, in any casing.
pub fn action(name: &str) -> Option<&'static str> {
    ["Update", "Delete"].into_iter().find(|action| action.eq_ignore_ascii_case(name.trim()))
}

fn entity_of(topic: &str) -> &'static str {
    TOPICS.iter().find(|(t, _)| *t == topic).map_or("", |(_, entity)| *entity)
}

/// The topic whose events a write to `service/Entity` raises (the service in any casing).
fn topic_of_entity(path: &str) -> Option<&'static str> {
    TOPICS.iter().find(|(_, entity)| entity.eq_ignore_ascii_case(path)).map(|(topic, _)| *topic)
}

/// One event sent to one callback URL, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    pub url: String,
    pub topic: String,
    pub key: String,
    /// `Update` or `Delete`.
    pub action: String,
    /// The body exactly as sent.
    pub body: String,
    /// The status the callback answered; `None` when it did not answer.
    pub status: Option<u16>,
    /// Why there was no answer (`connection refused`, `no answer within 5 s`, …).
    pub error: Option<String>,
    /// Sandbox clock, epoch milliseconds, when the event was raised (its `EventCreatedOn`).
    pub at_ms: i64,
}

/// What every event needs: the app's secret and client id, the division, and the log.
pub struct Webhooks {
    secret: String,
    client_id: String,
    division: i64,
    /// `http://127.0.0.1:PORT/api/v1/DIVISION`, for `ExactOnlineEndpoint`.
    api_base: String,
    deliveries: Mutex<Vec<WebhookDelivery>>,
}

impl Webhooks {
    pub fn new(secret: String, client_id: String, division: i64, api_base: String) -> Webhooks {
        Webhooks { secret, client_id, division, api_base, deliveries: Mutex::new(Vec::new()) }
    }

    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.deliveries.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `{"Content":{…},"HashCode":"…"}`, byte for byte as Exact sends it.
    fn event_body(&self, topic: &str, key: &str, action: &str, at_ms: i64) -> String {
        let endpoint = format!("{}/{}({})", self.api_base, entity_of(topic), key_literal(key));
        let content = json!({
            "Topic": topic,
            "ClientId": self.client_id,
            "Division": self.division,
            "Action": action,
            "Key": key,
            "ExactOnlineEndpoint": endpoint,
            "EventCreatedOn": event_time(at_ms),
        });
        let content = content.to_string();
        let hash = sign(&self.secret, content.as_bytes());
        format!("{{\"Content\":{content},\"HashCode\":\"{hash}\"}}")
    }

    /// Sends one event to each URL, all at once; the future ends when every callback has answered
    /// or run out of time, and yields the deliveries (also kept in the log).
    pub fn send(
        self: &Arc<Self>,
        urls: Vec<String>,
        topic: &'static str,
        key: String,
        action: &'static str,
        at_ms: i64,
    ) -> impl Future<Output = Vec<WebhookDelivery>> + Send + 'static {
        let webhooks = self.clone();
        async move {
            let body = webhooks.event_body(topic, &key, action, at_ms);
            let sending: Vec<_> = urls
                .into_iter()
                .map(|url| {
                    let delivery = WebhookDelivery {
                        url,
                        topic: topic.to_string(),
                        key: key.clone(),
                        action: action.to_string(),
                        body: body.clone(),
                        status: None,
                        error: None,
                        at_ms,
                    };
                    tokio::spawn(webhooks.clone().deliver(delivery))
                })
                .collect();
            let mut delivered = Vec::with_capacity(sending.len());
            for task in sending {
                if let Ok(delivery) = task.await {
                    delivered.push(delivery);
                }
            }
            delivered
        }
    }

    async fn deliver(self: Arc<Self>, mut delivery: WebhookDelivery) -> WebhookDelivery {
        match client::post(&delivery.url, Some("application/json"), delivery.body.as_bytes(), CALLBACK_TIMEOUT).await {
            Ok(answer) => delivery.status = Some(answer.status),
            Err(reason) => delivery.error = Some(reason),
        }
        self.deliveries.lock().unwrap_or_else(|e| e.into_inner()).push(delivery.clone());
        delivery
    }
}

/// Uppercase hex of HMAC-SHA256 of `content` keyed with `secret`: an event's `HashCode`.
pub fn sign(secret: &str, content: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(content);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02X}")).collect()
}

/// `2020-01-06T16:26:08.587`: UTC, milliseconds, no zone, as in Exact's events.
fn event_time(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()).unwrap_or_default()
}

/// The callback URLs subscribed to `topic`, oldest subscription first.
pub fn subscribers(store: &Store, topic: &str) -> Vec<String> {
    let Some(subscriptions) = store.by_path(SUBSCRIPTIONS) else { return Vec::new() };
    subscriptions
        .records
        .iter()
        .filter(|s| s.get("Topic").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(topic)))
        .filter_map(|s| s.get("CallbackURL").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// After a create or update through the API: an `Update` event for the record to every subscriber
/// of its entity's topic, sent in the background.
pub fn changed(exact: &Exact, store: &Store, entity: &str, key: &str, now_ms: i64) {
    let Some(topic) = topic_of_entity(entity) else { return };
    let urls = subscribers(store, topic);
    if urls.is_empty() {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(exact.webhooks.send(urls, topic, key.to_string(), "Update", now_ms));
    }
}

/// `POST webhooks/WebhookSubscriptions`: checked at once, then created only when its callback URL
/// answers an empty POST with a 2xx, which the answer waits for.
pub fn create(exact: &Exact, store: &Store, index: usize, request: &ApiRequest) -> ApiResponse {
    let body = match write::read_body(store.at(index), request) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
    let missing: Vec<String> = ["CallbackURL", "Topic"].into_iter().filter(|f| text(f).is_none()).map(|f| format!("Verplicht: {f}")).collect();
    if !missing.is_empty() {
        return envelope::error(StatusCode::BAD_REQUEST, &missing.join("\r\n"));
    }
    let (url, asked) = (text("CallbackURL").unwrap_or_default().to_string(), text("Topic").unwrap_or_default());
    let Some(topic) = topic(asked) else {
        return envelope::error(StatusCode::BAD_REQUEST, &format!("Invalid: Topic '{asked}' (known topics: {})", topic_names()));
    };
    if is_subscribed(store, topic, &url) {
        return envelope::error(StatusCode::INTERNAL_SERVER_ERROR, "Data already exists");
    }
    let mut record = Map::new();
    record.insert("ID".into(), Value::String(crate::random::new_guid()));
    record.insert("CallbackURL".into(), Value::String(url.clone()));
    record.insert("Topic".into(), Value::String(topic.to_string()));
    record.insert("Description".into(), text("Description").map_or(Value::Null, |d| Value::String(d.to_string())));
    record.insert("IsInstant".into(), Value::Bool(body.get("IsInstant").and_then(Value::as_bool).unwrap_or(false)));
    record.insert("ClientID".into(), Value::String(exact.client_id.clone()));
    record.insert("Division".into(), json!(exact.division));
    record.insert("UserID".into(), Value::String(exact.user_id.clone()));

    let state = exact.state.clone();
    let api_base = exact.api_base();
    ApiResponse::later(async move {
        let refused =
            |detail: String| envelope::error(StatusCode::INTERNAL_SERVER_ERROR, &format!("Invalid: Post to callback URL endpoint {detail}"));
        match client::post(&url, None, b"", CALLBACK_TIMEOUT).await {
            Ok(answer) if answer.is_success() => {}
            Ok(answer) => return refused(format!("returns {} {}", answer.status, answer.reason).trim_end().to_string()),
            Err(reason) => return refused(format!("failed: {reason}")),
        }
        let mut state = super::lock(&state);
        // The same subscription may have been created while the callback was being asked.
        if is_subscribed(&state.store, topic, &url) {
            return envelope::error(StatusCode::INTERNAL_SERVER_ERROR, "Data already exists");
        }
        let subscriptions = state.store.at_mut(index);
        let served = subscriptions.served(&record, &api_base);
        subscriptions.insert(record);
        envelope::data(StatusCode::CREATED, Value::Object(served))
    })
}

fn is_subscribed(store: &Store, topic: &str, url: &str) -> bool {
    subscribers(store, topic).iter().any(|u| u == url)
}

/// `DELETE webhooks/WebhookSubscriptions(guid'…')`.
pub fn delete(store: &mut Store, index: usize, key: &str) -> ApiResponse {
    match store.at_mut(index).remove(key) {
        Some(_) => ApiResponse::empty(StatusCode::NO_CONTENT),
        None => envelope::not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_codes_are_uppercase_hex_hmac_sha256() {
        // The RFC 4231-style example everyone quotes for HMAC-SHA256.
        assert_eq!(sign("key", b"The quick brown fox jumps over the lazy dog"), "F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8");
        // An empty key and message: the other well-known value.
        assert_eq!(sign("", b""), "B613679A0814D9EC772F95D778C35FC5FF1697C493715653C6C712144292C5AD");
    }

    #[test]
    fn event_bodies_sign_the_content_bytes_as_sent() {
        let webhooks = Webhooks::new("secret".into(), "sandbox-client".into(), 3012345, "http://127.0.0.1:1/api/v1/3012345".into());
        let key = "19cee073-0000-4000-8000-000000000001";
        let body = webhooks.event_body("SalesOrders", key, "Update", 1_578_327_968_587);
        let expected_content = format!(
            "{{\"Topic\":\"SalesOrders\",\"ClientId\":\"sandbox-client\",\"Division\":3012345,\"Action\":\"Update\",\"Key\":\"{key}\",\
\"ExactOnlineEndpoint\":\"http://127.0.0.1:1/api/v1/3012345/salesorder/SalesOrders(guid'{key}')\",\"EventCreatedOn\":\"2020-01-06T16:26:08.587\"}}"
        );
        let (content, hash) = body.strip_prefix("{\"Content\":").and_then(|rest| rest.split_once(",\"HashCode\":\"")).expect("shape");
        assert_eq!(content, expected_content);
        assert_eq!(hash, format!("{}\"}}", sign("secret", expected_content.as_bytes())));
    }

    #[test]
    fn topics_and_actions_in_any_casing() {
        assert_eq!(topic("salesorders"), Some("SalesOrders"));
        assert_eq!(topic("StockPositions"), None);
        assert_eq!(topic_of_entity("SalesOrder/SalesOrders"), Some("SalesOrders"));
        assert_eq!(entity_of("FinancialTransactions"), "financialtransaction/Transactions");
        assert_eq!((action("delete"), action("UPDATE"), action("Create")), (Some("Delete"), Some("Update"), None));
    }
}
