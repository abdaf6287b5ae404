//! Every write checked against the catalogue (schemas/catalogue/xero.yaml), in two layers as Xero
//! has them. What Xero cannot read into its model — an element it does not know, a value of the
//! wrong type, a text outside a field's `values` — fails the whole request with a
//! PostDataInvalidException naming the path (`Invoices[0].Type`). What it reads but refuses —
//! a required field left out, a read-only one set, a text too long — is a ValidationError of that
//! element. Enum values match regardless of case (Xero's JSON reader does) and are stored as the
//! catalogue spells them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::catalogue::{FieldSpec, FieldType};
use super::envelope::parse_date;

/// Checks one element's types and enums, in place; `Err` is the PostDataInvalidException message.
pub fn shape(fields: &BTreeMap<String, FieldSpec>, element: &mut Map<String, Value>, path: &str) -> Result<(), String> {
    for (name, value) in element.iter_mut() {
        let here = format!("{path}.{name}");
        let Some(spec) = fields.get(name) else {
            return Err(format!(
                "JSON for post data was invalid,The element '{name}' was not recognised. Ensure the element name has the correct case. Path '{here}'."
            ));
        };
        check_value(spec, value, &here)?;
    }
    Ok(())
}

fn check_value(spec: &FieldSpec, value: &mut Value, path: &str) -> Result<(), String> {
    let wrong =
        |value: &Value, wanted: &str| format!("JSON for post data was invalid,Error converting value {value} to type '{wanted}'. Path '{path}'.");
    if value.is_null() {
        return Ok(());
    }
    match spec.kind {
        FieldType::String => {
            let Some(text) = value.as_str() else { return Err(wrong(value, "String")) };
            if let Some(values) = &spec.values {
                match values.iter().find(|v| v.eq_ignore_ascii_case(text)) {
                    Some(canonical) => *value = Value::String(canonical.clone()),
                    None => {
                        return Err(format!(
                            "JSON for post data was invalid,Error converting value {value} to an allowed value ({}). Path '{path}'.",
                            values.join(", ")
                        ));
                    }
                }
            }
        }
        FieldType::Number if !value.is_number() => return Err(wrong(value, "Decimal")),
        FieldType::Integer if !(value.is_i64() || value.is_u64()) => return Err(wrong(value, "Integer")),
        FieldType::Boolean if !value.is_boolean() => return Err(wrong(value, "Boolean")),
        FieldType::Date | FieldType::DateTime if value.as_str().and_then(parse_date).is_none() => return Err(wrong(value, "DateTime")),
        FieldType::Guid if !value.as_str().is_some_and(crate::random::is_guid) => return Err(wrong(value, "Guid")),
        FieldType::Object => {
            let Some(object) = value.as_object_mut() else { return Err(wrong(value, "Object")) };
            if !spec.fields.is_empty() {
                shape(&spec.fields, object, path)?;
            }
        }
        FieldType::List => {
            let Some(items) = value.as_array_mut() else { return Err(wrong(value, "Array")) };
            for (index, item) in items.iter_mut().enumerate() {
                let here = format!("{path}[{index}]");
                match item.as_object_mut() {
                    Some(object) if !spec.fields.is_empty() => shape(&spec.fields, object, &here)?,
                    Some(_) => {}
                    None if spec.fields.is_empty() => {}
                    None => return Err(format!("JSON for post data was invalid,Error converting value {item} to type 'Object'. Path '{here}'.")),
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The ValidationErrors of one element that passed `shape`: required fields (when `creating`),
/// read-only ones (but `key`, which names the record a POST updates) and lengths.
pub fn field_errors(fields: &BTreeMap<String, FieldSpec>, element: &Map<String, Value>, creating: bool, key: Option<&str>) -> Vec<String> {
    let mut errors = Vec::new();
    walk(fields, element, creating, key, "", &mut errors);
    errors
}

fn walk(
    fields: &BTreeMap<String, FieldSpec>,
    element: &Map<String, Value>,
    creating: bool,
    key: Option<&str>,
    prefix: &str,
    errors: &mut Vec<String>,
) {
    for (name, spec) in fields {
        let here = format!("{prefix}{name}");
        let value = element.get(name).filter(|v| !v.is_null());
        match value {
            None if creating && spec.required => errors.push(format!("{here} is required.")),
            None => {}
            Some(_) if spec.read_only && key != Some(name.as_str()) => errors.push(format!("{here} is read-only and cannot be set.")),
            Some(Value::String(text)) => {
                if let Some(max) = spec.max_length.filter(|max| text.chars().count() > *max) {
                    errors.push(format!("{here} must be no more than {max} characters long."));
                }
            }
            // Nested objects are checked as a whole element: what they require, they require on an update too.
            Some(Value::Object(object)) => walk(&spec.fields, object, true, None, &format!("{here}."), errors),
            Some(Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    if let Some(object) = item.as_object() {
                        walk(&spec.fields, object, true, None, &format!("{here}[{index}]."), errors);
                    }
                }
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xero::catalogue::catalogue;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn types_and_unknown_elements_fail_the_request_naming_the_path() {
        let invoices = &catalogue()["Invoices"].fields;
        let mut element = object(json!({ "Type": "ACCREC", "LineItems": [{ "Description": "x", "Quantity": "two" }] }));
        let error = shape(invoices, &mut element, "Invoices[0]").unwrap_err();
        assert!(error.ends_with("Error converting value \"two\" to type 'Decimal'. Path 'Invoices[0].LineItems[0].Quantity'."), "{error}");
        let mut element = object(json!({ "Colour": "red" }));
        assert!(shape(invoices, &mut element, "Invoices[0]").unwrap_err().contains("The element 'Colour' was not recognised"));
    }

    #[test]
    fn a_value_outside_the_enum_fails_the_request_and_case_is_forgiven() {
        // The catalogue's `values` (XeroAPI/Xero-OpenAPI's enums), here on a field of our own.
        let spec = FieldSpec {
            kind: FieldType::String,
            required: true,
            read_only: false,
            max_length: None,
            values: Some(vec!["ACCREC".into(), "ACCPAY".into()]),
            fields: BTreeMap::new(),
        };
        let fields = BTreeMap::from([("Type".to_string(), spec)]);
        let mut element = object(json!({ "Type": "ACREC" }));
        assert_eq!(
            shape(&fields, &mut element, "Invoices[0]").unwrap_err(),
            "JSON for post data was invalid,Error converting value \"ACREC\" to an allowed value (ACCREC, ACCPAY). Path 'Invoices[0].Type'."
        );
        let mut element = object(json!({ "Type": "accpay" }));
        shape(&fields, &mut element, "Invoices[0]").unwrap();
        assert_eq!(element["Type"], "ACCPAY", "stored as the catalogue spells it");
    }

    #[test]
    fn required_read_only_and_lengths_are_validation_errors() {
        let contacts = &catalogue()["Contacts"].fields;
        let element = object(json!({ "ContactNumber": "x".repeat(51), "IsCustomer": true }));
        let errors = field_errors(contacts, &element, true, None);
        assert!(errors.contains(&"Name is required.".to_string()), "{errors:?}");
        assert!(errors.contains(&"ContactNumber must be no more than 50 characters long.".to_string()), "{errors:?}");
        assert!(errors.contains(&"IsCustomer is read-only and cannot be set.".to_string()), "{errors:?}");
        assert!(field_errors(contacts, &object(json!({ "ContactNumber": "1" })), false, None).is_empty(), "an update needs no Name");
    }
}
