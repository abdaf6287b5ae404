use crate::model::QueryLanguage;

/// The request a live run sends for one batch of keys, in the system's query
/// language, with every literal escaped: a path relative to the base URL and
/// its query parameters (not yet URL-encoded; the HTTP client encodes them).
///
/// `numeric`: the field is a number (Exact's `OrderNumber`), so OData gets number literals
/// (`OrderNumber eq 30001`; a string literal is refused as the wrong type). Keys that are not
/// numbers cannot match it and are left out ([`numeric_keys`]).
pub fn query_parts(
    language: QueryLanguage,
    entity: &str,
    field: &str,
    keys: &[String],
    select: &[String],
    numeric: bool,
) -> (String, Vec<(String, String)>) {
    match language {
        QueryLanguage::Odata => {
            let literal = |k: &String| if numeric { k.clone() } else { odata_literal(k) };
            let filter = keys.iter().map(|k| format!("{field} eq {}", literal(k))).collect::<Vec<_>>().join(" or ");
            let mut query = vec![("$filter".to_string(), filter)];
            if !select.is_empty() {
                query.push(("$select".to_string(), odata_select(select, field)));
            }
            (entity.to_string(), query)
        }
        QueryLanguage::XeroWhere => {
            let filter =
                keys.iter().map(|k| format!("{field}==\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\""))).collect::<Vec<_>>().join(" OR ");
            (entity.to_string(), vec![("where".to_string(), filter)])
        }
        QueryLanguage::QboSql => {
            let list = keys.iter().map(|k| format!("'{}'", k.replace('\\', "\\\\").replace('\'', "\\'"))).collect::<Vec<_>>().join(",");
            ("query".to_string(), vec![("query".to_string(), format!("select * from {entity} where {field} in ({list})"))])
        }
        QueryLanguage::Params => (entity.to_string(), vec![(field.to_string(), keys.join(","))]),
    }
}

/// The keys a numeric field can match: numbers as OData writes them (an optional `-`,
/// digits, an optional fraction), so nothing else ever reaches a query unquoted.
pub fn numeric_keys(keys: &[String]) -> Vec<String> {
    let number = |k: &str| {
        let digits = k.strip_prefix('-').unwrap_or(k);
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
        !whole.is_empty() && !fraction.is_empty() && whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
    };
    keys.iter().filter(|k| number(k)).cloned().collect()
}

/// `$select` always names the matched field too: answers are matched to keys by it.
pub fn odata_select(select: &[String], field: &str) -> String {
    let mut fields: Vec<&str> = select.iter().map(String::as_str).collect();
    if !fields.contains(&field) {
        fields.push(field);
    }
    fields.join(",")
}

/// The same request as text, as dry-run shows it.
pub fn query_text(language: QueryLanguage, entity: &str, field: &str, keys: &[String], select: &[String], numeric: bool) -> String {
    let (path, query) = query_parts(language, entity, field, keys, select, numeric);
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", query.join("&"))
}

/// An OData literal: GUIDs as `guid'…'`, everything else as a string with `'` doubled.
fn odata_literal(key: &str) -> String {
    if is_guid(key) { format!("guid'{key}'") } else { format!("'{}'", key.replace('\'', "''")) }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_literals_are_escaped() {
        let keys = vec!["O'Brien".to_string(), "x' or '1' eq '1".to_string()];
        assert_eq!(
            query_text(QueryLanguage::Odata, "crm/Accounts", "Code", &keys, &["ID".into()], false),
            "crm/Accounts?$filter=Code eq 'O''Brien' or Code eq 'x'' or ''1'' eq ''1'&$select=ID,Code"
        );
        let guid = vec!["0b3a6f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b".to_string()];
        assert_eq!(
            query_text(QueryLanguage::Odata, "crm/Accounts", "ID", &guid, &[], false),
            "crm/Accounts?$filter=ID eq guid'0b3a6f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b'"
        );
    }

    #[test]
    fn xero_and_qbo_literals_are_escaped() {
        let keys = vec!["A\"B".to_string()];
        assert_eq!(query_text(QueryLanguage::XeroWhere, "Contacts", "ContactNumber", &keys, &[], false), "Contacts?where=ContactNumber==\"A\\\"B\"");
        let keys = vec!["O'Brien".to_string(), "SKU-1".to_string()];
        assert_eq!(
            query_text(QueryLanguage::QboSql, "Item", "Sku", &keys, &[], false),
            "query?query=select * from Item where Sku in ('O\\'Brien','SKU-1')"
        );
    }

    #[test]
    fn numeric_fields_get_number_literals_and_only_numbers() {
        let keys = vec!["30001".to_string(), "PO-7".into(), "-2.5".into(), "1 or 1 eq 1".into(), "".into(), "3.".into()];
        let numbers = numeric_keys(&keys);
        assert_eq!(numbers, vec!["30001".to_string(), "-2.5".into()]);
        assert_eq!(
            query_text(QueryLanguage::Odata, "purchaseorder/PurchaseOrders", "OrderNumber", &numbers, &["OrderNumber".into()], true),
            "purchaseorder/PurchaseOrders?$filter=OrderNumber eq 30001 or OrderNumber eq -2.5&$select=OrderNumber"
        );
    }
}
