//! A multipart write-back's file part, planned from the record: where the bytes are, and how
//! they are named. Nothing is fetched here, so a dry-run shows the upload without making it.

use crate::compile::CompiledFile;
use crate::deliver::UploadFile;
use crate::expr::{Expr, Scope};

pub fn plan(f: &CompiledFile, scope: &Scope) -> Result<UploadFile, String> {
    Ok(UploadFile {
        json_part: f.json_part.clone(),
        file_part: f.file_part.clone(),
        from: f.from.clone(),
        url: text(&f.url, scope).map_err(|e| format!("file url: {e}"))?,
        name: text(&f.name, scope).map_err(|e| format!("file name: {e}"))?,
        content_type: text(&f.content_type, scope).map_err(|e| format!("file content type: {e}"))?,
    })
}

/// An expression's value as text; an empty one is a mistake (no URL, no name).
pub fn text(e: &Expr, scope: &Scope) -> Result<String, String> {
    let v = e.eval(scope).map_err(|e| e.to_string())?;
    let t = v.as_str().map(str::to_string).unwrap_or_else(|| if v.is_undefined() || v.is_none() { String::new() } else { v.to_string() });
    if t.trim().is_empty() { Err(format!("`{}` is empty", e.text)) } else { Ok(t) }
}
