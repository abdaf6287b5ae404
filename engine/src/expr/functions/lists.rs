//! Lists of lists: `invoice.Line | selectattr(…) | map(attribute="GroupLineDetail.Line") | flatten`
//! gives the lines inside every bundle as one list.

use minijinja::value::ValueKind;
use minijinja::{Environment, Error, Value};

use super::{invalid, reject_undefined, show};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("flatten", flatten);
}

/// One level of nesting removed: the entries of each list in `value`, in order; an entry that
/// is not a list is kept as it is, and `none` entries are dropped (a bundle without lines).
fn flatten(value: &Value) -> Result<Value, Error> {
    reject_undefined(value)?;
    if value.kind() != ValueKind::Seq && value.kind() != ValueKind::Iterable {
        return Err(invalid(format!("flatten takes a list, not {}", show(value))));
    }
    let mut out = Vec::new();
    for entry in value.try_iter()? {
        match entry.kind() {
            ValueKind::Seq | ValueKind::Iterable => out.extend(entry.try_iter()?),
            ValueKind::None | ValueKind::Undefined => {}
            _ => out.push(entry),
        }
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_level_of_lists_is_removed() {
        let mut env = Environment::new();
        register(&mut env);
        let eval = |text: &str| env.compile_expression(text).unwrap().eval(()).map(|v| v.to_string());
        assert_eq!(eval("[[1, 2], [3], none, 4, [[5]]] | flatten").unwrap(), "[1, 2, 3, 4, [5]]");
        assert!(eval("'text' | flatten").unwrap_err().to_string().contains("flatten takes a list"));
    }
}
