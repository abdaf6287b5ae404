//! The SFTP subsystem over the served folder (russh-sftp's server `Handler`): what the engine's
//! client and OpenSSH's `sftp` use. Renames refuse an existing target (as OpenSSH does for
//! version-3 clients), writes past the size limit are refused, and every request may draw an
//! injected fault that drops the whole connection.

use std::collections::HashMap;
use std::fs::{File as LocalFile, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use russh_sftp::protocol::{Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version};
use russh_sftp::server::StatusReply;

use super::Inner;
use super::paths::Inside;

/// Names per READDIR answer, as OpenSSH sends them: a large folder comes in pages.
const PAGE: usize = 100;
/// Most bytes per READ answer.
const MOST_READ: u32 = 256 * 1024;

pub struct SftpHandler {
    tc: Arc<Inner>,
    /// The connection's socket: shut down to drop the connection on an injected fault.
    socket: Arc<std::net::TcpStream>,
    open: HashMap<String, Opened>,
    last_handle: u64,
}

enum Opened {
    File(LocalFile),
    Folder { entries: Vec<File>, next: usize },
}

type Answer<T> = Result<T, StatusReply>;

impl SftpHandler {
    pub fn new(tc: Arc<Inner>, socket: Arc<std::net::TcpStream>) -> SftpHandler {
        SftpHandler { tc, socket, open: HashMap::new(), last_handle: 0 }
    }

    /// Every request but the version exchange: counted, and maybe the one where the connection drops.
    fn request(&self) -> Answer<()> {
        if self.tc.faults.draw() {
            let _ = self.socket.shutdown(std::net::Shutdown::Both);
            return Err(StatusCode::ConnectionLost.into());
        }
        Ok(())
    }

    fn local(&self, path: &str) -> Answer<std::path::PathBuf> {
        self.request()?;
        Inside::resolve(path)?.local(&self.tc.root)
    }

    fn handle(&mut self, opened: Opened) -> String {
        self.last_handle += 1;
        let handle = self.last_handle.to_string();
        self.open.insert(handle.clone(), opened);
        handle
    }

    fn file(&self, handle: &str) -> Answer<&LocalFile> {
        match self.open.get(handle) {
            Some(Opened::File(file)) => Ok(file),
            _ => Err(StatusCode::Failure.with_message("no such open file")),
        }
    }
}

fn ok(id: u32) -> Status {
    Status { id, status_code: StatusCode::Ok, error_message: "Ok".into(), language_tag: "en-US".into() }
}

/// The status a client expects for a failed file-system call.
fn failed(error: std::io::Error) -> StatusReply {
    let code = match error.kind() {
        ErrorKind::NotFound => StatusCode::NoSuchFile,
        ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    code.with_message(error.to_string())
}

fn attributes(path: &std::path::Path) -> Answer<FileAttributes> {
    std::fs::symlink_metadata(path).map(|m| FileAttributes::from(&m)).map_err(failed)
}

impl russh_sftp::server::Handler for SftpHandler {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.into()
    }

    async fn init(&mut self, _version: u32, _extensions: HashMap<String, String>) -> Answer<Version> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Answer<Name> {
        self.request()?;
        Ok(Name { id, files: vec![File::dummy(Inside::resolve(&path)?.shown())] })
    }

    async fn stat(&mut self, id: u32, path: String) -> Answer<Attrs> {
        Ok(Attrs { id, attrs: attributes(&self.local(&path)?)? })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Answer<Attrs> {
        Ok(Attrs { id, attrs: attributes(&self.local(&path)?)? })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Answer<Attrs> {
        self.request()?;
        let metadata = self.file(&handle)?.metadata().map_err(failed)?;
        Ok(Attrs { id, attrs: FileAttributes::from(&metadata) })
    }

    async fn setstat(&mut self, id: u32, path: String, _attrs: FileAttributes) -> Answer<Status> {
        // Times and modes are the server's business; accepted and left as they are.
        attributes(&self.local(&path)?)?;
        Ok(ok(id))
    }

    async fn fsetstat(&mut self, id: u32, handle: String, _attrs: FileAttributes) -> Answer<Status> {
        self.request()?;
        self.file(&handle)?;
        Ok(ok(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Answer<Handle> {
        let folder = self.local(&path)?;
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&folder).map_err(failed)? {
            let entry = entry.map_err(failed)?;
            let metadata = entry.metadata().map_err(failed)?;
            entries.push(File::new(entry.file_name().to_string_lossy(), FileAttributes::from(&metadata)));
        }
        entries.sort_by(|a, b| a.filename.cmp(&b.filename));
        Ok(Handle { id, handle: self.handle(Opened::Folder { entries, next: 0 }) })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Answer<Name> {
        self.request()?;
        match self.open.get_mut(&handle) {
            Some(Opened::Folder { entries, next }) if *next < entries.len() => {
                let page: Vec<File> = entries[*next..].iter().take(PAGE).cloned().collect();
                *next += page.len();
                Ok(Name { id, files: page })
            }
            Some(Opened::Folder { .. }) => Err(StatusCode::Eof.into()),
            _ => Err(StatusCode::Failure.with_message("no such open folder")),
        }
    }

    async fn open(&mut self, id: u32, filename: String, pflags: OpenFlags, _attrs: FileAttributes) -> Answer<Handle> {
        let path = self.local(&filename)?;
        if Inside::resolve(&filename)?.is_root() || path.is_dir() {
            return Err(StatusCode::Failure.with_message(format!("{filename} is a folder")));
        }
        let mut options = OpenOptions::new();
        options.read(pflags.contains(OpenFlags::READ) || !pflags.contains(OpenFlags::WRITE));
        options.write(pflags.contains(OpenFlags::WRITE));
        options.append(pflags.contains(OpenFlags::APPEND));
        options.truncate(pflags.contains(OpenFlags::TRUNCATE));
        match (pflags.contains(OpenFlags::CREATE), pflags.contains(OpenFlags::EXCLUDE)) {
            (true, true) => options.create_new(true),
            (true, false) => options.create(true),
            _ => &mut options,
        };
        let file = options.open(&path).map_err(failed)?;
        Ok(Handle { id, handle: self.handle(Opened::File(file)) })
    }

    async fn read(&mut self, id: u32, handle: String, offset: u64, len: u32) -> Answer<Data> {
        self.request()?;
        let file = self.file(&handle)?;
        let mut data = vec![0u8; len.min(MOST_READ) as usize];
        let n = file.read_at(&mut data, offset).map_err(failed)?;
        if n == 0 {
            return Err(StatusCode::Eof.into());
        }
        data.truncate(n);
        Ok(Data { id, data })
    }

    async fn write(&mut self, id: u32, handle: String, offset: u64, data: Vec<u8>) -> Answer<Status> {
        self.request()?;
        let most = self.tc.config.max_file_bytes;
        if offset.saturating_add(data.len() as u64) > most {
            return Err(StatusCode::Failure.with_message(format!("files are limited to {most} bytes")));
        }
        self.file(&handle)?.write_all_at(&data, offset).map_err(failed)?;
        Ok(ok(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Answer<Status> {
        self.request()?;
        match self.open.remove(&handle) {
            Some(_) => Ok(ok(id)),
            None => Err(StatusCode::Failure.with_message("no such handle")),
        }
    }

    async fn rename(&mut self, id: u32, oldpath: String, newpath: String) -> Answer<Status> {
        let from = self.local(&oldpath)?;
        let to = Inside::resolve(&newpath)?.local(&self.tc.root)?;
        std::fs::symlink_metadata(&from).map_err(failed)?;
        if std::fs::symlink_metadata(&to).is_ok() {
            return Err(StatusCode::Failure.with_message(format!("{newpath} exists already")));
        }
        std::fs::rename(&from, &to).map_err(failed)?;
        Ok(ok(id))
    }

    async fn remove(&mut self, id: u32, filename: String) -> Answer<Status> {
        let path = self.local(&filename)?;
        if path.is_dir() {
            return Err(StatusCode::Failure.with_message(format!("{filename} is a folder")));
        }
        std::fs::remove_file(&path).map_err(failed)?;
        Ok(ok(id))
    }

    async fn mkdir(&mut self, id: u32, path: String, _attrs: FileAttributes) -> Answer<Status> {
        std::fs::create_dir(self.local(&path)?).map_err(failed)?;
        Ok(ok(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Answer<Status> {
        if Inside::resolve(&path)?.is_root() {
            return Err(StatusCode::PermissionDenied.with_message("the served folder itself stays"));
        }
        std::fs::remove_dir(self.local(&path)?).map_err(failed)?;
        Ok(ok(id))
    }
}
