//! `$orderby=Field [asc|desc], …`: a stable sort by Exact's comparison of values (dates by instant,
//! GUIDs without case, `null` first when ascending, as SQL Server sorts).

use std::cmp::Ordering;

use super::SyntaxError;
use super::eval::order_values;
use crate::exact::store::Record;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderBy {
    keys: Vec<(String, bool)>,
}

impl OrderBy {
    pub fn parse(text: &str) -> Result<OrderBy, SyntaxError> {
        let mut keys = Vec::new();
        for item in text.split(',').map(str::trim) {
            let mut words = item.split_whitespace();
            let field = words.next().ok_or(SyntaxError)?;
            if !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(SyntaxError);
            }
            let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(_) => return Err(SyntaxError),
            };
            if words.next().is_some() {
                return Err(SyntaxError);
            }
            keys.push((field.to_string(), descending));
        }
        Ok(OrderBy { keys })
    }

    /// The fields the ordering reads, to check them against the entity.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(field, _)| field.as_str())
    }

    pub fn compare(&self, a: &Record, b: &Record) -> Ordering {
        for (field, descending) in &self.keys {
            let ordering = order_values(a.get(field), b.get(field));
            let ordering = if *descending { ordering.reverse() } else { ordering };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(modified: &str, number: i64) -> Record {
        json!({"Modified": modified, "OrderNumber": number}).as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn orders_by_date_then_number_either_way() {
        let (a, b, c) = (record("/Date(2000)/", 2), record("/Date(1000)/", 9), record("/Date(2000)/", 1));
        let mut rows = [&a, &b, &c];
        rows.sort_by(|x, y| OrderBy::parse("Modified, OrderNumber").unwrap().compare(x, y));
        assert_eq!(rows.iter().map(|r| r["OrderNumber"].as_i64().unwrap()).collect::<Vec<_>>(), [9, 1, 2]);
        rows.sort_by(|x, y| OrderBy::parse("Modified desc,OrderNumber asc").unwrap().compare(x, y));
        assert_eq!(rows.iter().map(|r| r["OrderNumber"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2, 9]);
    }

    #[test]
    fn malformed_orderings_are_syntax_errors() {
        for text in ["", "Modified sideways", "Modified desc x", "Modified,", "substringof(Name)"] {
            assert_eq!(OrderBy::parse(text), Err(SyntaxError), "{text}");
        }
    }
}
