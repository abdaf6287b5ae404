//! What file transports keep in the state file: the files a flow took in
//! (known by content, never processed twice), X12 control numbers (durable
//! before use, never reused), interchanges received (processed once).

use flowmap_state::{ControlKind, Disposal, FileBegin, FileStatus, InterchangeReceipt, MAX_CONTROL, State};
use pretty_assertions::assert_eq;
use rusqlite::Connection;

fn digest(byte: u8) -> [u8; 32] {
    [byte; 32]
}

#[test]
fn a_file_is_new_then_done_and_its_content_is_never_processed_twice_under_any_name() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let run = state.start_run("po-in", "v1", "run", "command").unwrap();

    let FileBegin::New { id } = state.begin_file("po-in", "850_1.x12", 1200, &digest(1), run).unwrap() else { panic!("not new") };
    state.finish_file(id, 3).unwrap();
    state.dispose_file(id, &Disposal::Archived { folder: "/archive".into() }).unwrap();

    // Seen again (its archiving failed), and the same bytes under another name.
    let next = state.start_run("po-in", "v1", "run", "command").unwrap();
    assert_eq!(state.begin_file("po-in", "850_1.x12", 1200, &digest(1), next).unwrap(), FileBegin::Done { id, name: "850_1.x12".into() });
    assert_eq!(state.begin_file("po-in", "850_1-copy.x12", 1200, &digest(1), next).unwrap(), FileBegin::Done { id, name: "850_1.x12".into() });
    // Another flow taking the same content is its own business.
    assert!(matches!(state.begin_file("po-audit", "850_1.x12", 1200, &digest(1), next).unwrap(), FileBegin::New { .. }));
    // The same name with other content is another file.
    assert!(matches!(state.begin_file("po-in", "850_1.x12", 900, &digest(2), next).unwrap(), FileBegin::New { .. }));

    let row = state.file(id).unwrap().unwrap();
    assert_eq!(
        (row.name.as_str(), row.size, row.sha256.as_str(), row.first_run, row.status, row.records, row.disposal),
        (
            "850_1.x12",
            1200,
            "0101010101010101010101010101010101010101010101010101010101010101",
            Some(run),
            FileStatus::Done,
            Some(3),
            Some(Disposal::Archived { folder: "/archive".into() })
        )
    );
    assert!(row.finished_at_ms.is_some() && row.disposed_at_ms.is_some());
}

#[test]
fn a_file_an_earlier_run_did_not_finish_is_taken_up_again_and_only_a_done_file_is_disposed_of() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let first = state.start_run("po-in", "v1", "run", "command").unwrap();
    let FileBegin::New { id } = state.begin_file("po-in", "850_2.x12", 10, &digest(7), first).unwrap() else { panic!("not new") };
    // The same content twice in the run's own listing: the second copy waits.
    assert_eq!(state.begin_file("po-in", "850_2 (1).x12", 10, &digest(7), first).unwrap(), FileBegin::InThisRun { id, name: "850_2.x12".into() });

    let error = state.dispose_file(id, &Disposal::Removed).unwrap_err().to_string();
    assert_eq!(error, format!("{}: cannot dispose of file {id} (850_2.x12): its records are not all journaled (finish it first)", path.display()));
    drop(state);

    // The run died; the next one (another process, the file reopened) takes it up.
    let state = State::open(&path).unwrap();
    let second = state.start_run("po-in", "v1", "run", "command").unwrap();
    assert_eq!(state.begin_file("po-in", "850_2.x12", 10, &digest(7), second).unwrap(), FileBegin::Unfinished { id });
    assert_eq!(state.file(id).unwrap().map(|f| (f.first_run, f.run, f.status)), Some((Some(first), Some(second), FileStatus::Taking)));
    state.finish_file(id, 0).unwrap();
    let error = state.finish_file(id, 0).unwrap_err().to_string();
    assert_eq!(error, format!("{}: cannot finish file {id}: it was finished already", path.display()));
    let error = state.finish_file(999, 0).unwrap_err().to_string();
    assert_eq!(error, format!("{}: cannot finish file 999: there is no such file", path.display()));
    let error = state.dispose_file(999, &Disposal::Removed).unwrap_err().to_string();
    assert_eq!(error, format!("{}: cannot dispose of file 999: there is no such file", path.display()));
    state.dispose_file(id, &Disposal::Removed).unwrap();
    assert_eq!(state.file(id).unwrap().and_then(|f| f.disposal), Some(Disposal::Removed));
}

#[test]
fn the_files_of_a_flow_are_listed_newest_first_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let run = state.start_run("po-in", "v1", "run", "command").unwrap();
    for n in 0..1005u32 {
        let mut sha = [0u8; 32];
        sha[..4].copy_from_slice(&n.to_be_bytes());
        state.begin_file("po-in", &format!("850_{n}.x12"), u64::from(n), &sha, run).unwrap();
    }
    state.begin_file("other", "x.csv", 1, &digest(9), run).unwrap();

    let newest: Vec<String> = state.files("po-in", 3).unwrap().into_iter().map(|f| f.name).collect();
    assert_eq!(newest, vec!["850_1004.x12", "850_1003.x12", "850_1002.x12"]);
    assert_eq!(state.files("po-in", usize::MAX).unwrap().len(), flowmap_state::MAX_FILES_LISTED);
    assert_eq!(state.files("nobody", 10).unwrap(), vec![]);
    let json = serde_json::to_value(&state.files("other", 1).unwrap()[0]).unwrap();
    assert_eq!((json["status"].as_str(), json["disposal"].is_null()), (Some("taking"), true));
}

#[test]
fn control_numbers_increase_per_pair_and_kind_in_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let pair = "ZZ:FLOWMAP ZZ:PARTNER";
    assert_eq!(state.allocate_control(pair, ControlKind::Interchange, 1).unwrap(), 1);
    assert_eq!(state.allocate_control(pair, ControlKind::Interchange, 1).unwrap(), 2);
    assert_eq!(state.allocate_control(pair, ControlKind::Group, 5).unwrap(), 1);
    assert_eq!(state.allocate_control(pair, ControlKind::Group, 1).unwrap(), 6);
    assert_eq!(state.allocate_control("ZZ:FLOWMAP ZZ:OTHER", ControlKind::Interchange, 1).unwrap(), 1);
    assert_eq!(state.allocate_control(pair, ControlKind::Interchange, 1).unwrap(), 3);

    let error = state.allocate_control("", ControlKind::Group, 1).unwrap_err().to_string();
    assert_eq!(error, format!("{}: allocating group control numbers for : the partner pair is empty", path.display()));
    let error = state.allocate_control(pair, ControlKind::Group, 0).unwrap_err().to_string();
    assert_eq!(
        error,
        format!("{}: allocating group control numbers for {pair}: cannot allocate 0 numbers (1 to 999999999 at a time)", path.display())
    );
}

#[test]
fn control_numbers_wrap_to_1_after_999999999_and_a_block_is_never_split() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let pair = "ZZ:FLOWMAP ZZ:PARTNER";
    state.allocate_control(pair, ControlKind::Interchange, 1).unwrap();
    Connection::open(&path).unwrap().execute("UPDATE control_numbers SET last = 999999997", []).unwrap();
    assert_eq!(state.allocate_control(pair, ControlKind::Interchange, 2).unwrap(), 999_999_998);
    assert_eq!(state.allocate_control(pair, ControlKind::Interchange, 1).unwrap(), 1);

    Connection::open(&path).unwrap().execute("UPDATE control_numbers SET last = 999999998", []).unwrap();
    // 999999999 and 1 would not be consecutive: the block starts at 1.
    assert_eq!(state.allocate_control(pair, ControlKind::Interchange, 2).unwrap(), 1);
    assert_eq!(state.allocate_control(pair, ControlKind::Interchange, 1).unwrap(), 3);
    assert_eq!(state.allocate_control(pair, ControlKind::Interchange, MAX_CONTROL).unwrap(), 1);
}

/// The child half of the crash test: allocates, then dies at once (no
/// destructors, no checkpoint), as a killed process does.
#[test]
fn crash_child_allocates_then_aborts() {
    let Ok(path) = std::env::var("FLOWMAP_CRASH_CHILD_STATE") else { return };
    let state = State::open(std::path::Path::new(&path)).unwrap();
    let first = state.allocate_control("ZZ:FLOWMAP ZZ:PARTNER", ControlKind::Interchange, 10).unwrap();
    println!("allocated {first}");
    std::process::abort();
}

#[test]
fn an_allocation_is_on_disk_when_it_returns_even_if_the_process_dies_next() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    assert_eq!(state.allocate_control("ZZ:FLOWMAP ZZ:PARTNER", ControlKind::Interchange, 1).unwrap(), 1);

    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child_allocates_then_aborts", "--nocapture", "--test-threads=1"])
        .env("FLOWMAP_CRASH_CHILD_STATE", &path)
        .output()
        .unwrap();
    assert!(!child.status.success(), "the child aborts");
    assert!(String::from_utf8_lossy(&child.stdout).contains("allocated 2"), "{}", String::from_utf8_lossy(&child.stdout));
    drop(state);

    // Numbers 2..=11 went to the dead process: never given out again.
    let state = State::open(&path).unwrap();
    assert_eq!(state.allocate_control("ZZ:FLOWMAP ZZ:PARTNER", ControlKind::Interchange, 1).unwrap(), 12);
}

#[test]
fn an_interchange_received_twice_is_processed_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let run = state.start_run("po-in", "v1", "run", "command").unwrap();
    let FileBegin::New { id: file } = state.begin_file("po-in", "a.x12", 1, &digest(1), run).unwrap() else { panic!() };
    let FileBegin::New { id: other } = state.begin_file("po-in", "b.x12", 1, &digest(2), run).unwrap() else { panic!() };

    assert_eq!(state.receive_interchange("ZZ:PARTNER", "ZZ:FLOWMAP", "000000905", file).unwrap(), InterchangeReceipt::New);
    // The same file taken up again after a crash: go on with it.
    assert_eq!(state.receive_interchange("ZZ:PARTNER", "ZZ:FLOWMAP", "000000905", file).unwrap(), InterchangeReceipt::SameFile);
    let InterchangeReceipt::Duplicate { file: earlier, .. } = state.receive_interchange("ZZ:PARTNER", "ZZ:FLOWMAP", "000000905", other).unwrap()
    else {
        panic!("not a duplicate")
    };
    assert_eq!(earlier, file);
    // Another control number, sender or receiver is another interchange.
    assert_eq!(state.receive_interchange("ZZ:PARTNER", "ZZ:FLOWMAP", "000000906", other).unwrap(), InterchangeReceipt::New);
    assert_eq!(state.receive_interchange("ZZ:OTHER", "ZZ:FLOWMAP", "000000905", other).unwrap(), InterchangeReceipt::New);
    assert_eq!(state.receive_interchange("ZZ:PARTNER", "ZZ:SECOND", "000000905", other).unwrap(), InterchangeReceipt::New);
}

#[test]
fn a_state_file_of_schema_version_6_gains_the_file_tables_and_keeps_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let run = state.start_run("po-in", "v1", "run", "command").unwrap();
    drop(state);
    // What a version-6 file looks like: everything but the file tables (and what came after them).
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP INDEX records_by_document; ALTER TABLE records DROP COLUMN document; DROP TABLE acknowledgements_received; DROP TABLE watermarks; ALTER TABLE journal DROP COLUMN version; ALTER TABLE records DROP COLUMN sent_version;
             DROP TABLE interchanges_received; DROP TABLE files; DROP TABLE control_numbers; PRAGMA user_version = 6;",
        )
        .unwrap();

    let state = State::open(&path).unwrap();
    let version: i64 = Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, 9);
    assert_eq!(state.run(run).unwrap().map(|r| r.flow), Some("po-in".to_string()));
    assert!(matches!(state.begin_file("po-in", "a.x12", 1, &digest(1), run).unwrap(), FileBegin::New { .. }));
    assert_eq!(state.allocate_control("p", ControlKind::Group, 1).unwrap(), 1);
}
