//! Tokens and the token lock that serialises refreshes across threads and processes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use flowmap_state::{JournalEntry, State, TokenLock, TokenSet, Vault};
use pretty_assertions::assert_eq;

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn vault() -> Vault {
    Vault::from_hex(KEY, "FLOWMAP_KEY").unwrap()
}

fn tokens(access: &str, refresh: &str) -> TokenSet {
    TokenSet {
        access_token: access.into(),
        refresh_token: Some(refresh.into()),
        issued_at_ms: 1_700_000_000_000,
        expires_at_ms: 1_700_000_600_000,
        needs_consent: None,
    }
}

#[test]
fn the_token_lock_can_be_held_across_an_await() {
    fn assert_send<T: Send>() {}
    assert_send::<TokenLock>();
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<State>();
}

#[test]
fn stored_tokens_are_read_back_with_and_without_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    assert_eq!(state.tokens(&vault(), "exact").unwrap(), None);
    let lock = state.lock_tokens("exact").unwrap();
    assert_eq!(lock.current(&vault()).unwrap(), None);
    lock.store(&vault(), &tokens("access-1", "refresh-1")).unwrap();
    assert_eq!(state.tokens(&vault(), "exact").unwrap(), Some(tokens("access-1", "refresh-1")));
    assert_eq!(state.lock_tokens("exact").unwrap().current(&vault()).unwrap(), Some(tokens("access-1", "refresh-1")));
    assert_eq!(state.tokens(&vault(), "qbo").unwrap(), None);

    state.forget_tokens("exact").unwrap();
    assert_eq!(state.tokens(&vault(), "exact").unwrap(), None);
}

#[test]
fn dropping_an_unfinished_lock_changes_nothing_and_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    state.lock_tokens("exact").unwrap().store(&vault(), &tokens("access-1", "refresh-1")).unwrap();
    {
        let lock = state.lock_tokens("exact").unwrap();
        assert!(lock.current(&vault()).unwrap().is_some());
        // The refresh request failed: the lock is dropped without storing.
    }
    let started = Instant::now();
    let lock = state.lock_tokens("exact").unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "the dropped lock was not released");
    assert_eq!(lock.current(&vault()).unwrap(), Some(tokens("access-1", "refresh-1")));
}

/// A refresh holds the lock for a network round trip: the journal (of this
/// process, even of this very thread) must not wait for it.
#[test]
fn journal_writes_do_not_wait_for_the_token_lock() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let lock = state.lock_tokens("exact").unwrap();
    let entry =
        JournalEntry { flow: "orders".into(), key: "SO-1".into(), event: "sending".into(), status: Some("sending".into()), ..Default::default() };
    let started = Instant::now();
    state.record(&[entry]).unwrap();
    state.set_setting("exact", "division", "1").unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "waited {:?}", started.elapsed());
    lock.store(&vault(), &tokens("access-1", "refresh-1")).unwrap();
    assert_eq!(state.record_state("orders", "SO-1").unwrap().unwrap().attempts, 1);
}

#[test]
fn forgetting_tokens_waits_for_a_refresh_under_way() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let mut child = spawn_child(&path, "store");
    // The child stores its tokens before it releases the lock; forgetting comes after.
    state.forget_tokens("exact").unwrap();
    assert_eq!(state.tokens(&vault(), "exact").unwrap(), None);
    assert!(child.wait().unwrap().success());
}

#[test]
fn needing_consent_keeps_the_tokens_flagged_until_new_ones_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    state.lock_tokens("exact").unwrap().store(&vault(), &tokens("access-1", "refresh-1")).unwrap();
    state.lock_tokens("exact").unwrap().needs_consent("invalid_grant: refresh token was revoked").unwrap();

    let flagged = state.tokens(&vault(), "exact").unwrap().unwrap();
    assert_eq!(flagged.access_token, "access-1");
    assert_eq!(flagged.needs_consent.as_deref(), Some("invalid_grant: refresh token was revoked"));
    assert_eq!(state.connections().unwrap()[0].needs_consent.as_deref(), Some("invalid_grant: refresh token was revoked"));

    // `flowmap connect` got consent again and stores fresh tokens: the flag goes.
    state.lock_tokens("exact").unwrap().store(&vault(), &tokens("access-2", "refresh-2")).unwrap();
    assert_eq!(state.tokens(&vault(), "exact").unwrap(), Some(tokens("access-2", "refresh-2")));
    assert_eq!(state.connections().unwrap()[0].needs_consent, None);
}

#[test]
fn tokens_under_the_wrong_key_give_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    state.lock_tokens("exact").unwrap().store(&vault(), &tokens("access-1", "refresh-1")).unwrap();
    let other = Vault::from_hex(&KEY.replace("00", "ff"), "elsewhere").unwrap();
    let error = state.tokens(&other, "exact").unwrap_err().to_string();
    assert!(error.contains("cannot decrypt tokens:exact with the key from elsewhere"), "{error}");
    assert!(!error.contains("access-1") && !error.contains("refresh-1"));
}

#[test]
fn debug_output_hides_the_tokens() {
    let shown = format!("{:?}", tokens("access-secret", "refresh-secret"));
    assert!(!shown.contains("access-secret") && !shown.contains("refresh-secret"), "{shown}");
    assert!(shown.contains("<redacted>") && shown.contains("1700000600000"), "{shown}");
}

/// Two `State`s on one file (as two processes would have): while the first
/// holds the token lock, the second waits for it, and then sees the tokens the
/// first stored, so it does not present the refresh token the first used up.
#[test]
fn a_second_refresher_waits_and_then_sees_the_first_ones_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    State::open(&path).unwrap().lock_tokens("exact").unwrap().store(&vault(), &tokens("access-0", "refresh-0")).unwrap();

    let (locked_tx, locked_rx) = mpsc::channel();
    let storing = Arc::new(AtomicBool::new(false));
    // Opened first: each State has its own connection, as a process would.
    let (state_one, state_two) = (State::open(&path).unwrap(), State::open(&path).unwrap());
    let first = {
        let storing = Arc::clone(&storing);
        std::thread::spawn(move || {
            let lock = state_one.lock_tokens("exact").unwrap();
            assert_eq!(lock.current(&vault()).unwrap(), Some(tokens("access-0", "refresh-0")));
            locked_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(500)); // the refresh request
            storing.store(true, Ordering::SeqCst);
            lock.store(&vault(), &tokens("access-1", "refresh-1")).unwrap();
        })
    };
    let second = {
        let storing = Arc::clone(&storing);
        std::thread::spawn(move || {
            locked_rx.recv().unwrap();
            let started = Instant::now();
            let lock = state_two.lock_tokens("exact").unwrap();
            let waited = started.elapsed();
            assert!(storing.load(Ordering::SeqCst), "got the lock while the first refresher still held it");
            assert!(waited >= Duration::from_millis(300), "did not wait: {waited:?}");
            // Inside the lock it reads the rotated tokens: nothing to refresh.
            assert_eq!(lock.current(&vault()).unwrap(), Some(tokens("access-1", "refresh-1")));
        })
    };
    first.join().unwrap();
    second.join().unwrap();
}

/// The environment variable that turns [`child_holds_the_token_lock`] from a
/// no-op into the other process of the cross-process tests.
const CHILD_STATE: &str = "FLOWMAP_STATE_TEST_CHILD_STATE";
const CHILD_ACTION: &str = "FLOWMAP_STATE_TEST_CHILD_ACTION";
/// What the child prints once it holds the lock.
const LOCKED: &str = "child: token lock taken";

/// Run by the tests below as a separate process (this test binary, started
/// again): takes the token lock, says so, then stores tokens or hangs.
#[test]
fn child_holds_the_token_lock() {
    let (Some(path), Some(action)) = (std::env::var_os(CHILD_STATE), std::env::var_os(CHILD_ACTION)) else {
        return;
    };
    let state = State::open(Path::new(&path)).unwrap();
    let lock = state.lock_tokens("exact").unwrap();
    // On a line of its own: the test harness may have started one without a newline.
    println!("\n{LOCKED}");
    std::thread::sleep(Duration::from_millis(500));
    if action == "store" {
        lock.store(&vault(), &tokens("access-child", "refresh-child")).unwrap();
    } else {
        std::thread::sleep(Duration::from_secs(60)); // until killed
    }
}

/// Starts this test binary as a child holding the token lock; returns once it holds it.
fn spawn_child(path: &Path, action: &str) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_holds_the_token_lock", "--nocapture", "--test-threads=1"])
        .env(CHILD_STATE, path)
        .env(CHILD_ACTION, action)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in stdout.by_ref() {
        if line.unwrap() == LOCKED {
            // Keep reading what else it prints, or it would fail writing to a closed pipe.
            std::thread::spawn(move || stdout.for_each(drop));
            return child;
        }
    }
    panic!("the child process ended without taking the lock: {:?}", child.wait());
}

#[test]
fn another_process_holding_the_lock_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    let mut child = spawn_child(&path, "store");
    let started = Instant::now();
    let lock = state.lock_tokens("exact").unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200), "did not wait: {:?}", started.elapsed());
    assert_eq!(lock.current(&vault()).unwrap(), Some(tokens("access-child", "refresh-child")));
    drop(lock);
    assert!(child.wait().unwrap().success());
}

#[test]
fn reading_and_opening_do_not_wait_for_the_token_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    state.lock_tokens("exact").unwrap().store(&vault(), &tokens("access-0", "refresh-0")).unwrap();
    let mut child = spawn_child(&path, "store");
    // `flowmap runs` / `flowmap show` in another process during a refresh.
    // Had they waited for the lock, they would see the child's new tokens.
    let other = State::open(&path).unwrap();
    assert!(other.runs(None, 10).unwrap().is_empty());
    assert_eq!(other.tokens(&vault(), "exact").unwrap(), Some(tokens("access-0", "refresh-0")));
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_process_killed_while_holding_the_lock_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    state.lock_tokens("exact").unwrap().store(&vault(), &tokens("access-0", "refresh-0")).unwrap();
    let mut child = spawn_child(&path, "hang");
    child.kill().unwrap();
    child.wait().unwrap();
    let started = Instant::now();
    let lock = state.lock_tokens("exact").unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "the dead process's lock was not released");
    assert_eq!(lock.current(&vault()).unwrap(), Some(tokens("access-0", "refresh-0")));
}
