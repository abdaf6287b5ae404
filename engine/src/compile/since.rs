//! `source.version` and `source.since`, checked once when the flow loads.

use super::context::Ctx;
use crate::diagnostic::Diagnostic;
use crate::expr::Expr;
use crate::model::{QueryLanguage, Source, Transport};
use crate::project::System;

/// "What changed since the last run", compiled.
#[derive(Debug, Clone)]
pub struct CompiledSince {
    /// The source field compared with the watermark.
    pub field: String,
    /// Where the first run starts.
    pub start: Option<String>,
}

/// The version expression: `None` without one, `Some(None)` when it does not compile.
pub fn compile_version(ctx: &mut Ctx, source: &Source, roots: &[&str]) -> Option<Option<Expr>> {
    source.version.as_ref().map(|v| ctx.expr("/source/version", v, roots))
}

/// `since`, when the source system can be asked for what changed: an OData API (the
/// condition is an OData `$filter`, the field among the `$select`ed ones) or a system with a
/// change feed (`http.changes`, QuickBooks' Change Data Capture) or a since-header
/// (`http.since_header`, Xero's `If-Modified-Since`).
pub fn compile_since(ctx: &mut Ctx, source: &Source, system: Option<&System>) -> Option<CompiledSince> {
    let since = source.since.as_ref()?;
    let system = system?;
    let at = ctx.spans.key_loc("/source/since");
    let odata = system.def.query() == QueryLanguage::Odata;
    let asked = odata || system.def.http.changes.is_some() || system.def.http.since_header.is_some();
    if system.def.transport != Transport::Http || !asked {
        ctx.error(
            Diagnostic::error(format!(
                "`since` asks an OData API, a change feed or a since-header for what changed; `{}` has none",
                system.def.system
            ))
            .at(at)
            .help("for files, every file is taken once already; for other APIs, filter in `query`"),
        );
        return None;
    }
    if let Some(select) = source.query.get("$select").and_then(|v| v.as_str())
        && !select.split(',').any(|f| f.trim() == since.field)
    {
        ctx.error(
            Diagnostic::error(format!("`since` compares `{}`, which `$select` does not list", since.field))
                .at(ctx.spans.value_loc("/source/since/field"))
                .help(format!("add `{}` to `$select`, so each run can find the newest value it took", since.field)),
        );
    }
    if let Some(start) = &since.start
        && crate::expr::functions::instant_ms(start).is_none()
    {
        ctx.error(
            Diagnostic::error(format!("`start` is not a date: `{start}`"))
                .at(ctx.spans.value_loc("/source/since/start"))
                .help("an ISO date or datetime, e.g. `2026-01-01` or `2026-01-01T00:00:00Z`"),
        );
    }
    Some(CompiledSince { field: since.field.clone(), start: since.start.clone() })
}
