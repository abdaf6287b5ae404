//! How the simulated partner answers: rules for the whole sandbox or for one PO number, set by
//! a test or an integrator (`POST /_sandbox/truecommerce/rules`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

/// One set of rules. The default accepts everything and invoices every accepted line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rules {
    /// This PO1 line (PO101) is rejected: `ACK*IR`, not invoiced.
    pub reject_line: Option<String>,
    /// This line is backordered: `ACK*IB`, not invoiced yet.
    pub backorder_line: Option<String>,
    /// This line is accepted with another quantity: `ACK*IC`, invoiced at that quantity.
    pub change_quantity: Option<QuantityChange>,
    /// Added to the 810's TDS (in currency units: 1.5 makes it 150 cents too high).
    pub wrong_total: Option<f64>,
    /// The 810 interchange is put in Export twice, under two names, with the same ISA13.
    pub duplicate_interchange: bool,
    /// No 997 for what was received.
    pub no_997: bool,
    /// The group is rejected: a 997 with AK5 R and AK9 R, and no 855 or 810.
    pub reject_group: bool,
    /// Whether an 810 follows the 855.
    pub invoice: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuantityChange {
    pub line: String,
    pub quantity: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            reject_line: None,
            backorder_line: None,
            change_quantity: None,
            wrong_total: None,
            duplicate_interchange: false,
            no_997: false,
            reject_group: false,
            invoice: true,
        }
    }
}

/// The sandbox's rules and those of single PO numbers (which replace the sandbox's for that PO).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RuleBook {
    pub default: Rules,
    pub by_po: BTreeMap<String, Rules>,
}

impl RuleBook {
    pub fn for_po(&self, po: &str) -> &Rules {
        self.by_po.get(po).unwrap_or(&self.default)
    }

    /// `{"po":"PO-1", "reject_line":2, …}`: the rules given replace those of the PO (or, without
    /// `po`, the sandbox's); `{"accept_all":true}` alone is the default.
    pub fn set(&mut self, body: &Map<String, Value>) -> Result<(), String> {
        let po = match body.get("po") {
            None => None,
            Some(Value::String(po)) => Some(po.clone()),
            Some(_) => return Err("po must be a string".into()),
        };
        let rules = parse(body)?;
        match po {
            Some(po) => {
                self.by_po.insert(po, rules);
            }
            None => self.default = rules,
        }
        Ok(())
    }
}

fn parse(body: &Map<String, Value>) -> Result<Rules, String> {
    let mut rules = Rules::default();
    for (key, value) in body {
        match key.as_str() {
            "po" => {}
            "accept_all" => {
                if value != &Value::Bool(true) {
                    return Err("accept_all can only be true".into());
                }
            }
            "reject_line" => rules.reject_line = Some(line(key, value)?),
            "backorder_line" => rules.backorder_line = Some(line(key, value)?),
            "change_quantity" => {
                let line = value.get("line").ok_or("change_quantity needs line and quantity")?;
                let quantity = value.get("quantity").and_then(Value::as_f64).filter(|q| q.is_finite() && *q >= 0.0);
                let quantity = quantity.ok_or("change_quantity: quantity must be a number ≥ 0")?;
                rules.change_quantity = Some(QuantityChange { line: self::line("change_quantity.line", line)?, quantity });
            }
            "wrong_total" => {
                rules.wrong_total = match value {
                    Value::Bool(true) => Some(1.0),
                    Value::Bool(false) => None,
                    other => Some(other.as_f64().filter(|a| a.is_finite()).ok_or("wrong_total must be an amount or true")?),
                }
            }
            "duplicate_interchange" => rules.duplicate_interchange = flag(key, value)?,
            "no_997" => rules.no_997 = flag(key, value)?,
            "reject_group" => rules.reject_group = flag(key, value)?,
            "invoice" => rules.invoice = flag(key, value)?,
            other => {
                return Err(format!(
                    "unknown rule `{other}` (use accept_all, reject_line, backorder_line, change_quantity, wrong_total, \
                     duplicate_interchange, no_997, reject_group, invoice; po for one PO number)"
                ));
            }
        }
    }
    Ok(rules)
}

/// A PO1 line number (PO101), given as a number or as text.
fn line(key: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(format!("{key} must be a line number (PO101)")),
    }
}

fn flag(key: &str, value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or(format!("{key} must be true or false"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(book: &mut RuleBook, body: Value) -> Result<(), String> {
        book.set(body.as_object().unwrap())
    }

    #[test]
    fn rules_of_a_po_replace_the_sandboxs_for_that_po_only() {
        let mut book = RuleBook::default();
        set(&mut book, json!({"po": "PO-1", "reject_line": 2, "change_quantity": {"line": "3", "quantity": 4}})).unwrap();
        set(&mut book, json!({"invoice": false})).unwrap();
        assert_eq!(book.for_po("PO-1").reject_line.as_deref(), Some("2"));
        assert_eq!(book.for_po("PO-1").change_quantity, Some(QuantityChange { line: "3".into(), quantity: 4.0 }));
        assert!(book.for_po("PO-1").invoice);
        assert!(!book.for_po("PO-2").invoice);
        set(&mut book, json!({"accept_all": true})).unwrap();
        assert_eq!(book.default, Rules::default());
    }

    #[test]
    fn an_unknown_rule_is_named() {
        let error = set(&mut RuleBook::default(), json!({"reject": 1})).unwrap_err();
        assert!(error.starts_with("unknown rule `reject`"), "{error}");
    }
}
