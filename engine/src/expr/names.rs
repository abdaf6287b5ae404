use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// Interns a variable name. The set of names is bounded by the flows loaded
/// (aliases, `settings`, `lookup`, …), so leaking them is bounded too.
pub fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(leaked);
    leaked
}
