//! SFTP as a file store: russh + russh-sftp, host key pinned. Filled in by issue 11.
