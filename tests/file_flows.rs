//! Flows whose systems are files (issue 11): a drop folder of CSV lines
//! (`tests/file-flows/`) exported as one JSON file per line, through the
//! folder transport. The same pipeline and ports as HTTP flows: dry-run shows
//! the exact bytes a live run writes; a live run journals each file before
//! its records run, archives it after, and never takes the same content twice.

mod common;

use std::path::{Path, PathBuf};

use common::live::{copy_dir, untimed};
use common::{Run, flowmap_in, flowmap_project, repo_root};

const FLOW: &str = "mappings/drop/lines.flow.yaml";

/// A copy of the project, with its share, in a temporary folder.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    copy_dir(&repo_root().join("tests/file-flows"), &root);
    // The outbox exists, as a share's folders do (a missing one is a mistake in the set-up).
    std::fs::create_dir_all(root.join("share/out")).unwrap();
    (dir, root)
}

fn live(root: &Path, args: &[&str]) -> Run {
    flowmap_project(root, args, &[])
}

/// Every file under the share, relative to it, sorted.
fn files(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join("share"), &root.join("share"), &mut out);
    out.sort();
    out
}

#[test]
fn a_dry_run_of_a_csv_file_shows_the_exact_bytes_each_record_would_be_written_as() {
    let (_dir, root) = project();
    let run = flowmap_in(&root, &["dry-run", FLOW, "--input", "share/in/a.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body = run.stdout.split_once("\n\n").map(|(_, b)| b).unwrap();
    assert_eq!(
        body,
        "\
✔ ready    1001-A-1  PUT out /out/line_1001_A-1.json (50 bytes)
    {
      \"Order\": \"1001\",
      \"Sku\": \"A-1\",
      \"Qty\": 3
    }
✘ unreadable share/in/a.csv:3: column quantity: \"x\" is not a number
✔ ready    1002-C-3  PUT out /out/line_1002_C-3.json (50 bytes)
    {
      \"Order\": \"1002\",
      \"Sku\": \"C-3\",
      \"Qty\": 1
    }

3 records: 2 ready, 0 blocked, 0 skipped, 1 unreadable

API calls a live run would make (3 in all):
  drop LIST /in     fetch source      1  e.g. /in/*.csv
  out PUT exported  deliver           2  e.g. line_1001_A-1.json
"
    );
    // Nothing was touched.
    assert_eq!(files(&root), ["in/a.csv"]);
}

#[test]
fn a_live_run_writes_what_the_dry_run_showed_archives_the_file_and_never_takes_its_content_twice() {
    let (_dir, root) = project();
    let dry = flowmap_in(&root, &["dry-run", FLOW, "--input", "share/in/a.csv", "--format", "json"]);
    let shown = common::dry_run_files(&dry.stdout);
    assert_eq!(shown.len(), 2, "{}", dry.stdout);

    let run = live(&root, &["run", FLOW]);
    assert_eq!(run.code, 1, "a line that cannot be read is a failure: {}{}", run.stdout, run.stderr);
    assert_eq!(
        untimed(&run.stdout),
        "run 1 of drop-lines: completed in <t>\n  3 fetched, 2 sent, 1 failed\n  failed #2\n    - /in/a.csv:3: column quantity: \"x\" is not a number\n  API calls: none; waited 0.0 s on rate limits"
    );
    // The file is archived only after its records are journaled; what was written is what the dry-run showed.
    assert_eq!(files(&root), ["done/a.csv", "out/line_1001_A-1.json", "out/line_1002_C-3.json"]);
    for (name, content) in &shown {
        assert_eq!(&std::fs::read_to_string(root.join("share").join(name.trim_start_matches('/'))).unwrap(), content, "{name}");
    }

    // The same bytes under another name are recognised by their hash: archived, not processed.
    std::fs::copy(root.join("share/done/a.csv"), root.join("share/in/again.csv")).unwrap();
    let again = live(&root, &["run", FLOW]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("  no records\n"), "{}", again.stdout);
    assert_eq!(files(&root), ["done/a.csv", "done/again.csv", "out/line_1001_A-1.json", "out/line_1002_C-3.json"]);
}

#[test]
fn a_file_already_under_the_target_name_is_never_overwritten_and_the_record_is_in_doubt() {
    let (_dir, root) = project();
    std::fs::write(root.join("share/out/line_1001_A-1.json"), "theirs\n").unwrap();
    let run = live(&root, &["run", FLOW]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("3 fetched, 1 sent, 1 failed, 1 unknown"), "{}", run.stdout);
    assert!(run.stdout.contains("a file of that name exists already (a file is never overwritten)"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(root.join("share/out/line_1001_A-1.json")).unwrap(), "theirs\n");
}

#[test]
fn a_file_with_a_line_that_cannot_be_read_is_kept_when_processed_files_are_deleted() {
    let (_dir, root) = project();
    let system = root.join("mappings/systems/drop.yaml");
    let yaml = std::fs::read_to_string(&system).unwrap().replace("processed: { archive: /done }", "processed: delete");
    std::fs::write(&system, yaml).unwrap();
    std::fs::write(root.join("share/in/good.csv"), "order,sku,quantity\n2001,D-4,2\n").unwrap();
    let run = live(&root, &["run", FLOW]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    // good.csv is gone (every line read and sent); a.csv keeps the line no one could read.
    assert_eq!(files(&root), ["in/unreadable/a.csv", "out/line_1001_A-1.json", "out/line_1002_C-3.json", "out/line_2001_D-4.json"]);
}
