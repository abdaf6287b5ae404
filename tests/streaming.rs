//! A live run takes the source page by page (issue 11): each page is settled
//! before the next is fetched, so a source failing at a later page has had
//! every earlier page delivered and journaled, and memory holds one page
//! however many records the source has.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::live::{copy_dir, untimed};
use common::repo_root;

/// A loopback source of numbered orders, two per page: pages 1 and 2 answer,
/// page 3 is refused (HTTP 400, which is not retried). Keeps the paths asked.
fn source() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let kept = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = first.split(' ').nth(1).unwrap_or("").to_string();
            kept.lock().unwrap().push(path.clone());
            let page: u32 = path.split("page=").nth(1).and_then(|p| p.parse().ok()).unwrap_or(1);
            let (status, body) = match page {
                1 | 2 => ("200 OK", format!(r#"[{{"reference":"R{}"}},{{"reference":"R{}"}}]"#, page * 2 - 1, page * 2)),
                _ => ("400 Bad Request", r#"{"message":"page out of range"}"#.to_string()),
            };
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nX-Has-More: true\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, asked)
}

/// The file-flows project with an http source of orders on `port`, exported to the folder.
fn project(dir: &Path, port: u16) {
    copy_dir(&repo_root().join("tests/file-flows"), dir);
    std::fs::create_dir_all(dir.join("share/out")).unwrap();
    std::fs::write(
        dir.join("mappings/systems/shop.yaml"),
        "system: shop\ntitle: Shop\nbase_url: \"{host}\"\nauth: { kind: bearer }\nquery: params\n\
         paging: { style: page_param, param: page, has_more_header: X-Has-More }\npage_size: 2\nrecords: \"@\"\n\
         catalogue: ../../schemas/catalogue/shop.yaml\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("schemas/catalogue/shop.yaml"),
        "system: shop\nentities:\n  orders:\n    title: Order\n    fields:\n      reference: { type: string }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("mappings/drop/orders.flow.yaml"),
        "flow: shop-orders\nsource: { system: shop, get: /orders, key: record.reference }\n\
         target: { system: out, entity: exported, file: 'order_{{ record.reference }}.json' }\nmapping:\n  Order: record.reference\n",
    )
    .unwrap();
    let connections = std::fs::read_to_string(dir.join("connections.yaml")).unwrap();
    std::fs::write(dir.join("connections.yaml"), format!("{connections}  shop: {{ host: \"http://127.0.0.1:{port}\" }}\n")).unwrap();
}

fn flowmap(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> common::Run {
    common::flowmap_project(dir, args, env)
}

#[test]
fn a_source_failing_at_its_third_page_has_had_the_first_two_delivered_and_journaled() {
    let (port, asked) = source();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), port);
    let connect = flowmap(dir.path(), &["connect", "shop"], &[("FLOWMAP_TOKEN", "t0ken")]);
    assert_eq!(connect.code, 0, "{}{}", connect.stdout, connect.stderr);
    asked.lock().unwrap().clear();

    let run = flowmap(dir.path(), &["run", "mappings/drop/orders.flow.yaml"], &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        untimed(&run.stdout),
        "run 1 of shop-orders: stopped in <t>\n  stopped: fetching shop /orders: {\"message\":\"page out of range\"} (HTTP 400)\n  4 fetched, 4 sent\n  API calls: shop 3; waited 0.0 s on rate limits"
    );
    assert_eq!(*asked.lock().unwrap(), ["/orders?page=1", "/orders?page=2", "/orders?page=3"]);
    let mut written: Vec<String> =
        std::fs::read_dir(dir.path().join("share/out")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    written.sort();
    assert_eq!(written, ["order_R1.json", "order_R2.json", "order_R3.json", "order_R4.json"]);
    let show = flowmap(dir.path(), &["show", "shop-orders", "R3"], &[]);
    assert!(show.stdout.starts_with("shop-orders R3: sent after 1 delivery attempt(s), target id order_R3.json#1\n"), "{}", show.stdout);
}
