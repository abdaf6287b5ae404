//! Diagnostics: one type for every problem a user is shown, with the file,
//! line and column it concerns, rendered as text with a caret or as JSON.

mod render;
mod source;

pub use render::{render_json, render_text};
pub use source::{Location, Pos, SourceFile, Span, display_path};

/// How serious a problem is: errors stop a flow from loading, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    /// Text printed after the caret.
    pub label: Option<String>,
    /// Hints printed under the snippet.
    pub help: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, message: clip(message.into()), location: None, label: None, help: Vec::new() }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(message) }
    }

    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(clip(label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(clip(help.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Messages quote names and values from the file, which may be megabytes
/// long (a 10 MB scalar taken for a name); one diagnostic shows at most
/// `MESSAGE_CHARS` of each text, the rest cut with `…`.
fn clip(text: String) -> String {
    match text.char_indices().nth(crate::limits::MESSAGE_CHARS) {
        None => text,
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Returns the closest candidate to `name`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let len = lower.chars().count();
    let near_enough = |c: &str| (c.chars().count().max(3) / 3).max(1);
    candidates
        .into_iter()
        // The distance is at least the difference in length: a name much longer than every
        // candidate (a 10 MB scalar) is no typo, and is not compared character by character
        // (the comparison costs the product of the lengths).
        .map(|c| (c, c.to_lowercase()))
        .filter(|(c, lc)| len.abs_diff(lc.chars().count()) <= near_enough(c))
        .map(|(c, lc)| (strsim::damerau_levenshtein(&lower, &lc), c))
        .filter(|(distance, c)| *distance <= near_enough(c))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_near_names_only() {
        let fields = ["YourRef", "OrderedBy", "WarehouseID", "SalesOrderLines"];
        assert_eq!(did_you_mean("YourRf", fields), Some("YourRef"));
        assert_eq!(did_you_mean("warehouseid", fields), Some("WarehouseID"));
        assert_eq!(did_you_mean("Currency", fields), None);
    }
}
