//! The QuickBooks Online emulator over HTTP on loopback, as a client sees it: consent with
//! `realmId`, the Basic-authenticated token exchange, refresh-token rotation and invalid_grant,
//! the gateway's lower-case 401/403, the query language (paging, escaping, IN, empty answers,
//! parse errors), creates, reads, sparse and full updates with SyncToken (5010), duplicate names
//! (6240), invoice totals (6070, references), the catalogue's refusals naming the field,
//! `requestid` replays, Change Data Capture (deleted objects, the 30-day window), the 10 calls in
//! flight, and the multipart upload. Facts: /work/notes/qbo-facts.md and partner-systems.md §3.

mod common;

use flowmap_sandbox::{FaultKind, Faults, Limits, QBO_REALM, Sandbox, SandboxConfig};
use pretty_assertions::assert_eq;
use reqwest::StatusCode;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:53682/callback";
const SCOPE: &str = "com.intuit.quickbooks.accounting";

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

async fn answer(response: reqwest::Response) -> Answer {
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.unwrap();
    Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

/// The consent redirect's (code, realmId), for `state` `s-1`.
async fn consent(qbo: &str) -> (String, String) {
    let query = [("client_id", "sandbox-client"), ("redirect_uri", REDIRECT), ("response_type", "code"), ("scope", SCOPE), ("state", "s-1")];
    let response = http().get(format!("{qbo}/connect/oauth2")).query(&query).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let query = location.strip_prefix(&format!("{REDIRECT}?")).unwrap_or_else(|| panic!("{location}"));
    let params: Vec<(&str, &str)> = query.split('&').filter_map(|p| p.split_once('=')).collect();
    let names: Vec<&str> = params.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["code", "state", "realmId"]);
    assert_eq!(params[1].1, "s-1");
    (params[0].1.to_string(), params[2].1.to_string())
}

async fn token(qbo: &str, secret: &str, form: &[(&str, &str)]) -> Answer {
    let request =
        http().post(format!("{qbo}/oauth2/v1/tokens/bearer")).basic_auth("sandbox-client", Some(secret)).header("Accept", "application/json");
    answer(request.form(form).send().await.unwrap()).await
}

/// A consented client's access token.
async fn connected(qbo: &str) -> String {
    let (code, _) = consent(qbo).await;
    let granted = token(qbo, "sandbox-secret", &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    granted.body["access_token"].as_str().unwrap().to_string()
}

/// A call under /v3/company/{realm}/ with minorversion=75 and `query` parameters.
async fn call(qbo: &str, access: &str, method: reqwest::Method, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Answer {
    let url = format!("{qbo}/v3/company/{QBO_REALM}/{path}");
    let mut request =
        http().request(method, url).bearer_auth(access).header("Accept", "application/json").query(&[("minorversion", "75")]).query(query);
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.unwrap()).await
}

async fn query(qbo: &str, access: &str, statement: &str) -> Answer {
    call(qbo, access, reqwest::Method::GET, "query", &[("query", statement)], None).await
}

async fn post(qbo: &str, access: &str, entity: &str, body: Value) -> Answer {
    call(qbo, access, reqwest::Method::POST, entity, &[], Some(body)).await
}

fn ids(answer: &Answer, entity: &str) -> Vec<String> {
    answer.body["QueryResponse"][entity].as_array().into_iter().flatten().filter_map(|r| r["Id"].as_str()).map(str::to_string).collect()
}

/// The Fault as Intuit writes it, `time` aside.
fn fault(answer: &Answer) -> Value {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body["time"].is_string(), "{}", answer.body);
    answer.body["Fault"].clone()
}

fn one_error(code: &str, message: &str, detail: &str, element: &str) -> Value {
    json!({ "Error": [{ "Message": message, "Detail": detail, "code": code, "element": element }], "type": "ValidationFault" })
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_names_the_realm_and_refresh_tokens_rotate_without_grace() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let (code, realm) = consent(&qbo).await;
    assert_eq!(realm, QBO_REALM);
    assert_eq!(sandbox.qbo_realm(), QBO_REALM);
    let wrong_secret = token(&qbo, "nope", &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!((wrong_secret.status, &wrong_secret.body["error"]), (StatusCode::UNAUTHORIZED, &json!("invalid_client")));
    let granted = token(&qbo, "sandbox-secret", &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(granted.status, StatusCode::OK);
    let mut keys: Vec<&String> = granted.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["access_token", "expires_in", "refresh_token", "token_type", "x_refresh_token_expires_in"]);
    assert_eq!(
        (&granted.body["token_type"], &granted.body["expires_in"], &granted.body["x_refresh_token_expires_in"]),
        (&json!("bearer"), &json!(3600), &json!(8726400))
    );
    let again = token(&qbo, "sandbox-secret", &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!((again.status, &again.body["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")), "a code is used once");

    let first = granted.body["refresh_token"].as_str().unwrap().to_string();
    let rotated = token(&qbo, "sandbox-secret", &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first, "a refresh hands out a new refresh token");
    let old = token(&qbo, "sandbox-secret", &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!((old.status, &old.body["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_grant")), "the old one is spent at once");
    let newest = token(&qbo, "sandbox-secret", &[("grant_type", "refresh_token"), ("refresh_token", &second)]).await;
    assert_eq!(newest.status, StatusCode::OK);

    // An hour later the access token is refused in the gateway's lower-case body.
    let access = rotated.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(query(&qbo, &access, "select * from Term").await.status, StatusCode::OK);
    sandbox.advance_clock(3601);
    let expired = query(&qbo, &access, "select * from Term").await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.headers["www-authenticate"], "Bearer realm=\"Intuit\", error=\"invalid_token\"");
    assert_eq!(expired.body["fault"]["error"][0]["message"], "message=AuthenticationFailed; errorCode=003200; statusCode=401");
    assert_eq!((&expired.body["fault"]["error"][0]["code"], &expired.body["fault"]["type"]), (&json!("3200"), &json!("AUTHENTICATION")));
}

#[tokio::test(flavor = "multi_thread")]
async fn another_company_is_403_and_a_missing_record_is_610() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    let other = answer(
        http()
            .get(format!("{qbo}/v3/company/123145678901234/item/7"))
            .bearer_auth(&access)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(other.body["fault"]["error"][0]["message"], "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403");
    let item = call(&qbo, &access, reqwest::Method::GET, "item/7", &[], None).await;
    assert_eq!((item.status, &item.body["Item"]["Name"]), (StatusCode::OK, &json!("Organic cotton tee white M")));
    assert!(item.headers.contains_key("intuit_tid"));
    let nowhere = call(&qbo, &access, reqwest::Method::POST, "widget", &[], Some(json!({}))).await;
    let path = format!("/v3/company/{QBO_REALM}/widget");
    let detail = format!("Operation Could not find resource for relative : {path} of full path: {path}?minorversion=75 is not supported.");
    assert_eq!(fault(&nowhere), one_error("500", "Unsupported Operation", &detail, ""));
    let missing = call(&qbo, &access, reqwest::Method::GET, "item/999", &[], None).await;
    assert_eq!(
        fault(&missing),
        one_error(
            "610",
            "Object Not Found",
            "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
            ""
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_query_language_pages_escapes_filters_and_refuses_what_it_cannot_parse() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    let all = query(&qbo, &access, "select * from Customer").await;
    assert_eq!(ids(&all, "Customer"), ["58", "59", "60", "61", "62"]);
    assert_eq!((&all.body["QueryResponse"]["startPosition"], &all.body["QueryResponse"]["maxResults"]), (&json!(1), &json!(5)));
    // MAXRESULTS before STARTPOSITION, as qbo_api sends it; maxResults counts the rows returned.
    let page = query(&qbo, &access, "SELECT * FROM Customer ORDERBY Id DESC MAXRESULTS 2 STARTPOSITION 2").await;
    assert_eq!(ids(&page, "Customer"), ["61", "60"]);
    assert_eq!((&page.body["QueryResponse"]["startPosition"], &page.body["QueryResponse"]["maxResults"]), (&json!(2), &json!(2)));
    let last = query(&qbo, &access, "select * from Customer startposition 5 maxresults 2").await;
    assert_eq!(ids(&last, "Customer"), ["62"]);
    let count = query(&qbo, &access, "SELECT COUNT(*) FROM Invoice WHERE Balance = '0'").await;
    assert_eq!(count.body["QueryResponse"], json!({ "totalCount": 5 }));

    let within = query(&qbo, &access, "select * from Item where Id IN ('7', '21', '999') and Sku LIKE '%-%'").await;
    assert_eq!(ids(&within, "Item"), ["7", "21"]);
    let recent = query(&qbo, &access, "select * from Item where MetaData.LastUpdatedTime >= '2025-03-04T10:20:08-08:00'").await;
    assert!(ids(&recent, "Item").contains(&"7".to_string()), "{}", recent.body);
    let none = query(&qbo, &access, "select * from Item where MetaData.LastUpdatedTime > '2030-01-01'").await;
    assert_eq!((none.status, &none.body["QueryResponse"]), (StatusCode::OK, &json!({})));
    assert!(none.body["time"].is_string());

    // A quote inside a literal is escaped with a backslash.
    sandbox.add_qbo_records("Customer", vec![json!({ "DisplayName": "Amy's Bird Sanctuary", "Active": true })]).unwrap();
    let amy = query(&qbo, &access, "select * from Customer where DisplayName = 'Amy\\'s Bird Sanctuary'").await;
    assert_eq!(amy.body["QueryResponse"]["Customer"][0]["DisplayName"], "Amy's Bird Sanctuary");

    // Inactive name-list records only when Active is asked.
    sandbox.edit_qbo_record("Customer", "62", json!({ "Active": false }).as_object().cloned().unwrap()).unwrap();
    assert!(!ids(&query(&qbo, &access, "select * from Customer").await, "Customer").contains(&"62".to_string()));
    let with_inactive = query(&qbo, &access, "select * from Customer where Active IN (true, false)").await;
    assert!(ids(&with_inactive, "Customer").contains(&"62".to_string()));

    // The statement as the body of a POST (python-quickbooks).
    let posted = answer(
        http()
            .post(format!("{qbo}/v3/company/{QBO_REALM}/query?minorversion=75"))
            .bearer_auth(&access)
            .header("Accept", "application/json")
            .header("Content-Type", "application/text")
            .body("select * from Term where Name = 'Net 30'")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&posted, "Term"), ["3"]);

    let or = query(&qbo, &access, "select * from Item where Name = 'a' or Name = 'b'").await;
    assert_eq!(fault(&or), one_error("4000", "Error parsing query", "QueryParserError: Encountered \"or\" at position 9. Was expecting: <EOF>", ""));
    let lower = query(&qbo, &access, "select * from item").await;
    assert_eq!(fault(&lower), one_error("4000", "Error parsing query", "QueryParserError: Invalid entity name: item", ""));
}

fn service_item(name: &str) -> Value {
    json!({ "Name": name, "Type": "Service", "UnitPrice": 35, "Description": "Hemming", "IncomeAccountRef": { "value": "1" } })
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_reads_and_updates_with_sync_tokens_sparse_and_full() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    let created = post(&qbo, &access, "item", service_item("SRV-HEM")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let item = created.body["Item"].clone();
    let id = item["Id"].as_str().unwrap().to_string();
    assert_eq!(
        (&item["SyncToken"], &item["domain"], &item["Active"], &item["FullyQualifiedName"]),
        (&json!("0"), &json!("QBO"), &json!(true), &json!("SRV-HEM"))
    );
    assert_eq!(item["IncomeAccountRef"], json!({ "value": "1", "name": "Services" }), "QBO answers the account's name");
    assert!(item["MetaData"]["CreateTime"].as_str().is_some_and(|t| t.ends_with("-08:00")), "{item}");
    let read = call(&qbo, &access, reqwest::Method::GET, &format!("item/{id}"), &[], None).await;
    assert_eq!(read.body["Item"], item);

    let sparse = post(&qbo, &access, "item", json!({ "Id": id, "SyncToken": "0", "sparse": true, "UnitPrice": 40 })).await;
    assert_eq!(
        (&sparse.body["Item"]["SyncToken"], &sparse.body["Item"]["UnitPrice"], &sparse.body["Item"]["Description"]),
        (&json!("1"), &json!(40), &json!("Hemming"))
    );
    let stale = post(&qbo, &access, "item", json!({ "Id": id, "SyncToken": "0", "sparse": true, "UnitPrice": 45 })).await;
    assert_eq!(
        fault(&stale),
        one_error(
            "5010",
            "Stale Object Error",
            "Stale Object Error : You and sandbox@flowmap were working on this at the same time. sandbox@flowmap finished before you did, so your work was not saved.",
            ""
        )
    );
    // Someone edits the item in QBO: the SyncToken the client holds is stale.
    sandbox.edit_qbo_record("Item", &id, json!({ "PurchaseCost": 12 }).as_object().cloned().unwrap()).unwrap();
    let after_edit = post(&qbo, &access, "item", json!({ "Id": id, "SyncToken": "1", "sparse": true, "UnitPrice": 45 })).await;
    assert_eq!(fault(&after_edit)["Error"][0]["code"], "5010");
    // A full update clears what it leaves out (Description, PurchaseCost); read-only fields sent back are ignored.
    let full = post(&qbo, &access, "item", json!({ "Id": id, "SyncToken": "2", "Name": "SRV-HEM", "Type": "Service", "IncomeAccountRef": { "value": "1" }, "FullyQualifiedName": "ignored" })).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    assert_eq!(
        (full.body["Item"].get("Description"), full.body["Item"].get("PurchaseCost"), &full.body["Item"]["SyncToken"]),
        (None, None, &json!("3"))
    );
    assert_eq!(full.body["Item"]["FullyQualifiedName"], "SRV-HEM");

    let duplicate = post(&qbo, &access, "item", service_item("srv-hem")).await;
    assert_eq!(fault(&duplicate), one_error("6240", "Duplicate Name Exists Error", "The name supplied already exists. : null", ""));
    let customer = post(&qbo, &access, "customer", json!({ "DisplayName": "Jeroen Visser" })).await;
    assert_eq!(fault(&customer)["Error"][0]["code"], "6240");
    // A Sku is not unique in QBO (notes §9; Finance.xsd says nothing of it): only names are.
    let same_sku = post(
        &qbo,
        &access,
        "item",
        json!({ "Name": "TSH-WHT-M (old)", "Sku": "TSH-WHT-M", "Type": "Service", "IncomeAccountRef": { "value": "1" } }),
    )
    .await;
    assert_eq!(same_sku.status, StatusCode::OK, "{}", same_sku.body);

    // An item in a category: its full name and level.
    let category = post(&qbo, &access, "item", json!({ "Name": "Apparel", "Type": "Category" })).await;
    let category_id = category.body["Item"]["Id"].as_str().unwrap().to_string();
    let shirt = post(&qbo, &access, "item", json!({ "Name": "TSH-RED-S", "Type": "NonInventory", "IncomeAccountRef": { "value": "79" }, "SubItem": true, "ParentRef": { "value": category_id } })).await;
    assert_eq!((&shirt.body["Item"]["FullyQualifiedName"], &shirt.body["Item"]["Level"]), (&json!("Apparel:TSH-RED-S"), &json!(1)));
    assert_eq!(shirt.body["Item"]["ParentRef"]["name"], "Apparel");
    assert_eq!(sandbox.qbo_records("Item").len(), 15 + 4, "Item.json's, and four made here");
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_checked_against_the_catalogue_naming_the_field() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    let unknown = post(&qbo, &access, "item", json!({ "Name": "X", "Type": "Service", "Colour": "red" })).await;
    assert_eq!(
        fault(&unknown),
        one_error(
            "2010",
            "Request has invalid or unsupported property",
            "Property Name:Unrecognized field \"Colour\" (class com.intuit.schema.finance.v3.Item), not marked as ignorable",
            "Colour"
        )
    );
    let nested =
        post(&qbo, &access, "invoice", json!({ "CustomerRef": { "value": "58" }, "Line": [{ "DetailType": "SalesItemLineDetail", "Amont": 1 }] }))
            .await;
    assert_eq!(fault(&nested)["Error"][0]["element"], "Line[0].Amont");
    let enum_value = post(&qbo, &access, "item", json!({ "Name": "X", "Type": "Widget" })).await;
    assert_eq!(fault(&enum_value), one_error("2170", "Invalid Enumeration", "Invalid Enumeration: Widget", "Type"));
    let missing = post(&qbo, &access, "item", json!({ "Name": "X" })).await;
    assert_eq!(
        fault(&missing),
        one_error(
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter Type is missing in the request",
            "Type"
        )
    );
    let inventory = post(&qbo, &access, "item", json!({ "Name": "X", "Type": "Inventory", "IncomeAccountRef": { "value": "79" } })).await;
    assert_eq!(fault(&inventory)["Error"][0]["Detail"], "Required parameter ExpenseAccountRef is missing in the request");
    let long = post(&qbo, &access, "item", json!({ "Name": "N".repeat(101), "Type": "Service", "IncomeAccountRef": { "value": "1" } })).await;
    assert_eq!(
        fault(&long),
        one_error(
            "2050",
            "String length is either shorter or longer than supported by specification",
            "String length specified does not match the supported length. Min:0 Max:100 supported. Supplied length:101",
            "Name"
        )
    );
    assert_eq!(sandbox.qbo_records("Item").len(), 15, "nothing refused was stored");
}

fn invoice_lines(qty: f64, price: f64, amount: f64) -> Value {
    json!([{ "DetailType": "SalesItemLineDetail", "Amount": amount, "Description": "tee", "SalesItemLineDetail": { "ItemRef": { "value": "7" }, "Qty": qty, "UnitPrice": price } }])
}

#[tokio::test(flavor = "multi_thread")]
async fn invoices_are_completed_as_qbo_does_and_replayed_by_requestid() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    let mut lines = invoice_lines(4.0, 29.95, 119.8);
    lines
        .as_array_mut()
        .unwrap()
        .push(json!({ "DetailType": "DiscountLineDetail", "DiscountLineDetail": { "PercentBased": true, "DiscountPercent": 10 } }));
    let body = json!({ "CustomerRef": { "value": "58" }, "SalesTermRef": { "value": "3" }, "TxnDate": "2026-11-30", "Line": lines, "TxnTaxDetail": { "TotalTax": 22.64 } });
    let created = call(&qbo, &access, reqwest::Method::POST, "invoice", &[("requestid", "8a7c1f3e-invoice-1")], Some(body.clone())).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let invoice = &created.body["Invoice"];
    assert_eq!(
        (&invoice["DocNumber"], &invoice["DueDate"], &invoice["SalesTermRef"]),
        (&json!("1007"), &json!("2026-12-30"), &json!({ "value": "3" }))
    );
    assert_eq!(invoice["CustomerRef"], json!({ "value": "58", "name": "Groenhart Interiors B.V." }));
    let line = &invoice["Line"][0];
    assert_eq!(
        (&line["Id"], &line["LineNum"], &line["SalesItemLineDetail"]["ItemRef"]["name"]),
        (&json!("1"), &json!(1), &json!("Organic cotton tee white M"))
    );
    assert_eq!(invoice["Line"][1]["Amount"], json!(11.98), "10 % of the lines above");
    assert_eq!(invoice["Line"][2], json!({ "Amount": 119.8, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {} }));
    assert_eq!((&invoice["TotalAmt"], &invoice["Balance"]), (&json!(130.46), &json!(130.46)), "119.80 − 11.98 + 22.64");

    // The answer was lost; the retry with the same requestid gets it again and makes nothing new.
    let retried = call(&qbo, &access, reqwest::Method::POST, "invoice", &[("requestid", "8a7c1f3e-invoice-1")], Some(body)).await;
    assert_eq!(retried.body, created.body);
    assert_eq!((sandbox.qbo_records("Invoice").len(), sandbox.qbo_replays()), (7, 1));
    let too_long = call(&qbo, &access, reqwest::Method::POST, "invoice", &[("requestid", &"r".repeat(51))], Some(json!({}))).await;
    assert_eq!(fault(&too_long)["Error"][0]["element"], "requestid");

    let wrong_amount = post(&qbo, &access, "invoice", json!({ "CustomerRef": { "value": "58" }, "Line": invoice_lines(4.0, 29.95, 100.0) })).await;
    assert_eq!(
        fault(&wrong_amount),
        one_error(
            "6070",
            "Amount calculation incorrect in the request.",
            "Amount is not equal to UnitPrice * Qty. Supplied value:100",
            "Line.Amount"
        )
    );
    let unknown_customer =
        post(&qbo, &access, "invoice", json!({ "CustomerRef": { "value": "999" }, "Line": invoice_lines(1.0, 29.95, 29.95) })).await;
    assert_eq!(fault(&unknown_customer), one_error("2500", "Invalid Reference Id", "Invalid Reference Id : CustomerRef", "CustomerRef"));
    sandbox.edit_qbo_record("Customer", "59", json!({ "Active": false }).as_object().cloned().unwrap()).unwrap();
    let inactive = post(&qbo, &access, "invoice", json!({ "CustomerRef": { "value": "59" }, "Line": invoice_lines(1.0, 29.95, 29.95) })).await;
    assert_eq!(fault(&inactive)["Error"][0]["code"], "610");
    let no_customer = post(&qbo, &access, "invoice", json!({ "Line": invoice_lines(1.0, 29.95, 29.95) })).await;
    assert_eq!(fault(&no_customer)["Error"][0]["Detail"], "Required parameter CustomerRef is missing in the request");
    // A paid invoice stays paid when its memo changes (sparse update of fixture invoice 130).
    let memo = post(&qbo, &access, "invoice", json!({ "Id": "130", "SyncToken": "1", "sparse": true, "PrivateNote": "checked" })).await;
    assert_eq!(
        (memo.status, &memo.body["Invoice"]["Balance"], &memo.body["Invoice"]["SyncToken"]),
        (StatusCode::OK, &json!(0.0), &json!("2")),
        "{}",
        memo.body
    );
    let receipt = post(&qbo, &access, "salesreceipt", json!({ "PaymentMethodRef": { "value": "3" }, "Line": invoice_lines(2.0, 29.95, 59.9) })).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    assert_eq!((&receipt.body["SalesReceipt"]["Balance"], &receipt.body["SalesReceipt"]["TotalAmt"]), (&json!(0.0), &json!(59.9)));
    assert_eq!(receipt.body["SalesReceipt"]["PaymentMethodRef"], json!({ "value": "3", "name": "Cash" }));
    assert_eq!(receipt.body["SalesReceipt"]["DepositToAccountRef"], json!({ "value": "4", "name": "Undeposited Funds" }));
}

#[tokio::test(flavor = "multi_thread")]
async fn change_data_capture_reports_changes_and_deletions_within_thirty_days() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    let since = chrono::DateTime::from_timestamp_millis(sandbox.now_ms() - 60_000).unwrap().to_rfc3339();
    sandbox.edit_qbo_record("Item", "21", json!({ "UnitPrice": 19.5 }).as_object().cloned().unwrap()).unwrap();
    let invoice = sandbox.qbo_records("Invoice").into_iter().find(|i| i["Id"] == "134").unwrap();
    let deleted = call(
        &qbo,
        &access,
        reqwest::Method::POST,
        "invoice",
        &[("operation", "delete")],
        Some(json!({ "Id": "134", "SyncToken": invoice["SyncToken"] })),
    )
    .await;
    assert_eq!(deleted.body["Invoice"], json!({ "domain": "QBO", "status": "Deleted", "Id": "134" }));

    let changes = call(&qbo, &access, reqwest::Method::GET, "cdc", &[("entities", "Invoice,Item,Customer"), ("changedSince", &since)], None).await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.body);
    let responses = &changes.body["CDCResponse"][0]["QueryResponse"];
    let gone = &responses[0]["Invoice"][0];
    assert_eq!((&gone["status"], &gone["Id"], gone["MetaData"]["LastUpdatedTime"].is_string()), (&json!("Deleted"), &json!("134"), true));
    assert_eq!(
        (&responses[1]["Item"][0]["Id"], &responses[1]["Item"][0]["UnitPrice"], &responses[1]["maxResults"]),
        (&json!("21"), &json!(19.5), &json!(1))
    );
    assert_eq!(responses[2], json!({}), "no customer changed");

    let too_old = chrono::DateTime::from_timestamp_millis(sandbox.now_ms() - 31 * 86_400_000).unwrap().to_rfc3339();
    let refused = call(&qbo, &access, reqwest::Method::GET, "cdc", &[("entities", "Invoice"), ("changedSince", &too_old)], None).await;
    assert_eq!(
        fault(&refused),
        one_error(
            "6000",
            "A business validation error has occurred while processing your request",
            "Business Validation Error: changedSince must be within the last 30 days",
            ""
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_eleventh_call_in_flight_is_throttled() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    sandbox.set_qbo_latency_ms(3000);
    let tasks: Vec<_> = (0..11)
        .map(|_| {
            let (qbo, access) = (qbo.clone(), access.clone());
            tokio::spawn(async move { query(&qbo, &access, "select * from Term").await })
        })
        .collect();
    let mut throttled = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(answer.headers.get("retry-after").is_none(), "Intuit sends no Retry-After");
            throttled.push(answer.body["fault"]["error"][0]["message"].clone());
        } else {
            assert_eq!(answer.status, StatusCode::OK);
        }
    }
    assert_eq!(throttled, [json!("message=ThrottleExceeded; errorCode=003001; statusCode=429")]);

    // The minute budget (Intuit's 500, three here), counted on the sandbox clock (stopped, so
    // the calls cannot straddle a minute).
    sandbox.set_qbo_latency_ms(0);
    sandbox.set_clock_speed(0.0);
    sandbox.advance_clock(60);
    sandbox.set_limits_of("qbo", Limits { minutely: 3, ..Limits::qbo() }).unwrap();
    for _ in 0..3 {
        assert_eq!(query(&qbo, &access, "select * from Term").await.status, StatusCode::OK);
    }
    assert_eq!(query(&qbo, &access, "select * from Term").await.status, StatusCode::TOO_MANY_REQUESTS);
    sandbox.advance_clock(60);
    assert_eq!(query(&qbo, &access, "select * from Term").await.status, StatusCode::OK, "a new minute");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_image_is_uploaded_as_an_attachable() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    let metadata =
        json!({ "AttachableRef": [{ "EntityRef": { "type": "Item", "value": "7" } }], "FileName": "shirt.jpg", "ContentType": "image/jpeg" });
    let missing = json!({ "AttachableRef": [{ "EntityRef": { "type": "Item", "value": "999" } }], "FileName": "x.jpg", "ContentType": "image/jpeg" });
    let mut body = Vec::new();
    for (n, meta) in [("01", &metadata), ("02", &missing)] {
        body.extend(format!("--XyZ\r\nContent-Disposition: form-data; name=\"file_metadata_{n}\"; filename=\"attachment.json\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n").as_bytes());
        body.extend(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"file_content_{n}\"; filename=\"shirt.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                .as_bytes(),
        );
        body.extend([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]);
        body.extend(b"\r\n");
    }
    body.extend(b"--XyZ--\r\n");
    let uploaded = answer(
        http()
            .post(format!("{qbo}/v3/company/{QBO_REALM}/upload?minorversion=75"))
            .bearer_auth(&access)
            .header("Accept", "application/json")
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.body);
    let attachable = &uploaded.body["AttachableResponse"][0]["Attachable"];
    assert_eq!((&attachable["FileName"], &attachable["Size"], &attachable["ContentType"]), (&json!("shirt.jpg"), &json!(6), &json!("image/jpeg")));
    let id = attachable["Id"].as_str().unwrap();
    assert_eq!(attachable["FileAccessUri"], format!("/v3/company/{QBO_REALM}/download/{id}"));
    assert_eq!(
        uploaded.body["AttachableResponse"][1]["Fault"]["Error"][0]["Detail"],
        "Business Validation Error: The entity Item 999 that you are trying to link does not exist. Item 999",
        "a failed file is a Fault inside the 200"
    );
    assert_eq!(sandbox.qbo_records("Attachable").len(), 1);
}

/// Standard base64 with padding, to check the signature independently of the emulator's encoder.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8) | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= chunk.len() { char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]) } else { '=' });
        }
    }
    out
}

/// One webhook delivery received on a loopback endpoint: (head, body).
async fn receive_one(listener: tokio::net::TcpListener) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        received.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&received).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize =
                head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())).unwrap_or(0);
            if body.len() >= length || n == 0 {
                stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await.unwrap();
                return (head.to_string(), body.to_string());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_is_sent_as_a_signed_cloud_event() {
    use hmac::{Hmac, KeyInit, Mac};
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/qbo-events", listener.local_addr().unwrap());
    let receiving = tokio::spawn(receive_one(listener));
    let fire = json!({ "entity": "Invoice", "id": "130", "operation": "Update" });
    let unregistered = answer(http().post(format!("{qbo}/_sandbox/qbo/fire")).json(&fire).send().await.unwrap()).await;
    assert_eq!(unregistered.status, StatusCode::BAD_REQUEST, "no endpoint yet");
    let registered = http().post(format!("{qbo}/_sandbox/qbo/webhook")).json(&json!({ "url": endpoint })).send().await.unwrap();
    assert_eq!(registered.status(), StatusCode::OK);
    let fired = answer(http().post(format!("{qbo}/_sandbox/qbo/fire")).json(&fire).send().await.unwrap()).await;
    assert_eq!((fired.status, &fired.body["delivery"]), (StatusCode::OK, &json!({ "status": 200 })), "{}", fired.body);

    let (head, body) = receiving.await.unwrap();
    assert!(head.starts_with("POST /qbo-events HTTP/1.1"), "{head}");
    let signature = head.lines().find_map(|l| l.strip_prefix("intuit-signature: ")).expect("signed").to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"sandbox-verifier-token").unwrap();
    mac.update(body.as_bytes());
    assert_eq!(signature, base64(&mac.finalize().into_bytes()), "base64 HMAC-SHA256 of the raw body with the verifier token");
    let events: Value = serde_json::from_str(&body).unwrap();
    let event = &events[0];
    assert_eq!(events.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (&event["specversion"], &event["type"], &event["intuitentityid"], &event["intuitaccountid"], &event["datacontenttype"]),
        (&json!("1.0"), &json!("qbo.invoice.updated.v1"), &json!("130"), &json!(QBO_REALM), &json!("application/json"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_faults_are_qbos_own_and_spare_the_token_endpoint() {
    let sandbox = sandbox();
    let qbo = sandbox.qbo_url();
    let access = connected(&qbo).await;
    sandbox.set_faults_of("qbo", Faults { rate: 1.0, kinds: vec![FaultKind::ServiceUnavailable], seed: 1, hang_ms: 10 }).unwrap();
    let faulted = query(&qbo, &access, "select * from Term").await;
    assert_eq!((faulted.status, &faulted.body["Fault"]["type"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("SystemFault")));
    assert_eq!(connected(&qbo).await.is_empty(), false, "consent and tokens are never faulted");
    sandbox.set_faults_of("qbo", Faults { rate: 1.0, kinds: vec![FaultKind::TooManyRequests], seed: 1, hang_ms: 10 }).unwrap();
    let throttled = query(&qbo, &access, "select * from Term").await;
    assert_eq!((throttled.status, throttled.headers.get("retry-after")), (StatusCode::TOO_MANY_REQUESTS, None));
    assert_eq!(throttled.body["fault"]["error"][0]["message"], "message=ThrottleExceeded; errorCode=003001; statusCode=429");
}
