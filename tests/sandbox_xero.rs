//! The Xero emulator over HTTP on loopback, as a client sees it: consent and tokens (rotation,
//! the 30-minute grace, invalid_grant), connections and the tenant header, the list envelope,
//! writes with summarizeErrors and Idempotency-Key, paging, `where`, the catalogue's checks, rate
//! limits and its own faults. Facts: XeroAPI/Xero-OpenAPI (xero_accounting.yaml,
//! xero-identity.yaml) and shared/reference/partner-systems.md §2.

mod common;

use flowmap_sandbox::{FaultKind, Faults, Limits, Sandbox, SandboxConfig, XERO_ACME_TENANT, XERO_DEMO_TENANT};
use pretty_assertions::assert_eq;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ACME_ID: &str = "4d7a1f0e-2b3c-4e5f-8a9b-0c1d2e3f4a5b";
const DEMO_ID: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
const REDIRECT: &str = "http://127.0.0.1:53682/callback";
const SCOPE: &str = "openid offline_access accounting.transactions accounting.contacts accounting.settings.read";

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig { fixtures: Some(common::repo_root().join("fixtures")), ..Default::default() }).expect("the sandbox starts")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.unwrap();
    Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

/// The consent redirect's `code`, for `state` `s-1`.
async fn consent(xero: &str) -> String {
    let url = format!("{xero}/identity/connect/authorize");
    let query = [("response_type", "code"), ("client_id", "sandbox-client"), ("redirect_uri", REDIRECT), ("scope", SCOPE), ("state", "s-1")];
    let response = http().get(url).query(&query).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let rest = location.strip_prefix(&format!("{REDIRECT}?code=")).unwrap_or_else(|| panic!("{location}"));
    let (code, state) = rest.split_once('&').unwrap();
    assert_eq!(state, "state=s-1");
    code.to_string()
}

async fn token(xero: &str, secret: &str, form: &[(&str, &str)]) -> Answer {
    answer(http().post(format!("{xero}/connect/token")).basic_auth("sandbox-client", Some(secret)).form(form).send().await.unwrap()).await
}

/// A consented client: (access token, refresh token).
async fn connected(xero: &str) -> (String, String) {
    let code = consent(xero).await;
    let granted = token(xero, "sandbox-secret", &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    (granted.body["access_token"].as_str().unwrap().to_string(), granted.body["refresh_token"].as_str().unwrap().to_string())
}

/// One accounting call: `path` under /api.xro/2.0/, the tenant header when given.
async fn api(xero: &str, access: &str, tenant: Option<&str>, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
    let mut request = http().request(method, format!("{xero}/api.xro/2.0/{path}")).bearer_auth(access).header("Accept", "application/json");
    if let Some(tenant) = tenant {
        request = request.header("xero-tenant-id", tenant);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.unwrap()).await
}

async fn get(xero: &str, access: &str, path: &str) -> Answer {
    api(xero, access, Some(ACME_ID), Method::GET, path, None, &[]).await
}

async fn put(xero: &str, access: &str, path: &str, body: Value) -> Answer {
    api(xero, access, Some(ACME_ID), Method::PUT, path, Some(body), &[]).await
}

/// An invoice for Boutique Lune (ContactNumber 10023) with one line of two white tees.
fn invoice(number: &str) -> Value {
    json!({
        "Type": "ACCREC",
        "Contact": { "ContactNumber": "10023" },
        "InvoiceNumber": number,
        "Date": "2025-03-10",
        "DueDate": "2025-04-09",
        "Status": "AUTHORISED",
        "LineItems": [{ "Description": "Organic cotton tee white M", "Quantity": 2, "UnitAmount": 19.95, "ItemCode": "TSH-WHT-M", "AccountCode": "200", "TaxType": "OUTPUT" }]
    })
}

fn messages(element: &Value) -> Vec<&str> {
    element["ValidationErrors"].as_array().map(|errors| errors.iter().filter_map(|e| e["Message"].as_str()).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_tokens_rotate_with_a_grace_and_then_invalid_grant() {
    let sandbox = sandbox();
    let xero = sandbox.xero_url();
    let code = consent(&xero).await;
    let wrong_secret = token(&xero, "nope", &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!((wrong_secret.status, wrong_secret.body.clone()), (StatusCode::BAD_REQUEST, json!({ "error": "invalid_client" })));
    let granted = token(&xero, "sandbox-secret", &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!((granted.status, &granted.body["expires_in"], &granted.body["token_type"]), (StatusCode::OK, &json!(1800), &json!("Bearer")));
    let again = token(&xero, "sandbox-secret", &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(again.body, json!({ "error": "invalid_grant" }), "a code is used once");

    let first_refresh = granted.body["refresh_token"].as_str().unwrap().to_string();
    let rotated = token(&xero, "sandbox-secret", &[("grant_type", "refresh_token"), ("refresh_token", &first_refresh)]).await;
    let second_refresh = rotated.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first_refresh, "refresh tokens rotate");
    // The refresh answer was lost: the old token still works within 30 minutes of its rotation.
    sandbox.advance_clock(29 * 60);
    let retried = token(&xero, "sandbox-secret", &[("grant_type", "refresh_token"), ("refresh_token", &first_refresh)]).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    sandbox.advance_clock(2 * 60);
    let too_late = token(&xero, "sandbox-secret", &[("grant_type", "refresh_token"), ("refresh_token", &first_refresh)]).await;
    assert_eq!((too_late.status, too_late.body), (StatusCode::BAD_REQUEST, json!({ "error": "invalid_grant" })));
    let unknown = token(&xero, "sandbox-secret", &[("grant_type", "refresh_token"), ("refresh_token", "made-up")]).await;
    assert_eq!(unknown.body, json!({ "error": "invalid_grant" }));

    // Access tokens live 30 minutes; Xero's 401 says the token expired.
    let access = granted.body["access_token"].as_str().unwrap();
    let expired = get(&xero, access, "Invoices").await;
    assert_eq!((expired.status, &expired.body["Title"], &expired.body["Status"]), (StatusCode::UNAUTHORIZED, &json!("Unauthorized"), &json!(401)));
    assert!(expired.body["Detail"].as_str().unwrap().starts_with("TokenExpired: token expired at "), "{}", expired.body);
    assert_eq!(expired.body["Type"], Value::Null);

    // A refresh token unused for 60 days is gone.
    sandbox.advance_clock(61 * 86_400);
    let stale = token(&xero, "sandbox-secret", &[("grant_type", "refresh_token"), ("refresh_token", &second_refresh)]).await;
    assert_eq!(stale.body, json!({ "error": "invalid_grant" }));
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_list_both_tenants_and_the_tenant_header_picks_the_books() {
    let sandbox = sandbox();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    let listed = answer(http().get(format!("{xero}/connections")).bearer_auth(&access).send().await.unwrap()).await;
    let names: Vec<&str> = listed.body.as_array().unwrap().iter().map(|c| c["tenantName"].as_str().unwrap()).collect();
    assert_eq!(names, [XERO_ACME_TENANT, XERO_DEMO_TENANT]);
    let acme = &listed.body[0];
    assert_eq!((&acme["tenantId"], &acme["tenantType"]), (&json!(ACME_ID), &json!("ORGANISATION")));
    for field in ["id", "authEventId", "createdDateUtc", "updatedDateUtc"] {
        assert!(acme[field].is_string(), "{field}: {acme}");
    }

    let without = api(&xero, &access, None, Method::GET, "Invoices", None, &[]).await;
    assert_eq!(
        (without.status, &without.body["Title"], &without.body["Detail"]),
        (StatusCode::FORBIDDEN, &json!("Forbidden"), &json!("AuthenticationUnsuccessful"))
    );
    let foreign = api(&xero, &access, Some("00000000-0000-0000-0000-000000000001"), Method::GET, "Invoices", None, &[]).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);

    let acme_invoices = get(&xero, &access, "Invoices").await;
    assert_eq!((&acme_invoices.body["Status"], &acme_invoices.body["Invoices"][0]["InvoiceNumber"]), (&json!("OK"), &json!("INV-2025-0102")));
    assert!(acme_invoices.body["DateTimeUTC"].as_str().unwrap().starts_with("/Date("));
    assert!(acme_invoices.body["Invoices"][0].get("LineItems").is_none(), "a list without `page` has no lines");
    let demo = api(&xero, &access, Some(DEMO_ID), Method::GET, "Invoices", None, &[]).await;
    assert_eq!(demo.body["Invoices"], json!([]));

    // One invoice by its number, with its lines.
    let one = get(&xero, &access, "Invoices/INV-2025-0102").await;
    assert_eq!(one.body["Invoices"][0]["LineItems"][0]["ItemCode"], "BK-LOOK-SS25");
    let missing = get(&xero, &access, "Invoices/INV-9999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let demo_connection = listed.body[1]["id"].as_str().unwrap();
    let deleted = http().delete(format!("{xero}/connections/{demo_connection}")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let after = api(&xero, &access, Some(DEMO_ID), Method::GET, "Invoices", None, &[]).await;
    assert_eq!(after.status, StatusCode::FORBIDDEN, "a disconnected tenant is refused");

    // Revoked from the control API: the token is refused, as after the user removed the app.
    let revoked = http().post(format!("{xero}/_sandbox/xero/revoke")).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let refused = get(&xero, &access, "Invoices").await;
    assert_eq!((refused.status, &refused.body["Detail"]), (StatusCode::UNAUTHORIZED, &json!("AuthenticationUnsuccessful")));
}

#[tokio::test(flavor = "multi_thread")]
async fn put_creates_in_the_envelope_with_computed_amounts_and_refuses_a_duplicate_number() {
    let sandbox = sandbox();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    let created = put(&xero, &access, "Invoices", json!({ "Invoices": [invoice("INV-2025-0101")] })).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["Status"], "OK");
    let stored = &created.body["Invoices"][0];
    assert_eq!(stored["StatusAttributeString"], "OK");
    assert_eq!(stored["Contact"]["ContactID"], "3542ccc2-cc56-4909-b2e0-956be4217dfb", "found by ContactNumber");
    assert_eq!((&stored["Date"], &stored["DateString"]), (&json!("/Date(1741564800000+0000)/"), &json!("2025-03-10T00:00:00")));
    let amounts: Vec<f64> = ["SubTotal", "TotalTax", "Total", "AmountDue"].iter().map(|f| stored[*f].as_f64().unwrap()).collect();
    assert_eq!(amounts, [39.9, 8.38, 48.28, 48.28], "21% of 39.90 is 8.379, rounded to cents");
    assert_eq!(stored["LineItems"][0]["LineAmount"].as_f64(), Some(39.9));
    assert!(stored["InvoiceID"].as_str().is_some_and(|id| id.len() == 36) && stored["UpdatedDateUTC"].as_str().unwrap().starts_with("/Date("));
    assert_eq!(sandbox.xero_records(XERO_ACME_TENANT, "Invoices").len(), 2);

    let duplicate = put(&xero, &access, "Invoices", json!({ "Invoices": [invoice("INV-2025-0101")] })).await;
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);
    assert_eq!((&duplicate.body["ErrorNumber"], &duplicate.body["Type"]), (&json!(10), &json!("ValidationException")));
    assert_eq!(duplicate.body["Message"], "A validation exception occurred");
    assert_eq!(messages(&duplicate.body["Elements"][0]), ["Invoice # must be unique."]);
    assert_eq!(duplicate.body["Elements"][0]["InvoiceNumber"], "INV-2025-0101", "the element is echoed");
    assert_eq!(sandbox.xero_records(XERO_ACME_TENANT, "Invoices").len(), 2);

    // A contact named only by Name is created, as Xero does.
    let mut new_customer = invoice("INV-2025-0200");
    new_customer["Contact"] = json!({ "Name": "Atelier Nieuw" });
    let with_new_contact = put(&xero, &access, "Invoices", new_customer).await;
    assert_eq!(with_new_contact.status, StatusCode::OK, "{}", with_new_contact.body);
    assert!(sandbox.xero_records(XERO_ACME_TENANT, "Contacts").iter().any(|c| c["Name"] == "Atelier Nieuw"));
}

#[tokio::test(flavor = "multi_thread")]
async fn post_updates_by_number_or_id_and_each_tenant_has_its_own_books() {
    let sandbox = sandbox();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    let before = sandbox.xero_records(XERO_ACME_TENANT, "Invoices")[0].clone();
    let update = json!({ "Invoices": [{ "InvoiceNumber": "INV-2025-0102", "Reference": "LNB order 49988 (corrected)" }] });
    let updated = api(&xero, &access, Some(ACME_ID), Method::POST, "Invoices", Some(update), &[]).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let after = sandbox.xero_records(XERO_ACME_TENANT, "Invoices");
    assert_eq!(after.len(), 1, "updated, not created");
    assert_eq!(
        (&after[0]["InvoiceID"], &after[0]["Reference"], &after[0]["Total"]),
        (&before["InvoiceID"], &json!("LNB order 49988 (corrected)"), &json!(763.0))
    );
    assert_ne!(after[0]["UpdatedDateUTC"], before["UpdatedDateUTC"]);

    let unknown_id = json!({ "InvoiceID": "0b0b0b0b-0000-4000-8000-000000000000", "Reference": "x" });
    let refused = api(&xero, &access, Some(ACME_ID), Method::POST, "Invoices", Some(unknown_id), &[]).await;
    assert_eq!(messages(&refused.body["Elements"][0]), ["InvoiceID 0b0b0b0b-0000-4000-8000-000000000000 could not be found."]);
    let id = before["InvoiceID"].as_str().unwrap();
    sandbox.edit_xero_record(XERO_ACME_TENANT, "Invoices", id, json!({ "Status": "PAID" }).as_object().cloned().unwrap()).unwrap();
    let paid = api(&xero, &access, Some(ACME_ID), Method::POST, "Invoices", Some(json!({ "InvoiceID": id, "Reference": "y" })), &[]).await;
    assert_eq!(messages(&paid.body["Elements"][0]), ["Invoice not of valid status for modification"]);

    // Demo Company has none of Acme's contacts.
    let elsewhere = api(&xero, &access, Some(DEMO_ID), Method::PUT, "Invoices", Some(invoice("INV-2025-0101")), &[]).await;
    assert_eq!(messages(&elsewhere.body["Elements"][0])[0], "Contact with ContactNumber 10023 does not exist.");
}

#[tokio::test(flavor = "multi_thread")]
async fn summarize_errors_false_keeps_the_good_elements_and_marks_the_bad_ones() {
    let sandbox = sandbox();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    let mut bad = invoice("INV-2025-0103");
    bad["LineItems"][0]["ItemCode"] = json!("CAP-BSB-OLV");
    bad["LineItems"][0]["AccountCode"] = json!("999");
    bad["LineItems"][0]["TaxType"] = json!("TAX007");
    let body = json!({ "Invoices": [invoice("INV-2025-0101"), bad] });

    let summarized = put(&xero, &access, "Invoices", body.clone()).await;
    assert_eq!(summarized.status, StatusCode::BAD_REQUEST);
    assert_eq!(summarized.body["Elements"].as_array().map(Vec::len), Some(1));
    assert_eq!(sandbox.xero_records(XERO_ACME_TENANT, "Invoices").len(), 1, "by default one bad element refuses them all");

    let mixed = put(&xero, &access, "Invoices?summarizeErrors=false", body).await;
    assert_eq!(mixed.status, StatusCode::OK, "{}", mixed.body);
    let (good, failed) = (&mixed.body["Invoices"][0], &mixed.body["Invoices"][1]);
    assert_eq!((&good["StatusAttributeString"], good.get("HasErrors")), (&json!("OK"), None));
    assert_eq!((&failed["StatusAttributeString"], &failed["HasErrors"]), (&json!("ERROR"), &json!(true)));
    assert_eq!(
        messages(failed),
        [
            "Item code 'CAP-BSB-OLV' is not valid.",
            "Account code '999' is not a valid code for this document.",
            "The TaxType code TAX007 does not exist or cannot be used for this type of transaction."
        ]
    );
    let numbers: Vec<Value> = sandbox.xero_records(XERO_ACME_TENANT, "Invoices").iter().map(|i| i["InvoiceNumber"].clone()).collect();
    assert_eq!(numbers, [json!("INV-2025-0102"), json!("INV-2025-0101")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_idempotency_key_replays_the_first_answer_without_writing_again() {
    let sandbox = sandbox();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    let body = json!({ "CreditNotes": [{
        "Type": "ACCRECCREDIT",
        "Contact": { "ContactNumber": "10045" },
        "Date": "2025-03-12",
        "LineItems": [{ "Description": "Linen midi dress sand S", "Quantity": 1, "UnitAmount": 69.5, "ItemCode": "DRS-LIN-S", "AccountCode": "200", "TaxType": "OUTPUT" }]
    }] });
    let key = [("Idempotency-Key", "lnb-INV-2025-0105")];
    let first = api(&xero, &access, Some(ACME_ID), Method::PUT, "CreditNotes", Some(body.clone()), &key).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        (&first.body["CreditNotes"][0]["CreditNoteNumber"], &first.body["CreditNotes"][0]["RemainingCredit"]),
        (&json!("CN-0001"), &json!(84.1))
    );
    let second = api(&xero, &access, Some(ACME_ID), Method::PUT, "CreditNotes", Some(body.clone()), &key).await;
    assert_eq!(second.body, first.body, "the first answer, ids and all");
    assert_eq!((sandbox.xero_records(XERO_ACME_TENANT, "CreditNotes").len(), sandbox.xero_replays()), (1, 1));
    let other_key = api(&xero, &access, Some(ACME_ID), Method::PUT, "CreditNotes", Some(body), &[("Idempotency-Key", "another")]).await;
    assert_eq!(other_key.body["CreditNotes"][0]["CreditNoteNumber"], "CN-0002");
    let too_long = "k".repeat(129);
    let refused = api(&xero, &access, Some(ACME_ID), Method::PUT, "CreditNotes", Some(json!({})), &[("Idempotency-Key", &too_long)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let control = answer(http().get(format!("{xero}/_sandbox/xero/replays")).send().await.unwrap()).await;
    assert_eq!(control.body, json!({ "replays": 1 }));
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_hold_one_hundred_and_say_how_many_there_are() {
    let sandbox = sandbox();
    let records: Vec<Value> =
        (1..=230).map(|n| json!({ "Type": "ACCREC", "InvoiceNumber": format!("G-{n:03}"), "Status": "DRAFT", "LineItems": [] })).collect();
    sandbox.add_xero_records(XERO_DEMO_TENANT, "Invoices", records).unwrap();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    let (xero_url, token) = (&xero, &access);
    let page = move |n: u32| async move { api(xero_url, token, Some(DEMO_ID), Method::GET, &format!("Invoices?page={n}"), None, &[]).await };
    let first = page(1).await;
    assert_eq!(first.body["pagination"], json!({ "page": 1, "pageSize": 100, "pageCount": 3, "itemCount": 230 }));
    assert_eq!((first.body["Invoices"].as_array().unwrap().len(), &first.body["Invoices"][0]["InvoiceNumber"]), (100, &json!("G-001")));
    assert!(first.body["Invoices"][0].get("LineItems").is_some(), "paged invoices carry their lines");
    let last = page(3).await;
    assert_eq!((last.body["Invoices"].as_array().unwrap().len(), &last.body["Invoices"][29]["InvoiceNumber"]), (30, &json!("G-230")));
    assert_eq!(page(4).await.body["Invoices"], json!([]));
    let all = api(&xero, &access, Some(DEMO_ID), Method::GET, "Invoices", None, &[]).await;
    assert_eq!((all.body["Invoices"].as_array().unwrap().len(), all.body.get("pagination")), (230, None));
}

#[tokio::test(flavor = "multi_thread")]
async fn where_reads_escaped_quotes_or_and_numbers_and_refuses_what_it_cannot_parse() {
    let sandbox = sandbox();
    let contact = json!({ "ContactID": "0c9a3f3e-5f55-4f0e-8f53-3a0b4a1f2d11", "ContactNumber": "10077", "Name": "Studio \"Kaap\"", "ContactStatus": "ACTIVE" });
    sandbox.add_xero_records(XERO_ACME_TENANT, "Contacts", vec![contact]).unwrap();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    let numbers = |answer: &Answer, entity: &str, field: &str| -> Vec<String> {
        answer.body[entity].as_array().unwrap().iter().map(|r| r[field].as_str().unwrap_or_default().to_string()).collect()
    };
    let (xero_url, token) = (&xero, &access);
    let by = move |filter: &str| {
        let url = format!("Contacts?where={}", urlencode(filter));
        async move { get(xero_url, token, &url).await }
    };
    let found = by(r#"Name=="Studio \"Kaap\"" OR ContactNumber=="10023""#).await;
    assert_eq!(numbers(&found, "Contacts", "ContactNumber"), ["10023", "10077"]);
    let none = by(r#"ContactNumber=="10023" AND Name=="Maison Verte""#).await;
    assert_eq!(none.body["Contacts"], json!([]));
    let authorised = get(&xero, &access, &format!("Invoices?where={}", urlencode(r#"Status=="AUTHORISED" AND Total>700"#))).await;
    assert_eq!(numbers(&authorised, "Invoices", "InvoiceNumber"), ["INV-2025-0102"]);
    let cheaper = get(&xero, &access, &format!("Invoices?where={}", urlencode("Total<700"))).await;
    assert_eq!(cheaper.body["Invoices"], json!([]));
    // If-Modified-Since on UpdatedDateUTC (the fixture invoice: 2025-03-04T14:26:17Z).
    let since =
        move |at: &'static str| async move { api(xero_url, token, Some(ACME_ID), Method::GET, "Invoices", None, &[("If-Modified-Since", at)]).await };
    assert_eq!(since("2025-03-04T14:00:00").await.body["Invoices"].as_array().map(Vec::len), Some(1));
    assert_eq!(since("2025-03-04T15:00:00Z").await.body["Invoices"], json!([]));

    let unterminated = by(r#"Name=="Studio"#).await;
    assert_eq!(unterminated.status, StatusCode::BAD_REQUEST);
    assert_eq!(unterminated.body, json!({ "ErrorNumber": 16, "Type": "QueryParseException", "Message": "Unterminated string literal" }));
    let unknown = by(r#"Colour=="red""#).await;
    assert_eq!(unknown.body["Message"], "No property or field 'Colour' exists in type 'Contact'");
    let single_equals = by(r#"Name="Studio""#).await;
    assert_eq!(single_equals.status, StatusCode::BAD_REQUEST, "never read as something else");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_checked_against_the_catalogue_naming_the_field() {
    let sandbox = sandbox();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;

    let mut read_only = invoice("INV-2025-0300");
    read_only["SubTotal"] = json!(39.9);
    let refused = put(&xero, &access, "Invoices", json!({ "Invoices": [read_only] })).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(messages(&refused.body["Elements"][0]), ["SubTotal is read-only and cannot be set."]);

    let mut wrong_type = invoice("INV-2025-0300");
    wrong_type["LineItems"][0]["Quantity"] = json!("two");
    let unreadable = put(&xero, &access, "Invoices", json!({ "Invoices": [wrong_type] })).await;
    assert_eq!(
        unreadable.body,
        json!({
            "ErrorNumber": 14,
            "Type": "PostDataInvalidException",
            "Message": "JSON for post data was invalid,Error converting value \"two\" to type 'Decimal'. Path 'Invoices[0].LineItems[0].Quantity'."
        })
    );
    let mut unknown_field = invoice("INV-2025-0300");
    unknown_field["Colour"] = json!("red");
    let unknown = put(&xero, &access, "Invoices", json!({ "Invoices": [unknown_field] })).await;
    assert!(unknown.body["Message"].as_str().unwrap().contains("The element 'Colour' was not recognised"), "{}", unknown.body);

    let mut no_lines_description = invoice("INV-2025-0300");
    no_lines_description["LineItems"][0].as_object_mut().unwrap().remove("Description");
    no_lines_description["Contact"] = json!({});
    no_lines_description.as_object_mut().unwrap().remove("DueDate");
    let rules = put(&xero, &access, "Invoices", no_lines_description).await;
    assert_eq!(
        messages(&rules.body["Elements"][0]),
        ["LineItems[0].Description is required."],
        "the catalogue's checks come first; Xero's rules run on what passes them"
    );
    let mut rule_breaker = invoice("INV-2025-0300");
    rule_breaker["Contact"] = json!({});
    rule_breaker.as_object_mut().unwrap().remove("DueDate");
    rule_breaker["LineItems"][0]["LineAmount"] = json!(50);
    let rules = put(&xero, &access, "Invoices", rule_breaker).await;
    assert_eq!(
        messages(&rules.body["Elements"][0]),
        [
            "Due Date is required for a SUBMITTED or AUTHORISED invoice.",
            "The Contact must contain at least 1 of the following elements to identify the contact: Name, ContactID, ContactNumber",
            "The LineAmount 50 does not equal Quantity × UnitAmount less discount (39.9)."
        ]
    );
    assert_eq!(sandbox.xero_records(XERO_ACME_TENANT, "Invoices").len(), 1, "nothing refused was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_are_counted_per_tenant_and_answered_with_the_problem() {
    let sandbox = sandbox();
    sandbox.set_limits_of("xero", Limits { minutely: 3, daily: 5000, enabled: true }).unwrap();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    // At the start of a clock minute, so the window does not turn during the test.
    let into_minute = sandbox.now_ms().rem_euclid(60_000);
    sandbox.advance_clock(60 - into_minute / 1000);
    for remaining in ["2", "1", "0"] {
        let answered = get(&xero, &access, "Contacts").await;
        assert_eq!(answered.status, StatusCode::OK);
        assert_eq!(answered.header("X-MinLimit-Remaining"), remaining);
        assert!(answered.header("X-DayLimit-Remaining").parse::<u32>().is_ok_and(|d| d < 5000));
        assert!(answered.header("X-AppMinLimit-Remaining").parse::<u32>().is_ok_and(|a| a < 10_000));
    }
    let refused = get(&xero, &access, "Contacts").await;
    assert_eq!((refused.status, refused.header("X-Rate-Limit-Problem")), (StatusCode::TOO_MANY_REQUESTS, "minute"));
    assert!(refused.header("Retry-After").parse::<u32>().is_ok_and(|s| (1..=60).contains(&s)), "{}", refused.header("Retry-After"));
    let other_tenant = api(&xero, &access, Some(DEMO_ID), Method::GET, "Contacts", None, &[]).await;
    assert_eq!(other_tenant.status, StatusCode::OK, "limits are per tenant");
    sandbox.advance_clock(60);
    assert_eq!(get(&xero, &access, "Contacts").await.status, StatusCode::OK, "a new minute");

    // Five at once per tenant: with every answer held, a sixth call is refused as concurrent.
    sandbox.set_limits_of("xero", Limits::default()).unwrap();
    sandbox.set_xero_latency_ms(5000);
    let calls = (0..6).map(|_| {
        let (xero, access) = (xero.clone(), access.clone());
        async move { get(&xero, &access, "Items").await }
    });
    let answers = futures_join_all(calls).await;
    let problems: Vec<&str> =
        answers.iter().filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS).map(|a| a.header("X-Rate-Limit-Problem")).collect();
    assert_eq!(problems, ["concurrent"]);
}

/// Runs the calls at once (tokio tasks; no futures crate in the workspace).
async fn futures_join_all<F: std::future::Future<Output = Answer> + Send + 'static>(calls: impl Iterator<Item = F>) -> Vec<Answer> {
    let tasks: Vec<_> = calls.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_and_limits_are_set_per_emulator() {
    let sandbox = sandbox();
    let xero = sandbox.xero_url();
    let (access, _) = connected(&xero).await;
    sandbox.set_faults_of("xero", Faults { rate: 1.0, kinds: vec![FaultKind::ServiceUnavailable], seed: 1, hang_ms: 10 }).unwrap();
    let faulted = get(&xero, &access, "Contacts").await;
    assert_eq!(faulted.status, StatusCode::SERVICE_UNAVAILABLE);
    sandbox.set_faults_of("xero", Faults { rate: 1.0, kinds: vec![FaultKind::TooManyRequests], seed: 1, hang_ms: 10 }).unwrap();
    let limited = get(&xero, &access, "Contacts").await;
    assert_eq!(
        (limited.status, limited.header("X-Rate-Limit-Problem"), limited.header("Retry-After")),
        (StatusCode::TOO_MANY_REQUESTS, "minute", "1")
    );
    sandbox.set_faults_of("xero", Faults { rate: 1.0, kinds: vec![FaultKind::ServiceUnavailable], seed: 1, hang_ms: 10 }).unwrap();
    let exact_faults = answer(http().get(format!("{}/_sandbox/exact/faults", sandbox.exact_url())).send().await.unwrap()).await;
    assert_eq!(exact_faults.body["rate"], json!(0.0), "Exact keeps the shared (no) faults");
    let xero_faults = answer(http().get(format!("{xero}/_sandbox/xero/faults")).send().await.unwrap()).await;
    assert_eq!(xero_faults.body["kinds"], json!(["503"]));
    let set = answer(http().post(format!("{xero}/_sandbox/xero/limits")).json(&json!({ "enabled": false })).send().await.unwrap()).await;
    assert_eq!(set.body, json!({ "minutely": 60, "daily": 5000, "enabled": false }));
    let exact_limits = answer(http().get(format!("{xero}/_sandbox/limits")).send().await.unwrap()).await;
    assert_eq!(exact_limits.body["enabled"], json!(true), "/_sandbox/limits stays Exact's");
    let recorded: Vec<String> =
        sandbox.requests().iter().filter(|r| r.system == "xero").map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect();
    assert!(recorded.contains(&"GET /api.xro/2.0/Contacts 503".to_string()), "{recorded:?}");
}
