//! The README's recipes, run verbatim on the demo's output (what `make demo > acme.ndjson`
//! writes; `make demo-smoke` holds that to the golden file), each compared with the output
//! the README shows below it; and the README's output examples, each a line of that output.

use std::io::Write;
use std::process::{Command, Stdio};

use super::*;

/// A fenced block of the README: its language and its text.
pub struct Block {
    pub language: String,
    pub text: String,
}

/// The fenced blocks of the README section that starts with `heading`.
pub fn blocks_of_section(heading: &str) -> Vec<Block> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find(&format!("\n{heading}\n")).expect("the section exists");
    let section = &readme[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |end| end + 1)];
    fenced_blocks(section)
}

fn fenced_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(language) = line.strip_prefix("```") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
        blocks.push(Block { language: language.to_string(), text: body.join("\n") + "\n" });
    }
    blocks
}

/// A fresh directory holding the demo's output as `acme.ndjson`.
fn with_demo_output(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("baton-zitadel-recipes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("acme.ndjson"), demo_golden()).unwrap();
    dir
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
/// statement's rows, tab-separated, as the README shows them.
fn run_duckdb(sql: &str, dir: &Path) -> String {
    const RUNNER: &str = r#"
import sys
try:
    import duckdb
except ImportError:
    sys.exit("DuckDB's Python module is missing: pip install duckdb (as .ci/run does)")
def text(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
for row in duckdb.connect().sql(sys.stdin.read()).fetchall():
    print("\t".join(text(value) for value in row))
"#;
    let mut child = Command::new("python3")
        .args(["-c", RUNNER])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "DuckDB failed on\n{sql}\n{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Whether `actual` is what the README shows: all of it, or its first lines up to `...`.
fn shows(expected: &str, actual: &str) -> bool {
    match expected.strip_suffix("...\n") {
        Some(first_lines) => actual.starts_with(first_lines) && actual.len() > first_lines.len(),
        None => actual == expected,
    }
}

#[test]
fn every_recipe_prints_what_the_readme_shows() {
    let blocks = blocks_of_section("## Recipes");
    let mut ran = Vec::new();
    for (index, pair) in blocks.windows(2).enumerate() {
        let [recipe, expected] = pair else { unreachable!() };
        if recipe.language != "sh" && recipe.language != "sql" {
            continue;
        }
        assert_eq!(
            expected.language, "text",
            "recipe {index} is followed by its output:\n{}",
            recipe.text
        );
        let dir = with_demo_output(&format!("recipe-{index}"));
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
            "recipe\n{}\nprinted\n{actual}\nwhere the README shows\n{}",
            recipe.text,
            expected.text
        );
        ran.push(recipe.language.clone());
    }
    for language in ["sh", "sql"] {
        assert!(ran.iter().filter(|l| *l == language).count() >= 2, "{language} recipes: {ran:?}");
    }
}

#[test]
fn grants_per_project_counts_projects_without_grants() {
    // The demo's projects all have grants; without grants every project must still show.
    let blocks = blocks_of_section("## Recipes");
    let recipe = blocks
        .iter()
        .find(|b| b.language == "sh" && b.text.contains("[$r.display_name, 0, 0, 0]"))
        .unwrap();
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

#[test]
fn comparing_two_exports_shows_what_changed() {
    let blocks = blocks_of_section("## Running it in production");
    let recipe = blocks.iter().find(|b| b.text.contains("yesterday.ndjson")).unwrap();
    let dir = with_demo_output("compare");
    // Yesterday Erin was still active and Alice was not yet an admin of the portal.
    let yesterday: String = demo_golden()
        .lines()
        .filter(|line| {
            !line.contains("\"id\":\"project:284906487321587717:admin:user:284906014215673861\"")
        })
        .map(|line| {
            line.replace(
                "\"status\":\"DISABLED\",\"status_details\":\"USER_STATE_INACTIVE\"",
                "\"status\":\"ENABLED\",\"status_details\":\"USER_STATE_ACTIVE\"",
            ) + "\n"
        })
        .collect();
    std::fs::write(dir.join("yesterday.ndjson"), yesterday).unwrap();
    std::fs::copy(dir.join("acme.ndjson"), dir.join("today.ndjson")).unwrap();
    let (_, stdout) = run_shell(&recipe.text, &dir);
    assert_eq!(
        stdout,
        "10a11\n> 284906014215673861\tproject:284906487321587717:admin\n\
         10c10\n< 284910045582151685\tENABLED\n---\n> 284910045582151685\tDISABLED\n"
    );
}

#[test]
fn every_output_example_is_a_line_of_the_demo() {
    // The examples are wrapped for reading: a line that does not start a record continues
    // the one before, its indentation dropped. Each record must be a whole line of the demo,
    // byte for byte, so that field order, names and values are what the binary prints.
    let demo = demo_golden();
    let lines: Vec<&str> = demo.lines().collect();
    let mut shown: Vec<String> = Vec::new();
    for block in blocks_of_section("## Output").iter().filter(|b| b.language == "json") {
        for line in block.text.lines() {
            match shown.last_mut() {
                Some(record) if !line.starts_with('{') => record.push_str(line.trim_start()),
                _ => shown.push(line.to_string()),
            }
        }
    }
    for record in &shown {
        assert!(
            lines.contains(&record.as_str()),
            "the README shows\n{record}\nwhich the demo does not print"
        );
    }
    // Every kind of record the section describes has an example.
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
        "\"state\":\"USER_GRANT_STATE_ACTIVE\"}",
        "\"granted_by_org_id\":",
        "\"principal_type\":\"org\"",
        "{\"kind\":\"grant\",\"id\":\"org:",
        "{\"kind\":\"grant\",\"id\":\"project_grant:",
        "\"slug\":\"manager:PROJECT_OWNER\",\"principal_type\"",
        "{\"kind\":\"summary\"",
    ];
    for kind in kinds {
        assert!(shown.iter().any(|record| record.contains(kind)), "no example with {kind}");
    }
}
