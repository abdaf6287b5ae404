//! Exact item pictures → QuickBooks Attachables, live against the sandbox (seed 003: "Images are
//! supported from Exact Online to QuickBooks. Note that Exact Online supports only 1 image."):
//! after an item is sent, its picture is fetched on the Exact connection and uploaded as a
//! multipart `POST upload` linked to the QuickBooks item; once per picture; never fetched off
//! the Exact connection's own host.

mod common;

use std::net::TcpListener;

use common::live::*;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const PRODUCTS: &str = "mappings/exact-qbo/products.flow.yaml";
/// The fixture items with a picture (`PictureName`), by Exact ID.
const WITH_PICTURE: [(&str, &str); 3] = [
    ("TSH-WHT-M", "e53fcc59-2b78-47a3-80c9-0f2554cf1bd1"),
    ("TSH-BLK-M", "230c44c0-d279-47f6-82ce-335223917c78"),
    ("SWT-NVY-M", "1032fcc9-64ca-42eb-ada7-0a6840efb32c"),
];

fn world() -> World {
    let world = World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "");
    world.consent("exact", "/api/oauth2/auth");
    world.connect_qbo("");
    world
}

fn qbo_item_id(world: &World, sku: &str) -> String {
    let item = world.sandbox.qbo_records("Item").into_iter().find(|i| i["Sku"] == sku).unwrap_or_else(|| panic!("no QuickBooks item {sku}"));
    item["Id"].as_str().unwrap().to_string()
}

/// (item Id the Attachable is linked to, FileName, ContentType, Size), sorted.
fn attachables(world: &World) -> Vec<(String, String, String, u64)> {
    let mut all: Vec<_> = world
        .sandbox
        .qbo_records("Attachable")
        .iter()
        .map(|a| {
            let linked = &a["AttachableRef"][0]["EntityRef"];
            assert_eq!(linked["type"], "Item", "{a}");
            (
                linked["value"].as_str().unwrap_or_default().to_string(),
                a["FileName"].as_str().unwrap_or_default().to_string(),
                a["ContentType"].as_str().unwrap_or_default().to_string(),
                a["Size"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    all.sort();
    all
}

fn uploads(world: &World) -> Vec<RecordedRequest> {
    world.requests_to("qbo", "POST", "/upload")
}

#[test]
fn each_picture_becomes_one_attachable_of_its_item_with_the_exact_bytes_and_goes_once() {
    let world = world();
    let run = world.flowmap(&["run", PRODUCTS]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // One Attachable for each item with a picture, linked to the QuickBooks item created or
    // updated for it; the items without picture (Exact's placeholder URL, no PictureName) none.
    let mut wanted: Vec<_> = WITH_PICTURE
        .iter()
        .map(|(sku, id)| {
            (qbo_item_id(&world, sku), format!("{sku}.png"), "image/png".to_string(), flowmap_sandbox::exact_item_picture(id).len() as u64)
        })
        .collect();
    wanted.sort();
    assert_eq!(attachables(&world), wanted, "{}{}", run.stdout, run.stderr);

    // Multipart as Intuit takes it, with the system's minorversion and a requestid; the file part
    // carries the picture's bytes as Exact served them.
    let sent = uploads(&world);
    assert_eq!(sent.len(), 3);
    for (sku, id) in WITH_PICTURE {
        let upload = sent
            .iter()
            .find(|u| u.body.as_ref().and_then(Value::as_str).is_some_and(|b| b.contains(&format!("filename=\"{sku}.png\""))))
            .unwrap_or_else(|| panic!("no upload of {sku}"));
        let body = upload.body.as_ref().and_then(Value::as_str).unwrap_or_default();
        let picture = String::from_utf8_lossy(&flowmap_sandbox::exact_item_picture(id)).into_owned();
        let file_part = format!(
            "Content-Disposition: form-data; name=\"file_content_01\"; filename=\"{sku}.png\"\r\nContent-Type: image/png\r\n\r\n{picture}\r\n--"
        );
        assert!(body.contains(&file_part), "{sku}: {body}");
        let metadata = json!({"AttachableRef": [{"EntityRef": {"type": "Item", "value": qbo_item_id(&world, sku)}}], "FileName": format!("{sku}.png"), "ContentType": "image/png"});
        assert!(
            body.contains(&format!(
                "name=\"file_metadata_01\"; filename=\"attachment.json\"\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n"
            )),
            "{body}"
        );
        let header = |name: &str| upload.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).unwrap_or_default();
        assert!(header("content-type").starts_with("multipart/form-data; boundary="), "{upload:?}");
        assert!(upload.query.contains(&("minorversion".into(), "75".into())), "{upload:?}");
        assert!(upload.query.iter().any(|(k, v)| k == "requestid" && v.len() == 36), "{upload:?}");
    }
    // The pictures were fetched on the Exact connection, with its bearer token.
    let fetched = world.requests_to("exact", "GET", "/docs/SysImage.aspx");
    assert_eq!(fetched.len(), 3);
    assert!(
        fetched.iter().all(|f| f.status == 200 && f.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v.starts_with("Bearer ")))
    );

    // The tee changes in Exact, its picture does not: the item is updated, nothing is uploaded.
    world.sandbox.clear_requests();
    let tee = WITH_PICTURE[0].1;
    world.sandbox.edit_exact_record("logistics/Items", tee, serde_json::Map::from_iter([("StandardSalesPrice".to_string(), json!(24.5))])).unwrap();
    let again = world.flowmap(&["run", PRODUCTS]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(world.requests_to("qbo", "POST", "/item").len(), 1, "{}", again.stdout);
    assert_eq!((uploads(&world).len(), world.requests_to("exact", "GET", "/docs/").len(), attachables(&world).len()), (0, 0, 3), "{}", again.stdout);
}

#[test]
fn a_picture_url_off_the_exact_host_is_refused_never_fetched_and_the_item_still_goes() {
    let world = world();
    // A listener that would see any connection made to the other host.
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let url = format!("http://{}/docs/SysImage.aspx?Table=Items&ID=e53fcc59-2b78-47a3-80c9-0f2554cf1bd1", elsewhere.local_addr().unwrap());
    let tee = WITH_PICTURE[0].1;
    world.sandbox.edit_exact_record("logistics/Items", tee, serde_json::Map::from_iter([("PictureUrl".to_string(), json!(url))])).unwrap();

    let run = world.flowmap(&["run", PRODUCTS]);
    assert!(run.stdout.contains("1 write-backs failed (they are repeated by the next run)"), "{}{}", run.stdout, run.stderr);
    let show = world.flowmap(&["show", "exact-products-to-qbo", tee]);
    let exact_host = world.sandbox.exact_url();
    assert!(
        show.stdout.contains(&format!("the file TSH-WHT-M.png could not be fetched: {url} is not on the host of connection `exact` ({exact_host})")),
        "{}{}",
        show.stdout,
        show.stderr
    );
    assert!(matches!(elsewhere.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock), "the other host was called");
    // The item itself went; the two other pictures too.
    let tee_id = qbo_item_id(&world, "TSH-WHT-M");
    let linked: Vec<String> = attachables(&world).into_iter().map(|a| a.0).collect();
    assert_eq!((linked.len(), linked.contains(&tee_id)), (2, false));
}

#[test]
fn the_exact_picture_needs_the_token_and_an_item_with_a_picture() {
    let world = world();
    let base = world.sandbox.exact_url();
    let (status, _, _) = http_get(&format!("{base}/docs/SysImage.aspx?Table=Items&ID={}", WITH_PICTURE[0].1));
    assert_eq!(status, 401);
}

#[test]
fn a_dry_run_shows_the_planned_upload_and_fetches_nothing() {
    let world = world();
    world.sandbox.clear_requests();
    let dry = world.flowmap(&["dry-run", PRODUCTS, "--format", "json"]);
    assert_eq!(dry.code, 0, "{}{}", dry.stdout, dry.stderr);
    let tee: Value =
        dry.stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|r| r["key"] == WITH_PICTURE[0].1).expect("the tee");
    assert_eq!(
        tee["write_back"],
        json!([{
            "system": "qbo", "method": "POST", "path": "upload",
            "body": {"AttachableRef": [{"EntityRef": {"type": "Item", "value": "7"}}], "FileName": "TSH-WHT-M.png", "ContentType": "image/png"},
            "file": {
                "json_part": "file_metadata_01", "file_part": "file_content_01", "from": "exact",
                "url": "https://start.exactonline.nl/docs/SysImage.aspx?Table=Items&ID=e53fcc59-2b78-47a3-80c9-0f2554cf1bd1&ThumbSize=500&NoCache=1",
                "name": "TSH-WHT-M.png", "content_type": "image/png"
            }
        }])
    );
    let text = world.flowmap(&["dry-run", PRODUCTS, "--color", "never"]);
    assert!(text.stdout.contains("\n  qbo POST upload            write back           3  e.g. upload\n"), "{}", text.stdout);
    assert_eq!(world.sandbox.requests().len(), 0, "a dry-run calls no system");
}

#[test]
fn a_picture_exact_does_not_have_is_a_failed_write_back_and_the_item_still_goes() {
    let world = world();
    let tee = WITH_PICTURE[0].1;
    let missing = "https://start.exactonline.nl/docs/SysImage.aspx?Table=Items&ID=00000000-0000-0000-0000-000000000000&ThumbSize=500&NoCache=1";
    world.sandbox.edit_exact_record("logistics/Items", tee, serde_json::Map::from_iter([("PictureUrl".to_string(), json!(missing))])).unwrap();
    let run = world.flowmap(&["run", PRODUCTS]);
    assert!(
        run.stdout.contains("  16 fetched, 16 sent\n  1 write-backs failed (they are repeated by the next run)\n"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let show = world.flowmap(&["show", "exact-products-to-qbo", tee]);
    let url = format!("{}/docs/SysImage.aspx?Table=Items&ID=00000000-0000-0000-0000-000000000000&ThumbSize=500&NoCache=1", world.sandbox.exact_url());
    assert!(show.stdout.contains(&format!("the file TSH-WHT-M.png could not be fetched: GET {url} (HTTP 404)")), "{}", show.stdout);
    assert_eq!(world.requests_to("exact", "GET", "/docs/").iter().map(|r| r.status).filter(|s| *s == 404).count(), 1);
    assert_eq!(attachables(&world).len(), 2);

    // The item is sent again at its next change in Exact, and its picture with it.
    let fixed = "https://start.exactonline.nl/docs/SysImage.aspx?Table=Items&ID=e53fcc59-2b78-47a3-80c9-0f2554cf1bd1&ThumbSize=500&NoCache=1";
    world.sandbox.edit_exact_record("logistics/Items", tee, serde_json::Map::from_iter([("PictureUrl".to_string(), json!(fixed))])).unwrap();
    let again = world.flowmap(&["run", PRODUCTS]);
    assert!(again.stdout.contains("  1 fetched, 1 sent\n"), "{}{}", again.stdout, again.stderr);
    let tee_id = qbo_item_id(&world, "TSH-WHT-M");
    assert!(attachables(&world).iter().any(|a| a.0 == tee_id && a.1 == "TSH-WHT-M.png"), "{}", again.stdout);
}
