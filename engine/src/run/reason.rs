//! Why a record was not sent, and whose problem that is. The kind decides
//! what a run does with the record; it is worked out from the compiled flow
//! (which names an expression reads), never from the wording of a message.

use crate::expr::{EvalError, Expr, Template};

/// Whose problem a reason is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReasonKind {
    /// The record's data: a block reason, journaled and written back to the source.
    Record,
    /// A call that could not be made or answered (a look-up that could not be
    /// asked): the record waits for the next run, nothing is written back.
    Call,
    /// The flow itself (a configuration error): the same for every record, so
    /// the run stops with it; nothing is journaled or written back for the record.
    Flow,
}

/// One reason, with the place in the flow it comes from when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub kind: ReasonKind,
    pub text: String,
    /// `file:line:col` of the flow entry that failed.
    pub origin: Option<String>,
}

impl Reason {
    pub fn record(text: impl Into<String>) -> Reason {
        Reason { kind: ReasonKind::Record, text: text.into(), origin: None }
    }

    pub fn call(text: impl Into<String>) -> Reason {
        Reason { kind: ReasonKind::Call, text: text.into(), origin: None }
    }

    pub fn new(kind: ReasonKind, text: impl Into<String>, origin: &str) -> Reason {
        Reason { kind, text: text.into(), origin: (!origin.is_empty()).then(|| origin.to_string()) }
    }

    /// The message a run stops with: where the error is in the flow, the
    /// error, and what became of the records.
    pub fn stop_message(&self) -> String {
        format!(
            "{} (the flow's, not a record's: nothing was blocked or written back for it; fix the flow, the records wait for the next run)",
            self.as_configuration_error()
        )
    }

    /// `configuration error at file:line:col: …`
    pub fn as_configuration_error(&self) -> String {
        let at = self.origin.as_deref().map(|at| format!(" at {at}")).unwrap_or_default();
        format!("configuration error{at}: {}", self.text)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// Whether an expression reads anything of the record: the record itself,
/// its look-ups, its payload, a list element, what an existence check found.
/// Only `settings` and constants are the flow's. An expression whose names
/// cannot all be listed counts as reading the record (the safe side: its
/// failure blocks one record rather than stopping every run).
pub fn reads_record(e: &Expr) -> bool {
    !e.reads_only(&["settings"])
}

pub fn template_reads_record(t: &Template) -> bool {
    !t.reads_only(&["settings"])
}

/// Whose problem it is that `expr` failed with `error`.
///
/// - A path into `settings` that does not resolve is the flow's, whatever else
///   the expression reads (`settings.warehouse.instock`). A path whose key comes
///   from the record (`settings.vat[order.vat_code]`) is not a fixed path: a
///   table without an entry for this record's value is the record's.
/// - Any other failure is the flow's when the expression reads no record data
///   (it would fail for every record), else the record's.
pub fn of_failure(expr: &Expr, error: &EvalError) -> ReasonKind {
    if missing_setting(error) || !reads_record(expr) { ReasonKind::Flow } else { ReasonKind::Record }
}

/// A fixed path into `settings` that is missing. The path is the engine's
/// own rendering of the path it walked (`expr::path`): keys joined by `.`,
/// an index or a key computed at run time in brackets.
fn missing_setting(error: &EvalError) -> bool {
    match error {
        EvalError::Missing(path) => (path == "settings" || path.starts_with("settings.")) && !path.contains('['),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Compiler, ExprEnv, Names};

    fn reads(text: &str) -> bool {
        let env = ExprEnv::new(&Vec::new()).unwrap();
        let settings = ["warehouse".to_string(), "notes".to_string(), "rate".to_string()];
        let lookups = ["item".to_string()];
        let names = Names { roots: &["order", "settings", "line", "lookup", "out"], settings: &settings, lookups: &lookups, shapes: &[] };
        reads_record(&Compiler { env: &env }.expr(text, &names).unwrap().0)
    }

    /// Decided from the names an expression reads, once per expression.
    #[test]
    fn an_expression_reading_only_settings_is_the_flows() {
        assert!(!reads("settings.warehouse.preorder and settings.warehouse.in_stock"));
        assert!(!reads("settings.warehouse.preorder"));
        assert!(!reads("money_mul(settings.rate, 2)"));
        assert!(!reads("\"Closed\""));
        assert!(reads("settings.notes[order.currency]"));
        assert!(reads("settings.warehouse.preorder if order.line.preorder else settings.warehouse.in_stock"));
        assert!(reads("line.quantity > 0"));
        assert!(reads("lookup.item[line.sku]"));
    }

    #[test]
    fn a_missing_setting_is_the_flows_unless_the_record_chose_the_entry() {
        assert!(missing_setting(&EvalError::Missing("settings.warehouse.instock".into())));
        assert!(!missing_setting(&EvalError::Missing("settings.vat[\"21\"]".into())));
        assert!(!missing_setting(&EvalError::Missing("order.lines".into())));
        assert!(!missing_setting(&EvalError::Failed("settings.x".into())));
    }
}
