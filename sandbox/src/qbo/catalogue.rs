//! QuickBooks' request shapes, read from `schemas/catalogue/qbo.yaml`, the catalogue `flowmap check`
//! holds mappings to (its fields come from Intuit's Finance.xsd and entity reference). The
//! emulator checks every write against it generically, with the reader the Xero emulator uses.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::xero::catalogue::{EntitySpec, from_yaml};

const QBO_YAML: &str = include_str!("../../../schemas/catalogue/qbo.yaml");

/// Every entity of the catalogue by name (`Invoice`, `Item`, …).
pub fn catalogue() -> &'static BTreeMap<String, EntitySpec> {
    static CATALOGUE: OnceLock<BTreeMap<String, EntitySpec>> = OnceLock::new();
    // A broken file is caught by the unit test below; the emulator then checks nothing rather
    // than failing every request.
    CATALOGUE.get_or_init(|| from_yaml(QBO_YAML).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xero::catalogue::FieldType;

    #[test]
    fn the_engine_catalogue_is_the_emulator_catalogue() {
        let all = from_yaml(QBO_YAML).expect("schemas/catalogue/qbo.yaml reads");
        assert!(all["Item"].fields["Name"].required);
        assert_eq!(all["Item"].fields["Name"].max_length, Some(100));
        assert_eq!(all["Invoice"].fields["Line"].kind, FieldType::List);
        assert!(all["Invoice"].fields["TotalAmt"].read_only);
        assert!(all.contains_key("Term") && all.contains_key("PaymentMethod") && all.contains_key("Attachable"));
    }
}
