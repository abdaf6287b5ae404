//! The vault: sealing, opening, and where the key comes from.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;

use flowmap_state::Vault;
use pretty_assertions::assert_eq;

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OTHER_KEY: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#[test]
fn sealed_values_open_with_the_same_key_and_aad() {
    let vault = Vault::from_hex(KEY, "test").unwrap();
    let sealed = vault.seal("secret:exact:client_secret", b"hunter2").unwrap();
    assert_eq!(sealed.len(), 24 + b"hunter2".len() + 16, "nonce || ciphertext || tag");
    assert!(!sealed.windows(7).any(|window| window == b"hunter2"));
    assert_eq!(vault.open("secret:exact:client_secret", &sealed).unwrap(), b"hunter2");
    // A fresh random nonce every time: the same value never seals the same way twice.
    assert_ne!(vault.seal("secret:exact:client_secret", b"hunter2").unwrap(), sealed);
}

#[test]
fn the_wrong_key_is_refused_with_a_message_that_says_so() {
    let sealed = Vault::from_hex(KEY, "test").unwrap().seal("secret:exact:client_secret", b"hunter2").unwrap();
    let other = Vault::from_hex(OTHER_KEY, "/etc/flowmap/key").unwrap();
    let error = other.open("secret:exact:client_secret", &sealed).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot decrypt secret:exact:client_secret with the key from /etc/flowmap/key: \
         the key is not the one it was encrypted with (or the data was changed)"
    );
}

#[test]
fn a_value_does_not_open_under_another_aad() {
    let vault = Vault::from_hex(KEY, "test").unwrap();
    let sealed = vault.seal("secret:exact:client_secret", b"hunter2").unwrap();
    let error = vault.open("secret:exact:client_id", &sealed).unwrap_err();
    assert!(error.to_string().starts_with("cannot decrypt secret:exact:client_id with the key from test: "), "{error}");
}

#[test]
fn any_changed_byte_or_truncation_is_detected() {
    let vault = Vault::from_hex(KEY, "test").unwrap();
    let sealed = vault.seal("tokens:exact", b"{\"access_token\":\"abc\"}").unwrap();
    for position in 0..sealed.len() {
        let mut tampered = sealed.clone();
        tampered[position] ^= 0x01;
        let error = vault.open("tokens:exact", &tampered).unwrap_err();
        assert!(error.to_string().contains("(or the data was changed)"), "byte {position}: {error}");
    }
    for length in [0, 1, 23, 24, 39, sealed.len() - 1] {
        assert!(vault.open("tokens:exact", &sealed[..length]).is_err(), "truncated to {length} bytes");
    }
}

#[test]
fn a_missing_key_file_is_created_owner_only_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("config/flowmap/key");
    let created = Vault::load_from(None, &key_file, true).unwrap();
    assert_eq!(created.source(), key_file.display().to_string());

    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    let contents = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(contents.len(), 65, "64 hex characters and a newline");
    assert!(contents.ends_with('\n') && contents.trim_end().chars().all(|c| c.is_ascii_hexdigit()));
    // Only the staged key file's final name is left behind.
    assert_eq!(std::fs::read_dir(key_file.parent().unwrap()).unwrap().count(), 1);

    // The next load (with or without `create`) reads the same key.
    let sealed = created.seal("secret:qbo:client_secret", b"s3cret").unwrap();
    let loaded = Vault::load_from(None, &key_file, false).unwrap();
    assert_eq!(loaded.open("secret:qbo:client_secret", &sealed).unwrap(), b"s3cret");
    let reloaded = Vault::load_from(None, &key_file, true).unwrap();
    assert_eq!(reloaded.open("secret:qbo:client_secret", &sealed).unwrap(), b"s3cret");
}

#[test]
fn a_missing_key_without_create_tells_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    let error = Vault::load_from(None, &key_file, false).unwrap_err().to_string();
    assert!(error.contains(&key_file.display().to_string()), "{error}");
    assert!(error.contains("flowmap connect") && error.contains("FLOWMAP_KEY"), "{error}");
    assert!(!key_file.exists());
}

#[test]
fn flowmap_key_wins_over_the_key_file_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    let vault = Vault::load_from(Some(OsStr::new(&format!("{KEY}\n"))), &key_file, true).unwrap();
    assert_eq!(vault.source(), "FLOWMAP_KEY");
    assert!(!key_file.exists());
    let sealed = Vault::from_hex(KEY, "test").unwrap().seal("a", b"b").unwrap();
    assert_eq!(vault.open("a", &sealed).unwrap(), b"b");
}

#[test]
fn a_malformed_flowmap_key_is_named_but_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let almost = format!("{}g", &KEY[..63]);
    for value in [almost.as_str(), &KEY[..62], "", "not a key at all"] {
        let error = Vault::load_from(Some(OsStr::new(value)), &dir.path().join("key"), true).unwrap_err().to_string();
        assert!(error.contains("FLOWMAP_KEY"), "{error}");
        assert!(value.is_empty() || !error.contains(value), "the message shows the value: {error}");
    }
    assert!(!dir.path().join("key").exists(), "a set but malformed FLOWMAP_KEY must not fall back to a key file");
}

#[test]
fn a_malformed_key_file_is_named_but_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    let contents = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeZ\n";
    std::fs::write(&key_file, contents).unwrap();
    let error = Vault::load_from(None, &key_file, true).unwrap_err().to_string();
    assert_eq!(error, format!("the key in {} is not valid: it must be 64 hexadecimal characters (32 bytes)", key_file.display()));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), contents, "a malformed key file is never replaced");
}

#[test]
fn debug_output_hides_the_key() {
    let shown = format!("{:?}", Vault::from_hex(KEY, "FLOWMAP_KEY").unwrap());
    assert!(shown.contains("<redacted>") && shown.contains("FLOWMAP_KEY"), "{shown}");
    assert!(!shown.contains("0a0b0c"), "{shown}");
}
