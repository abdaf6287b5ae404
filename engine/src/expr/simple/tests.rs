//! The native subset against minijinja: both must give the same results.

use super::*;

fn scope() -> (Scope, Value) {
    let order = crate::value::parse_json(
        r#"{"id": 7, "ref": "A-1", "qty": 0, "price": 19.95, "note": null, "line": {"id": 7, "preorder": true}, "lines": [{"sku": "X", "quantity": 2}], "flag": false}"#,
    )
    .unwrap();
    let settings = crate::value::parse_json(r#"{"wh": {"pre": "P", "main": "M"}, "empty": ""}"#).unwrap();
    let mut s = Scope::new();
    s.push("order", order.clone());
    s.push("settings", settings.clone());
    let ctx = crate::value::map([("order", order), ("settings", settings)]);
    (s, ctx)
}

/// Native and minijinja agree on every expression of the subset.
#[test]
fn agrees_with_minijinja() {
    let (s, ctx) = scope();
    // The project's environment: strict, flowmap's functions, a YAML filter.
    let env = crate::expr::ExprEnv::new(&vec![("exact_code".to_string(), "value | string | trim | lpad(18)".to_string())]).unwrap();
    let system = env.native_filters.clone();
    assert!(system.contains_key("exact_code"), "the YAML filter's body is in the subset");
    let mut fell_back = Vec::new();
    for text in [
        "order.id",
        r#""PO" ~ order.line.id"#,
        "'PO' ~ order.price ~ '-' ~ order.ref",
        "order.qty > 0",
        "order.price >= 19.95",
        "order.id == 7",
        "order.id != '7'",
        "order.lines[0].quantity <= 2",
        "settings.wh.pre if order.line.preorder else settings.wh.main",
        "settings.wh.pre if order.flag else settings.wh.main",
        "settings.wh.pre and settings.wh.main",
        "settings.empty and settings.wh.main",
        "settings.empty or 'fallback'",
        "not order.flag",
        "not (order.qty > 0 or order.flag)",
        "order.note is defined",
        "order.missing is not defined",
        "order.note",
        "true",
        "1.5",
        "order.lines[0]['sku']",
        "order.id | string",
        "order.price | string",
        "order.ref | lower | upper",
        "' x ' | trim",
        "order.lines | length > 0",
        "order.ref | length",
        "order.line | length",
        "order.id | lpad(6)",
        "order.ref | rpad(5, '.')",
        "order.id | exact_code",
        "order.ref | exact_code",
        "order.missing | default('d')",
        "order.note | default('d')",
        "'PO' ~ order.id | string",
        "order.price | lpad(3, 'xx')",
        "order.line | upper",
        "money_add(order.price, 0.05)",
        "money_sub(order.price, '0.95') > 18",
        "money_mul(order.price, 3) | money(1)",
        "money_div(order.price, 3)",
        "money_sum(order.lines, 'quantity') == 2",
        "money_sum_product(order.lines, 'quantity', 'quantity')",
        "order.price | money",
        "'total ' ~ money_div(order.price, 7)",
        "money_div(order.price, 0)",
    ] {
        let native = parse_simple(text, &system).unwrap_or_else(|| panic!("{text} is in the subset")).eval(&s);
        let vm = env.compile(text).unwrap().eval(ctx.clone());
        match native {
            Ok(v) => assert_eq!(Some(v.to_string()), vm.ok().map(|v| v.to_string()), "{text}"),
            // Outside the subset for these values: minijinja evaluates it, whatever it says.
            Err(Native::Fallback) => fell_back.push(text),
            Err(Native::Missing(m)) => assert!(vm.is_err(), "{text}: native says {m} is missing, minijinja gave a value"),
        }
    }
    // Only the unusual cases go back to minijinja: a two-character fill, `upper` on a map, an error.
    assert_eq!(fell_back, ["order.price | lpad(3, 'xx')", "order.line | upper", "money_div(order.price, 0)"]);
}

/// Numbers too long for a float (`value::ExactNumber`) order by value
/// against plain numbers here; minijinja would order them by kind (an
/// object after every number), so a negative total would count as
/// positive.
#[test]
fn exact_numbers_order_by_value() {
    let order = crate::value::parse_json(r#"{"total": -1234567890123456.78, "lines": [{"amount": 1234567890123456.78}]}"#).unwrap();
    let mut s = Scope::new();
    s.push("order", order);
    for (text, expected) in [
        ("order.total > 0", false),
        ("order.total < 0", true),
        ("0 >= order.total", true),
        ("order.total == order.total", true),
        ("order.total != 0", true),
        ("money_sum(order.lines, 'amount') > 1234567890123456", true),
        ("money_sum(order.lines, 'amount') <= 1234567890123456.5", false),
        ("money_div(order.total, '-3') > 411522630041152", true),
        ("money_div(order.total, 3) < 0", true),
        ("money_div(1, 3) > 0.3333333333333333", true),
        ("money_div(1, 3) < 0.33333333333333337", true),
        ("money_div(1, 3) | money(4) == 0.3333", true),
        ("money_add(order.total, 0.01) == money_sub(order.total, '-0.01')", true),
    ] {
        let e = parse_simple(text, &NativeFilters::new()).unwrap_or_else(|| panic!("{text} is in the subset"));
        assert_eq!(e.eval(&s), Ok(Value::from(expected)), "{text}");
    }
}

/// A money function given arguments it does not take natively goes back
/// to minijinja, which names the problem.
#[test]
fn odd_money_arguments_fall_back() {
    let (s, _) = scope();
    for text in ["money_add()", "money_sub(1)", "money_sum(order.lines, 1)", "order.price | money('x')", "money_add('abc', 1)"] {
        let e = parse_simple(text, &NativeFilters::new()).unwrap_or_else(|| panic!("{text} parses"));
        assert_eq!(e.eval(&s), Err(Native::Fallback), "{text}");
    }
    assert_eq!(parse_simple("money_add(1, b=2)", &NativeFilters::new()).map(|_| ()), None, "keyword arguments are minijinja's");
}

#[test]
fn a_missing_path_is_named() {
    let (s, _) = scope();
    let e = parse_simple(r#""PO" ~ order.line.number"#, &NativeFilters::new()).unwrap();
    assert_eq!(e.eval(&s), Err(Native::Missing("order.line.number".to_string())));
}

#[test]
fn the_rest_goes_to_minijinja() {
    for text in ["order.ref | title", "f(order)", "order.id + 1", "[1, 2]", "order.id if order.flag", "order.x is none", "'a\\'b'", "x | trim('a')"] {
        assert!(parse_simple(text, &NativeFilters::new()).is_none(), "{text}");
    }
}
