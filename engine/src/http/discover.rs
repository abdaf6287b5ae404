//! Choosing a discovered value: one value in the answer (Exact's division from `current/Me`),
//! or one of several candidates (Xero's tenants from `GET /connections`) named by the connection.

use super::CallError;
use crate::model::DiscoverDef;

/// The value of `param` in `body`. With `how.list`, the candidate the connection names in
/// `given` (by value or by name); without a name, the only candidate.
pub fn choose(
    connection: &str,
    param: &str,
    how: &DiscoverDef,
    body: &serde_json::Value,
    given: Option<&str>,
    url: &str,
) -> Result<String, CallError> {
    let stop = |message: String| CallError::Stop { message };
    let Some(list) = &how.list else {
        return text_at(&how.value, body, param)?.ok_or_else(|| stop(format!("connection `{connection}`: the answer of {url} has no {param}")));
    };
    let candidates = match search(list, body, param)? {
        serde_json::Value::Array(items) => items,
        _ => Vec::new(),
    };
    let mut named = Vec::new();
    for candidate in &candidates {
        let Some(value) = text_at(&how.value, candidate, param)? else { continue };
        let name = match &how.name {
            Some(n) => text_at(n, candidate, param)?,
            None => None,
        };
        named.push((value, name));
    }
    let shown = |named: &[(String, Option<String>)]| {
        named.iter().map(|(v, n)| n.as_ref().map_or_else(|| v.clone(), |n| format!("\"{n}\" ({v})"))).collect::<Vec<_>>().join(", ")
    };
    match given {
        Some(g) => named
            .iter()
            .find(|(v, n)| v.eq_ignore_ascii_case(g) || n.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(g)))
            .map(|(v, _)| v.clone())
            .ok_or_else(|| match named.is_empty() {
                true => stop(format!("connection `{connection}`: {url} lists no {param}: connect the account to one first")),
                false => stop(format!("connection `{connection}`: no {param} \"{g}\" among those the account reaches: {}", shown(&named))),
            }),
        None => match named.as_slice() {
            [(only, _)] => Ok(only.clone()),
            [] => Err(stop(format!("connection `{connection}`: {url} lists no {param}: connect the account to one first"))),
            several => Err(stop(format!(
                "connection `{connection}` reaches {} {param}s: {}; name one in the connections file (params: {{ {param}: … }})",
                several.len(),
                shown(several)
            ))),
        },
    }
}

fn search(expression: &str, body: &serde_json::Value, param: &str) -> Result<serde_json::Value, CallError> {
    let expr = crate::expr::compile_selector(expression).map_err(|e| CallError::Stop { message: format!("discover.{param}: {e}") })?;
    let found = crate::value::search(&expr, body).map_err(|e| CallError::Stop { message: format!("discover.{param}: {e}") })?;
    Ok(serde_json::to_value(&*found).unwrap_or_default())
}

/// A text or number found at `expression`, as text.
fn text_at(expression: &str, body: &serde_json::Value, param: &str) -> Result<Option<String>, CallError> {
    Ok(match search(expression, body, param)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenants() -> DiscoverDef {
        DiscoverDef { get: String::new(), value: "tenantId".into(), list: Some("@".into()), name: Some("tenantName".into()) }
    }

    fn answer() -> serde_json::Value {
        serde_json::json!([
            {"tenantId": "a1", "tenantName": "Acme Fashion (NL)"},
            {"tenantId": "b2", "tenantName": "Demo Company (Global)"}
        ])
    }

    #[test]
    fn a_tenant_is_named_by_name_or_id_and_several_need_naming() {
        let how = tenants();
        assert_eq!(choose("xero", "tenant", &how, &answer(), Some("acme fashion (nl)"), "u").unwrap(), "a1");
        assert_eq!(choose("xero", "tenant", &how, &answer(), Some("b2"), "u").unwrap(), "b2");
        let several = choose("xero", "tenant", &how, &answer(), None, "http://x/connections").unwrap_err().to_string();
        assert_eq!(
            several,
            "connection `xero` reaches 2 tenants: \"Acme Fashion (NL)\" (a1), \"Demo Company (Global)\" (b2); \
             name one in the connections file (params: { tenant: … })"
        );
        let unknown = choose("xero", "tenant", &how, &answer(), Some("Other"), "u").unwrap_err().to_string();
        assert!(unknown.contains("no tenant \"Other\" among those the account reaches"), "{unknown}");
        let one = serde_json::json!([{"tenantId": "a1", "tenantName": "Acme"}]);
        assert_eq!(choose("xero", "tenant", &how, &one, None, "u").unwrap(), "a1");
    }
}
