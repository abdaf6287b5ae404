//! Every write checked against the catalogue (schemas/catalogue/qbo.yaml), generically, in the
//! order QBO's reader and then its validation meet the problems (notes §3):
//! - what Intuit's JSON reader cannot map — an unknown property, a value of the wrong type — is
//!   2010 "Request has invalid or unsupported property" (VCR error/400_json.yml: `Property
//!   Name:Unrecognized field "BadJson" (class …)`); a text outside the field's `values` is 2170
//!   "Invalid Enumeration" (Intuit's "Top QuickBooks Online API errors", 2017);
//! - read-only properties are dropped, as QBO ignores them on a write (so the object read back
//!   can be sent as a full update: qbo_api's update specs do just that);
//! - a required property missing is 2020 "Required param missing" (on a create, and inside any
//!   object or line sent: python-quickbooks PR #257 quotes "Required parameter Line is missing in
//!   the request"); a text longer than `max_length` is 2050 "String length is either shorter or
//!   longer than supported by specification" (as quoted in consolibyte/quickbooks-php #79).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::envelope::{FaultError, parse_time};
use crate::xero::catalogue::{FieldSpec, FieldType};

/// Checks names, types and enums, in place (enums stored as the catalogue spells them).
pub fn shape(fields: &BTreeMap<String, FieldSpec>, element: &mut Map<String, Value>, entity: &str, path: &str) -> Result<(), FaultError> {
    for (name, value) in element.iter_mut() {
        let here = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
        let Some(spec) = fields.get(name) else {
            return Err(unsupported(format!(
                "Property Name:Unrecognized field \"{name}\" (class com.intuit.schema.finance.v3.{entity}), not marked as ignorable"
            ))
            .on(here));
        };
        check_value(spec, value, entity, &here)?;
    }
    Ok(())
}

fn unsupported(detail: String) -> FaultError {
    FaultError::new("2010", "Request has invalid or unsupported property", detail)
}

fn check_value(spec: &FieldSpec, value: &mut Value, entity: &str, path: &str) -> Result<(), FaultError> {
    let wrong = |value: &Value, wanted: &str| {
        unsupported(format!("Property Name:Can not construct instance of {wanted} from {value} for property {path}")).on(path.to_string())
    };
    if value.is_null() {
        return Ok(());
    }
    match spec.kind {
        FieldType::String => {
            let Some(text) = value.as_str() else { return Err(wrong(value, "java.lang.String")) };
            if let Some(values) = &spec.values {
                match values.iter().find(|v| v.eq_ignore_ascii_case(text)) {
                    Some(canonical) => *value = Value::String(canonical.clone()),
                    None => {
                        // Intuit's "Top QuickBooks Online API errors" (developer.intuit.com hub, 2017-06-08).
                        return Err(FaultError::new("2170", "Invalid Enumeration", format!("Invalid Enumeration: {text}")).on(path.to_string()));
                    }
                }
            }
        }
        FieldType::Number if !value.is_number() => return Err(wrong(value, "java.math.BigDecimal")),
        FieldType::Integer if !(value.is_i64() || value.is_u64()) => return Err(wrong(value, "java.math.BigInteger")),
        FieldType::Boolean if !value.is_boolean() => return Err(wrong(value, "java.lang.Boolean")),
        FieldType::Date | FieldType::DateTime if value.as_str().and_then(parse_time).is_none() => return Err(wrong(value, "java.util.Date")),
        FieldType::Object => {
            let Some(object) = value.as_object_mut() else { return Err(wrong(value, "an object")) };
            if !spec.fields.is_empty() {
                shape(&spec.fields, object, entity, path)?;
            }
        }
        FieldType::List => {
            let Some(items) = value.as_array_mut() else { return Err(wrong(value, "java.util.ArrayList")) };
            for (index, item) in items.iter_mut().enumerate() {
                let here = format!("{path}[{index}]");
                match item.as_object_mut() {
                    Some(object) if !spec.fields.is_empty() => shape(&spec.fields, object, entity, &here)?,
                    Some(_) => {}
                    None if spec.fields.is_empty() => {}
                    None => return Err(wrong(item, "an object")),
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Removes what the client may not set (QBO ignores it); `Id` stays, it names the record to update.
pub fn drop_read_only(fields: &BTreeMap<String, FieldSpec>, element: &mut Map<String, Value>, top: bool) {
    element.retain(|name, _| (top && name == "Id") || !fields.get(name).is_some_and(|s| s.read_only));
    for (name, value) in element.iter_mut() {
        let Some(spec) = fields.get(name) else { continue };
        match value {
            Value::Object(object) => drop_read_only(&spec.fields, object, false),
            Value::Array(items) => items.iter_mut().filter_map(Value::as_object_mut).for_each(|o| drop_read_only(&spec.fields, o, false)),
            _ => {}
        }
    }
}

/// The first required property missing (`creating`: at the top too) or text too long.
pub fn field_error(fields: &BTreeMap<String, FieldSpec>, element: &Map<String, Value>, creating: bool, path: &str) -> Option<FaultError> {
    for (name, spec) in fields {
        let here = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
        match element.get(name).filter(|v| !v.is_null()) {
            None if creating && spec.required && !spec.read_only => {
                return Some(
                    FaultError::new(
                        "2020",
                        "Required param missing, need to supply the required value for the API",
                        format!("Required parameter {here} is missing in the request"),
                    )
                    .on(here),
                );
            }
            Some(Value::String(text)) => {
                let length = text.chars().count();
                if let Some(max) = spec.max_length.filter(|max| length > *max) {
                    return Some(
                        FaultError::new(
                            "2050",
                            "String length is either shorter or longer than supported by specification",
                            format!(
                                "String length specified does not match the supported length. Min:0 Max:{max} supported. Supplied length:{length}"
                            ),
                        )
                        .on(here),
                    );
                }
            }
            Some(Value::Object(object)) => {
                if let Some(error) = field_error(&spec.fields, object, true, &here) {
                    return Some(error);
                }
            }
            Some(Value::Array(items)) => {
                for (index, object) in items.iter().enumerate().filter_map(|(i, v)| v.as_object().map(|o| (i, o))) {
                    if let Some(error) = field_error(&spec.fields, object, true, &format!("{here}[{index}]")) {
                        return Some(error);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qbo::catalogue::catalogue;
    use serde_json::json;

    #[test]
    fn unknown_properties_and_wrong_types_are_2010_naming_the_field() {
        let items = &catalogue()["Item"].fields;
        let mut element = json!({ "Name": "x", "Colour": "red" }).as_object().cloned().unwrap();
        let error = shape(items, &mut element, "Item", "").unwrap_err();
        assert_eq!((error.code, error.element.as_str()), ("2010", "Colour"));
        let mut element = json!({ "Name": "x", "UnitPrice": "cheap" }).as_object().cloned().unwrap();
        assert_eq!(shape(items, &mut element, "Item", "").unwrap_err().element, "UnitPrice");
    }

    #[test]
    fn read_only_properties_are_dropped_and_required_ones_asked_for() {
        let items = &catalogue()["Item"].fields;
        let mut element =
            json!({ "Id": "7", "Name": "x", "FullyQualifiedName": "y", "ParentRef": { "value": "1", "name": "z" } }).as_object().cloned().unwrap();
        drop_read_only(items, &mut element, true);
        assert_eq!(Value::Object(element), json!({ "Id": "7", "Name": "x", "ParentRef": { "value": "1" } }));
        let error = field_error(items, &json!({ "Name": "x" }).as_object().cloned().unwrap(), true, "").unwrap();
        assert_eq!((error.code, error.detail.as_str()), ("2020", "Required parameter Type is missing in the request"));
    }
}
