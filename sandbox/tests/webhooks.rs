//! Exact Online webhooks over real loopback HTTP: subscriptions checked by an empty POST to their
//! callback URL, signed events from API writes and on demand, received by a tiny callback server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use flowmap_sandbox::{Sandbox, SandboxConfig, WebhookDelivery};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

const DIVISION: i64 = 3_012_345;
const REDIRECT: &str = "http://localhost:7777/callback";
const SECRET: &str = "test-webhook-secret";

fn config() -> SandboxConfig {
    SandboxConfig {
        fixtures: Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))),
        clock_speed: 0.0,
        webhook_secret: SECRET.into(),
        ..SandboxConfig::default()
    }
}

fn start() -> (Sandbox, Client) {
    let sandbox = Sandbox::start(config()).expect("sandbox starts");
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    (sandbox, client)
}

async fn json_of(response: Response) -> Value {
    response.json().await.expect("JSON body")
}

fn error_value(body: &Value) -> &str {
    body["error"]["message"]["value"].as_str().unwrap_or_default()
}

/// Consent and code exchange: an access token.
async fn access_token(sandbox: &Sandbox, client: &Client) -> String {
    let auth = client
        .get(format!("{}/api/oauth2/auth", sandbox.exact_url()))
        .query(&[("client_id", "sandbox-client"), ("redirect_uri", REDIRECT), ("response_type", "code"), ("state", "s")])
        .send()
        .await
        .expect("auth");
    let location = auth.headers().get("location").and_then(|v| v.to_str().ok()).expect("Location").to_string();
    let code = location.split("code=").nth(1).and_then(|rest| rest.split('&').next()).expect("code").to_string();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("client_id", "sandbox-client"),
        ("client_secret", "sandbox-secret"),
    ];
    let token = client.post(format!("{}/api/oauth2/token", sandbox.exact_url())).form(&form).send().await.expect("token");
    json_of(token).await["access_token"].as_str().expect("access_token").to_string()
}

/// An Exact API call with the headers every client sends.
struct Api<'a> {
    sandbox: &'a Sandbox,
    client: &'a Client,
    token: String,
}

impl Api<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/{DIVISION}/{path}", self.sandbox.exact_url())
    }

    async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(&self.token).header("Accept", "application/json").send().await.expect("GET")
    }

    async fn post(&self, path: &str, body: Value) -> Response {
        self.client.post(self.url(path)).bearer_auth(&self.token).header("Accept", "application/json").json(&body).send().await.expect("POST")
    }

    async fn put(&self, path: &str, body: Value) -> Response {
        self.client.put(self.url(path)).bearer_auth(&self.token).header("Accept", "application/json").json(&body).send().await.expect("PUT")
    }

    async fn delete(&self, path: &str) -> Response {
        self.client.delete(self.url(path)).bearer_auth(&self.token).header("Accept", "application/json").send().await.expect("DELETE")
    }

    async fn subscribe(&self, topic: &str, callback: &str) -> Response {
        self.post("webhooks/WebhookSubscriptions", json!({"CallbackURL": callback, "Topic": topic, "Description": "test"})).await
    }
}

/// One request the callback server received.
#[derive(Debug)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

/// A callback server on a loopback port, on a thread of its own (so it answers while a test
/// thread blocks in `fire_webhook`). `answer(n)` gives the status line for the n-th request
/// (from 0), or `None` to hold that connection open without answering.
struct Callback {
    url: String,
    received: mpsc::Receiver<Received>,
}

impl Callback {
    fn start(answer: impl Fn(usize) -> Option<&'static str> + Send + 'static) -> Callback {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://127.0.0.1:{}/hooks/exact?source=sandbox", listener.local_addr().expect("addr").port());
        let (sender, received) = mpsc::channel();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&mut stream) else { continue };
                if sender.send(request).is_err() {
                    return;
                }
                match answer(n) {
                    Some(status) => {
                        let _ = stream.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
                    }
                    None => held.push(stream),
                }
            }
        });
        Callback { url, received }
    }

    fn next(&self) -> Received {
        self.received.recv_timeout(Duration::from_secs(10)).expect("the callback was called")
    }

    fn nothing_more(&self) {
        assert!(self.received.recv_timeout(Duration::from_millis(200)).is_err(), "no further call to the callback");
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let length: usize = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received { request_line, headers, body })
}

/// The `Content` JSON exactly as it appears in the body, and the `HashCode`.
fn split_event(body: &str) -> (&str, &str) {
    let rest = body.strip_prefix("{\"Content\":").expect("body starts with Content");
    let (content, hash) = rest.rsplit_once(",\"HashCode\":\"").expect("HashCode follows Content");
    (content, hash.strip_suffix("\"}").expect("body ends after HashCode"))
}

fn hmac_hex(secret: &str, bytes: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(bytes);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02X}")).collect()
}

/// Checks the signature over the raw Content bytes and returns the Content, parsed.
fn verified_content(body: &str) -> Value {
    let (content, hash) = split_event(body);
    assert_eq!(hash, hmac_hex(SECRET, content.as_bytes()), "HashCode is uppercase hex HMAC-SHA256 over the raw Content");
    serde_json::from_str(content).expect("Content is JSON")
}

#[tokio::test]
async fn subscriptions_are_checked_by_an_empty_post_then_listed_and_deleted() {
    let (sandbox, client) = start();
    let api = Api { sandbox: &sandbox, client: &client, token: access_token(&sandbox, &client).await };
    let callback = Callback::start(|_| Some("200 OK"));

    let created = api.subscribe("SalesOrders", &callback.url).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let check = callback.next();
    assert_eq!(check.request_line, "POST /hooks/exact?source=sandbox HTTP/1.1");
    assert_eq!((check.header("content-length"), check.body.len()), (Some("0"), 0), "the check is an empty POST");
    let created = json_of(created).await;
    let d = &created["d"];
    let id = d["ID"].as_str().expect("ID").to_string();
    assert_eq!(id.len(), 36);
    assert_eq!((&d["CallbackURL"], &d["Topic"], &d["Description"]), (&json!(callback.url), &json!("SalesOrders"), &json!("test")));
    assert_eq!((&d["ClientID"], &d["Division"]), (&json!("sandbox-client"), &json!(DIVISION)));
    assert!(d["UserID"].as_str().is_some_and(|u| u.len() == 36));
    assert_eq!(d["__metadata"]["uri"], api.url(&format!("webhooks/WebhookSubscriptions(guid'{id}')")));

    let duplicate = api.subscribe("SalesOrders", &callback.url).await;
    assert_eq!(duplicate.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_value(&json_of(duplicate).await), "Data already exists");
    callback.nothing_more();

    let unknown = api.subscribe("StockPosition", &callback.url).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(error_value(&json_of(unknown).await).starts_with("Invalid: Topic 'StockPosition'"));
    let missing = api.post("webhooks/WebhookSubscriptions", json!({"Description": "x"})).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_value(&json_of(missing).await), "Verplicht: CallbackURL\r\nVerplicht: Topic");
    let unknown_property = api.post("webhooks/WebhookSubscriptions", json!({"CallbackURL": callback.url, "Topic": "Items", "Url": 1})).await;
    assert_eq!(unknown_property.status(), StatusCode::BAD_REQUEST);

    // The same URL for another topic is another subscription.
    assert_eq!(api.subscribe("Accounts", &callback.url).await.status(), StatusCode::CREATED);
    callback.next();

    let unselected = api.get("webhooks/WebhookSubscriptions").await;
    assert_eq!(unselected.status(), StatusCode::BAD_REQUEST);
    let listed = json_of(api.get("webhooks/WebhookSubscriptions?$select=ID,Topic").await).await;
    let topics: Vec<&Value> = listed["d"]["results"].as_array().expect("results").iter().map(|s| &s["Topic"]).collect();
    assert_eq!(topics, [&json!("SalesOrders"), &json!("Accounts")]);
    assert_eq!(
        listed["d"]["results"][0].as_object().map(|s| s.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["__metadata".into(), "ID".into(), "Topic".into()])
    );
    let filtered = json_of(api.get("webhooks/WebhookSubscriptions?$filter=Topic eq 'Accounts'&$select=CallbackURL").await).await;
    assert_eq!(filtered["d"]["results"], json!([{"__metadata": filtered["d"]["results"][0]["__metadata"], "CallbackURL": callback.url}]));
    assert_eq!(sandbox.webhook_subscriptions().len(), 2);

    let one = format!("webhooks/WebhookSubscriptions(guid'{id}')");
    let deleted = api.delete(&one).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(deleted.text().await.unwrap(), "");
    assert_eq!(api.delete(&one).await.status(), StatusCode::NOT_FOUND);
    let left: Vec<Value> = sandbox.webhook_subscriptions().iter().map(|s| s["Topic"].clone()).collect();
    assert_eq!(left, [json!("Accounts")]);
    assert_eq!(sandbox.fire_webhook("SalesOrders", &id, "Update"), Ok(0), "nobody listens to SalesOrders any more");
    // Deleting is only for subscriptions.
    assert_eq!(api.delete("crm/Accounts(guid'5df0d39f-7524-4add-9413-788062e10fbe')").await.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_callback_that_refuses_or_is_not_there_fails_the_subscription() {
    let (sandbox, client) = start();
    let api = Api { sandbox: &sandbox, client: &client, token: access_token(&sandbox, &client).await };

    let unavailable = Callback::start(|_| Some("503 Service Temporarily Unavailable"));
    let refused = api.subscribe("SalesOrders", &unavailable.url).await;
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        json_of(refused).await,
        json!({"error": {"code": "", "message": {"lang": "", "value": "Invalid: Post to callback URL endpoint returns 503 Service Temporarily Unavailable"}}})
    );
    assert_eq!(unavailable.next().body.len(), 0);

    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_url = format!("http://127.0.0.1:{}/hooks", closed.local_addr().expect("addr").port());
    drop(closed);
    let nobody = api.subscribe("SalesOrders", &closed_url).await;
    assert_eq!(nobody.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_value(&json_of(nobody).await), "Invalid: Post to callback URL endpoint failed: connection refused");

    let https = api.subscribe("SalesOrders", "https://example.com/hooks").await;
    assert_eq!(https.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(error_value(&json_of(https).await).starts_with("Invalid: Post to callback URL endpoint failed: https:// is not supported"));

    assert!(sandbox.webhook_subscriptions().is_empty(), "nothing was created");
    let statuses: Vec<u16> = sandbox.requests().iter().filter(|r| r.path.ends_with("/WebhookSubscriptions")).map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 500], "the request log has the final answers");
}

#[tokio::test]
async fn fired_events_are_signed_over_the_raw_content_bytes() {
    let (sandbox, client) = start();
    let api = Api { sandbox: &sandbox, client: &client, token: access_token(&sandbox, &client).await };
    let callback = Callback::start(|_| Some("200 OK"));
    assert_eq!(api.subscribe("SalesOrders", &callback.url).await.status(), StatusCode::CREATED);
    callback.next();

    let key = "6856708e-0398-494c-b57d-652b0e06f0e3";
    assert_eq!(sandbox.fire_webhook("SalesOrders", key, "Delete"), Ok(1));
    let event = callback.next();
    assert_eq!(event.request_line, "POST /hooks/exact?source=sandbox HTTP/1.1");
    assert_eq!(event.header("content-type"), Some("application/json"));
    let body = event.text();
    let content = verified_content(&body);
    let created_on = chrono::DateTime::from_timestamp_millis(sandbox.now_ms()).unwrap().format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    let expected = json!({
        "Topic": "SalesOrders",
        "ClientId": "sandbox-client",
        "Division": DIVISION,
        "Action": "Delete",
        "Key": key,
        "ExactOnlineEndpoint": api.url(&format!("salesorder/SalesOrders(guid'{key}')")),
        "EventCreatedOn": created_on,
    });
    assert_eq!(content, expected);
    let (raw, _) = split_event(&body);
    assert_eq!(raw, expected.to_string(), "compact, fields in Exact's order");

    let deliveries = sandbox.webhook_deliveries();
    assert_eq!(
        deliveries,
        [WebhookDelivery {
            url: callback.url.clone(),
            topic: "SalesOrders".into(),
            key: key.into(),
            action: "Delete".into(),
            body: body.clone(),
            status: Some(200),
            error: None,
            at_ms: sandbox.now_ms(),
        }]
    );

    assert!(sandbox.fire_webhook("StockPositions", key, "Update").is_err());
    assert!(sandbox.fire_webhook("SalesOrders", key, "Create").is_err());
    assert_eq!(sandbox.fire_webhook("Accounts", key, "Update"), Ok(0));

    // The same over the control API, on either port.
    let fired = client
        .post(format!("{}/_sandbox/exact/webhooks", sandbox.lnb_url()))
        .json(&json!({"topic": "salesorders", "key": key}))
        .send()
        .await
        .unwrap();
    assert_eq!(fired.status(), StatusCode::OK);
    let fired = json_of(fired).await;
    assert_eq!((&fired["sent"], &fired["deliveries"][0]["action"], &fired["deliveries"][0]["status"]), (&json!(1), &json!("Update"), &json!(200)));
    assert_eq!(verified_content(&callback.next().text())["Action"], "Update");
    let bad =
        client.post(format!("{}/_sandbox/exact/webhooks", sandbox.exact_url())).json(&json!({"topic": "Nope", "key": key})).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let logged = json_of(client.get(format!("{}/_sandbox/exact/webhooks", sandbox.exact_url())).send().await.unwrap()).await;
    assert_eq!(logged.as_array().map(Vec::len), Some(2));
    assert_eq!(logged[0]["body"], body.as_str());
}

#[tokio::test]
async fn api_writes_raise_events_without_waiting_for_the_callback() {
    let (sandbox, client) = start();
    let api = Api { sandbox: &sandbox, client: &client, token: access_token(&sandbox, &client).await };
    let orders_hook = Callback::start(|_| Some("200 OK"));
    assert_eq!(api.subscribe("SalesOrders", &orders_hook.url).await.status(), StatusCode::CREATED);
    orders_hook.next();
    // Answers the check, then never answers an event.
    let accounts_hook = Callback::start(|n| (n == 0).then_some("200 OK"));
    assert_eq!(api.subscribe("Accounts", &accounts_hook.url).await.status(), StatusCode::CREATED);
    accounts_hook.next();

    let order = json!({
        "OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe",
        "YourRef": "PO-HOOK",
        "SalesOrderLines": [{"Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1", "Quantity": 1}],
    });
    let created = api.post("salesorder/SalesOrders", order).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let order_id = json_of(created).await["d"]["OrderID"].as_str().expect("OrderID").to_string();
    let event = verified_content(&orders_hook.next().text());
    assert_eq!((&event["Topic"], &event["Action"], &event["Key"]), (&json!("SalesOrders"), &json!("Update"), &json!(order_id)));
    assert_eq!(event["ExactOnlineEndpoint"], api.url(&format!("salesorder/SalesOrders(guid'{order_id}')")));

    let put = api.put(&format!("salesorder/SalesOrders(guid'{order_id}')"), json!({"Description": "changed"})).await;
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let event = verified_content(&orders_hook.next().text());
    assert_eq!((&event["Action"], &event["Key"]), (&json!("Update"), &json!(order_id)));

    // A write nobody subscribed to raises nothing; a refused write raises nothing.
    assert_eq!(api.post("logistics/Items", json!({"Code": "HOOK-1", "Description": "Hook"})).await.status(), StatusCode::CREATED);
    assert_eq!(api.post("salesorder/SalesOrders", json!({"YourRef": "x"})).await.status(), StatusCode::BAD_REQUEST);
    orders_hook.nothing_more();

    // A callback that never answers holds up neither the API nor the others.
    let started = Instant::now();
    let account = api.post("crm/Accounts", json!({"Name": "Hook BV", "Code": "77"})).await;
    assert_eq!(account.status(), StatusCode::CREATED);
    assert!(started.elapsed() < Duration::from_secs(2), "the API answered at once");
    let account_id = json_of(account).await["d"]["ID"].as_str().expect("ID").to_string();
    assert_eq!(verified_content(&accounts_hook.next().text())["Key"], account_id.as_str());
    let timed_out = loop {
        let found = sandbox.webhook_deliveries().into_iter().find(|d| d.topic == "Accounts");
        match found {
            Some(delivery) => break delivery,
            None if started.elapsed() < Duration::from_secs(15) => tokio::time::sleep(Duration::from_millis(100)).await,
            None => panic!("the hanging delivery was never given up"),
        }
    };
    assert_eq!((timed_out.status, timed_out.error.as_deref()), (None, Some("no answer within 5 s")));
    assert_eq!(timed_out.key, account_id);
    let order_events = sandbox.webhook_deliveries().iter().filter(|d| d.topic == "SalesOrders" && d.status == Some(200)).count();
    assert_eq!(order_events, 2);
}
