//! From what russh and russh-sftp report to the port's `FileFailure` kinds:
//! only what retrying can cure is `Unavailable`; a message names the server and
//! the path, never a secret.

use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::StatusCode;

use super::host_key::{HandshakeError, refusal};
use crate::transport::files::{FileError, FileFailure};

/// A failed SFTP request on `path`, `doing` what (e.g. "reading").
pub fn request_failed(address: &str, doing: &str, path: &str, error: &SftpError) -> FileError {
    let (kind, reason) = match error {
        SftpError::Status(status) => match status.status_code {
            StatusCode::NoSuchFile => (FileFailure::NotFound, "no such file or folder".to_string()),
            StatusCode::PermissionDenied => (FileFailure::Refused, "permission denied".to_string()),
            StatusCode::NoConnection | StatusCode::ConnectionLost => (FileFailure::Unavailable, "the connection was lost".to_string()),
            StatusCode::OpUnsupported => (FileFailure::Refused, "the server does not support this operation".to_string()),
            // `Failure` is SFTP's catch-all (OpenSSH: a rename onto an existing name, a folder
            // that is not empty); the server's own words say which.
            _ => (FileFailure::Refused, format!("the server refused it ({})", status.error_message)),
        },
        SftpError::Timeout => (FileFailure::Unavailable, "no answer in time".to_string()),
        // The channel closed under the request: the connection dropped.
        SftpError::IO(_) | SftpError::UnexpectedBehavior(_) => (FileFailure::Unavailable, "the connection was lost".to_string()),
        SftpError::Limited(why) => (FileFailure::Refused, format!("over the server's limits ({why})")),
        SftpError::UnexpectedPacket => (FileFailure::Refused, "the server answered out of protocol".to_string()),
    };
    FileError::new(kind, format!("SFTP {address}: {doing} {path}: {reason}"))
}

/// An error of the file streams (they wrap the SFTP error in an `io::Error`).
pub fn stream_failed(address: &str, doing: &str, path: &str, error: std::io::Error) -> FileError {
    let sftp = error.get_ref().and_then(|inner| inner.downcast_ref::<SftpError>()).cloned();
    match sftp {
        Some(e) => request_failed(address, doing, path, &e),
        None if error.kind() == std::io::ErrorKind::TimedOut => request_failed(address, doing, path, &SftpError::Timeout),
        None => request_failed(address, doing, path, &SftpError::IO(error.to_string())),
    }
}

/// Opening the connection failed: refused, unreachable, not the pinned server.
pub fn connect_failed(address: &str, error: HandshakeError) -> FileError {
    let e = match error {
        HandshakeError::HostKey { received, expected } => {
            return FileError::new(FileFailure::HostKey, refusal(address, &received, expected.as_deref()));
        }
        HandshakeError::Ssh(e) => e,
    };
    use russh::Error as E;
    let kind = match &e {
        E::IO(_) | E::HUP | E::Disconnect | E::ConnectionTimeout | E::KeepaliveTimeout | E::InactivityTimeout => FileFailure::Unavailable,
        E::Elapsed(_) | E::SendError | E::RecvError | E::Pending | E::Join(_) => FileFailure::Unavailable,
        // No shared algorithm, a broken key exchange: retrying will not change it.
        _ => FileFailure::Refused,
    };
    FileError::new(kind, format!("SFTP {address}: could not connect: {e}"))
}

/// The connection did not come up within the connect timeout.
pub fn connect_timed_out(address: &str, timeout: std::time::Duration) -> FileError {
    FileError::new(FileFailure::Unavailable, format!("SFTP {address}: could not connect: no answer within {}s", timeout.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh_sftp::protocol::Status;

    fn status(code: StatusCode, message: &str) -> SftpError {
        SftpError::Status(Status { id: 1, status_code: code, error_message: message.into(), language_tag: "en".into() })
    }

    #[test]
    fn only_what_a_retry_can_cure_is_unavailable() {
        let kind = |e: SftpError| request_failed("h:22", "reading", "/in/a", &e).kind;
        assert_eq!(kind(status(StatusCode::NoSuchFile, "No such file")), FileFailure::NotFound);
        assert_eq!(kind(status(StatusCode::PermissionDenied, "Permission denied")), FileFailure::Refused);
        assert_eq!(kind(status(StatusCode::Failure, "Failure")), FileFailure::Refused);
        assert_eq!(kind(status(StatusCode::ConnectionLost, "")), FileFailure::Unavailable);
        assert_eq!(kind(SftpError::Timeout), FileFailure::Unavailable);
        assert_eq!(kind(SftpError::UnexpectedBehavior("session closed".into())), FileFailure::Unavailable);
        assert_eq!(
            request_failed("h:22", "renaming", "/out/.a.part", &status(StatusCode::Failure, "Failure")).message,
            "SFTP h:22: renaming /out/.a.part: the server refused it (Failure)"
        );
    }

    #[test]
    fn a_stream_error_is_unwrapped() {
        let io: std::io::Error = status(StatusCode::NoSuchFile, "gone").into();
        assert_eq!(stream_failed("h:22", "reading", "/in/a", io).kind, FileFailure::NotFound);
    }
}
