//! The file operations, each one attempt on one connection; `store.rs` decides
//! about connections and retries.

use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{OpenFlags, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::connection::Connection;
use super::errors::{request_failed, stream_failed};
use super::temp_name::{is_temp_name, temp_name};
use crate::transport::files::{FileError, FileFailure, RemoteFile, join};

/// Bytes asked for per read: the session splits and pipelines them.
const READ_CHUNK: usize = 256 * 1024;

/// Lists `folder` one READDIR batch at a time (OpenSSH sends up to 100 names per batch),
/// handing each batch's files on before asking for the next. Returns the number of batches.
pub async fn list_pages(c: &Connection, address: &str, folder: &str, page: &mut (dyn FnMut(Vec<RemoteFile>) + Send)) -> Result<usize, FileError> {
    let failed = |e: &SftpError| request_failed(address, "listing", folder, e);
    let handle = c.listing.opendir(folder).await.map_err(|e| failed(&e))?.handle;
    let mut pages = 0;
    let outcome = loop {
        match c.listing.readdir(handle.as_str()).await {
            Ok(batch) => {
                pages += 1;
                let files = batch
                    .files
                    .into_iter()
                    // Files only: `.`, `..` and sub-folders are folders; symlinks and devices are not files
                    // we process; an upload in progress is not a file yet.
                    .filter(|f| f.attrs.file_type().is_file() && !is_temp_name(&f.filename))
                    .map(|f| RemoteFile { size: f.attrs.len(), name: f.filename })
                    .collect();
                page(files);
            }
            Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => break Ok(pages),
            Err(e) => break Err(failed(&e)),
        }
    };
    let _ = c.listing.close(handle).await;
    outcome
}

/// Streams the file into `into` from byte `written` on, adding to `written` as bytes arrive:
/// bytes handed on cannot be taken back, so an attempt after a lost connection resumes where
/// the last one stopped (partners write whole files under their names: the bytes do not change).
pub async fn read(c: &Connection, address: &str, path: &str, into: &mut (dyn std::io::Write + Send), written: &mut u64) -> Result<(), FileError> {
    let mut file = c.files.open(path).await.map_err(|e| request_failed(address, "reading", path, &e))?;
    if *written > 0 {
        file.seek(std::io::SeekFrom::Start(*written)).await.map_err(|e| stream_failed(address, "reading", path, e))?;
    }
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        let n = file.read(&mut buffer).await.map_err(|e| stream_failed(address, "reading", path, e))?;
        if n == 0 {
            break;
        }
        into.write_all(&buffer[..n])
            .map_err(|e| FileError::new(FileFailure::Refused, format!("SFTP {address}: reading {path}: the bytes could not be kept: {e}")))?;
        *written += n as u64;
    }
    let _ = file.shutdown().await;
    Ok(())
}

/// Uploads under the temporary name, closes (so every write is acknowledged), then renames.
/// A name that exists already is refused before a byte is sent, and again by the rename —
/// unless this is a `retry` and the name holds exactly these bytes: then the attempt before
/// renamed it and only its answer was lost (the file is delivered, not to be refused).
pub async fn put(c: &Connection, address: &str, folder: &str, name: &str, bytes: &[u8], retry: bool) -> Result<(), FileError> {
    let target = join(folder, name);
    let temp = join(folder, &temp_name(name));
    if let Err(exists) = refuse_existing(c, address, "uploading", &target).await {
        return match retry && exists.kind == FileFailure::Refused && holds(c, address, &target, bytes).await? {
            true => Ok(()),
            false => Err(exists),
        };
    }
    // What an interrupted upload left behind.
    match c.files.remove_file(temp.as_str()).await {
        Ok(()) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(request_failed(address, "removing the stale upload", &temp, &e)),
    }
    // EXCLUDE: if another uploader created the same temp name meanwhile, fail rather than mix bytes.
    let flags = OpenFlags::CREATE | OpenFlags::EXCLUDE | OpenFlags::WRITE;
    let mut file = c.files.open_with_flags(temp.as_str(), flags).await.map_err(|e| request_failed(address, "uploading", &target, &e))?;
    let written = async {
        file.write_all(bytes).await?;
        file.shutdown().await
    }
    .await;
    if let Err(e) = written {
        let error = stream_failed(address, "uploading", &target, e);
        let _ = c.files.remove_file(temp.as_str()).await;
        return Err(error);
    }
    if let Err(e) = c.files.rename(temp.as_str(), target.as_str()).await {
        // OpenSSH refuses a rename onto an existing name: someone else wrote it meanwhile.
        let error = match refuse_existing(c, address, "uploading", &target).await {
            Err(exists) => exists,
            Ok(()) => request_failed(address, "renaming", &temp, &e),
        };
        let _ = c.files.remove_file(temp.as_str()).await;
        return Err(error);
    }
    Ok(())
}

/// Whether the file at `path` holds exactly `bytes`.
async fn holds(c: &Connection, address: &str, path: &str, bytes: &[u8]) -> Result<bool, FileError> {
    if size(c, address, path).await? != Some(bytes.len() as u64) {
        return Ok(false);
    }
    let mut found = Vec::with_capacity(bytes.len());
    read(c, address, path, &mut found, &mut 0).await?;
    Ok(found == bytes)
}

/// Moves `path` into `folder` (made when missing, with its parents), keeping its name. A file
/// of that name in the archive is not replaced: the move is refused and nothing changes.
/// On a `retry`, a file gone from `path` and present in the archive was moved by the attempt
/// before, whose answer was lost.
pub async fn archive(c: &Connection, address: &str, path: &str, folder: &str, retry: bool) -> Result<(), FileError> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let target = join(folder, name);
    make_folder(c, address, folder).await?;
    if let Err(exists) = refuse_existing(c, address, "archiving", &target).await {
        return match retry && exists.kind == FileFailure::Refused && size(c, address, path).await?.is_none() {
            true => Ok(()),
            false => Err(exists),
        };
    }
    c.files.rename(path, target.as_str()).await.map_err(|e| request_failed(address, "archiving", path, &e))
}

/// The size of the file at `path`; None when there is none.
pub async fn size(c: &Connection, address: &str, path: &str) -> Result<Option<u64>, FileError> {
    match c.files.metadata(path).await {
        Ok(m) if m.file_type().is_file() => Ok(Some(m.len())),
        Ok(_) => Err(FileError::new(FileFailure::Refused, format!("SFTP {address}: {path} is not a file"))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(request_failed(address, "looking at", path, &e)),
    }
}

pub async fn remove(c: &Connection, address: &str, path: &str) -> Result<(), FileError> {
    c.files.remove_file(path).await.map_err(|e| request_failed(address, "removing", path, &e))
}

async fn refuse_existing(c: &Connection, address: &str, doing: &str, path: &str) -> Result<(), FileError> {
    match c.files.metadata(path).await {
        Ok(_) => Err(FileError::new(
            FileFailure::Refused,
            format!("SFTP {address}: {doing} {path}: a file of that name exists already (files are never overwritten)"),
        )),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(request_failed(address, doing, path, &e)),
    }
}

/// `mkdir -p`: each missing level from the top (a level made meanwhile by someone else is fine).
async fn make_folder(c: &Connection, address: &str, folder: &str) -> Result<(), FileError> {
    let mut path = String::new();
    for part in folder.split('/').filter(|p| !p.is_empty()) {
        path = format!("{path}/{part}");
        if !folder.starts_with('/') && path.starts_with('/') {
            path.remove(0);
        }
        match c.files.metadata(path.as_str()).await {
            Ok(m) if m.file_type().is_dir() => continue,
            Ok(_) => {
                return Err(FileError::new(
                    FileFailure::Refused,
                    format!("SFTP {address}: making the folder {folder}: {path} is a file, not a folder"),
                ));
            }
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(request_failed(address, "making the folder", &path, &e)),
        }
        if let Err(e) = c.files.create_dir(path.as_str()).await {
            let made_meanwhile = matches!(c.files.metadata(path.as_str()).await, Ok(m) if m.file_type().is_dir());
            if !made_meanwhile {
                return Err(request_failed(address, "making the folder", &path, &e));
            }
        }
    }
    Ok(())
}

fn is_not_found(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::NoSuchFile)
}
