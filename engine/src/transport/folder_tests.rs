//! The folder store against real folders: put, read, list, archive, remove;
//! nothing overwritten, nothing outside the root.

use pretty_assertions::assert_eq;

use super::*;

fn store() -> (tempfile::TempDir, FolderStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path().to_path_buf());
    (dir, store)
}

async fn listing(store: &FolderStore, folder: &str) -> Vec<RemoteFile> {
    let mut files = Vec::new();
    store.list(folder, &mut |file| files.push(file)).await.unwrap();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

async fn read(store: &FolderStore, path: &str) -> Result<Vec<u8>, FileError> {
    let mut bytes = Vec::new();
    let count = store.read(path, &mut bytes).await?;
    assert_eq!(count, bytes.len() as u64);
    Ok(bytes)
}

fn file(name: &str, size: u64) -> RemoteFile {
    RemoteFile { name: name.into(), size }
}

#[tokio::test]
async fn put_read_list_archive_remove() {
    let (dir, store) = store();
    fs::create_dir(dir.path().join("out")).unwrap();
    fs::create_dir(dir.path().join("out/sub")).unwrap();
    store.put("/out", "850_1.x12", b"ISA*00~").await.unwrap();
    store.put("/out/", "850_2.x12", b"").await.unwrap();

    assert_eq!(read(&store, "/out/850_1.x12").await.unwrap(), b"ISA*00~");
    // Only files are listed, and no temporary name was left behind.
    assert_eq!(listing(&store, "/out").await, vec![file("850_1.x12", 7), file("850_2.x12", 0)]);
    let on_disk: Vec<String> = fs::read_dir(dir.path().join("out")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(on_disk.len(), 3, "{on_disk:?}");

    store.archive("/out/850_1.x12", "/archive/2026").await.unwrap();
    assert_eq!(listing(&store, "/out").await, vec![file("850_2.x12", 0)]);
    assert_eq!(read(&store, "/archive/2026/850_1.x12").await.unwrap(), b"ISA*00~");

    store.remove("/out/850_2.x12").await.unwrap();
    assert_eq!(listing(&store, "/out").await, vec![]);
    let gone = store.remove("/out/850_2.x12").await.unwrap_err();
    assert_eq!(gone.kind, FileFailure::NotFound);
    assert_eq!(gone.message, format!("{}/out/850_2.x12: cannot remove it: No such file or directory (os error 2)", dir.path().display()));
    let missing = read(&store, "/in/none.x12").await.unwrap_err();
    assert_eq!(missing.kind, FileFailure::NotFound);
}

#[tokio::test]
async fn a_put_onto_an_existing_name_is_refused_and_the_file_kept() {
    let (dir, store) = store();
    fs::write(dir.path().join("850_1.x12"), b"the partner's").unwrap();
    let error = store.put("/", "850_1.x12", b"ours").await.unwrap_err();
    assert_eq!(error.kind, FileFailure::Refused);
    assert_eq!(
        error.message,
        format!("{}/850_1.x12: not written: a file of that name exists already (a file is never overwritten)", dir.path().display())
    );
    assert_eq!(fs::read(dir.path().join("850_1.x12")).unwrap(), b"the partner's");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file is gone");
}

#[tokio::test]
async fn paths_leaving_the_root_are_refused() {
    let (dir, store) = store();
    let root = dir.path().display();
    let error = read(&store, "/in/../../etc/passwd").await.unwrap_err();
    assert_eq!(
        (error.kind, error.message),
        (FileFailure::Refused, format!("{root}: path \"/in/../../etc/passwd\" refused: `..` would lead out of the folder store"))
    );
    let error = store.put("/", "../escape.x12", b"x").await.unwrap_err();
    assert_eq!(error.message, format!("{root}: file name \"../escape.x12\" refused: not a plain file name"));
    let error = store.archive("/a.x12", "/../archive").await.unwrap_err();
    assert_eq!(error.message, format!("{root}: path \"/../archive\" refused: `..` would lead out of the folder store"));
    let mut none = |_: RemoteFile| {};
    assert_eq!(store.list("..", &mut none).await.unwrap_err().kind, FileFailure::Refused);
    assert_eq!(store.remove("/x/../../y").await.unwrap_err().kind, FileFailure::Refused);
}

#[tokio::test]
async fn an_archived_name_taken_already_gets_a_suffix() {
    let (dir, store) = store();
    // Put does not create folders: a folder missing is a mistake in the configuration.
    assert_eq!(store.put("/in", "orders.csv", b"x").await.unwrap_err().kind, FileFailure::NotFound);
    fs::create_dir(dir.path().join("in")).unwrap();
    for round in 1..=3 {
        store.put("/in", "orders.csv", format!("day {round}").as_bytes()).await.unwrap();
        store.archive("/in/orders.csv", "/done").await.unwrap();
    }
    store.put("/in", "README", b"x").await.unwrap();
    store.archive("/in/README", "/done").await.unwrap();
    fs::write(dir.path().join("in/README"), b"y").unwrap();
    store.archive("/in/README", "/done").await.unwrap();
    assert_eq!(
        listing(&store, "/done").await,
        vec![file("README", 1), file("README-2", 1), file("orders-2.csv", 5), file("orders-3.csv", 5), file("orders.csv", 5)]
    );
    assert_eq!(read(&store, "/done/orders-3.csv").await.unwrap(), b"day 3");
    let error = store.archive("/in/orders.csv", "/done").await.unwrap_err();
    assert_eq!(error.kind, FileFailure::NotFound);
}

#[tokio::test]
async fn a_thousand_files_are_listed_and_temporary_names_are_not() {
    let (dir, store) = store();
    for n in 0..1000 {
        fs::write(dir.path().join(format!("855_{n:04}.x12")), b"ISA").unwrap();
    }
    fs::write(dir.path().join(".flowmap-upload-0123456789abcdef.part"), b"half").unwrap();
    let files = listing(&store, "/").await;
    assert_eq!(files.len(), 1000);
    assert_eq!((files[0].clone(), files[999].clone()), (file("855_0000.x12", 3), file("855_0999.x12", 3)));
}

#[test]
fn temporary_names_match_no_document_pattern() {
    let name = temporary_name().unwrap();
    assert!(name.starts_with('.') && name.ends_with(".part") && name.len() == ".flowmap-upload-".len() + 16 + ".part".len(), "{name}");
    assert!(is_temporary(&name));
    assert_eq!(suffixed("850_1.x12", 2), "850_1-2.x12");
    assert_eq!(suffixed(".profile", 3), ".profile-3");
}

#[test]
fn the_move_without_renameat2_never_overwrites_either() {
    let (dir, _) = store();
    let (from, to) = (dir.path().join("a.part"), dir.path().join("a.x12"));
    fs::write(&from, b"new").unwrap();
    fs::write(&to, b"old").unwrap();
    assert_eq!(link_then_remove(&from, &to).unwrap_err().kind(), ErrorKind::AlreadyExists);
    assert_eq!((fs::read(&from).unwrap(), fs::read(&to).unwrap()), (b"new".to_vec(), b"old".to_vec()));
    fs::remove_file(&to).unwrap();
    link_then_remove(&from, &to).unwrap();
    assert_eq!((from.exists(), fs::read(&to).unwrap()), (false, b"new".to_vec()));
}

#[tokio::test]
async fn a_missing_folder_is_not_found() {
    let (dir, store) = store();
    let mut none = |_: RemoteFile| {};
    let error = store.list("/in", &mut none).await.unwrap_err();
    assert_eq!(
        (error.kind, error.message),
        (FileFailure::NotFound, format!("{}/in: cannot list it: No such file or directory (os error 2)", dir.path().display()))
    );
}

/// A delivery in doubt asks whether its file is there: its size, or none.
#[tokio::test]
async fn size_says_whether_a_file_is_there() {
    let (dir, store) = store();
    fs::create_dir(dir.path().join("out")).unwrap();
    store.put("/out", "850_1.x12", b"ISA*00~").await.unwrap();
    assert_eq!(store.size("/out/850_1.x12").await.unwrap(), Some(7));
    assert_eq!(store.size("/out/850_2.x12").await.unwrap(), None);
    assert_eq!(store.size("/out").await.unwrap_err().kind, FileFailure::Refused);
    assert_eq!(store.size("/../x").await.unwrap_err().kind, FileFailure::Refused);
}
