//! The sandbox over real loopback HTTP, started with the repository's fixtures, checked the way a
//! client sees it.

use std::path::PathBuf;

use flowmap_sandbox::{FaultKind, Faults, Generate, Limits, Sandbox, SandboxConfig};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

const DIVISION: i64 = 3_012_345;
const REDIRECT: &str = "http://localhost:7777/callback";

fn config() -> SandboxConfig {
    // A stopped clock: windows and lifetimes move only when a test advances it.
    SandboxConfig { fixtures: Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))), clock_speed: 0.0, ..SandboxConfig::default() }
}

fn start(config: SandboxConfig) -> (Sandbox, Client) {
    let sandbox = Sandbox::start(config).expect("sandbox starts");
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    (sandbox, client)
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn json_of(response: Response) -> Value {
    response.json().await.expect("JSON body")
}

/// Consent through `/api/oauth2/auth`, then the code exchange: the token answer.
async fn consent(sandbox: &Sandbox, client: &Client) -> Value {
    let auth = client
        .get(format!("{}/api/oauth2/auth", sandbox.exact_url()))
        .query(&[("client_id", "sandbox-client"), ("redirect_uri", REDIRECT), ("response_type", "code"), ("state", "s t&u")])
        .send()
        .await
        .expect("auth");
    assert_eq!(auth.status(), StatusCode::FOUND);
    let location = header(&auth, "location").expect("Location").to_string();
    assert!(location.starts_with(&format!("{REDIRECT}?code=")), "{location}");
    assert!(location.ends_with("&state=s%20t%26u"), "state is echoed, encoded: {location}");
    let code = location.split("code=").nth(1).and_then(|rest| rest.split('&').next()).expect("code").to_string();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("client_id", "sandbox-client"),
        ("client_secret", "sandbox-secret"),
    ];
    let token = client.post(format!("{}/api/oauth2/token", sandbox.exact_url())).form(&form).send().await.expect("token");
    assert_eq!(token.status(), StatusCode::OK);
    let body = json_of(token).await;
    // Single use: the same code again is refused.
    let again = client.post(format!("{}/api/oauth2/token", sandbox.exact_url())).form(&form).send().await.expect("token");
    assert_eq!((again.status(), json_of(again).await), (StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"})));
    body
}

async fn refresh(sandbox: &Sandbox, client: &Client, refresh_token: &str) -> Response {
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", "sandbox-client"), ("client_secret", "sandbox-secret")];
    client.post(format!("{}/api/oauth2/token", sandbox.exact_url())).form(&form).send().await.expect("refresh")
}

async fn access_token(sandbox: &Sandbox, client: &Client) -> String {
    consent(sandbox, client).await["access_token"].as_str().expect("access_token").to_string()
}

async fn exact_get(sandbox: &Sandbox, client: &Client, token: &str, path_and_query: &str) -> Response {
    let url = format!("{}/api/v1/{DIVISION}/{path_and_query}", sandbox.exact_url());
    client.get(url).bearer_auth(token).header("Accept", "application/json").send().await.expect("GET")
}

fn error_value(body: &Value) -> &str {
    body["error"]["message"]["value"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn oauth_codes_rotation_old_tokens_too_early_and_expiry() {
    let (sandbox, client) = start(config());
    let first = consent(&sandbox, &client).await;
    assert_eq!(first["token_type"], "bearer");
    assert_eq!(first["expires_in"], "600", "expires_in is a string");
    let first_access = first["access_token"].as_str().unwrap();
    let first_refresh = first["refresh_token"].as_str().unwrap();

    let early = refresh(&sandbox, &client, first_refresh).await;
    assert_eq!(early.status(), StatusCode::BAD_REQUEST);
    assert!(header(&early, "reason").is_some_and(|r| r.starts_with("TooEarlyToRefreshTokens:")));
    assert_eq!(json_of(early).await, json!({"error": "access_denied", "error_description": "Rate limit exceeded: access_token not expired"}));

    sandbox.advance_clock(571);
    let rotated = refresh(&sandbox, &client, first_refresh).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let second = json_of(rotated).await;
    assert_ne!(second["refresh_token"], first["refresh_token"]);

    let reused = refresh(&sandbox, &client, first_refresh).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(reused).await, json!({"error": "unauthorized_client", "error_description": "Old refresh token used."}));

    // The first access token lives out its own 600 s: 571 s have passed.
    assert_eq!(exact_get(&sandbox, &client, first_access, "vat/VATCodes?$select=Code").await.status(), StatusCode::OK);
    sandbox.advance_clock(30);
    let expired = exact_get(&sandbox, &client, first_access, "vat/VATCodes?$select=Code").await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&expired, "www-authenticate").is_some_and(|h| h.contains("access token expired")));
    let second_access = second["access_token"].as_str().unwrap();
    assert_eq!(exact_get(&sandbox, &client, second_access, "vat/VATCodes?$select=Code").await.status(), StatusCode::OK);
    sandbox.advance_clock(601);
    assert_eq!(exact_get(&sandbox, &client, second_access, "vat/VATCodes?$select=Code").await.status(), StatusCode::UNAUTHORIZED);

    let bad_secret = [("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", "sandbox-client"), ("client_secret", "wrong")];
    let refused = client.post(format!("{}/api/oauth2/token", sandbox.exact_url())).form(&bad_secret).send().await.unwrap();
    assert_eq!((refused.status(), json_of(refused).await), (StatusCode::BAD_REQUEST, json!({"error": "invalid_request"})));

    sandbox.advance_clock(31 * 86_400);
    let stale = refresh(&sandbox, &client, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(stale.status(), StatusCode::BAD_REQUEST);
    let description = json_of(stale).await["error_description"].as_str().unwrap_or_default().to_string();
    assert!(description.starts_with("The refresh token expired at ") && description.contains(" and it is now "), "{description}");

    let token_calls: Vec<_> = sandbox.requests().into_iter().filter(|r| r.path == "/api/oauth2/token").collect();
    assert!(token_calls.iter().all(|r| r.form.iter().any(|(k, _)| k == "grant_type")), "token forms are recorded decoded");
}

#[tokio::test]
async fn lists_need_select_and_compare_padded_codes_exactly() {
    let (sandbox, client) = start(config());
    let token = access_token(&sandbox, &client).await;

    // Accounts and Items answer a list without `$filter` with their own 400 (tests/catalogue.rs): asked of orders.
    let unselected = exact_get(&sandbox, &client, &token, "salesorder/SalesOrders").await;
    assert_eq!(unselected.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_value(&json_of(unselected).await), "Please add a $select or a $top=1 statement to the query string.");

    let padded = exact_get(&sandbox, &client, &token, "crm/Accounts?$filter=Code eq '             10023'&$select=ID,Code").await;
    let body = json_of(padded).await;
    let rows = body["d"]["results"].as_array().expect("results");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["ID"], "5df0d39f-7524-4add-9413-788062e10fbe");
    assert_eq!(rows[0].as_object().map(|r| r.keys().cloned().collect::<Vec<_>>()), Some(vec!["__metadata".into(), "ID".into(), "Code".into()]));

    let unpadded = json_of(exact_get(&sandbox, &client, &token, "crm/Accounts?$filter=Code eq '10023'&$select=ID").await).await;
    assert_eq!(unpadded["d"]["results"], json!([]));
    let trimmed = json_of(exact_get(&sandbox, &client, &token, "crm/Accounts?$filter=trim(Code) eq '10023'&$select=ID").await).await;
    assert_eq!(trimmed["d"]["results"].as_array().map(Vec::len), Some(1));

    let quoted = json_of(exact_get(&sandbox, &client, &token, "crm/Accounts?$filter=Code eq '           O''BRIEN'&$select=Name").await).await;
    assert_eq!(quoted["d"]["results"][0]["Name"], "O'Brien & Daughters");
    let injection = exact_get(&sandbox, &client, &token, "crm/Accounts?$filter=Code eq 'x'' or ''1'' eq ''1'&$select=ID").await;
    assert_eq!(json_of(injection).await["d"]["results"], json!([]));

    let top = json_of(exact_get(&sandbox, &client, &token, "logistics/Items?$filter=Code ne ''&$top=1").await).await;
    assert!(top["d"].is_array() && top["d"][0]["Code"].is_string(), "$top answers an array under d with full records");

    let broken = exact_get(&sandbox, &client, &token, "crm/Accounts?$filter=Code eq 'open&$select=ID").await;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_value(&json_of(broken).await), "Bad Request - Error in query syntax.");
    let unknown = exact_get(&sandbox, &client, &token, "crm/Accounts?$filter=Colour eq 'red'&$select=ID").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(error_value(&json_of(unknown).await).contains("'Colour'"));

    let single = json_of(exact_get(&sandbox, &client, &token, "CRM/Accounts(guid'5DF0D39F-7524-4ADD-9413-788062E10FBE')").await).await;
    assert_eq!(single["d"]["Name"], "Boutique Lune");
    let missing = exact_get(&sandbox, &client, &token, "crm/Accounts(guid'00000000-0000-4000-8000-000000000000')").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let other_division = client
        .get(format!("{}/api/v1/999/crm/Accounts?$filter=Code ne ''&$select=ID", sandbox.exact_url()))
        .bearer_auth(&token)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(other_division.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_value(&json_of(other_division).await), "Forbidden - WrongDivision");

    let xml = client
        .get(format!("{}/api/v1/{DIVISION}/crm/Accounts?$filter=Code ne ''&$select=ID", sandbox.exact_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), StatusCode::NOT_ACCEPTABLE);

    let me = client
        .get(format!("{}/api/v1/current/Me?$select=CurrentDivision", sandbox.exact_url()))
        .bearer_auth(&token)
        .header("Accept", "application/json");
    let me = json_of(me.send().await.unwrap()).await;
    assert_eq!(me["d"]["results"][0]["CurrentDivision"], DIVISION);
}

#[tokio::test]
async fn pages_of_60_linked_by_next_and_bulk_pages_of_1000() {
    let generate = Generate { customers: 1100, items: 0, orders: 0, lines: 0, seed: 3 };
    let (sandbox, client) = start(SandboxConfig { generate: Some(generate), ..config() });
    let token = access_token(&sandbox, &client).await;
    // The fixtures' accounts: 7 customers and 3 suppliers.
    let total: usize = 10 + 1100;

    // The regular endpoint lists accounts only with a `$filter` (since October 2022): one every account passes.
    let mut url = format!("{}/api/v1/{DIVISION}/crm/Accounts?$filter=Code ne ''&$select=ID,Code", sandbox.exact_url());
    let (mut seen, mut pages) = (Vec::new(), 0);
    loop {
        let body = json_of(client.get(&url).bearer_auth(&token).header("Accept", "application/json").send().await.unwrap()).await;
        let rows = body["d"]["results"].as_array().expect("results").clone();
        pages += 1;
        seen.extend(rows.iter().map(|r| r["ID"].as_str().unwrap_or_default().to_string()));
        match body["d"]["__next"].as_str() {
            Some(next) => {
                assert_eq!(rows.len(), 60);
                assert!(next.starts_with(&sandbox.exact_url()) && next.contains("$skiptoken=guid'"), "{next}");
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (total, total.div_ceil(60)));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total, "no row twice");

    let bulk = |query: &str| format!("{}/api/v1/{DIVISION}/bulk/CRM/Accounts{query}", sandbox.exact_url());
    let refused = client.get(bulk("?$top=1")).bearer_auth(&token).header("Accept", "application/json").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "bulk needs $select");
    let first = json_of(client.get(bulk("?$select=ID")).bearer_auth(&token).header("Accept", "application/json").send().await.unwrap()).await;
    assert_eq!(first["d"]["results"].as_array().map(Vec::len), Some(1000));
    let next = first["d"]["__next"].as_str().expect("__next").to_string();
    let second = json_of(client.get(next).bearer_auth(&token).header("Accept", "application/json").send().await.unwrap()).await;
    assert_eq!(second["d"]["results"].as_array().map(Vec::len), Some(total - 1000));
    assert!(second["d"]["__next"].is_null());
}

#[tokio::test]
async fn sales_orders_are_created_validated_and_found_again() {
    let (sandbox, client) = start(config());
    let token = access_token(&sandbox, &client).await;
    let orders = format!("{}/api/v1/{DIVISION}/salesorder/SalesOrders", sandbox.exact_url());
    let post = |body: Value| client.post(&orders).bearer_auth(&token).header("Accept", "application/json").json(&body).send();

    let order = json!({
        "OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe",
        "YourRef": "PO50001",
        "WarehouseID": "28062cd0-893f-4bd7-9f73-e4a0f372a5b4",
        "OrderDate": "2025-03-02",
        "SalesOrderLines": [{"Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1", "Quantity": 12, "UnitPrice": 19.95}],
    });
    let created = post(order.clone()).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json_of(created).await;
    let id = created["d"]["OrderID"].as_str().expect("OrderID").to_string();
    assert_eq!(created["d"]["OrderNumber"], 1043, "numbers count up from the largest seeded one");
    assert_eq!(created["d"]["Status"], 12);
    assert_eq!(created["d"]["OrderDate"], "/Date(1740873600000)/");
    // As Exact answers a creation: the lines as a link, read with a GET (with $expand for the lines inline).
    let lines = created["d"]["SalesOrderLines"]["__deferred"]["uri"].as_str().expect("the lines' link");
    assert!(lines.ends_with(&format!("SalesOrders(guid'{id}')/SalesOrderLines")), "{lines}");
    let read = client.get(lines).bearer_auth(&token).header("Accept", "application/json").send().await.unwrap();
    assert_eq!(json_of(read).await["d"]["results"][0]["ItemCode"], "TSH-WHT-M");
    assert!(created["d"]["__metadata"]["uri"].as_str().is_some_and(|u| u.ends_with(&format!("SalesOrders(guid'{id}')"))));

    let found =
        json_of(exact_get(&sandbox, &client, &token, "salesorder/SalesOrders?$filter=YourRef eq 'PO50001'&$select=OrderID,YourRef").await).await;
    assert_eq!(found["d"]["results"][0]["OrderID"], id.as_str());
    assert_eq!(sandbox.exact_records("salesorder/SalesOrders").len(), 5);

    let missing = post(json!({"YourRef": "x", "SalesOrderLines": []})).await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(missing).await,
        json!({"error": {"code": "", "message": {"lang": "", "value": "Verplicht: Besteld door\r\nVerplicht: Orderregels"}}})
    );

    let unknown_item =
        json!({"OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe", "SalesOrderLines": [{"Item": "8445cccf-0000-4ac2-9d6d-fbd7b865add7"}]});
    let refused = post(unknown_item).await.unwrap();
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_value(&json_of(refused).await), "Ongeldige referentie: Artikel");

    let lines_object =
        json!({"OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe", "SalesOrderLines": {"Item": "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1"}});
    assert_eq!(post(lines_object).await.unwrap().status(), StatusCode::BAD_REQUEST);

    let unknown_property = post(json!({"OrderedBy": "5df0d39f-7524-4add-9413-788062e10fbe", "SalesVatCode": "2  "})).await.unwrap();
    assert_eq!(
        error_value(&json_of(unknown_property).await),
        "Error processing request stream. The property name 'SalesVatCode' specified for type 'Exact.Web.Api.Models.SalesOrder' is not valid."
    );

    let invoices = format!("{}/api/v1/{DIVISION}/salesinvoice/SalesInvoices", sandbox.exact_url());
    let invoice =
        client.post(&invoices).bearer_auth(&token).header("Accept", "application/json").json(&json!({"YourRef": "INV-1"})).send().await.unwrap();
    assert_eq!(error_value(&json_of(invoice).await), "Verplicht: Besteld door\r\nVerplicht: Dagboek");

    let put = client
        .put(format!("{orders}(guid'{id}')"))
        .bearer_auth(&token)
        .header("Accept", "application/json")
        .json(&json!({"Description": "changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    assert_eq!(put.text().await.unwrap(), "");
    let record = sandbox.exact_records("salesorder/SalesOrders").into_iter().find(|r| r["OrderID"] == id.as_str()).expect("stored");
    assert_eq!(record["Description"], "changed");
}

#[tokio::test]
async fn minutely_limit_answers_429_with_minutely_headers_until_the_next_minute() {
    let (sandbox, client) = start(config());
    sandbox.set_limits(Limits { minutely: 3, daily: 5000, enabled: true });
    let token = access_token(&sandbox, &client).await;
    // Line the clock up with the start of a minute so the window cannot roll over mid-test.
    sandbox.advance_clock(60 - (sandbox.now_ms() / 1000) % 60);
    for remaining in ["2", "1", "0"] {
        let ok = exact_get(&sandbox, &client, &token, "vat/VATCodes?$select=Code").await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(header(&ok, "x-ratelimit-minutely-remaining"), Some(remaining));
        assert_eq!(header(&ok, "x-ratelimit-limit"), Some("5000"));
    }
    let limited = exact_get(&sandbox, &client, &token, "vat/VATCodes?$select=Code").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let next_minute = (sandbox.now_ms() / 60_000 + 1) * 60_000;
    assert_eq!(header(&limited, "x-ratelimit-minutely-reset"), Some(next_minute.to_string().as_str()));
    assert_eq!(header(&limited, "x-ratelimit-minutely-remaining"), Some("0"));
    assert!(header(&limited, "x-ratelimit-limit").is_none() && header(&limited, "x-ratelimit-remaining").is_none());
    assert_eq!(error_value(&json_of(limited).await), "API rate limit exceeded.");

    sandbox.advance_clock(60);
    let again = exact_get(&sandbox, &client, &token, "vat/VATCodes?$select=Code").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(header(&again, "x-ratelimit-remaining"), Some("4996"), "the 429 did not use budget");

    sandbox.set_limits(Limits { enabled: false, ..Limits::default() });
    let unlimited = exact_get(&sandbox, &client, &token, "vat/VATCodes?$select=Code").await;
    assert!(header(&unlimited, "x-ratelimit-limit").is_none());
}

async fn lnb_token(sandbox: &Sandbox, client: &Client) -> String {
    let body = json!({"grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "sandbox-secret"});
    let answer = client.post(format!("{}/apis/wholesale/v2/auth/token", sandbox.lnb_url())).json(&body).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let answer = json_of(answer).await;
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer["expire_on"].as_str().is_some_and(|e| e.ends_with('Z')));
    answer["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn lnb_tokens_paging_headers_and_status_write_backs() {
    let (sandbox, client) = start(SandboxConfig { lnb_page_size: 3, ..config() });
    let base = format!("{}/apis/wholesale/v2", sandbox.lnb_url());
    let refused =
        client.post(format!("{base}/auth/token")).json(&json!({"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"})).send();
    let refused = refused.await.unwrap();
    assert_eq!((refused.status(), json_of(refused).await), (StatusCode::UNAUTHORIZED, json!({"message": "Invalid client credentials"})));
    let token = lnb_token(&sandbox, &client).await;

    let header_auth = client.get(format!("{base}/orders")).bearer_auth(&token).send().await.unwrap();
    assert_eq!((header_auth.status(), json_of(header_auth).await), (StatusCode::UNAUTHORIZED, json!({"message": "Unauthenticated."})));

    let page = |n: &'static str| {
        client.get(format!("{base}/orders")).query(&[("status", "Invoicing"), ("page", n), ("access_token", token.as_str())]).send()
    };
    let first = page("1").await.unwrap();
    assert_eq!(header(&first, "x-pagination-current-page"), Some("1"));
    assert_eq!(header(&first, "x-pagination-page-size"), Some("3"));
    assert_eq!(header(&first, "x-pagination-has-more"), Some("true"));
    assert_eq!(header(&first, "x-pagination-total-items"), Some("7"), "50007 is Confirmed");
    assert_eq!(header(&first, "x-pagination-total-pages"), Some("3"));
    assert_eq!(json_of(first).await.as_array().map(Vec::len), Some(3));
    let last = page("3").await.unwrap();
    assert_eq!(header(&last, "x-pagination-has-more"), Some("false"));
    assert_eq!(json_of(last).await[0]["reference"], "50008");

    let status_url = format!("{base}/orders/status?access_token={token}");
    let updated = client.post(&status_url).json(&json!({"reference": "50001", "status": "Blocked", "reason": "no stock"})).send().await.unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let updated = json_of(updated).await;
    assert_eq!((&updated["status"], &updated["status_reason"]), (&json!("Blocked"), &json!("no stock")));
    assert_eq!(sandbox.lnb_orders()[0]["status"], "Blocked");

    let incomplete = client.post(&status_url).json(&json!({"reference": "50001"})).send().await.unwrap();
    assert_eq!(incomplete.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(incomplete).await, json!({"message": "The given data was invalid.", "errors": {"status": ["The status field is required."]}}));
    let unknown = client.post(&status_url).json(&json!({"reference": "1", "status": "Closed"})).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let one = client.get(format!("{base}/orders/12345?access_token={token}")).send().await.unwrap();
    assert_eq!((one.status(), json_of(one).await), (StatusCode::NOT_FOUND, json!({"message": "Order not found"})));

    let invoice_url = format!("{base}/invoices/integration_status?access_token={token}");
    let invoice = client.post(&invoice_url).json(&json!({"reference_number": "INV-2025-0101", "integration_status": "Success"})).send();
    assert_eq!(json_of(invoice.await.unwrap()).await["integration_status"], "Success");
    assert_eq!(sandbox.lnb_invoices()[0]["integration_status"], "Success");

    sandbox.advance_clock(3600);
    let expired = client.get(format!("{base}/invoices?access_token={token}")).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_dropped_answer_still_applies_the_write() {
    let (sandbox, client) = start(config());
    let token = lnb_token(&sandbox, &client).await;
    sandbox.set_faults(Faults { rate: 1.0, kinds: vec![FaultKind::DropAfterWrite], seed: 1, hang_ms: 60_000 });
    let url = format!("{}/apis/wholesale/v2/orders/status?access_token={token}", sandbox.lnb_url());
    let lost = client.post(&url).json(&json!({"reference": "50002", "status": "Closed"})).send().await;
    assert!(lost.is_err(), "the connection closes without an answer: {lost:?}");
    assert_eq!(sandbox.lnb_orders()[1]["status"], "Closed", "the write happened");
    let recorded = sandbox.requests().into_iter().last().expect("recorded");
    assert_eq!(
        (recorded.fault.as_deref(), recorded.status, recorded.body),
        (Some("drop_after_write"), 200, Some(json!({"reference": "50002", "status": "Closed"})))
    );
}

#[tokio::test]
async fn injected_429_503_and_timeouts_leave_data_alone() {
    let (sandbox, client) = start(config());
    let token = lnb_token(&sandbox, &client).await;
    let url = format!("{}/apis/wholesale/v2/orders/status?access_token={token}", sandbox.lnb_url());
    let send = || client.post(&url).json(&json!({"reference": "50003", "status": "Closed"})).send();

    sandbox.set_faults(Faults { rate: 1.0, kinds: vec![FaultKind::TooManyRequests], seed: 1, hang_ms: 0 });
    let seconds = send().await.unwrap();
    assert_eq!((seconds.status(), header(&seconds, "retry-after")), (StatusCode::TOO_MANY_REQUESTS, Some("1")));
    let date = send().await.unwrap();
    assert!(header(&date, "retry-after").is_some_and(|d| d.ends_with("GMT")), "the second 429 gives an HTTP date");

    sandbox.set_faults(Faults { rate: 1.0, kinds: vec![FaultKind::ServiceUnavailable], seed: 1, hang_ms: 0 });
    assert_eq!(send().await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    sandbox.set_faults(Faults { rate: 1.0, kinds: vec![FaultKind::Timeout], seed: 1, hang_ms: 300 });
    let hung = client.post(&url).timeout(std::time::Duration::from_millis(100)).json(&json!({"reference": "50003", "status": "Closed"})).send().await;
    assert!(hung.is_err_and(|e| e.is_timeout()));
    assert_eq!(sandbox.lnb_orders()[2]["status"], "Invoicing", "faulted requests are not processed");

    // Token calls are never faulted.
    assert!(!lnb_token(&sandbox, &client).await.is_empty());
    let faults: Vec<Option<String>> = sandbox.requests().iter().filter(|r| r.path.ends_with("/orders/status")).map(|r| r.fault.clone()).collect();
    assert_eq!(faults, ["429", "429", "503", "timeout"].map(|f| Some(f.to_string())));
}

#[tokio::test]
async fn control_api_over_http_on_both_ports() {
    let (sandbox, client) = start(config());
    for base in [sandbox.exact_url(), sandbox.lnb_url()] {
        let clock = json_of(client.get(format!("{base}/_sandbox/clock")).send().await.unwrap()).await;
        let now = clock["now_ms"].as_i64().expect("now_ms");
        let moved = client.post(format!("{base}/_sandbox/clock")).json(&json!({"advance_seconds": 10})).send().await.unwrap();
        assert_eq!(json_of(moved).await["now_ms"].as_i64(), Some(now + 10_000));
        let limits = client.post(format!("{base}/_sandbox/limits")).json(&json!({"minutely": 7})).send().await.unwrap();
        assert_eq!(json_of(limits).await, json!({"minutely": 7, "daily": 5000, "enabled": true}));
        let bad = client.post(format!("{base}/_sandbox/faults")).json(&json!({"kinds": ["418"]})).send().await.unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    }
    let accounts = json_of(client.get(format!("{}/_sandbox/exact/crm/Accounts", sandbox.lnb_url())).send().await.unwrap()).await;
    assert_eq!(accounts.as_array().map(Vec::len), Some(10));
    let orders = json_of(client.get(format!("{}/_sandbox/lnb/orders", sandbox.exact_url())).send().await.unwrap()).await;
    assert_eq!(orders.as_array().map(Vec::len), Some(8));
    let date = client.get(format!("{}/_sandbox/requests", sandbox.exact_url())).send().await.unwrap();
    let sandbox_date = httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(sandbox.now_ms() as u64));
    assert_eq!(header(&date, "date"), Some(sandbox_date.as_str()), "Date follows the sandbox clock");
    assert_eq!(json_of(date).await, json!([]), "control calls are not recorded");
}
