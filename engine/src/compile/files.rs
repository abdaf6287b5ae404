//! Many flow files compiled at once.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{CompiledFlow, compile_file};
use crate::diagnostic::Diagnostic;
use crate::project::Project;

pub type CompileResult = Result<(CompiledFlow, Vec<Diagnostic>), Vec<Diagnostic>>;

/// Loads and compiles many flow files, spread over the machine's cores: each file is
/// independent, and a reload of a large project (or `check` of all of it) waits on
/// this. Answers come in the order of `files`, so problems are listed the same way
/// every time.
pub fn compile_files(project: &Project, files: Vec<PathBuf>) -> Vec<(PathBuf, CompileResult)> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(file) = files.get(i) else { break };
            mine.push((i, compile_guarded(project, file)));
        }
        mine
    };
    let mut done: Vec<(usize, CompileResult)> = std::thread::scope(|scope| {
        // The stack is set rather than inherited (RUST_MIN_STACK could make it smaller):
        // the input bounds in `crate::limits` are chosen to hold on it with room to spare.
        let handles: Vec<_> = (0..workers)
            .filter_map(|_| std::thread::Builder::new().name("compile".into()).stack_size(WORKER_STACK).spawn_scoped(scope, work).ok())
            .collect();
        // No thread could be started: the files are compiled here, one after the other.
        let here = if handles.is_empty() { work() } else { Vec::new() };
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).chain(here).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    files.into_iter().zip(done.into_iter().map(|(_, r)| r)).collect()
}

/// The stack of a compile worker: the default of Rust's and tokio's threads.
pub const WORKER_STACK: usize = 2 << 20;

/// A panic while compiling one file (a bug) is that file's problem: the other
/// files' answers still come, and a serving engine keeps its flows rather than
/// losing the reload thread, or at start the process, to one file.
fn compile_guarded(project: &Project, file: &std::path::Path) -> CompileResult {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compile_file(project, file))).unwrap_or_else(|panic| {
        let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
        Err(vec![Diagnostic::error(format!(
            "flowmap failed while loading {} (a bug; please report it): {what}",
            crate::diagnostic::display_path(file)
        ))])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies of the shipped orders flow under distinct names, every seventh with a
    /// misspelt target field: each answer must belong to its own file, in order.
    #[test]
    fn answers_come_in_the_order_of_the_files_each_for_its_own_file() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository");
        let project = Project::load(repo).unwrap_or_else(|p| panic!("the project loads: {p:?}"));
        let orders = std::fs::read_to_string(repo.join("mappings/lnb-exact/orders.flow.yaml")).expect("the orders flow");
        let dir = tempfile::tempdir().expect("a temp dir");
        let files: Vec<PathBuf> = (0..30)
            .map(|i| {
                let mut text = orders.replace("flow: lnb-orders-to-exact", &format!("flow: copy-{i}"));
                if i % 7 == 3 {
                    text = text.replace("  YourRef: '\"PO\"", "  YourReff: '\"PO\"");
                }
                let file = dir.path().join(format!("copy-{i}.flow.yaml"));
                std::fs::write(&file, text).expect("written");
                file
            })
            .collect();
        let answers = compile_files(&project, files.clone());
        assert_eq!(answers.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(), files);
        for (i, (file, answer)) in answers.iter().enumerate() {
            match answer {
                Ok((flow, _)) => assert!(i % 7 != 3 && flow.name == format!("copy-{i}"), "{i}: {}", flow.name),
                Err(problems) => {
                    assert_eq!(i % 7, 3, "{i}: {problems:?}");
                    // The first error: the flow's WarehouseID edition warning comes before it.
                    let error = problems.iter().find(|p| p.is_error()).expect("an error");
                    let at = error.location.as_ref().map(|l| l.file.path.clone());
                    assert_eq!(at.as_deref(), Some(file.as_path()));
                    assert!(error.message.contains("YourReff"), "{}", error.message);
                }
            }
        }
    }
}
