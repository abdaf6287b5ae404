//! The JSON Schemas in schemas/ are generated from the Rust types; a stale
//! checked-in copy fails here (run `flowmap schema` to refresh it).

mod common;

use common::{flowmap, repo_root};

#[test]
fn checked_in_schemas_are_current() {
    let run = flowmap(&["schema", "--check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn every_shipped_flow_names_its_schema_for_editors() {
    let mut missing = Vec::new();
    let mut stack = vec![repo_root().join("mappings")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".flow.yaml") || name.ends_with(".test.yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                // A flow that extends another restates only what it changes: its schema requires nothing.
                let wanted = if name.ends_with(".test.yaml") {
                    "flow-test.schema.json"
                } else if text.lines().any(|l| l.starts_with("extends:")) {
                    "flow-override.schema.json"
                } else {
                    "flow.schema.json"
                };
                let first = text.lines().next().unwrap_or_default();
                if !(first.starts_with("# yaml-language-server: $schema=") && first.ends_with(wanted)) {
                    missing.push(name);
                }
            }
        }
    }
    assert!(missing.is_empty(), "without the right `# yaml-language-server: $schema=` first line: {missing:?}");
}

#[test]
fn check_passes_on_every_shipped_flow() {
    let run = flowmap(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // The send modes sit beside the flow they adapt, so the set has flows with one
    // target (tests/check.rs has their text), and the flows that pick a warehouse write a
    // field only some Exact editions have (tests/catalogue.rs): 3 warnings, one for each
    // place that writes it, however many flows extend that file (three flows share
    // lnb-exact/orders.flow.yaml's WarehouseID, two qbo-exact/orders.flow.yaml's).
    // These are the only warnings.
    assert!(run.stdout.ends_with("0 errors, 5 warnings\n"), "{}", run.stdout);
    let warnings: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("warning: ")).collect();
    let edition = |w: &&&str| w.contains("exists only in some editions: Wholesale & Distribution, Manufacturing");
    assert_eq!(warnings.iter().filter(edition).count(), 3, "{}", run.stdout);
    assert!(warnings.iter().all(|w| edition(&w) || w.contains("can deliver the same records to one target")), "{}", run.stdout);
}

#[test]
fn check_json_gives_positions_for_editors() {
    let run = flowmap(&["check", "tests/broken/unknown-references.flow.yaml", "--format", "json"]);
    assert_eq!(run.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let first = &doc["diagnostics"][0];
    assert_eq!(first["file"], "tests/broken/unknown-references.flow.yaml");
    assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(2), Some(19)));
    assert_eq!(first["message"], "unknown system `lnbb`");
    assert_eq!(first["label"], "did you mean `lnb`?");
    assert_eq!(doc["errors"], 5);
}

/// The checked-in flow schema (what editors validate against) requires what a
/// flow standing alone must have; an override's schema requires nothing.
#[test]
fn a_flow_without_target_is_refused_by_the_flow_schema() {
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("schemas").join(name)).unwrap()).unwrap()
    };
    let flow = serde_json::json!({
        "flow": "no-target",
        "source": { "system": "lnb", "get": "/orders", "as": "order", "key": "order.reference" },
        "mapping": { "YourRef": "order.reference" }
    });
    let standalone = jsonschema::validator_for(&read("flow.schema.json")).unwrap();
    let errors: Vec<String> = standalone.iter_errors(&flow).map(|e| e.to_string()).collect();
    assert_eq!(errors, vec!["\"target\" is a required property".to_string()]);
    let override_schema = jsonschema::validator_for(&read("flow-override.schema.json")).unwrap();
    assert!(override_schema.is_valid(&serde_json::json!({ "extends": "orders.flow.yaml", "flow": "acme" })));
}

/// `check` refuses it the same way, at the top of the file.
#[test]
fn check_refuses_a_flow_without_target() {
    let run = flowmap(&["check", "tests/broken/no-target.flow.yaml"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "error: missing `target` in the file
 --> tests/broken/no-target.flow.yaml:2:1
  |
2 | flow: no-target
  | ^^^^^^^^^^^^^^^

checked 1 flow: 1 error, 0 warnings
"
    );
}
