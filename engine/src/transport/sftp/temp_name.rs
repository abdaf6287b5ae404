//! The name an upload has until it is complete: `.NAME.part` in the same folder.
//! The leading dot hides it from `ls`, shell globs and most partners' pollers;
//! the `.part` ending means a pattern anchored on the real extension (`*.x12`,
//! `850_*.edi`) can never match it. Same folder, so the final rename is a
//! rename within one file system (atomic on the server), never a copy.

pub fn temp_name(name: &str) -> String {
    format!(".{name}.part")
}

/// Whether `name` is an upload in progress (ours, or an interrupted one): listings skip it.
pub fn is_temp_name(name: &str) -> bool {
    name.len() > ".part".len() + 1 && name.starts_with('.') && name.ends_with(".part")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_on_the_real_extension_never_matches_the_temp_name() {
        let temp = temp_name("850_1.x12");
        assert_eq!(temp, ".850_1.x12.part");
        assert!(!temp.ends_with(".x12"));
        assert!(is_temp_name(&temp));
        assert!(!is_temp_name("850_1.x12"));
        assert!(!is_temp_name(".part"));
    }
}
