//! What a connection's YAML says about an SFTP server, and the credentials
//! that come sealed from the state store (never from YAML).

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An SFTP server: where it is, who we are there, and the host key it must present.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SftpSettings {
    /// The server's host name or address.
    pub host: String,
    /// The server's port (default 22).
    #[serde(default = "default_port")]
    pub port: u16,
    /// The user to log in as.
    pub user: String,
    /// The server's pinned host-key fingerprint, as `ssh-keygen -lf KEY.pub -E sha256` prints it
    /// (`SHA256:` and 43 base64 characters). A server presenting any other key is refused, and so
    /// is every server while this is missing: the refusal names the fingerprint received.
    #[serde(default)]
    pub host_key: Option<String>,
    /// Seconds to open the connection, agree keys and log in (default 15).
    #[serde(default)]
    pub connect_timeout_seconds: Option<f64>,
    /// Seconds before a request without an answer (list, read, write, rename) is given up
    /// (default 30; the SFTP layer counts whole seconds).
    #[serde(default)]
    pub request_timeout_seconds: Option<f64>,
    /// Retries of an operation the server did not answer (connection refused or dropped, a
    /// timeout), with a doubling pause between them (default 3). Refusals are never retried:
    /// a wrong host key or password, a missing file, a name that exists already.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Seconds before the first retry; each next one waits twice as long (default 1).
    #[serde(default)]
    pub retry_backoff_seconds: Option<f64>,
}

fn default_port() -> u16 {
    22
}

impl SftpSettings {
    pub fn connect_timeout(&self) -> Duration {
        seconds(self.connect_timeout_seconds, 15.0)
    }

    pub fn request_timeout(&self) -> Duration {
        seconds(self.request_timeout_seconds, 30.0)
    }

    pub fn retries(&self) -> u32 {
        self.retries.unwrap_or(3)
    }

    pub fn retry_backoff(&self) -> Duration {
        seconds(self.retry_backoff_seconds, 1.0)
    }

    /// `host:port`, as messages name the server.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// What is wrong with these settings, found when the connection is loaded (not at the
    /// first transfer): a fingerprint that is not SHA256, a timeout that is not positive.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(pin) = &self.host_key
            && !pin.trim().starts_with("SHA256:")
        {
            problems
                .push(format!("host_key `{pin}` is not a SHA256 fingerprint: write it as `ssh-keygen -lf KEY.pub -E sha256` prints it (SHA256:…)"));
        }
        for (key, value) in [
            ("connect_timeout_seconds", self.connect_timeout_seconds),
            ("request_timeout_seconds", self.request_timeout_seconds),
            ("retry_backoff_seconds", self.retry_backoff_seconds),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                problems.push(format!("{key} must be a positive number of seconds, not {v}"));
            }
        }
        problems
    }
}

fn seconds(value: Option<f64>, default: f64) -> Duration {
    value.filter(|v| v.is_finite() && *v > 0.0).map(Duration::from_secs_f64).unwrap_or(Duration::from_secs_f64(default))
}

/// How we log in: sealed in the state store by `flowmap connect`. Its `Debug` shows the kind
/// only, so a secret never reaches a log or an error.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SftpCredentials {
    Password(String),
    /// A private key in any form `ssh-keygen` writes (OpenSSH, PEM, PKCS#8), with its passphrase
    /// when it is encrypted.
    PrivateKey {
        pem: String,
        passphrase: Option<String>,
    },
}

impl std::fmt::Debug for SftpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SftpCredentials::Password(_) => f.write_str("Password(<redacted>)"),
            SftpCredentials::PrivateKey { passphrase, .. } => {
                let passphrase = if passphrase.is_some() { "<redacted>" } else { "none" };
                write!(f, "PrivateKey {{ pem: <redacted>, passphrase: {passphrase} }}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_shows_no_secret() {
        let password = SftpCredentials::Password("hunter2".into());
        let key = SftpCredentials::PrivateKey { pem: "-----BEGIN KEY-----".into(), passphrase: Some("s3cret".into()) };
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        assert_eq!(format!("{key:?}"), "PrivateKey { pem: <redacted>, passphrase: <redacted> }");
    }

    #[test]
    fn a_fingerprint_that_is_not_sha256_is_a_problem() {
        let settings: SftpSettings = serde_json::from_value(serde_json::json!({
            "host": "h", "user": "u", "host_key": "MD5:11:93", "request_timeout_seconds": 0
        }))
        .unwrap();
        assert_eq!(settings.port, 22);
        assert_eq!(
            settings.problems(),
            [
                "host_key `MD5:11:93` is not a SHA256 fingerprint: write it as `ssh-keygen -lf KEY.pub -E sha256` prints it (SHA256:…)",
                "request_timeout_seconds must be a positive number of seconds, not 0"
            ]
        );
    }
}
