//! What an `/api/v1/…` path addresses: `current/Me`, an entity set (`crm/Accounts`,
//! `bulk/CRM/Accounts`), one record (`crm/Accounts(guid'…')`) or a record's line collection, the
//! link of a `__deferred` (`purchaseorder/PurchaseOrders(guid'…')/PurchaseOrderLines`).

use crate::http::request::decode_path;

#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Me,
    Entity { division: String, bulk: bool, service: String, entity: String, key: Option<String>, navigation: Option<String> },
}

#[derive(Debug, PartialEq, Eq)]
pub enum PathError {
    NotFound,
    /// A key that is not `guid'…'`.
    Syntax,
}

impl Target {
    /// The division the call counts against (`current/Me` uses the user's current one).
    pub fn division<'a>(&'a self, current: &'a str) -> &'a str {
        match self {
            Target::Me => current,
            Target::Entity { division, .. } => division,
        }
    }
}

/// `rest` is the path after `/api/v1/`, still encoded.
pub fn parse(rest: &str) -> Result<Target, PathError> {
    let segments: Vec<String> = rest.trim_end_matches('/').split('/').map(decode_path).collect();
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    match parts.as_slice() {
        [current, "Me"] if current.eq_ignore_ascii_case("current") => Ok(Target::Me),
        [division, bulk, service, entity] if bulk.eq_ignore_ascii_case("bulk") => {
            let (entity, key) = split_key(entity)?;
            if key.is_some() {
                return Err(PathError::NotFound);
            }
            Ok(Target::Entity { division: division.to_string(), bulk: true, service: service.to_string(), entity, key, navigation: None })
        }
        [division, service, entity, navigation] => {
            let (entity, key) = split_key(entity)?;
            if key.is_none() {
                return Err(PathError::NotFound);
            }
            let navigation = Some(navigation.to_string());
            Ok(Target::Entity { division: division.to_string(), bulk: false, service: service.to_string(), entity, key, navigation })
        }
        [division, service, entity] => {
            let (entity, key) = split_key(entity)?;
            Ok(Target::Entity { division: division.to_string(), bulk: false, service: service.to_string(), entity, key, navigation: None })
        }
        _ => Err(PathError::NotFound),
    }
}

/// `Accounts(guid'…')` → (`Accounts`, the GUID).
fn split_key(segment: &str) -> Result<(String, Option<String>), PathError> {
    let Some((entity, rest)) = segment.split_once('(') else {
        return Ok((segment.to_string(), None));
    };
    let literal = rest.strip_suffix(')').ok_or(PathError::Syntax)?;
    let guid = literal.strip_prefix("guid'").and_then(|g| g.strip_suffix('\'')).ok_or(PathError::Syntax)?;
    if !crate::random::is_guid(guid) {
        return Err(PathError::Syntax);
    }
    Ok((entity.to_string(), Some(guid.to_ascii_lowercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(division: &str, bulk: bool, service: &str, name: &str, key: Option<&str>) -> Target {
        Target::Entity { division: division.into(), bulk, service: service.into(), entity: name.into(), key: key.map(Into::into), navigation: None }
    }

    #[test]
    fn paths() {
        assert_eq!(parse("current/Me"), Ok(Target::Me));
        assert_eq!(parse("3012345/crm/Accounts"), Ok(entity("3012345", false, "crm", "Accounts", None)));
        assert_eq!(parse("3012345/bulk/CRM/Accounts"), Ok(entity("3012345", true, "CRM", "Accounts", None)));
        let key = "5df0d39f-7524-4add-9413-788062e10fbe";
        assert_eq!(parse(&format!("1/crm/Accounts(guid%27{}%27)", key.to_uppercase())), Ok(entity("1", false, "crm", "Accounts", Some(key))));
        assert_eq!(parse("1/crm/Accounts('x')"), Err(PathError::Syntax));
        assert_eq!(parse("1/crm/Accounts(guid'x'"), Err(PathError::Syntax));
        assert_eq!(parse("1/crm"), Err(PathError::NotFound));
        assert_eq!(parse("1/a/b/c/d"), Err(PathError::NotFound));
        let lines = parse(&format!("1/purchaseorder/PurchaseOrders(guid'{key}')/PurchaseOrderLines"));
        let expected = Target::Entity {
            division: "1".into(),
            bulk: false,
            service: "purchaseorder".into(),
            entity: "PurchaseOrders".into(),
            key: Some(key.into()),
            navigation: Some("PurchaseOrderLines".into()),
        };
        assert_eq!(lines, Ok(expected));
        assert_eq!(parse("1/purchaseorder/PurchaseOrders/PurchaseOrderLines"), Err(PathError::NotFound));
    }
}
