//! Every recipe of the README and of `docs/recipes.md` runs verbatim on the demo's output
//! (what `make demo > acme.ndjson` writes; `make demo-smoke` holds that to the golden file)
//! and prints what is shown below it; every output example is a line of that output.
//!
//! The recipes need jq, sqlite3 and DuckDB's Python module, which `make test` installs. Run
//! by `cargo test` alone on a machine without one of them, the recipes that need it are
//! skipped with a line that says what to install; under `CI=true` nothing is skipped.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Block, blocks_of, blocks_of_section};
use crate::harness::*;

/// A fresh directory holding the demo's output as `acme.ndjson`.
fn with_demo_output(name: &str) -> TempDir {
    let dir = temp_dir(&format!("recipes-{name}"));
    std::fs::write(dir.join("acme.ndjson"), demo_golden()).unwrap();
    std::fs::write(dir.join("yesterday.ndjson"), yesterdays_export()).unwrap();
    dir
}

/// Whether a tool a recipe needs is here. When it is not, the recipe is skipped with one line
/// saying what to install, unless `CI` says this is CI, where every recipe must run.
fn available(present: bool, what: &str, install: &str) -> bool {
    if present {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false");
    assert!(!ci, "{what} is missing, and CI runs every recipe: {install}");
    eprintln!("skipped the recipes that need {what}: {install}, or run `make test`");
    false
}

/// Whether `program` runs with `args` and succeeds.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The Python that has DuckDB's module: `DUCKDB_PYTHON` (which `make test` sets to the
/// project's own environment under `target/`), else that environment if it exists, else
/// `python3`.
fn duckdb_python() -> String {
    if let Ok(python) = std::env::var("DUCKDB_PYTHON")
        && !python.is_empty()
    {
        return python;
    }
    let venv = root().join("target/test-tools/venv/bin/python");
    if venv.exists() { venv.to_string_lossy().into_owned() } else { "python3".to_string() }
}

/// Whether the tools `recipe` needs are here (see `available`).
fn can_run(recipe: &Block) -> bool {
    match recipe.language.as_str() {
        "sql" => available(
            runs(&duckdb_python(), &["-c", "import duckdb"]),
            "DuckDB's Python module",
            "python3 -m venv target/test-tools/venv && target/test-tools/venv/bin/pip install duckdb",
        ),
        _ if recipe.text.contains("sqlite3 acme.db") => {
            available(runs("sqlite3", &["-version"]), "sqlite3", "apt-get install sqlite3")
        }
        _ => available(runs("jq", &["--version"]), "jq", "apt-get install jq"),
    }
}

/// Runs a shell recipe with bash in `dir`; returns its status and stdout, and fails the
/// test if it wrote to stderr.
fn run_shell(recipe: &str, dir: &Path) -> (i32, String) {
    let output = Command::new("bash")
        .args(["-o", "pipefail", "-c", recipe])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.is_empty(),
        "{recipe}
wrote to stderr: {stderr}"
    );
    (output.status.code().unwrap_or(-1), String::from_utf8(output.stdout).unwrap())
}

/// Runs SQL statements with DuckDB (its Python module) in `dir`; prints the last
/// statement's rows, tab-separated, as the recipes show them.
fn run_duckdb(sql: &str, dir: &Path) -> String {
    const RUNNER: &str = r#"
import sys
import duckdb
def text(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
for row in duckdb.connect().sql(sys.stdin.read()).fetchall():
    print("\t".join(text(value) for value in row))
"#;
    let mut child = Command::new(duckdb_python())
        .args(["-c", RUNNER])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "DuckDB failed on\n{sql}\n{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Whether `actual` is what the document shows: all of it, or its first lines up to `...`.
fn shows(expected: &str, actual: &str) -> bool {
    match expected.strip_suffix("...\n") {
        Some(first_lines) => actual.starts_with(first_lines) && actual.len() > first_lines.len(),
        None => actual == expected,
    }
}

/// Runs every recipe of `blocks` (each followed by its output) that the tools here allow;
/// returns the languages of the recipes found.
fn run_recipes(document: &str, blocks: &[Block]) -> Vec<String> {
    let mut found = Vec::new();
    for (index, recipe) in blocks.iter().enumerate() {
        if recipe.language != "sh" && recipe.language != "sql" {
            continue;
        }
        found.push(recipe.language.clone());
        let expected = blocks.get(index + 1).filter(|block| block.language == "text");
        let expected = expected.unwrap_or_else(|| {
            panic!("{document}: recipe {index} is followed by its output:\n{}", recipe.text)
        });
        if !can_run(recipe) {
            continue;
        }
        let dir = with_demo_output(&format!("{}-{index}", document.replace('/', "-")));
        let actual = match recipe.language.as_str() {
            "sh" => {
                let (status, stdout) = run_shell(&recipe.text, &dir);
                assert_eq!(status, 0, "{}", recipe.text);
                stdout
            }
            _ => run_duckdb(&recipe.text, &dir),
        };
        assert!(
            shows(&expected.text, &actual),
            "{document}: recipe\n{}\nprinted\n{actual}\nwhere the document shows\n{}",
            recipe.text,
            expected.text
        );
    }
    found
}

#[test]
fn every_recipe_prints_what_the_documents_show() {
    let readme = run_recipes("README.md", &blocks_of_section("README.md", "## Recipes"));
    assert_eq!(readme, ["sh", "sh", "sh"], "the README shows three recipes");
    let all = run_recipes("docs/recipes.md", &blocks_of("docs/recipes.md"));
    for language in ["sh", "sql"] {
        assert!(all.iter().filter(|l| *l == language).count() >= 2, "{language} recipes: {all:?}");
    }
    // The README's recipes are among the whole collection's, as they are written there.
    let collection = blocks_of("docs/recipes.md");
    for recipe in blocks_of_section("README.md", "## Recipes") {
        assert!(
            collection.iter().any(|b| b.text == recipe.text),
            "not in docs/recipes.md:\n{}",
            recipe.text
        );
    }
}

#[test]
fn grants_per_project_counts_projects_without_grants() {
    // The demo's projects all have grants; without grants every project must still show.
    let blocks = blocks_of("docs/recipes.md");
    let recipe = blocks
        .iter()
        .find(|b| b.language == "sh" && b.text.contains("[$r.display_name, 0, 0, 0]"))
        .unwrap();
    if !can_run(recipe) {
        return;
    }
    let dir = with_demo_output("no-grants");
    let without_grants: String = demo_golden()
        .lines()
        .filter(|l| !l.contains("\"kind\":\"grant\""))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("acme.ndjson"), without_grants).unwrap();
    let (status, stdout) = run_shell(&recipe.text, &dir);
    assert_eq!(status, 0);
    assert_eq!(
        stdout,
        "Customer Portal\t0\t0\t0\nInternal Tools\t0\t0\t0\nLegacy Billing\t0\t0\t0\n"
    );
}

/// The recipe of credentials that never expire names exactly those of managers: an expiring
/// key of a manager made non-expiring appears, and a never-expiring token and client secret
/// of a user who manages nothing do not; and each is printed once, however many roles its
/// user holds.
#[test]
fn never_expiring_credentials_are_those_of_managers_only() {
    const CI_BOT: &str = "284912230194381317";
    const BATON_SYNC: &str = "284913718839001605";
    let blocks = blocks_of("docs/recipes.md");
    let recipe = blocks
        .iter()
        .find(|b| b.language == "sh" && b.text.contains(".never[$r.secret.identity_id]"))
        .unwrap();
    if !can_run(recipe) {
        return;
    }
    let dir = with_demo_output("never-expiring");
    let changed: String = demo_golden()
        .lines()
        // The Baton Sync user manages nothing any more.
        .filter(|l| !(l.contains("\"kind\":\"grant\"") && l.contains(BATON_SYNC)))
        // The CI Bot's key never expires.
        .map(|l| {
            l.replace(
                "\"expires_at\":\"2026-06-30T00:00:00Z\"",
                "\"expires_at\":\"9999-12-31T23:59:59Z\"",
            )
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(changed.contains(&format!("\"identity_id\":\"{CI_BOT}\"")));
    std::fs::write(dir.join("acme.ndjson"), changed).unwrap();
    let (status, stdout) = run_shell(&recipe.text, &dir);
    assert_eq!(status, 0);
    assert_eq!(stdout, "machine_key\t284912367488733189\tCI Bot\n");
}

/// Whether a terminal would obey `c` or hide it: a control character other than tab and
/// newline (C0, DEL, C1), or one that reorders, joins or breaks what it shows (format
/// characters such as bidi overrides and zero-width spaces, line and paragraph separators).
fn obeyed_by_a_terminal(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}')
        || matches!(c, '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// Names are chosen by users and partner organizations. A name holding an escape sequence,
/// a bell, a C1 control, a bidi override or isolate, a line separator and a zero-width space
/// reaches no terminal raw through any recipe: each recipe that prints names shows `�`
/// (or, for SQLite, the export's own escape) in their place.
#[test]
fn no_recipe_prints_what_a_name_hides_to_the_terminal() {
    const HIDDEN: &str = r"\u001b[2K\u0007\u009b\u202e\u2028\u200b\u2066";
    let hostile = |export: String| {
        export.replace("\"display_name\":\"", &format!("\"display_name\":\"{HIDDEN}"))
    };
    let demo = demo_golden();
    let names: Vec<&str> = demo
        .split("\"display_name\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let mut printing_names = 0;
    for (document, blocks) in [
        ("README.md", blocks_of_section("README.md", "## Recipes")),
        ("docs/recipes.md", blocks_of("docs/recipes.md")),
    ] {
        for (index, recipe) in blocks.iter().enumerate() {
            if (recipe.language != "sh" && recipe.language != "sql") || !can_run(recipe) {
                continue;
            }
            let dir = temp_dir(&format!("recipes-hostile-{}-{index}", document.replace('/', "-")));
            std::fs::write(dir.join("acme.ndjson"), hostile(demo.clone())).unwrap();
            std::fs::write(dir.join("yesterday.ndjson"), hostile(yesterdays_export())).unwrap();
            let printed = match recipe.language.as_str() {
                "sh" => {
                    let (status, stdout) = run_shell(&recipe.text, &dir);
                    assert_eq!(status, 0, "{}", recipe.text);
                    stdout
                }
                _ => run_duckdb(&recipe.text, &dir),
            };
            let raw: Vec<char> = printed.chars().filter(|&c| obeyed_by_a_terminal(c)).collect();
            assert!(raw.is_empty(), "{document}: recipe\n{}\nprinted {raw:?} raw", recipe.text);
            let shown = &blocks[index + 1].text;
            if names.iter().any(|name| shown.contains(name)) {
                printing_names += 1;
                assert!(
                    printed.contains('\u{fffd}') || printed.contains(r"\u001b[2K"),
                    "{document}: recipe\n{}\nprinted no mark where a name hides something:\n{printed}",
                    recipe.text
                );
            }
        }
    }
    assert!(printing_names >= 12, "only {printing_names} recipes print names");
}

/// Yesterday's export, for the recipes that compare two: the demo's output as it was before
/// Frank Fischer joined, Alice Anderson became an admin of the portal, Erin Evans was
/// disabled, Initech was granted a project and its Peter Gibbons made a manager of that
/// grant, and while Gina Green (a copy of Carol Clark, with her user grant) still worked here.
pub fn yesterdays_export() -> String {
    const FRANK: &str = "284911893456683013";
    const PETER: &str = "284905802156290051";
    const INITECH: &str = "284905733281462275";
    const ALICE: &str = "284906014215673861";
    const CAROL: &str = "284908102417326085";
    const GINA: &str = "284908000000000001";
    let mut lines = Vec::new();
    for line in demo_golden().lines() {
        let gone = line.contains(FRANK)
            || line.contains(PETER)
            || line.contains(&format!("\"principal_id\":\"{INITECH}\""))
            || line.contains(&format!("\"resource_type\":\"org\",\"id\":\"{INITECH}\""))
            || line.contains(&format!(
                "\"slug\":\"admin\",\"principal_type\":\"user\",\"principal_id\":\"{ALICE}\""
            ));
        if gone {
            continue;
        }
        let line = line.replace(
            "\"display_name\":\"Erin Evans\",\"status\":\"DISABLED\",\"status_details\":\"USER_STATE_INACTIVE\"",
            "\"display_name\":\"Erin Evans\",\"status\":\"ENABLED\",\"status_details\":\"USER_STATE_ACTIVE\"",
        );
        let carols = line.contains(&format!("\"resource_type\":\"user\",\"id\":\"{CAROL}\""))
            || line.contains(&format!("\"principal_id\":\"{CAROL}\",\"user_grant_id\""));
        let gina = carols.then(|| line.replace(CAROL, GINA).replace("Carol Clark", "Gina Green"));
        lines.push(line);
        lines.extend(gina);
    }
    lines.iter().map(|line| format!("{line}\n")).collect()
}

#[test]
fn the_change_recipes_agree_and_name_every_kind_of_change() {
    let blocks = blocks_of_section("docs/recipes.md", "## Comparing two exports");
    let recipes: Vec<&Block> =
        blocks.iter().filter(|b| b.text.contains("yesterday.ndjson")).collect();
    let [duckdb, jq] = recipes[..] else { panic!("a DuckDB and a jq recipe: {}", recipes.len()) };
    assert_eq!((duckdb.language.as_str(), jq.language.as_str()), ("sql", "sh"));
    if !can_run(duckdb) || !can_run(jq) {
        return;
    }
    let dir = with_demo_output("changes");
    let by_duckdb = run_duckdb(&duckdb.text, &dir);
    let (status, by_jq) = run_shell(&jq.text, &dir);
    assert_eq!(status, 0);
    assert_eq!(by_duckdb, by_jq, "the two recipes print the same");
    for change in [
        "grant gained",
        "grant lost",
        "user added",
        "user removed",
        "user disabled",
        "new external user",
        "new external org",
    ] {
        assert!(by_jq.contains(&format!("{change}\t")), "no {change}: {by_jq}");
    }
}

/// The SQLite recipe makes a database only its user can read, and can be run again (on a
/// newer export) without an error or a row counted twice.
#[test]
fn the_sqlite_recipe_can_be_run_twice_into_a_private_database() {
    use std::os::unix::fs::PermissionsExt;
    let blocks = blocks_of_section("docs/recipes.md", "## SQLite");
    let recipe = blocks.iter().find(|b| b.text.contains("sqlite3 acme.db")).unwrap();
    if !can_run(recipe) {
        return;
    }
    let dir = with_demo_output("sqlite-twice");
    let first = run_shell(&recipe.text, &dir);
    let second = run_shell(&recipe.text, &dir);
    assert_eq!(first.0, 0);
    assert_eq!(first, second, "the same rows, none twice");
    let mode = std::fs::metadata(dir.join("acme.db")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

/// The records of the `json` blocks among `blocks`, unwrapped: a line that does not start a
/// record continues the one before, its indentation dropped.
fn shown_records(blocks: &[Block]) -> Vec<String> {
    let mut shown: Vec<String> = Vec::new();
    for block in blocks.iter().filter(|b| b.language == "json") {
        for line in block.text.lines() {
            match shown.last_mut() {
                Some(record) if !line.starts_with('{') => record.push_str(line.trim_start()),
                _ => shown.push(line.to_string()),
            }
        }
    }
    shown
}

/// Fails unless each record is a whole line of the demo, byte for byte, so that field order,
/// names and values are what the binary prints (the summary's times and URL, which differ
/// from run to run, masked as the golden file has them).
fn assert_lines_of_the_demo(document: &str, shown: &[String]) {
    let demo = demo_golden();
    let lines: Vec<&str> = demo.lines().collect();
    for record in shown {
        assert!(
            lines.contains(&masked(record).as_str()),
            "{document} shows\n{record}\nwhich the demo does not print"
        );
    }
}

#[test]
fn every_output_example_is_a_line_of_the_demo() {
    let shown = shown_records(&blocks_of("docs/output.md"));
    assert_lines_of_the_demo("docs/output.md", &shown);
    // Every kind of record the schema describes has an example.
    let kinds = [
        "{\"kind\":\"resource_type\",\"id\":\"project_grant\"",
        "{\"kind\":\"resource\",\"resource_type\":\"user\"",
        "\"external\":true,\"user\":",
        "\"org_name\":\"Globex\",\"external\":true,\"user\":",
        "{\"kind\":\"resource\",\"resource_type\":\"project\"",
        "{\"kind\":\"resource\",\"resource_type\":\"org\"",
        "\"display_name\":\"Initech\",\"external\":true}",
        "{\"kind\":\"resource\",\"resource_type\":\"project_grant\"",
        "\"purpose\":\"ASSIGNMENT\"",
        "{\"kind\":\"entitlement\",\"id\":\"org:",
        "{\"kind\":\"entitlement\",\"id\":\"project_grant:",
        "\"slug\":\"manager:PROJECT_OWNER\",\"display_name\"",
        "\"state\":\"USER_GRANT_STATE_ACTIVE\",\"created_at\":",
        "\"updated_at\":",
        "\"synced_by\":",
        "\"granted_by_org_id\":",
        "\"principal_type\":\"org\"",
        "{\"kind\":\"grant\",\"id\":\"org:",
        "{\"kind\":\"grant\",\"id\":\"project_grant:",
        "\"slug\":\"manager:PROJECT_OWNER\",\"principal_type\"",
        "{\"kind\":\"user_auth\"",
        "\"login_policy\":{",
        "{\"kind\":\"summary\"",
    ];
    for kind in kinds {
        assert!(shown.iter().any(|record| record.contains(kind)), "no example with {kind}");
    }
}

#[test]
fn the_readme_shows_one_line_of_each_kind() {
    let shown = shown_records(&blocks_of_section("README.md", "## The output at a glance"));
    assert_lines_of_the_demo("README.md", &shown);
    let kinds: Vec<&str> = shown
        .iter()
        .map(|record| record["{\"kind\":\"".len()..].split('"').next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["resource_type", "resource", "entitlement", "grant", "user_auth", "summary"]
    );
}
