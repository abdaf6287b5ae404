//! Bounded, seeded fuzzing of what reads outside input: the flow loader and
//! compiler (the shipped flows and system files, mutated), the expression
//! compiler and evaluator, and the input-record reader (a JSON array, JSON
//! lines, recorded responses). Byte flips, deletions, duplications, deep
//! nesting, bytes that are not UTF-8, huge scalars and words of each language,
//! one to three at a time (tests/common/mutate.rs). Each target asserts that
//! no input panics and none runs longer than 10 s, and prints its figures.
//! The inputs are the same on every run; a few thousand in all, so the suite
//! stays quick on 2 cores.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::mutate::{Rng, Tally, Vocabulary, brief, fuzz, mutate};
use common::repo_root;
use common::serve::project_copy;
use flowmap::diagnostic::{Diagnostic, render_json, render_text};
use flowmap::expr::{Compiler, Names, Scope};
use flowmap::project::Project;

const YAML: Vocabulary = Vocabulary {
    nest: &[("- ", ""), ("[", "]"), ("{a: ", "}"), ("- [", "]"), ("- {a: ", "}"), ("- a:\n", "")],
    core: "x",
    nest_as_value: true,
    words: &[
        "extends: ../lnb-exact/orders.flow.yaml\n",
        "extends: orders.flow.yaml\n",
        "remove: [mapping.YourRef, mapping]\n",
        "&a x",
        " *a",
        "!!binary ",
        "!!str ",
        "--- \n",
        "...\n",
        "%YAML 1.2\n---\n",
        "{{ order.id }}",
        "'\"PO\" ~ ",
        " | lpad(9223372036854775807)",
        " | indent(99999999)",
        " * 99999999",
        "'x' * 99999999",
        "range(99999999)",
        "'%099999999d' | format(1)",
        "\u{feff}",
        "\r\n",
        "\t",
        "\u{0}",
        "null",
        "-.inf",
        ".nan",
        "1e999",
        "9223372036854775808",
        "0x7fffffffffffffff",
        "mapping:\n  YourRef: ",
        "  Extra: order.id\n",
        "schedule: { cron: \"* * * * *\", timezone: Mars/Olympus }\n",
        "records: '((((a))))'\n",
        "é",
        "\u{202e}",
    ],
    huge: 200_000,
};

const EXPRESSIONS: Vocabulary = Vocabulary {
    nest: &[
        ("(", ")"),
        ("not ", ""),
        ("[", "]"),
        ("{'a': ", "}"),
        ("order.x | default(", ")"),
        ("order.id ~ ", ""),
        ("order.id if order.id else ", ""),
        ("- ", ""),
        ("order.lines[", "]"),
        ("2 * ", ""),
        ("1 / 2 * ", ""),
    ],
    core: "order.id",
    nest_as_value: false,
    words: &[
        " ~ ",
        " | ",
        " * ",
        " ** ",
        " + ",
        " / 0",
        " // 0",
        " % 0",
        " is defined",
        " is not defined",
        " in ",
        ".",
        "[0]",
        "[-1]",
        "[1:2]",
        "{{",
        "}}",
        "| lpad(9223372036854775807)",
        "| rpad(18, 'é')",
        "| left(9223372036854775807)",
        "| indent(99999999)",
        "| batch(99999999999, 0)",
        "| slice(99999999999)",
        "'%*d' | format(99999999999, 1)",
        "'%.99999999f' | format(1.5)",
        "* 99999999",
        "'x' * 99999999",
        "(1, 2) * 50000000",
        "range(100000) | list | length",
        "range(99999999999)",
        "| money(99999)",
        "| add_days(99999999999)",
        "| date_format('%Y%Y%Y')",
        "money_div(1, 0)",
        "money_sum(order.lines, 'quantity')",
        "| translate(settings.vat, 0)",
        "| odata_guid",
        "| int(99)",
        "| round(-999)",
        "| round(999999999)",
        "| join('x' * 9999)",
        "| replace('', 'xx')",
        "| split('')",
        "9223372036854775807 * 9223372036854775807",
        "namespace()",
        "dict(a=1)",
        "'\\u{10FFFF}'",
        "\"\\ud800\"",
        "é",
    ],
    huge: 20_000,
};

const JSON: Vocabulary = Vocabulary {
    nest: &[("[", "]"), ("{\"a\":", "}"), ("[{\"d\":", "}]")],
    core: "1",
    nest_as_value: false,
    words: &[
        "null",
        "1e999",
        "-0",
        "\"\\ud800\"",
        "\"\\u0000\"",
        "9223372036854775808",
        "18446744073709551616",
        "\n",
        "}\n{",
        "]",
        ",",
        "\"d\": {\"results\": []}",
        "{\"d\": {\"results\": [{}]}}\n",
        "{\"__next\": \"x\"}",
        "\u{feff}",
        "\r\n",
        "\"é\"",
    ],
    huge: 300_000,
};

/// Every file under `dir` whose name ends with `suffix`, sorted.
fn files(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, suffix, out);
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
}

/// What a user would be shown: rendering is part of loading a file (a cut line, a caret in a wide character).
fn show(problems: &[Diagnostic]) {
    for d in problems {
        let _ = render_text(d);
        let _ = render_json(d);
    }
}

const FLOW_SEED: u64 = 0xF10A_5EED_0001;

#[test]
fn the_flow_loader_and_compiler_survive_mutated_flows_and_systems() {
    fuzz("flow loader + compiler", FLOW_SEED, |tally: &mut Tally| {
        let dir = tempfile::tempdir().unwrap();
        let root = project_copy(dir.path());
        let project = Project::load(&root).unwrap_or_else(|p| panic!("the copy loads: {p:?}"));
        let (mut flows, mut systems) = (Vec::new(), Vec::new());
        files(&root.join("mappings"), ".flow.yaml", &mut flows);
        files(&root.join("mappings/systems"), ".yaml", &mut systems);
        let originals: BTreeMap<PathBuf, Vec<u8>> = flows.iter().chain(&systems).map(|f| (f.clone(), std::fs::read(f).unwrap())).collect();
        let mut rng = Rng::new(FLOW_SEED);
        for i in 0..1_200 {
            // One input in twenty is a system definition, loaded with the project (which
            // reads every system and catalogue: about 15 times a flow's cost).
            let system = i % 20 == 19;
            let file = if system { rng.pick(&systems) } else { rng.pick(&flows) }.clone();
            let (bytes, how) = mutate(&mut rng, &originals[&file], &YAML);
            std::fs::write(&file, &bytes).unwrap();
            let name = file.strip_prefix(&root).unwrap().display().to_string();
            tally.run(format!("#{i} {name} ({}): {}", how.join(", "), brief(&bytes)), || {
                if system {
                    if let Err(problems) = Project::load(&root) {
                        show(&problems);
                    }
                } else {
                    match flowmap::compile::compile_file(&project, &file) {
                        Ok((_, warnings)) => show(&warnings),
                        Err(problems) => show(&problems),
                    }
                }
            });
            std::fs::write(&file, &originals[&file]).unwrap();
        }
    });
}

const EXPRESSION_SEED: u64 = 0xE4B2_5EED_0002;

/// Every text value of the shipped flows: expressions, messages, and the rest as seeds too.
fn texts(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| texts(v, out)),
        _ => {}
    }
}

#[test]
fn the_expression_compiler_survives_mutated_expressions() {
    fuzz("expression compiler", EXPRESSION_SEED, |tally: &mut Tally| {
        let root = repo_root();
        let project = Project::load(&root).unwrap_or_else(|p| panic!("the project loads: {p:?}"));
        let mut flows = Vec::new();
        files(&root.join("mappings"), ".flow.yaml", &mut flows);
        let mut seeds = Vec::new();
        for flow in &flows {
            texts(&flowmap::load::load_flow(flow).unwrap_or_else(|p| panic!("{flow:?}: {p:?}")).value, &mut seeds);
        }
        seeds.sort();
        seeds.dedup();
        let orders: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(root.join("fixtures/lnb/orders.json")).unwrap()).unwrap();
        let order = flowmap::value::from_json(&orders[0]);
        let line = flowmap::value::from_json(&orders[0]["lines"][0]);
        let settings = flowmap::value::from_json(&serde_json::json!({"warehouse": {"preorder": "P", "in_stock": "S"}, "vat": {"21": "2"}}));
        let lookup = flowmap::value::from_json(&serde_json::json!({"account": "A", "item": {"TSH-WHT-M": "I"}}));
        let mut scope = Scope::new();
        for (name, value) in
            [("order", order), ("line", line), ("settings", settings), ("lookup", lookup), ("key", "k".into()), ("reasons", vec!["r"].into())]
        {
            scope.push(name, value);
        }
        let (setting_names, lookup_names) = (vec!["warehouse".to_string(), "vat".to_string()], vec!["account".to_string(), "item".to_string()]);
        let names = Names {
            roots: &["order", "line", "settings", "lookup", "key", "reasons"],
            settings: &setting_names,
            lookups: &lookup_names,
            shapes: &[],
        };
        let compiler = Compiler { env: &project.env };
        let mut rng = Rng::new(EXPRESSION_SEED);
        for i in 0..1_500 {
            let seed = rng.pick(&seeds).clone();
            let (bytes, how) = mutate(&mut rng, seed.as_bytes(), &EXPRESSIONS);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            tally.run(format!("#{i} ({}): {}", how.join(", "), brief(&bytes)), || {
                if let Ok((expr, _)) = compiler.expr(&text, &names) {
                    let _ = expr.eval(&scope);
                    let _ = expr.holds(&scope);
                }
                if let Ok((template, _)) = compiler.template(&text, &names) {
                    let _ = template.render_lossy(&scope);
                }
            });
        }
    });
}

const INPUT_SEED: u64 = 0x1A9E_5EED_0003;

#[test]
fn the_input_reader_survives_mutated_record_files() {
    fuzz("input-record reader", INPUT_SEED, |tally: &mut Tally| {
        let root = repo_root();
        let orders = std::fs::read_to_string(root.join("fixtures/lnb/orders.json")).unwrap();
        let lines: String = serde_json::from_str::<Vec<serde_json::Value>>(&orders).unwrap().iter().map(|o| format!("{o}\n")).collect();
        // (what, the file as shipped, the selector of the system that answers with it)
        let seeds = [
            ("a JSON array", orders.clone(), "@"),
            ("JSON lines", lines, "@"),
            ("an Exact response", std::fs::read_to_string(root.join("fixtures/exact/crm_Accounts.json")).unwrap(), "not_null(d.results, d)"),
            (
                "a QuickBooks response",
                std::fs::read_to_string(root.join("fixtures/qbo/Customer.json")).unwrap(),
                "QueryResponse.Customer || QueryResponse.Item || QueryResponse.Invoice || QueryResponse.SalesReceipt || `[]`",
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("input.json");
        let mut rng = Rng::new(INPUT_SEED);
        for i in 0..1_000 {
            let (what, seed, selector) = rng.pick(&seeds);
            let (bytes, how) = mutate(&mut rng, seed.as_bytes(), &JSON);
            std::fs::write(&file, &bytes).unwrap();
            let selector = flowmap::expr::compile_selector(selector).unwrap_or_else(|e| panic!("{e}"));
            tally.run(format!("#{i} {what} ({}): {}", how.join(", "), brief(&bytes)), || {
                if let Ok(records) = flowmap::fetch::RecordReader::open(&file, &selector) {
                    for record in records.flatten() {
                        let _ = flowmap::value::to_json(&record);
                    }
                }
            });
        }
    });
}
