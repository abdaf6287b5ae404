//! Secrets, settings and the overview of connections.

use std::path::Path;

use flowmap_state::{ConnectionRow, State, TokenSet, Vault};
use pretty_assertions::assert_eq;
use rusqlite::Connection;

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OTHER_KEY: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn vault() -> Vault {
    Vault::from_hex(KEY, "FLOWMAP_KEY").unwrap()
}

/// Every byte SQLite keeps for `path`: the database, its WAL and shared memory.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(contents) = std::fs::read(&name) {
            bytes.extend(contents);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[test]
fn secrets_round_trip_and_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    assert_eq!(state.secret(&vault(), "exact", "client_secret").unwrap(), None);
    state.put_secret(&vault(), "exact", "client_secret", "first").unwrap();
    state.put_secret(&vault(), "exact", "client_secret", "second").unwrap();
    assert_eq!(state.secret(&vault(), "exact", "client_secret").unwrap().as_deref(), Some("second"));
    assert_eq!(state.secret(&vault(), "exact", "client_id").unwrap(), None);
}

#[test]
fn secrets_and_tokens_never_appear_in_the_files_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let secret = "CLIENT-SECRET-6f1d0c9e";
    let access = "ACCESS-TOKEN-0b8e5a77";
    let refresh = "REFRESH-TOKEN-93c2d4aa";
    {
        let state = State::open(&path).unwrap();
        state.put_secret(&vault(), "exact", "client_secret", secret).unwrap();
        let tokens =
            TokenSet { access_token: access.into(), refresh_token: Some(refresh.into()), issued_at_ms: 1, expires_at_ms: 2, needs_consent: None };
        state.lock_tokens("exact").unwrap().store(&vault(), &tokens).unwrap();
        // While open, the newest pages live in the WAL: check it as well.
        let bytes = file_bytes(&path);
        assert!(contains(&bytes, "client_secret"), "the check must see what was written (the secret's name)");
        for plaintext in [secret, access, refresh] {
            assert!(!contains(&bytes, plaintext), "{plaintext} is in the state file");
        }
    }
    // After closing (checkpointed into the database file) still nothing.
    let bytes = file_bytes(&path);
    for plaintext in [secret, access, refresh] {
        assert!(!contains(&bytes, plaintext), "{plaintext} is in the state file");
    }
}

#[test]
fn the_wrong_key_gives_an_error_that_names_the_file_and_not_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    state.put_secret(&vault(), "exact", "client_secret", "hunter2").unwrap();
    let other = Vault::from_hex(OTHER_KEY, "/home/ops/.config/flowmap/key").unwrap();
    let error = state.secret(&other, "exact", "client_secret").unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "{}: cannot decrypt secret:exact:client_secret with the key from /home/ops/.config/flowmap/key: \
             the key is not the one it was encrypted with (or the data was changed)",
            path.display()
        )
    );
}

#[test]
fn a_sealed_secret_moved_to_another_place_does_not_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    state.put_secret(&vault(), "exact", "client_secret", "exact-secret").unwrap();
    state.put_secret(&vault(), "qbo", "client_secret", "qbo-secret").unwrap();
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE connection = 'exact') WHERE connection = 'qbo'", [])
        .unwrap();
    let error = state.secret(&vault(), "qbo", "client_secret").unwrap_err().to_string();
    assert!(error.contains("cannot decrypt secret:qbo:client_secret"), "{error}");
}

#[test]
fn names_that_would_make_aads_ambiguous_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    assert!(state.put_secret(&vault(), "a:b", "c", "x").is_err());
    assert!(state.put_secret(&vault(), "a", "b:c", "x").is_err());
    assert!(state.put_secret(&vault(), "", "c", "x").is_err());
    assert!(state.lock_tokens("a:b").is_err());
}

#[test]
fn settings_round_trip_and_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    assert_eq!(state.setting("exact", "division").unwrap(), None);
    state.set_setting("exact", "division", "1").unwrap();
    state.set_setting("exact", "division", "2").unwrap();
    assert_eq!(state.setting("exact", "division").unwrap().as_deref(), Some("2"));
}

#[test]
fn a_setting_is_taken_once_and_only_while_it_holds_the_value_expected() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    assert!(!state.take_setting("exact", "consent_pending", "a").unwrap());
    state.set_setting("exact", "consent_pending", "a").unwrap();
    assert!(!state.take_setting("exact", "consent_pending", "b").unwrap());
    assert!(state.take_setting("exact", "consent_pending", "a").unwrap());
    assert!(!state.take_setting("exact", "consent_pending", "a").unwrap());
    assert_eq!(state.setting("exact", "consent_pending").unwrap().as_deref(), Some(""));
}

#[test]
fn connections_list_what_is_stored_without_secret_values() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    assert!(state.connections().unwrap().is_empty());
    state.put_secret(&vault(), "exact", "client_secret", "hunter2").unwrap();
    state.put_secret(&vault(), "exact", "client_id", "id-1").unwrap();
    state.set_setting("exact", "division", "12345").unwrap();
    state.set_setting("lnb", "base_url", "https://lnb.example").unwrap();
    let tokens = TokenSet { access_token: "a".into(), refresh_token: None, issued_at_ms: 1_000, expires_at_ms: 601_000, needs_consent: None };
    state.lock_tokens("exact").unwrap().store(&vault(), &tokens).unwrap();
    state.lock_tokens("qbo").unwrap().needs_consent("refresh token expired").unwrap();

    assert_eq!(
        state.connections().unwrap(),
        vec![
            ConnectionRow {
                name: "exact".into(),
                secrets: vec!["client_id".into(), "client_secret".into()],
                token_issued_at_ms: Some(1_000),
                token_expires_at_ms: Some(601_000),
                needs_consent: None,
                settings: vec![("division".into(), "12345".into())],
            },
            ConnectionRow {
                name: "lnb".into(),
                secrets: vec![],
                token_issued_at_ms: None,
                token_expires_at_ms: None,
                needs_consent: None,
                settings: vec![("base_url".into(), "https://lnb.example".into())],
            },
            ConnectionRow {
                name: "qbo".into(),
                secrets: vec![],
                token_issued_at_ms: None,
                token_expires_at_ms: None,
                needs_consent: Some("refresh token expired".into()),
                settings: vec![],
            },
        ]
    );
    let listed = serde_json::to_string(&state.connections().unwrap()).unwrap();
    assert!(!listed.contains("hunter2") && !listed.contains("id-1"), "{listed}");
}
