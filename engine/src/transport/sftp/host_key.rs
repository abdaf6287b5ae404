//! The server's host key must be the pinned one. The check runs inside the key
//! exchange, before any credential is sent; a refusal names the fingerprint the
//! server presented, so an operator can compare it with the server's owner and pin it.

use russh::keys::{HashAlg, PublicKeyOrCertificate};

/// Why the SSH layer stopped: the host key, or anything russh reports.
#[derive(Debug)]
pub enum HandshakeError {
    HostKey { received: String, expected: Option<String> },
    Ssh(russh::Error),
}

impl From<russh::Error> for HandshakeError {
    fn from(e: russh::Error) -> Self {
        HandshakeError::Ssh(e)
    }
}

/// The russh client handler: it only answers "is this the server we pinned?".
pub struct PinnedHostKey {
    pub expected: Option<String>,
}

impl russh::client::Handler for PinnedHostKey {
    type Error = HandshakeError;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let received = fingerprint(key);
        match &self.expected {
            Some(pin) if same_fingerprint(pin, &received) => Ok(true),
            _ => Err(HandshakeError::HostKey { received, expected: self.expected.clone() }),
        }
    }
}

/// `SHA256:…` exactly as `ssh-keygen -lf KEY.pub -E sha256` prints it (a certificate's own key).
pub fn fingerprint(key: &PublicKeyOrCertificate) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}

/// Equal up to surrounding blanks and base64 padding (some tools print `=`, ssh-keygen does not).
fn same_fingerprint(pin: &str, received: &str) -> bool {
    pin.trim().trim_end_matches('=') == received
}

/// The refusal an operator reads.
pub fn refusal(address: &str, received: &str, expected: Option<&str>) -> String {
    match expected {
        Some(pin) => format!(
            "SFTP {address}: the server presented host key {received}, but the connection pins {}: nothing was sent. \
             If the server's key was changed on purpose, put the new fingerprint in `host_key`",
            pin.trim()
        ),
        None => format!(
            "SFTP {address}: the server presented host key {received}, and the connection pins none: nothing was sent. \
             Confirm the fingerprint with the server's operator, then set `host_key: {received}`"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_and_blanks_do_not_matter_case_does() {
        let received = "SHA256:oycTb2vc5IA1VUojirILz7K2BDZSbNFO/XkwW1SUcoI";
        assert!(same_fingerprint(" SHA256:oycTb2vc5IA1VUojirILz7K2BDZSbNFO/XkwW1SUcoI= ", received));
        assert!(!same_fingerprint("SHA256:OYCTb2vc5IA1VUojirILz7K2BDZSbNFO/XkwW1SUcoI", received));
    }
}
