//! What every command shares: one table of exit statuses, file arguments
//! checked the same way, `--format` values per command, completions.

mod common;

use common::{flowmap, flowmap_in, repo_root};
use pretty_assertions::assert_eq;

const ORDERS: &str = "mappings/lnb-exact/orders.flow.yaml";

fn usage_error(value: &str, arg: &str, why: &str) -> String {
    format!("error: invalid value '{value}' for '{arg}': {why}\n\nFor more information, try '--help'.\n")
}

/// A missing file is a usage error (status 2) for every command that takes
/// one, said once, before anything runs.
#[test]
fn a_missing_file_is_status_2_and_one_error_for_every_command() {
    let state = tempfile::tempdir().unwrap();
    let state_file = state.path().join("state.db");
    let state_arg = state_file.to_str().unwrap();
    let cases: [(&[&str], &str, &str, &str); 12] = [
        (&["check", "nope.flow.yaml"], "nope.flow.yaml", "[PATHS]...", "no such file or folder"),
        (&["test", "nope.test.yaml"], "nope.test.yaml", "[PATHS]...", "no such file or folder"),
        (&["dry-run", "nope.flow.yaml"], "nope.flow.yaml", "<FLOW>", "no such file"),
        (&["dry-run", "mappings"], "mappings", "<FLOW>", "this is a folder; a file is wanted"),
        (&["dry-run", ORDERS, "--input", "nope.json"], "nope.json", "--input <INPUT>", "no such file"),
        (&["dry-run", ORDERS, "--fixtures", "nope"], "nope", "--fixtures <FIXTURES>", "no such folder"),
        (&["run", "nope.flow.yaml"], "nope.flow.yaml", "<FLOW>", "no such file"),
        (&["replay", "nope.flow.yaml", "--failed"], "nope.flow.yaml", "<FLOW>", "no such file"),
        (&["subscribe", "nope.flow.yaml", "--callback", "http://127.0.0.1:1/"], "nope.flow.yaml", "<FLOW>", "no such file"),
        (&["serve", "--flows", "nope"], "nope", "--flows <FLOWS>", "no such folder"),
        (&["--root", "nope", "check"], "nope", "--root <ROOT>", "no such folder"),
        (&["--connections", "nope.yaml", "connections"], "nope.yaml", "--connections <CONNECTIONS>", "no such file"),
    ];
    for (args, value, arg, why) in cases {
        let args: Vec<&str> = ["--state", state_arg].iter().chain(args).copied().collect();
        let run = flowmap(&args);
        assert_eq!((run.code, run.stdout.as_str(), run.stderr), (2, "", usage_error(value, arg, why)), "{args:?}");
    }
    assert!(!state_file.exists(), "nothing ran, so no state file was made");
}

#[test]
fn a_usage_error_is_status_2() {
    let run = flowmap(&["dry-run"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            2,
            "",
            "error: the following required arguments were not provided:\n  <FLOW>\n\nUsage: flowmap dry-run <FLOW>\n\nFor more information, try '--help'.\n"
        )
    );
}

/// A flow with errors is status 1 whichever command loads it, and its
/// problems are shown once, as `check` shows them.
#[test]
fn a_flow_with_errors_is_status_1_and_shown_alike_by_dry_run_and_run() {
    let state = tempfile::tempdir().unwrap();
    let state_file = state.path().join("state.db");
    let flow = "tests/broken/bad-expressions.flow.yaml";
    let dry = flowmap(&["dry-run", flow]);
    let live = flowmap(&["--state", state_file.to_str().unwrap(), "run", flow]);
    assert_eq!((dry.code, live.code, live.stdout.as_str()), (1, 1, ""));
    assert_eq!(live.stderr, dry.stderr);
    assert!(dry.stderr.starts_with("error: unknown filter `exact_cod`\n --> tests/broken/bad-expressions.flow.yaml:6:96\n"), "{}", dry.stderr);
    let check = flowmap(&["check", flow]);
    assert_eq!(check.code, 1);
}

#[test]
fn dry_run_fails_on_blocked_records_when_asked() {
    let plain = flowmap(&["dry-run", ORDERS]);
    let strict = flowmap(&["dry-run", ORDERS, "--fail-on-blocked"]);
    assert!(plain.stdout.contains(" blocked, "), "the fixtures block some orders: {}", plain.stdout);
    assert_eq!((plain.code, strict.code, strict.stdout.as_str()), (0, 1, plain.stdout.as_str()));
    let ready = flowmap(&["dry-run", ORDERS, "--fail-on-blocked", "--input", "tests/inputs/one-order.jsonl", "--format", "json"]);
    // Nothing on stderr but the flow's one warning (WarehouseID exists only in some Exact editions).
    assert_eq!((ready.code, ready.stderr.matches("warning: ").count(), ready.stderr.contains("error")), (0, 1, false), "{}", ready.stderr);
}

/// `--format` offers, and accepts, only what the command writes.
#[test]
fn each_format_flag_lists_what_its_command_writes() {
    let help = |command: &str| {
        let run = flowmap(&[command, "--help"]);
        let from = run.stdout.find("      --format <FORMAT>").expect("a --format flag");
        let to = run.stdout[from..].find("[default: text]").expect("a default") + from;
        run.stdout[from..to].to_string()
    };
    assert_eq!(
        help("check"),
        "      --format <FORMAT>\n          What to write\n\n          Possible values:\n          - text: Text for people\n          - json: One JSON document: each flow file, the counts and every diagnostic\n          \n          "
    );
    assert!(help("test").contains("- json: One JSON object per test case, a line each, then one line with the summary\n"));
    assert!(help("runs").contains("- json: One JSON object per run, a line each\n"));
    for command in ["check", "test", "dry-run", "run", "replay", "connections", "runs", "show"] {
        assert!(!help(command).contains("- jsonl"), "{command}");
    }
    let refused = flowmap(&["check", "--format", "jsonl"]);
    assert_eq!(
        (refused.code, refused.stderr.as_str()),
        (
            2,
            "error: invalid value 'jsonl' for '--format <FORMAT>'\n  [possible values: text, json]\n\n  tip: a similar value exists: 'json'\n\nFor more information, try '--help'.\n"
        )
    );
    let runs = flowmap(&["runs", "--help"]);
    assert!(runs.stdout.contains("      --limit <LIMIT>\n          How many runs to list: the newest this many\n"), "{}", runs.stdout);
}

#[test]
fn completions_name_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = flowmap(&["completions", shell]);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{shell}");
        for command in ["check", "dry-run", "test", "run", "replay", "serve", "runs", "show", "completions"] {
            assert!(run.stdout.contains(command), "{shell} names {command}");
        }
    }
    let bash = flowmap(&["completions", "bash"]);
    assert!(bash.stdout.starts_with("_flowmap() {\n"), "{}", bash.stdout);
    assert!(bash.stdout.contains("complete -F _flowmap -o nosort -o bashdefault -o default flowmap"), "{}", bash.stdout);
    let unknown = flowmap_in(&repo_root(), &["completions", "cmd"]);
    assert_eq!(unknown.code, 2);
}
