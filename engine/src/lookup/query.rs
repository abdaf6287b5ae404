use crate::model::QueryLanguage;

/// The request a live run would send for one batch of keys, in the system's
/// query language, with every literal escaped. Shown by dry-run and used by
/// the HTTP access later.
pub fn query_text(language: QueryLanguage, entity: &str, field: &str, keys: &[String], select: &[String]) -> String {
    match language {
        QueryLanguage::Odata => {
            let filter = keys.iter().map(|k| format!("{field} eq {}", odata_literal(k))).collect::<Vec<_>>().join(" or ");
            let mut select: Vec<&str> = select.iter().map(String::as_str).collect();
            if !select.contains(&field) && !select.is_empty() {
                select.push(field);
            }
            let select = if select.is_empty() { String::new() } else { format!("&$select={}", select.join(",")) };
            format!("{entity}?$filter={filter}{select}")
        }
        QueryLanguage::XeroWhere => {
            let filter =
                keys.iter().map(|k| format!("{field}==\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\""))).collect::<Vec<_>>().join(" OR ");
            format!("{entity}?where={filter}")
        }
        QueryLanguage::QboSql => {
            let list = keys.iter().map(|k| format!("'{}'", k.replace('\\', "\\\\").replace('\'', "\\'"))).collect::<Vec<_>>().join(",");
            format!("query?query=select * from {entity} where {field} in ({list})")
        }
        QueryLanguage::Params => format!("{entity}?{field}={}", keys.join(",")),
    }
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
            query_text(QueryLanguage::Odata, "crm/Accounts", "Code", &keys, &["ID".into()]),
            "crm/Accounts?$filter=Code eq 'O''Brien' or Code eq 'x'' or ''1'' eq ''1'&$select=ID,Code"
        );
        let guid = vec!["0b3a6f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b".to_string()];
        assert_eq!(
            query_text(QueryLanguage::Odata, "crm/Accounts", "ID", &guid, &[]),
            "crm/Accounts?$filter=ID eq guid'0b3a6f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b'"
        );
    }

    #[test]
    fn xero_and_qbo_literals_are_escaped() {
        let keys = vec!["A\"B".to_string()];
        assert_eq!(query_text(QueryLanguage::XeroWhere, "Contacts", "ContactNumber", &keys, &[]), "Contacts?where=ContactNumber==\"A\\\"B\"");
        let keys = vec!["O'Brien".to_string(), "SKU-1".to_string()];
        assert_eq!(query_text(QueryLanguage::QboSql, "Item", "Sku", &keys, &[]), "query?query=select * from Item where Sku in ('O\\'Brien','SKU-1')");
    }
}
