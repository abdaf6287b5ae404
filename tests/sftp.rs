//! The SFTP file store against a real OpenSSH sshd on loopback (tests/common/sshd.rs):
//! uploads that are never seen half-written, a pinned host key, password and key
//! login, download/archive/remove, a large folder listed in pages, retries.

#[path = "common/sshd.rs"]
mod sshd;

use std::sync::Arc;
use std::time::{Duration, Instant};

use flowmap::transport::files::{FileFailure, FileStore, RemoteFile};
use flowmap::transport::sftp::{SftpCredentials, SftpSettings, SftpStore};
use pretty_assertions::assert_eq;
use sshd::{RSA_PASSPHRASE, Sshd};

/// Settings as the connection's YAML gives them (through serde, as the loader will).
fn settings(sshd: &Sshd, extra: serde_json::Value) -> SftpSettings {
    let mut yaml = serde_json::json!({
        "host": "127.0.0.1",
        "port": sshd.port,
        "user": sshd.user,
        "host_key": sshd.host_fingerprint,
        "connect_timeout_seconds": 5,
        "request_timeout_seconds": 5,
        "retries": 0,
    });
    for (k, v) in extra.as_object().unwrap() {
        yaml[k] = v.clone();
    }
    serde_json::from_value(yaml).unwrap()
}

fn key(sshd: &Sshd) -> SftpCredentials {
    SftpCredentials::PrivateKey { pem: sshd.user_key.clone(), passphrase: None }
}

fn store(sshd: &Sshd) -> SftpStore {
    SftpStore::new(settings(sshd, serde_json::json!({})), key(sshd))
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[tokio::test]
async fn an_upload_appears_whole_under_its_name_and_its_temp_name_is_gone() {
    let sshd = Sshd::start();
    let out = sshd.make_folder("out");
    // What an earlier, interrupted upload of the same name left.
    sshd.make_file("out/.850_1.x12.part", b"half of an old upl");
    let store = store(&sshd);
    let bytes = payload(3 * 1024 * 1024 + 17);

    store.put(&sshd.remote("out"), "850_1.x12", &bytes).await.unwrap();

    assert_eq!(names_in(&out), ["850_1.x12"]);
    assert!(std::fs::read(out.join("850_1.x12")).unwrap() == bytes, "the file arrived whole");

    // A partner's file (or our own earlier one) is never overwritten.
    let again = store.put(&sshd.remote("out"), "850_1.x12", b"other").await.unwrap_err();
    assert_eq!(again.kind, FileFailure::Refused);
    assert_eq!(
        again.message,
        format!(
            "SFTP 127.0.0.1:{}: uploading {}: a file of that name exists already (files are never overwritten)",
            sshd.port,
            sshd.remote("out/850_1.x12")
        )
    );
    assert_eq!(names_in(&out), ["850_1.x12"]);
    assert!(std::fs::read(out.join("850_1.x12")).unwrap() == bytes);
}

#[tokio::test]
async fn a_connection_dropped_mid_upload_leaves_nothing_under_the_final_name() {
    let sshd = Sshd::start();
    let out = sshd.make_folder("out");
    let store = Arc::new(store(&sshd));
    let folder = sshd.remote("out");
    let big = b"ISA*00*big file~\n".repeat(4 * 1024 * 1024); // 64 MiB

    let upload = {
        let (store, folder) = (store.clone(), folder.clone());
        tokio::spawn(async move { store.put(&folder, "big.x12", &big).await })
    };
    // Wait until the upload is under way on the server, then drop the connection under it.
    let temp = out.join(".big.x12.part");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&temp).map(|m| m.len()).unwrap_or(0) < 1024 * 1024 {
        assert!(!upload.is_finished(), "the upload ended before it could be interrupted: {:?}", upload.await);
        assert!(Instant::now() < deadline, "the upload never started");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sshd.drop_connections();

    let error = upload.await.unwrap().unwrap_err();
    assert_eq!(error.kind, FileFailure::Unavailable, "{error}");
    assert_eq!(error.message, format!("SFTP 127.0.0.1:{}: uploading {folder}/big.x12: the connection was lost", sshd.port));
    assert!(!out.join("big.x12").exists(), "nothing under the final name");
    assert!(names_in(&out).iter().all(|n| n == ".big.x12.part"), "{:?}", names_in(&out));

    // The next put on the same store connects again and clears the stale temp file.
    store.put(&folder, "big.x12", b"ISA*00*...~").await.unwrap();
    assert_eq!(names_in(&out), ["big.x12"]);
    assert_eq!(std::fs::read(out.join("big.x12")).unwrap(), b"ISA*00*...~");

    // With a retry to spend, the same interruption costs nothing but time: the upload starts
    // over on a new connection and the file arrives whole.
    let patient = Arc::new(SftpStore::new(settings(&sshd, serde_json::json!({"retries": 1, "retry_backoff_seconds": 0.05})), key(&sshd)));
    let big = b"ISA*00*retried~\n".repeat(4 * 1024 * 1024);
    let upload = {
        let (store, folder, big) = (patient.clone(), folder.clone(), big.clone());
        tokio::spawn(async move { store.put(&folder, "again.x12", &big).await })
    };
    let temp = out.join(".again.x12.part");
    while std::fs::metadata(&temp).map(|m| m.len()).unwrap_or(0) < 1024 * 1024 {
        assert!(!upload.is_finished(), "the upload ended before it could be interrupted");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sshd.drop_connections();
    upload.await.unwrap().unwrap();
    assert_eq!(names_in(&out), ["again.x12", "big.x12"]);
    assert!(std::fs::read(out.join("again.x12")).unwrap() == big, "the retried upload is whole");
}

#[tokio::test]
async fn a_host_key_other_than_the_pinned_one_is_refused_naming_the_one_received() {
    let sshd = Sshd::start();
    let pinned = "SHA256:n4hRbqaPYqPnbxD1IZwRwX2YXkWQhFd7bZ9ZFfVtD0M";
    let store = SftpStore::new(settings(&sshd, serde_json::json!({"host_key": pinned, "retries": 3})), key(&sshd));

    let error = store.list(&sshd.remote(""), &mut |_| {}).await.unwrap_err();
    assert_eq!(error.kind, FileFailure::HostKey);
    assert_eq!(
        error.message,
        format!(
            "SFTP 127.0.0.1:{}: the server presented host key {}, but the connection pins {pinned}: nothing was sent. \
             If the server's key was changed on purpose, put the new fingerprint in `host_key`",
            sshd.port, sshd.host_fingerprint
        )
    );

    // No pin at all is no exception: refused, with the fingerprint to check and paste.
    let mut unpinned = settings(&sshd, serde_json::json!({}));
    unpinned.host_key = None;
    let error = SftpStore::new(unpinned, key(&sshd)).connect().await.unwrap_err();
    assert_eq!(error.kind, FileFailure::HostKey);
    assert_eq!(
        error.message,
        format!(
            "SFTP 127.0.0.1:{}: the server presented host key {fp}, and the connection pins none: nothing was sent. \
             Confirm the fingerprint with the server's operator, then set `host_key: {fp}`",
            sshd.port,
            fp = sshd.host_fingerprint
        )
    );
    // Not retried, and no login was tried.
    assert_eq!(sshd.logins(), 0);
    assert!(!sshd.log().contains("Failed "), "{}", sshd.log());
}

/// Password login needs sshd running as root (see tests/common/sshd.rs); not root, this
/// test fails saying so instead of passing without having checked anything.
#[tokio::test]
async fn password_login_and_a_wrong_password() {
    let sshd = Sshd::start();
    let good = SftpStore::new(settings(&sshd, serde_json::json!({})), SftpCredentials::Password(sshd.password()));
    good.connect().await.unwrap();
    assert!(sshd.log().contains(&format!("Accepted password for {}", sshd.user)), "{}", sshd.log());

    let wrong = SftpCredentials::Password("not the password".into());
    let error = SftpStore::new(settings(&sshd, serde_json::json!({"retries": 3})), wrong).connect().await.unwrap_err();
    assert_eq!(error.kind, FileFailure::Credentials);
    assert_eq!(
        error.message,
        format!(
            "SFTP 127.0.0.1:{}: the server refused the password for user `{}`: `flowmap connect` can store new credentials",
            sshd.port, sshd.user
        )
    );
    assert_eq!(sshd.log().matches("Failed password").count(), 1, "not retried: {}", sshd.log());
}

#[tokio::test]
async fn key_login_with_ed25519_and_an_encrypted_rsa_key_and_refusals() {
    let sshd = Sshd::start();
    store(&sshd).connect().await.unwrap();
    let rsa = SftpCredentials::PrivateKey { pem: sshd.user_rsa_key.clone(), passphrase: Some(RSA_PASSPHRASE.into()) };
    SftpStore::new(settings(&sshd, serde_json::json!({})), rsa).connect().await.unwrap();
    assert_eq!(sshd.log().matches("Accepted publickey").count(), 2, "{}", sshd.log());
    // The RSA login proves SHA-2 signatures: OpenSSH has refused ssh-rsa (SHA-1) by default since 8.8.

    let stranger = SftpCredentials::PrivateKey { pem: sshd.stranger_key.clone(), passphrase: None };
    let error = SftpStore::new(settings(&sshd, serde_json::json!({})), stranger).connect().await.unwrap_err();
    assert_eq!(error.kind, FileFailure::Credentials);
    assert_eq!(
        error.message,
        format!(
            "SFTP 127.0.0.1:{}: the server refused the private key for user `{}`: `flowmap connect` can store new credentials",
            sshd.port, sshd.user
        )
    );

    let locked = SftpCredentials::PrivateKey { pem: sshd.user_rsa_key.clone(), passphrase: None };
    let error = SftpStore::new(settings(&sshd, serde_json::json!({})), locked).connect().await.unwrap_err();
    assert_eq!(error.kind, FileFailure::Credentials);
    assert_eq!(
        error.message,
        format!("SFTP 127.0.0.1:{}: the private key for user `{}` could not be read: The key is encrypted", sshd.port, sshd.user)
    );
    assert!(!error.message.contains(RSA_PASSPHRASE) && !format!("{error:?}").contains("PRIVATE KEY"));
}

#[tokio::test]
async fn download_then_archive_then_remove() {
    let sshd = Sshd::start();
    sshd.make_folder("in");
    let body = payload(700 * 1024 + 3);
    sshd.make_file("in/855_1.x12", &body);
    sshd.make_file("in/855_2.x12", b"ISA*second~");
    let store = store(&sshd);

    let mut downloaded = Vec::new();
    let n = store.read(&sshd.remote("in/855_1.x12"), &mut downloaded).await.unwrap();
    assert_eq!(n, body.len() as u64);
    assert!(downloaded == body, "the bytes arrive unchanged");

    // The archive folder is made (with its parents) on first use.
    let archive = sshd.remote("in/archive/2026-12");
    store.archive(&sshd.remote("in/855_1.x12"), &archive).await.unwrap();
    assert_eq!(names_in(&sshd.data().join("in")), ["855_2.x12", "archive"]);
    assert!(std::fs::read(sshd.data().join("in/archive/2026-12/855_1.x12")).unwrap() == body);

    // A file of the same name in the archive is never replaced: refused, nothing moves.
    sshd.make_file("in/855_1.x12", b"ISA*same name, other content~");
    let error = store.archive(&sshd.remote("in/855_1.x12"), &archive).await.unwrap_err();
    assert_eq!(error.kind, FileFailure::Refused);
    assert_eq!(
        error.message,
        format!("SFTP 127.0.0.1:{}: archiving {}/855_1.x12: a file of that name exists already (files are never overwritten)", sshd.port, archive)
    );
    assert!(sshd.data().join("in/855_1.x12").exists());

    store.remove(&sshd.remote("in/855_2.x12")).await.unwrap();
    assert_eq!(names_in(&sshd.data().join("in")), ["855_1.x12", "archive"]);
    let error = store.remove(&sshd.remote("in/855_2.x12")).await.unwrap_err();
    assert_eq!(error.kind, FileFailure::NotFound);
    let error = store.read(&sshd.remote("in/855_2.x12"), &mut Vec::new()).await.unwrap_err();
    assert_eq!(error.kind, FileFailure::NotFound);
    assert_eq!(error.message, format!("SFTP 127.0.0.1:{}: reading {}: no such file or folder", sshd.port, sshd.remote("in/855_2.x12")));
}

#[tokio::test]
async fn a_folder_of_1000_files_is_listed_completely_in_pages() {
    let sshd = Sshd::start();
    let inbox = sshd.make_folder("in");
    for i in 0..1000 {
        std::fs::write(inbox.join(format!("850_{i:04}.x12")), format!("file {i}")).unwrap();
    }
    // Not files to process: a folder and an upload in progress.
    std::fs::create_dir(inbox.join("archive")).unwrap();
    std::fs::write(inbox.join(".850_9999.x12.part"), "half").unwrap();
    let store = store(&sshd);

    let mut page_sizes = Vec::new();
    let mut names = Vec::new();
    let pages = store
        .list_pages(&sshd.remote("in"), &mut |page: Vec<RemoteFile>| {
            page_sizes.push(page.len());
            names.extend(page.into_iter().map(|f| f.name));
        })
        .await
        .unwrap();
    assert!(pages > 1 && page_sizes.len() == pages, "{pages} pages: {page_sizes:?}");
    assert!(page_sizes.iter().all(|&n| n <= 100), "OpenSSH sends at most 100 names a batch: {page_sizes:?}");
    names.sort();
    let expected: Vec<String> = (0..1000).map(|i| format!("850_{i:04}.x12")).collect();
    assert_eq!(names, expected);

    // Through the port: the same 1,000 files, with their sizes.
    let mut files = Vec::new();
    store.list(&sshd.remote("in"), &mut |f| files.push(f)).await.unwrap();
    assert_eq!(files.len(), 1000);
    let first = files.iter().find(|f| f.name == "850_0007.x12").unwrap();
    assert_eq!(first.size, "file 7".len() as u64);
}

#[tokio::test]
async fn one_connection_serves_a_run_and_a_dropped_one_is_replaced() {
    let sshd = Sshd::start();
    sshd.make_folder("out");
    let store = store(&sshd);
    for i in 0..5 {
        store.put(&sshd.remote("out"), &format!("{i}.csv"), b"a,b\n").await.unwrap();
    }
    store.list(&sshd.remote("out"), &mut |_| {}).await.unwrap();
    assert_eq!(sshd.logins(), 1, "one login for six calls");

    // The server drops it between calls (a restart, an idle timeout): the next call logs in again.
    sshd.drop_connections();
    let mut count = 0;
    store.list(&sshd.remote("out"), &mut |_| count += 1).await.unwrap();
    assert_eq!(count, 5);
    assert_eq!(sshd.logins(), 2);
}

#[tokio::test]
async fn a_server_that_is_not_up_is_unavailable_after_the_configured_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let settings: SftpSettings = serde_json::from_value(serde_json::json!({
        "host": "127.0.0.1", "port": port, "user": "nobody",
        "host_key": "SHA256:n4hRbqaPYqPnbxD1IZwRwX2YXkWQhFd7bZ9ZFfVtD0M",
        "retries": 2, "retry_backoff_seconds": 0.1,
    }))
    .unwrap();
    let store = SftpStore::new(settings, SftpCredentials::Password("x".into()));

    let started = Instant::now();
    let error = store.put("/out", "a.x12", b"x").await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.kind, FileFailure::Unavailable);
    assert_eq!(error.message, format!("SFTP 127.0.0.1:{port}: could not connect: Connection refused (os error 111) (gave up after 2 retries)"));
    // Two pauses, 0.1 s then 0.2 s.
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts connections and says nothing: no SSH banner ever comes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(2).collect();
        std::thread::sleep(Duration::from_secs(10));
        drop(held);
    });
    let settings: SftpSettings = serde_json::from_value(serde_json::json!({
        "host": "127.0.0.1", "port": port, "user": "nobody",
        "host_key": "SHA256:n4hRbqaPYqPnbxD1IZwRwX2YXkWQhFd7bZ9ZFfVtD0M",
        "connect_timeout_seconds": 0.3, "retries": 1, "retry_backoff_seconds": 0.05,
    }))
    .unwrap();
    let store = SftpStore::new(settings, SftpCredentials::Password("x".into()));

    let started = Instant::now();
    let error = store.list("/in", &mut |_| {}).await.unwrap_err();
    assert_eq!(error.kind, FileFailure::Unavailable);
    assert_eq!(error.message, format!("SFTP 127.0.0.1:{port}: could not connect: no answer within 0.3s (gave up after 1 retry)"));
    assert!(started.elapsed() >= Duration::from_millis(650), "{:?}", started.elapsed());
}

/// A writer shared with the test, which watches the download grow.
#[derive(Clone, Default)]
struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_download_whose_connection_drops_midway_resumes_after_the_bytes_received() {
    let sshd = Sshd::start();
    sshd.make_folder("in");
    let body = payload(48 * 1024 * 1024 + 5);
    sshd.make_file("in/810_big.x12", &body);
    let store = Arc::new(SftpStore::new(settings(&sshd, serde_json::json!({"retries": 1, "retry_backoff_seconds": 0.05})), key(&sshd)));
    let received = Shared::default();
    let download = {
        let (store, path, mut into) = (store.clone(), sshd.remote("in/810_big.x12"), received.clone());
        tokio::spawn(async move { store.read(&path, &mut into).await })
    };
    // Bytes were handed on already when the connection goes: they cannot be taken back, so the
    // retry must go on from there (before, the read gave up with "the connection was lost").
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.0.lock().unwrap().len() < 1024 * 1024 {
        assert!(!download.is_finished(), "the download ended before it could be interrupted");
        assert!(Instant::now() < deadline, "the download never started");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    sshd.drop_connections();
    let n = download.await.unwrap().unwrap();
    assert_eq!(n, body.len() as u64);
    assert!(*received.0.lock().unwrap() == body, "every byte once, in order");
    assert_eq!(sshd.logins(), 2);
}

#[tokio::test]
async fn a_listing_whose_connection_drops_after_a_page_is_listed_again_each_name_handed_on_once() {
    let sshd = Sshd::start();
    let inbox = sshd.make_folder("in");
    for i in 0..450 {
        std::fs::write(inbox.join(format!("810_{i:04}.x12")), "x").unwrap();
    }
    let store = SftpStore::new(settings(&sshd, serde_json::json!({"retries": 1, "retry_backoff_seconds": 0.05})), key(&sshd));
    let mut names = Vec::new();
    let mut dropped = false;
    store
        .list(&sshd.remote("in"), &mut |f: RemoteFile| {
            // The first name is handed on: now the connection goes (before, the listing gave up).
            if !dropped {
                dropped = true;
                sshd.drop_connections();
            }
            names.push(f.name);
        })
        .await
        .unwrap();
    assert_eq!(names.len(), 450, "each name once");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 450);
    assert_eq!(sshd.logins(), 2);
}
