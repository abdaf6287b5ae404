use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::project::Project;

/// Finds the project folder: `--root`, else the one above the first path,
/// else the one above the working directory.
pub fn project_root(root: Option<PathBuf>, first: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(r) = root {
        return Ok(r);
    }
    let start = first.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    Project::discover(&start)
        .or_else(|| Project::discover(Path::new(".")))
        .ok_or_else(|| format!("no flowmap project found above {}: a project has mappings/systems/ (use --root)", start.display()))
}

pub fn load_project(root: &Path) -> Result<Project, Vec<Diagnostic>> {
    Project::load(root)
}

/// Files ending in `suffix` among `paths` (folders are searched recursively),
/// or under `<root>/mappings` when no path is given. Sorted, for stable output.
pub fn collect(root: &Path, paths: &[PathBuf], suffix: &str) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let defaults = [root.join("mappings")];
    let paths = if paths.is_empty() { &defaults[..] } else { paths };
    for p in paths {
        if p.is_dir() {
            walk(p, suffix, &mut out);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{} does not exist", p.display()));
        }
    }
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, suffix, out);
        } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(suffix)) {
            out.push(p);
        }
    }
}

/// A file or folder named on the command line, checked by clap before any
/// command starts: a missing or unreadable one is a usage error (status 2),
/// said the same way by every command.
pub fn existing_path(arg: &str) -> Result<PathBuf, String> {
    readable(arg, "file or folder")
}

/// A file named on the command line (a flow, an input): as `existing_path`, and not a folder.
pub fn existing_file(arg: &str) -> Result<PathBuf, String> {
    let path = readable(arg, "file")?;
    if path.is_dir() { Err("this is a folder; a file is wanted".to_string()) } else { Ok(path) }
}

/// A folder named on the command line (fixtures, flows): as `existing_path`, and not a file.
pub fn existing_folder(arg: &str) -> Result<PathBuf, String> {
    let path = readable(arg, "folder")?;
    if path.is_dir() { Ok(path) } else { Err("this is a file; a folder is wanted".to_string()) }
}

fn readable(arg: &str, what: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(arg);
    let opened = if path.is_dir() { std::fs::read_dir(&path).map(drop) } else { std::fs::File::open(&path).map(drop) };
    opened.map(|()| path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no such {what}"),
        _ => format!("cannot be read: {e}"),
    })
}
