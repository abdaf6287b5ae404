use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use minijinja::{Environment, ErrorKind, Expression, UndefinedBehavior, Value};

/// Filters a system declares in YAML (`filters:` in `mappings/systems/*.yaml`),
/// as (name, expression over `value`) pairs.
pub type SystemFilters = Vec<(String, String)>;

/// The minijinja environment every expression of a project is compiled in:
/// strict undefined handling, flowmap's functions, and the systems' YAML filters.
///
/// Compiled expressions borrow their environment, so environments live as long
/// as the process: one per distinct set of system filters, kept in a table and
/// shared by every later load with the same filters. A serving engine that
/// reloads flows a thousand times builds its environment once; only an edit of
/// a system's `filters:` makes another.
pub struct ExprEnv {
    env: &'static Environment<'static>,
    /// Names of the systems' YAML filters, offered as suggestions.
    pub system_filters: Vec<String>,
    /// The YAML filters whose bodies native evaluation can run.
    pub native_filters: super::simple::NativeFilters,
    probes: Mutex<HashMap<(char, String), bool>>,
}

impl ExprEnv {
    /// Builds the environment. A YAML filter that does not compile is returned
    /// with its index and the reason, so the caller can point at its line.
    pub fn new(filters: &SystemFilters) -> Result<ExprEnv, (usize, String)> {
        let env = shared_env(filters)?;
        let system_filters = filters.iter().map(|(n, _)| n.clone()).collect();
        let none = super::simple::NativeFilters::new();
        let native_filters = filters.iter().filter_map(|(n, text)| Some((n.clone(), super::simple::parse_simple(text, &none)?))).collect();
        Ok(ExprEnv { env, system_filters, native_filters, probes: Mutex::new(HashMap::new()) })
    }

    pub fn compile(&self, text: &str) -> Result<Expression<'static, 'static>, minijinja::Error> {
        self.env.compile_expression_owned(text.to_string())
    }

    /// What runs for `text` when it multiplies: the same expression, each `*`
    /// bounded (see `repeat.rs`); None when it does not multiply.
    pub fn compile_guarded(&self, text: &str) -> Result<Option<Expression<'static, 'static>>, String> {
        match super::repeat::guarded(text)? {
            Some(guarded) => self.compile(&guarded).map(Some).map_err(|e| e.detail().unwrap_or("syntax error").to_string()),
            None => Ok(None),
        }
    }

    /// Whether a filter of this name exists. minijinja resolves filters when an
    /// expression runs; asking once here lets `check` report a misspelt filter
    /// at load time instead of on the first record.
    pub fn has_filter(&self, name: &str) -> bool {
        self.probe('|', name, &format!("none | {name}"), ErrorKind::UnknownFilter)
    }

    pub fn has_function(&self, name: &str) -> bool {
        self.probe('(', name, &format!("{name}()"), ErrorKind::UnknownFunction)
    }

    pub fn has_test(&self, name: &str) -> bool {
        self.probe('?', name, &format!("none is {name}"), ErrorKind::UnknownTest)
    }

    fn probe(&self, kind: char, name: &str, probe: &str, unknown: ErrorKind) -> bool {
        let mut cache = self.probes.lock().unwrap_or_else(|e| e.into_inner());
        *cache.entry((kind, name.to_string())).or_insert_with(|| match self.env.compile_expression(probe) {
            Ok(e) => !matches!(e.eval(()), Err(err) if err.kind() == unknown),
            Err(_) => false,
        })
    }
}

/// The environment for these system filters: built (and kept) the first time,
/// the same one afterwards.
fn shared_env(filters: &SystemFilters) -> Result<&'static Environment<'static>, (usize, String)> {
    static BASE: OnceLock<Environment<'static>> = OnceLock::new();
    static BY_FILTERS: OnceLock<Mutex<HashMap<SystemFilters, &'static Environment<'static>>>> = OnceLock::new();
    let mut known = BY_FILTERS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(env) = known.get(filters) {
        return Ok(env);
    }
    // The YAML filters' own bodies are compiled in the base environment (flowmap's functions, no YAML filters).
    let base = BASE.get_or_init(base_env);
    let mut env = base_env();
    for (i, (name, text)) in filters.iter().enumerate() {
        super::size::check_size(text).map_err(|e| (i, e.message))?;
        let guarded = super::repeat::guarded(text).map_err(|m| (i, m))?.unwrap_or_else(|| text.clone());
        let expr: Expression<'static, 'static> =
            base.compile_expression_owned(guarded).map_err(|e| (i, e.detail().unwrap_or("syntax error").to_string()))?;
        env.add_filter(name.clone(), move |value: Value| expr.eval(minijinja::context! { value }));
    }
    let env: &'static Environment<'static> = Box::leak(Box::new(env));
    known.insert(filters.clone(), env);
    Ok(env)
}

fn base_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    super::functions::register(&mut env);
    env.add_filter(super::repeat::TIMES, super::repeat::times_filter);
    env
}

/// Names offered as suggestions when a filter or function is misspelt: the
/// built-ins integrators use most, plus flowmap's own.
pub const KNOWN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "capitalize",
    "count",
    "default",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "replace",
    "reverse",
    "round",
    "select",
    "selectattr",
    "reject",
    "rejectattr",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "odata_string",
    "odata_guid",
    "odata_date",
    "from_odata_date",
    "lpad",
    "rpad",
    "left",
    "right",
    "digits",
    "collapse_spaces",
    "split_name",
    "nonempty",
    "add_days",
    "to_date",
    "date_format",
    "money",
    "translate",
    "flatten",
];

pub const KNOWN_FUNCTIONS: &[&str] =
    &["range", "dict", "namespace", "money_add", "money_sub", "money_mul", "money_div", "money_sum", "money_sum_product", "days_between"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_with_the_same_system_filters_share_one_environment() {
        let filters: SystemFilters = vec![("padded".into(), "value | string | lpad(6)".into())];
        let (a, b) = (ExprEnv::new(&filters).unwrap(), ExprEnv::new(&filters.clone()).unwrap());
        assert!(std::ptr::eq(a.env, b.env), "a reload must not build (and keep) another environment");
        let other = ExprEnv::new(&vec![("padded".into(), "value | string | lpad(8)".into())]).unwrap();
        assert!(!std::ptr::eq(a.env, other.env));
        let padded = |env: &ExprEnv| env.compile("12 | padded").unwrap().eval(()).unwrap().to_string();
        assert_eq!((padded(&a), padded(&other)), ("    12".to_string(), "      12".to_string()));
    }
}
