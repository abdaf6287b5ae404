//! X12 over SFTP end to end (issue 11), against a real OpenSSH sshd on loopback
//! (tests/common/sshd.rs): JSON purchase orders from a local share become 850
//! files on the server, written whole under their names, numbered from the
//! state file; an 855 file on the server becomes JSON acknowledgements, and is
//! archived once its records are journaled. The dry-run shows the same bytes.

mod common;
#[path = "common/sshd.rs"]
mod sshd;

use std::path::{Path, PathBuf};

use common::live::copy_dir;
use common::{Run, repo_root};
use sshd::Sshd;

const TO_850: &str = "mappings/edi-demo/purchase-orders-to-850.flow.yaml";
const FROM_855: &str = "mappings/edi-demo/855-to-acknowledgements.flow.yaml";

/// The repository's mappings and schemas, with TrueCommerce's folders on the test server and
/// a connections file for it (pinned host key, key login) and for the export share.
fn project(sshd: &Sshd) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    copy_dir(&repo_root().join("mappings"), &root.join("mappings"));
    copy_dir(&repo_root().join("schemas"), &root.join("schemas"));
    let system = root.join("mappings/systems/truecommerce.yaml");
    let yaml = std::fs::read_to_string(&system).unwrap().replace("/IntegrationFTP/", &format!("{}/", sshd.remote("tc")));
    std::fs::write(&system, yaml).unwrap();
    sshd.make_folder("tc/Export/Acme");
    sshd.make_folder("tc/Import/Acme");
    std::fs::write(root.join("key"), &sshd.user_key).unwrap();
    std::fs::write(
        root.join("connections.yaml"),
        format!(
            "connections:\n  truecommerce:\n    sftp: {{ host: 127.0.0.1, port: {}, user: {}, host_key: \"{}\", retries: 0 }}\n\
             \x20   x12: {{ sender_qualifier: ZZ, sender_id: ACMEMFG, receiver_qualifier: ZZ, receiver_id: TRUECOMMERCE, usage: T, line_break: true }}\n\
             \x20 exports:\n    folder: share\n",
            sshd.port, sshd.user, sshd.host_fingerprint
        ),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("share/purchase-orders")).unwrap();
    std::fs::create_dir_all(root.join("share/acknowledgements")).unwrap();
    (dir, root)
}

fn flowmap(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    common::flowmap_project(root, args, env)
}

/// The text with the moment of writing (ISA09/10, GS04/05) and the control numbers (ISA13,
/// GS06, GE02, IEA02) masked: they are the only bytes a dry-run cannot know.
fn masked(x12: &str) -> String {
    x12.lines()
        .map(|l| {
            let mut e: Vec<String> = l.split('*').map(str::to_string).collect();
            let mask = |e: &mut Vec<String>, i: usize| {
                if let Some(v) = e.get_mut(i) {
                    *v = "#".repeat(v.trim_end_matches('~').len()) + if v.ends_with('~') { "~" } else { "" };
                }
            };
            match e[0].as_str() {
                "ISA" => [9, 10, 13].iter().for_each(|&i| mask(&mut e, i)),
                "GS" => [4, 5, 6].iter().for_each(|&i| mask(&mut e, i)),
                "GE" | "IEA" => mask(&mut e, 2),
                _ => {}
            }
            e.join("*")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn control_of(x12: &str) -> &str {
    x12.get(90..99).unwrap_or_default()
}

#[test]
fn json_purchase_orders_become_850_files_on_the_server_as_the_dry_run_shows_them() {
    let sshd = Sshd::start();
    let (_dir, root) = project(&sshd);
    std::fs::copy(repo_root().join("fixtures/exports/purchase_orders.json"), root.join("share/purchase-orders/export-1.json")).unwrap();
    let connect = flowmap(&root, &["connect", "truecommerce"], &[("FLOWMAP_PRIVATE_KEY_FILE", "key")]);
    assert_eq!(connect.code, 0, "{}{}", connect.stdout, connect.stderr);
    assert_eq!(connect.stdout, format!("connected `truecommerce` (TrueCommerce); {} holds 0 file(s)\n", sshd.remote("tc/Export/Acme")));
    // The key is stored sealed (names only are shown), and the check logs in and lists the inbox.
    let check = flowmap(&root, &["connections", "--check"], &[]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let inbox = sshd.remote("tc/Export/Acme");
    assert!(
        check.stdout.starts_with(&format!("truecommerce: private_key; ok (sftp://{}@127.0.0.1:{}{inbox})\n", sshd.user, sshd.port)),
        "{}",
        check.stdout
    );

    let dry = flowmap(&root, &["dry-run", TO_850, "--input", "share/purchase-orders/export-1.json", "--format", "json"], &[]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let shown = common::dry_run_files(&dry.stdout);
    assert_eq!(shown.iter().map(|(n, _)| n.rsplit('/').next().unwrap()).collect::<Vec<_>>(), ["PO_PO-7001.x12", "PO_PO-7002.x12"]);

    let run = flowmap(&root, &["run", TO_850], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("3 fetched, 2 sent, 1 blocked"), "{}", run.stdout);
    let outbox = sshd.data().join("tc/Import/Acme");
    let mut names: Vec<String> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    // Whole files under their names; no temporary name left behind.
    assert_eq!(names, ["PO_PO-7001.x12", "PO_PO-7002.x12"]);
    let mut controls = Vec::new();
    for (name, content) in &shown {
        let written = std::fs::read_to_string(outbox.join(name.rsplit('/').next().unwrap())).unwrap();
        assert_eq!(masked(&written), masked(content), "{name}");
        controls.push(control_of(&written).to_string());
    }
    // Each interchange has its own control number, from the state file.
    assert_eq!(controls, ["000000001", "000000002"]);
    // The export is archived once its records are journaled; a second run finds nothing.
    assert!(root.join("share/purchase-orders/done/export-1.json").is_file());
    let again = flowmap(&root, &["run", TO_850], &[]);
    assert!(again.stdout.contains("  no records\n"), "{}", again.stdout);
}

#[test]
fn an_855_file_on_the_server_becomes_json_acknowledgements_and_is_archived_after() {
    let sshd = Sshd::start();
    let (_dir, root) = project(&sshd);
    sshd.make_file("tc/Export/Acme/NORDFAST_855_4101.x12", &std::fs::read(repo_root().join("fixtures/truecommerce/855.x12")).unwrap());
    let connect = flowmap(&root, &["connect", "truecommerce"], &[("FLOWMAP_PRIVATE_KEY_FILE", "key")]);
    assert_eq!(connect.code, 0, "{}{}", connect.stdout, connect.stderr);
    let dry = flowmap(&root, &["dry-run", FROM_855, "--input", &repo_root().join("fixtures/truecommerce/855.x12").display().to_string()], &[]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);

    let run = flowmap(&root, &["run", FROM_855], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 fetched, 1 sent"), "{}", run.stdout);
    let written = std::fs::read_to_string(root.join("share/acknowledgements/ACK_PO-7001_000004101.json")).unwrap();
    let ack: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(ack["po"], "PO-7001");
    assert_eq!(ack["lines"][1]["status"], "IB,IA");
    // What the dry-run showed is what was written.
    assert!(dry.stdout.contains(&written.lines().map(|l| format!("    {l}\n")).collect::<String>()), "{}", dry.stdout);
    // Archived on the server after its records were journaled; never taken twice.
    assert!(sshd.data().join("tc/Export/Acme/processed/NORDFAST_855_4101.x12").is_file());
    assert!(!sshd.data().join("tc/Export/Acme/NORDFAST_855_4101.x12").exists());
    sshd.make_file("tc/Export/Acme/NORDFAST_855_4101-again.x12", &std::fs::read(repo_root().join("fixtures/truecommerce/855.x12")).unwrap());
    let again = flowmap(&root, &["run", FROM_855], &[]);
    assert!(again.stdout.contains("  no records\n"), "{}", again.stdout);
    assert!(sshd.data().join("tc/Export/Acme/processed/NORDFAST_855_4101-again.x12").is_file());
}

/// An X12 target without the connection's envelope is the configuration's mistake: the
/// dry-run stops at the first record, as a live run does, and blocks no record for it.
#[test]
fn an_x12_target_without_its_envelope_stops_the_run_and_blocks_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let connections = dir.path().join("connections.yaml");
    std::fs::write(&connections, "connections:\n  truecommerce:\n    sftp: { host: 127.0.0.1, user: acme }\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowmap"))
        .args(["--color", "never", "dry-run", TO_850])
        .current_dir(repo_root())
        .env("FLOWMAP_CONNECTIONS", &connections)
        .output()
        .unwrap();
    let run = common::run_of(out);
    assert_eq!(run.code, 1);
    assert!(run.stdout.ends_with("✘ stopped at record PO-7001 (#1): a mistake in the flow, not in the record\n"), "{}", run.stdout);
    assert_eq!(
        run.stderr,
        "error: configuration error: an X12 file needs the connection's `x12:` envelope (sender and receiver ids and qualifiers, usage)\n \
         = help: a mistake in the flow, not in the record: no record is reported blocked for it, and a live run stops here and writes nothing back\n\n"
    );
}

/// Grouped over SFTP (`target.group`, tests/grouped_files.rs for the folder transport): one
/// interchange per supplier; a file in doubt is looked for on the server and, once the file in
/// its way is gone, uploaded again with the very bytes journaled (the same ISA13).
#[test]
fn grouped_purchase_orders_become_one_interchange_per_supplier_and_a_file_in_doubt_is_resent_unchanged() {
    let sshd = Sshd::start();
    let (_dir, root) = project(&sshd);
    std::fs::copy(repo_root().join("tests/grouped-files/grouped-850.flow.yaml"), root.join("mappings/edi-demo/grouped-850.flow.yaml")).unwrap();
    std::fs::copy(repo_root().join("tests/grouped-files/export.json"), root.join("share/purchase-orders/export.json")).unwrap();
    let connect = flowmap(&root, &["connect", "truecommerce"], &[("FLOWMAP_PRIVATE_KEY_FILE", "key")]);
    assert_eq!(connect.code, 0, "{}{}", connect.stdout, connect.stderr);
    sshd.make_file("tc/Import/Acme/PO_NORDFAST_1.x12", b"theirs\n");
    let flow = "mappings/edi-demo/grouped-850.flow.yaml";

    let first = flowmap(&root, &["run", flow], &[]);
    assert!(first.stdout.contains("6 fetched, 2 sent, 1 blocked, 3 unknown"), "{}{}", first.stdout, first.stderr);
    let outbox = sshd.data().join("tc/Import/Acme");
    assert_eq!(std::fs::read_to_string(outbox.join("PO_NORDFAST_1.x12")).unwrap(), "theirs\n");
    let second = flowmap(&root, &["run", flow], &[]);
    assert!(second.stdout.contains("in the outbox holds other bytes than were sent"), "{}", second.stdout);

    std::fs::remove_file(outbox.join("PO_NORDFAST_1.x12")).unwrap();
    let third = flowmap(&root, &["run", flow], &[]);
    assert_eq!(third.code, 0, "{}{}", third.stdout, third.stderr);
    assert!(third.stdout.contains("  3 sent\n"), "{}", third.stdout);
    let mut names: Vec<String> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["PO_ACMEBOLT_2.x12", "PO_NORDFAST_1.x12"]);
    let nordfast = std::fs::read_to_string(outbox.join("PO_NORDFAST_1.x12")).unwrap();
    assert_eq!(control_of(&nordfast), "000000001");
    assert_eq!(nordfast.lines().filter(|l| l.starts_with("ST*850*")).collect::<Vec<_>>(), ["ST*850*0001~", "ST*850*0002~", "ST*850*0003~"]);
    let fourth = flowmap(&root, &["run", flow], &[]);
    assert!(fourth.stdout.contains("  no records\n"), "{}", fourth.stdout);
}
