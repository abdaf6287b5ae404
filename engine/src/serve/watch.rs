//! Hot reload: the flow folders are watched (never single files — editors
//! save by writing a temporary file and renaming it over the old one, which
//! loses a watch on the file), a burst of events is folded into one reload,
//! and editor leftovers are ignored.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::{CreateKind, ModifyKind, RemoveKind};
use notify::{EventKind, RecursiveMode, Watcher};

use super::engine::Engine;

/// Quiet time after the last event before reloading.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Starts watching; the returned watcher must be kept alive.
pub fn start(engine: Arc<Engine>) -> Result<notify::RecommendedWatcher, String> {
    let watched = [engine.flows_dir.clone(), engine.root.join("mappings").join("systems")];
    // The connections file, when it lives elsewhere: its folder is watched (editors
    // replace the file), for that one file only.
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let folder = engine.connections_file.parent().map(|d| if d.as_os_str().is_empty() { Path::new(".") } else { d }).map(canonical);
    let lone = folder
        .filter(|d| d.is_dir() && !watched.iter().any(|w| d.starts_with(canonical(w))))
        .zip(engine.connections_file.file_name().map(std::ffi::OsStr::to_os_string));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let only = lone.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(event) if matters(&event, only.as_ref()) => {
            tracing::debug!(kind = ?event.kind, paths = ?event.paths, "flow files changed");
            let _ = tx.send(());
        }
        Ok(_) => {}
        // Events may have been lost (e.g. the kernel's queue overflowed): load again
        // rather than keep a set that may no longer be what is on disk.
        Err(e) => {
            tracing::warn!(error = %e, "the flow watcher lost track; loading the flows again");
            let _ = tx.send(());
        }
    })
    .map_err(|e| format!("cannot watch the flow files: {e}"))?;
    for dir in &watched {
        if dir.is_dir() {
            watcher.watch(dir, RecursiveMode::Recursive).map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        }
    }
    if let Some((dir, _)) = &lone {
        watcher.watch(dir, RecursiveMode::NonRecursive).map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    }
    let rt = engine.rt.clone();
    rt.spawn(async move {
        while rx.recv().await.is_some() {
            // Fold the burst: wait until nothing has happened for DEBOUNCE.
            while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
            if engine.shutting_down() {
                return;
            }
            let e = engine.clone();
            match tokio::task::spawn_blocking(move || e.reload()).await {
                Ok(Ok(count)) => tracing::info!(flows = count, "flows reloaded"),
                Ok(Err(_)) => {} // logged by reload, with every problem
                Err(e) => tracing::error!(error = %e, "reload failed"),
            }
        }
    });
    Ok(watcher)
}

/// Events that can change a flow: writes, creations, removals and renames of
/// YAML files that are not editor leftovers, and folders made, moved or
/// removed (a file written into a new folder before its watch is set has no
/// event of its own; the reload after the folder's finds it). A rename whose
/// path is gone may be a folder moved out of the tree: it is only known by
/// that path, so it counts. Reads and metadata-only changes do not; nor do
/// events the watcher says were lost, which ask for a rescan.
/// `lone`: a folder watched for one file (the connections file outside the
/// flow folders): there, only events that name that file count.
fn matters(event: &notify::Event, lone: Option<&(PathBuf, OsString)>) -> bool {
    if event.need_rescan() {
        return true;
    }
    // Reading the files (a reload does) must never start another reload.
    if matches!(event.kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))) {
        return false;
    }
    if let Some((dir, name)) = lone
        && event.paths.iter().all(|p| p.parent() == Some(dir.as_path()))
    {
        return event.paths.iter().any(|p| p.file_name() == Some(name.as_os_str()));
    }
    match event.kind {
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Create(CreateKind::Folder) | EventKind::Remove(RemoveKind::Folder) => event.paths.iter().any(|p| !leftover(p)),
        EventKind::Modify(ModifyKind::Name(_)) => event.paths.iter().any(|p| is_flow_file(p) || (!leftover(p) && (p.is_dir() || !p.exists()))),
        _ => event.paths.iter().any(|p| is_flow_file(p)),
    }
}

/// Hidden names (`.git`, `.orders.flow.yaml.swp`) and editors' backup and lock files.
fn leftover(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return true };
    name.starts_with('.') || name.starts_with('#') || name.ends_with('~') || name == "4913"
}

fn is_flow_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    !leftover(path) && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_leftovers_are_not_flow_files() {
        for name in [".orders.flow.yaml.swp", "orders.flow.yaml~", "4913", "#orders.flow.yaml#", ".#orders.flow.yaml", "notes.txt"] {
            assert!(!is_flow_file(Path::new(name)), "{name}");
        }
        assert!(is_flow_file(Path::new("mappings/lnb-exact/orders.flow.yaml")));
    }

    fn matters_here(event: &notify::Event) -> bool {
        matters(event, None)
    }

    #[test]
    fn in_the_connections_folder_only_the_connections_file_counts() {
        let dir = tempfile::tempdir().unwrap();
        let lone = (dir.path().to_path_buf(), OsString::from("connections.yaml"));
        let rename = EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::From));
        let write = EventKind::Modify(ModifyKind::Data(notify::event::DataChange::Content));
        assert!(matters(&event(write, &dir.path().join("connections.yaml")), Some(&lone)));
        assert!(!matters(&event(write, &dir.path().join("other.yaml")), Some(&lone)));
        // Reading it (every reload does) is no change.
        let read = EventKind::Access(notify::event::AccessKind::Open(notify::event::AccessMode::Any));
        assert!(!matters(&event(read, &dir.path().join("connections.yaml")), Some(&lone)));
        // A state or key file replaced by rename beside it is no reason to reload.
        assert!(!matters(&event(rename, &dir.path().join("api-token.tmp")), Some(&lone)));
        // Elsewhere the usual rules hold.
        assert!(matters(&event(write, &dir.path().join("flows/orders.flow.yaml")), Some(&lone)));
    }

    fn event(kind: EventKind, path: &Path) -> notify::Event {
        notify::Event::new(kind).add_path(path.to_path_buf())
    }

    #[test]
    fn folders_made_or_removed_matter_and_reads_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let customer = dir.path().join("beta");
        std::fs::create_dir(&customer).unwrap();
        let flow = customer.join("orders.flow.yaml");
        assert!(matters_here(&event(EventKind::Create(CreateKind::Folder), &customer)));
        assert!(matters_here(&event(EventKind::Remove(RemoveKind::Folder), &customer)));
        assert!(!matters_here(&event(EventKind::Create(CreateKind::Folder), &dir.path().join(".git"))));
        // A folder moved in is seen by its name; a file renamed to a leftover name is not a flow.
        assert!(matters_here(&event(EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::To)), &customer)));
        assert!(!matters_here(&event(EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::To)), &customer.join("orders.flow.yaml~"))));
        // A folder moved out of the tree: only its old path, which is gone.
        let moved_out = dir.path().join("gamma");
        assert!(matters_here(&event(EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::From)), &moved_out)));
        assert!(!matters_here(&event(EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::From)), &dir.path().join(".gamma"))));
        // Lost events: load again.
        let overflow = notify::Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(matters_here(&overflow));
        assert!(matters_here(&event(EventKind::Modify(ModifyKind::Data(notify::event::DataChange::Content)), &flow)));
        assert!(!matters_here(&event(EventKind::Access(notify::event::AccessKind::Read), &flow)));
        assert!(!matters_here(&event(EventKind::Modify(ModifyKind::Metadata(notify::event::MetadataKind::Permissions)), &flow)));
    }
}
