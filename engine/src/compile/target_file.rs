//! The file a file target writes: its name (`target.file`) and, with
//! `target.group`, which records share one file. Checked here, once, so a run
//! never finds out per record that a name cannot be told apart or that a
//! group means nothing for the target.

use super::context::Ctx;
use crate::diagnostic::Diagnostic;
use crate::expr::{Expr, Template};
use crate::model::{Target, Transport};

/// The names a grouped file's name is rendered with besides the first record's.
pub const GROUP: &str = "group";
pub const INTERCHANGE: &str = "interchange";

/// `target.file` and `target.group`, compiled; None when a problem was reported.
pub struct TargetFile {
    pub file: Option<Template>,
    pub group: Option<Expr>,
}

/// `numbered`: the target's format numbers its files (X12), so `interchange` has a value.
pub fn compile_target_file(ctx: &mut Ctx, target: &Target, transport: Transport, numbered: bool, alias: &'static str) -> Option<TargetFile> {
    let record_roots = [alias, "settings", "lookup", "out"];
    if transport == Transport::Http {
        let mut ok = true;
        for (key, given, what) in [
            ("file", target.file.is_some(), "names the file a record is written to"),
            ("group", target.group.is_some(), "gathers records into one file"),
        ] {
            if given {
                ctx.error(
                    Diagnostic::error(format!("`{key}` {what}; `{}` is an http system", target.system))
                        .at(ctx.spans.key_loc(&format!("/target/{key}"))),
                );
                ok = false;
            }
        }
        return ok.then_some(TargetFile { file: None, group: None });
    }
    let Some(group_text) = &target.group else {
        let file = match &target.file {
            Some(text) => Some(ctx.template("/target/file", text, &record_roots)?),
            None => None,
        };
        return Some(TargetFile { file, group: None });
    };
    let group = ctx.expr("/target/group", group_text, &record_roots);
    let Some(file_text) = &target.file else {
        ctx.error(
            Diagnostic::error("a grouped file needs a name: `group` without `file`".to_string())
                .at(ctx.spans.key_loc("/target/group"))
                .help("name each file with `file`, e.g. `PO_{{ group }}_{{ interchange }}.x12` (`group` and `interchange` are in scope)"),
        );
        return None;
    };
    let file = ctx.template("/target/file", file_text, &[alias, "settings", "lookup", "out", GROUP, INTERCHANGE])?;
    if file.reads(INTERCHANGE) && !numbered {
        ctx.error(
            Diagnostic::error(format!("`interchange` has no value here: `{}` does not number its files (only X12 does)", target.system))
                .at(ctx.spans.value_loc("/target/file"))
                .help("name the files by `group` (and the first record's values) instead"),
        );
        return None;
    }
    // Two files of one batch under one name: the second would be refused (a file is never
    // overwritten) and its records left in doubt. A name that reads nothing of the file's
    // records, its group or its interchange cannot tell them apart.
    if !file.reads(GROUP) && !file.reads(INTERCHANGE) && file.reads_only(&["settings"]) {
        ctx.error(
            Diagnostic::error(format!(
                "every grouped file would be named `{}`: the name reads neither `group`, `interchange` nor a record",
                file.text
            ))
            .at(ctx.spans.value_loc("/target/file"))
            .help("put `{{ group }}` or `{{ interchange }}` in the name, e.g. `PO_{{ group }}_{{ interchange }}.x12`"),
        );
        return None;
    }
    Some(TargetFile { file: Some(file), group: Some(group?) })
}
