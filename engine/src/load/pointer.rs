//! JSON pointers (RFC 6901) name nodes in the span index and in schema errors.

/// `parent` + one more key, escaped.
pub fn pointer_child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

pub fn pointer_parent(pointer: &str) -> Option<&str> {
    pointer.rfind('/').map(|i| &pointer[..i])
}

/// `mapping.SalesOrderLines.fields.Item` → `/mapping/SalesOrderLines/fields/Item`.
pub fn pointer_from_dotted(dotted: &str) -> String {
    dotted.split('.').fold(String::new(), |p, k| pointer_child(&p, k))
}

/// The unescaped keys of a pointer.
pub fn pointer_keys(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer.split('/').skip(1).map(|k| k.replace("~1", "/").replace("~0", "~"))
}
