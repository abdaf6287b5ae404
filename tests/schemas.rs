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
    // field only some Exact editions have (tests/catalogue.rs): 6 warnings, one for each
    // flow that writes it (three flows share lnb-exact/orders.flow.yaml's WarehouseID,
    // two qbo-exact/orders.flow.yaml's). These are the only warnings.
    assert!(run.stdout.ends_with("0 errors, 8 warnings\n"), "{}", run.stdout);
    let warnings: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("warning: ")).collect();
    let edition = |w: &&&str| w.contains("exists only in some editions: Wholesale & Distribution, Manufacturing");
    assert_eq!(warnings.iter().filter(edition).count(), 6, "{}", run.stdout);
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
