use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{Failure, Out, paths};
use crate::load::{SchemaKind, schema_json};

/// `flowmap schema`: writes (or with `--check`, verifies) schemas/*.schema.json.
pub fn run(root: Option<PathBuf>, check: bool) -> Result<ExitCode, Failure> {
    let root = paths::project_root(root, None)?;
    let mut out = Out::text();
    let dir = root.join("schemas");
    let mut stale = Vec::new();
    for kind in SchemaKind::ALL {
        let text = serde_json::to_string_pretty(&schema_json(kind)).map_err(|e| e.to_string())? + "\n";
        let file = dir.join(kind.file_name());
        let current = std::fs::read_to_string(&file).unwrap_or_default();
        if current == text {
            continue;
        }
        if check {
            stale.push(file.display().to_string());
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            writeln!(out, "wrote {}", file.display())?;
        }
    }
    out.finish()?;
    if stale.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    // eprintln! would panic on a closed stderr; the status says it all the same.
    let _ = writeln!(std::io::stderr(), "stale schemas (run `flowmap schema`): {}", stale.join(", "));
    Ok(ExitCode::FAILURE)
}
