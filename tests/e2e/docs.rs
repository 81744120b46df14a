//! The documents hold to the program: every recipe of the README and of `docs/recipes.md`
//! runs verbatim on the demo's output (what `make demo > acme.ndjson` writes; `make
//! demo-smoke` holds that to the golden file) and prints what is shown below it; every
//! output example is a line of that output; `docs/operations.md` shows every file of
//! `deploy/` as it is, and those files agree with each other; every link between the
//! documents leads somewhere; and the README fits on a screen or five.
//!
//! The recipes need jq, sqlite3 and DuckDB's Python module, which `make test` installs. Run
//! by `cargo test` alone on a machine without one of them, the recipes that need it are
//! skipped with a line that says what to install; under `CI=true` nothing is skipped.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::*;

/// The longest the README may grow: what it holds beyond that belongs in `docs/`.
const README_MAX_LINES: usize = 250;

/// Where the operations guide says to install the binary; every deployment file runs it from
/// there.
const INSTALL_PATH: &str = "/usr/local/bin/baton-zitadel";

/// A fenced block of a document: its language and its text.
struct Block {
    language: String,
    text: String,
}

/// A document of the repository, by its path from the root.
fn document(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fenced blocks of a whole document.
fn blocks_of(path: &str) -> Vec<Block> {
    fenced_blocks(&document(path))
}

/// The fenced blocks of the section of `path` that starts with `heading` and ends at the next
/// heading of the same level.
fn blocks_of_section(path: &str, heading: &str) -> Vec<Block> {
    let text = document(path);
    let start = text.find(&format!("\n{heading}\n")).expect("the section exists");
    let section = &text[start + 1..];
    let level = &heading[..heading.find(' ').unwrap() + 1];
    let next = format!("\n{level}");
    fenced_blocks(&section[..section[1..].find(&next).map_or(section.len(), |end| end + 1)])
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
        _ if recipe.text.starts_with("sqlite3 ") => {
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

/// The recipe that compares two days' exports, which needs two of them: tested on its own.
fn compares_two_exports(recipe: &Block) -> bool {
    recipe.text.contains("yesterday.ndjson")
}

/// Runs every recipe of `blocks` (each followed by its output) that the tools here allow;
/// returns the languages of the recipes found.
fn run_recipes(document: &str, blocks: &[Block]) -> Vec<String> {
    let mut found = Vec::new();
    for (index, recipe) in blocks.iter().enumerate() {
        if (recipe.language != "sh" && recipe.language != "sql") || compares_two_exports(recipe) {
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

#[test]
fn comparing_two_exports_shows_what_changed() {
    let blocks = blocks_of_section("docs/recipes.md", "## Comparing two exports");
    let recipe = blocks.iter().find(|b| compares_two_exports(b)).unwrap();
    if !can_run(recipe) {
        return;
    }
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
/// names and values are what the binary prints.
fn assert_lines_of_the_demo(document: &str, shown: &[String]) {
    let demo = demo_golden();
    let lines: Vec<&str> = demo.lines().collect();
    for record in shown {
        assert!(
            lines.contains(&record.as_str()),
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

#[test]
fn the_readme_shows_one_line_of_each_kind() {
    let shown = shown_records(&blocks_of_section("README.md", "## The output at a glance"));
    assert_lines_of_the_demo("README.md", &shown);
    let kinds: Vec<&str> = shown
        .iter()
        .map(|record| record["{\"kind\":\"".len()..].split('"').next().unwrap())
        .collect();
    assert_eq!(kinds, ["resource_type", "resource", "entitlement", "grant", "summary"]);
}

#[test]
fn the_readme_fits_in_its_lines() {
    let lines = document("README.md").lines().count();
    assert!(lines <= README_MAX_LINES, "README.md has {lines} lines; move some to docs/");
}

/// A heading's anchor as GitHub makes it: lower case, spaces as `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a document's headings, outside fenced blocks.
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut anchors = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            anchors.push(anchor(line.trim_start_matches('#')));
        }
    }
    anchors
}

/// The targets of a document's relative markdown links, `[text](target)`.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    for (at, _) in text.match_indices("](") {
        let rest = &text[at + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = &rest[..end];
        if !target.contains("://") && !target.contains(' ') {
            links.push(target.to_string());
        }
    }
    links
}

#[test]
fn every_link_between_the_documents_leads_somewhere() {
    let mut documents = vec!["README.md".to_string()];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            documents.push(format!("docs/{name}"));
        }
    }
    for document_path in &documents {
        let text = document(document_path);
        let base = Path::new(document_path).parent().unwrap();
        for link in relative_links(&text) {
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target =
                if file.is_empty() { PathBuf::from(document_path) } else { base.join(file) };
            let on_disk = root().join(&target);
            assert!(on_disk.exists(), "{document_path}: {link} leads nowhere");
            if !fragment.is_empty() {
                let target_text = std::fs::read_to_string(&on_disk).unwrap();
                assert!(
                    anchors(&target_text).iter().any(|a| a == fragment),
                    "{document_path}: {link}: no such heading in {}",
                    target.display()
                );
            }
        }
    }
}

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(root().join("deploy").join(name)).unwrap()
}

/// Every file under `deploy/`, by path relative to it.
fn deploy_files() -> BTreeMap<String, String> {
    fn walk(dir: &Path, base: &Path, files: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, files);
            } else {
                let name = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                files.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    let base = root().join("deploy");
    walk(&base, &base, &mut files);
    files
}

#[test]
fn the_operations_guide_shows_every_deployment_file_as_it_is() {
    let files = deploy_files();
    assert!(files.len() >= 5, "{:?}", files.keys());
    let blocks = blocks_of_section("docs/operations.md", "## Running it in production");
    for (name, contents) in &files {
        assert!(
            blocks.iter().any(|block| block.text == *contents),
            "docs/operations.md lacks deploy/{name} as it is (or shows it changed)"
        );
    }
    // And the section shows nothing that is not one of them.
    for block in &blocks {
        assert!(
            files.values().any(|contents| *contents == block.text),
            "a snippet that is no file of deploy/:\n{}",
            block.text
        );
    }
    let guide = document("docs/operations.md");
    assert!(guide.contains(&format!("Install the binary as `{INSTALL_PATH}`")));
}

/// The `key=value` settings of a unit file, by section, in order.
fn unit_settings(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut settings = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line.split_once('=').expect("key=value");
        settings.push((section.clone(), key.to_string(), value.to_string()));
    }
    settings
}

fn setting<'s>(settings: &'s [(String, String, String)], section: &str, key: &str) -> Vec<&'s str> {
    settings
        .iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, value)| value.as_str())
        .collect()
}

#[test]
fn the_systemd_units_hold_together() {
    let service = unit_settings(&deploy_file("baton-zitadel.service"));
    let timer = unit_settings(&deploy_file("baton-zitadel.timer"));
    assert_eq!(setting(&service, "Unit", "Description").len(), 1);
    assert_eq!(setting(&service, "Service", "Type"), ["oneshot"]);
    assert_eq!(setting(&service, "Service", "ExecStart"), [INSTALL_PATH]);
    // The PAT file the binary reads is the credential systemd loads.
    let credential = setting(&service, "Service", "LoadCredential");
    let (name, source) = credential[0].split_once(':').unwrap();
    assert_eq!(source, "/etc/baton/zitadel-pat");
    let environment = setting(&service, "Service", "Environment");
    assert!(environment.contains(&format!("BATON_PAT_FILE=%d/{name}").as_str()), "{environment:?}");
    let output = environment.iter().find_map(|e| e.strip_prefix("BATON_OUTPUT=")).unwrap();
    let state = setting(&service, "Service", "StateDirectory");
    assert!(output.starts_with(&format!("/var/lib/{}/", state[0])), "the export is writable");
    // The timer starts the service of the same name, and is enabled by timers.target.
    assert_eq!(setting(&timer, "Unit", "Description").len(), 1);
    assert_eq!(setting(&timer, "Timer", "OnCalendar").len(), 1);
    assert_eq!(setting(&timer, "Timer", "Unit"), Vec::<&str>::new(), "the default unit");
    assert_eq!(setting(&timer, "Install", "WantedBy"), ["timers.target"]);
    systemd_analyze_verify();
}

/// `systemd-analyze verify` on the units installed in a scratch root beside the system's
/// own units and an executable at the install path, when the tool is there.
fn systemd_analyze_verify() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        return;
    }
    let root_dir =
        &std::env::temp_dir().join(format!("baton-zitadel-systemd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(root_dir);
    let units = root_dir.join("etc/systemd/system");
    let system_units = root_dir.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(&system_units).unwrap();
    std::fs::create_dir_all(root_dir.join("usr/local/bin")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_baton-zitadel"), root_dir.join(&INSTALL_PATH[1..])).unwrap();
    for unit in ["baton-zitadel.service", "baton-zitadel.timer"] {
        std::fs::copy(root().join("deploy").join(unit), units.join(unit)).unwrap();
    }
    // The targets the units depend on (sysinit.target, timers.target, ...), as files.
    for entry in std::fs::read_dir("/usr/lib/systemd/system").into_iter().flatten().flatten() {
        if entry.path().is_file() {
            let _ = std::fs::copy(entry.path(), system_units.join(entry.file_name()));
        }
    }
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root_dir.display()))
        .args(["baton-zitadel.service", "baton-zitadel.timer"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // systemd ignores a bad setting with a message, and still exits 0.
    let ours: Vec<&str> = stderr.lines().filter(|line| line.contains("baton-zitadel")).collect();
    assert!(output.status.success() && ours.is_empty(), "systemd-analyze verify:\n{stderr}");
}

#[test]
fn the_cron_line_runs_the_installed_binary_daily() {
    let file = deploy_file("baton-zitadel.cron");
    let lines: Vec<&str> = file.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert_eq!(lines.len(), 1);
    let fields: Vec<&str> = lines[0].split_whitespace().collect();
    let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    for (field, (low, high)) in fields[..5].iter().zip(ranges) {
        let ok = *field == "*" || field.parse::<u32>().is_ok_and(|n| (low..=high).contains(&n));
        assert!(ok, "schedule field {field:?}");
    }
    assert_eq!(fields[5], "baton", "/etc/cron.d lines name the user");
    let binary = fields[6..].iter().find(|word| !word.contains('=')).unwrap();
    assert_eq!(*binary, INSTALL_PATH);
    assert!(fields.contains(&"--output"), "an export replaced only by a complete sync");
}

#[test]
fn the_container_image_is_the_static_binary_on_an_empty_base_as_non_root() {
    let dockerfile = deploy_file("Dockerfile");
    let instructions: Vec<&str> =
        dockerfile.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).collect();
    let stages: Vec<&&str> = instructions.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(*stages.last().unwrap(), &"FROM scratch", "the image is the binary alone");
    // The build stage's Rust is one the crate builds with.
    let image = stages[0].split_whitespace().nth(1).unwrap();
    let version = image.strip_prefix("rust:").unwrap().split('-').next().unwrap();
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let needed = manifest.split("rust-version = \"").nth(1).unwrap().split('"').next().unwrap();
    let as_number = |v: &str| v.split('.').map(|n| n.parse::<u32>().unwrap()).collect::<Vec<_>>();
    assert!(as_number(version) >= as_number(needed), "rust:{version} < rust-version {needed}");
    // What is copied is what `make static` builds, and is what runs.
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let static_bin = makefile.lines().find_map(|l| l.strip_prefix("STATIC_BIN := ")).unwrap();
    let static_bin = static_bin.replace("$(STATIC_TARGET)", "x86_64-unknown-linux-gnu");
    assert!(instructions.contains(&"RUN make static"));
    let copy = instructions.iter().find(|l| l.starts_with("COPY --from=")).unwrap();
    let parts: Vec<&str> = copy.split_whitespace().collect();
    let workdir = instructions.iter().find_map(|l| l.strip_prefix("WORKDIR ")).unwrap();
    assert_eq!(parts[2], format!("{workdir}/{static_bin}"));
    assert_eq!(*instructions.last().unwrap(), format!("ENTRYPOINT [\"{}\"]", parts[3]));
    let user = instructions.iter().find_map(|l| l.strip_prefix("USER ")).unwrap();
    let uid: u32 = user.split(':').next().unwrap().parse().expect("a numeric user: no passwd file");
    assert_ne!(uid, 0);
    assert!(std::fs::read_to_string(root().join(".dockerignore")).unwrap().contains("target/"));
}

#[test]
fn the_cronjob_reads_the_pat_from_the_secrets_key() {
    let yaml = deploy_file("kubernetes/cronjob.yaml");
    let value = |key: &str| {
        let found = yaml.lines().find_map(|l| l.trim().strip_prefix(&format!("{key}: ")));
        found.unwrap_or_else(|| panic!("no {key}")).trim().to_string()
    };
    // The command in the comment creates the Secret and key that the volume reads.
    let create = yaml.lines().find(|l| l.contains("kubectl create secret generic")).unwrap();
    let words: Vec<&str> = create.split_whitespace().collect();
    let secret = words[words.iter().position(|w| *w == "generic").unwrap() + 1];
    let key = words.iter().find_map(|w| w.strip_prefix("--from-file=")).unwrap();
    let key = key.split('=').next().unwrap();
    assert_eq!(value("secretName"), secret);
    let items = value("items");
    assert_eq!(items, format!("[{{key: {key}, path: {key}}}]"));
    // The binary reads the file where the volume puts it.
    let mount = yaml.lines().find(|l| l.contains("{name: pat, mountPath: ")).unwrap();
    let mount_path = mount.split("mountPath: ").nth(1).unwrap().split(',').next().unwrap();
    assert!(yaml.contains(&format!("{{name: BATON_PAT_FILE, value: {mount_path}/{key}}}")));
    assert!(mount.contains("readOnly: true"));
    assert_eq!(value("runAsNonRoot"), "true");
    assert_eq!(value("concurrencyPolicy"), "Forbid", "never two syncs of one export at once");
    assert!(value("image").contains("deploy/Dockerfile"));
}

/// The files of `src/` that may do I/O (a path, or a directory's prefix), as
/// `docs/ARCHITECTURE.md` says: everything else is data to data.
const IO_MODULES: [&str; 7] = [
    "src/main.rs",
    "src/log.rs",
    "src/output.rs",
    "src/file.rs",
    "src/config/files.rs",
    "src/zitadel/client.rs",
    "src/zitadel/net.rs",
];

/// What doing I/O looks like in Rust: files, sockets, name lookups, the process's streams,
/// its environment, other processes, and the C library.
const IO_MARKERS: [&str; 12] = [
    "std::fs",
    "File::",
    "TcpStream",
    "UdpSocket",
    "to_socket_addrs",
    "stdin()",
    "stdout()",
    "stderr()",
    "std::env",
    "std::process",
    "extern \"C\"",
    "ureq::Agent",
];

/// Every `.rs` file under `dir`, by path from the root.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn only_the_edges_do_io() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for path in files {
        let name = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        if IO_MODULES.iter().any(|module| name.starts_with(module)) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Tests may do what they like: the code is what comes before its test module.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for line in code.lines().filter(|line| !line.trim_start().starts_with("//")) {
            for marker in IO_MARKERS {
                assert!(!line.contains(marker), "{name} does I/O ({marker}): {line}");
            }
        }
    }
}

#[test]
fn the_runtime_dependencies_are_the_five() {
    let manifest = document("Cargo.toml");
    let section = manifest.split("\n[dependencies]\n").nth(1).expect("[dependencies]");
    let section = section.split("\n[").next().unwrap();
    let names: Vec<&str> = section
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| line.split([' ', '=']).next().unwrap())
        .collect();
    assert_eq!(names, ["anyhow", "lexopt", "serde", "serde_json", "ureq"]);
}

/// The documents under `docs/` that `text` cites, each with the heading it names after `#`.
fn cited_documents(text: &str) -> Vec<(String, Option<String>)> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut cited = Vec::new();
    for (at, _) in text.match_indices("docs/") {
        let rest = &text[at + "docs/".len()..];
        let name_end = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        let Some(after) = rest[name_end..].strip_prefix(".md") else { continue };
        let file = format!("docs/{}.md", &rest[..name_end]);
        let anchor = after
            .strip_prefix('#')
            .map(|a| a[..a.find(|c| !word(c)).unwrap_or(a.len())].to_string());
        cited.push((file, anchor));
    }
    cited
}

#[test]
fn every_document_the_code_cites_has_the_section_cited() {
    let mut files = Vec::new();
    for dir in ["src", "fake-zitadel", "examples", "tests", "build.rs"] {
        let path = root().join(dir);
        if path.is_dir() { rust_files(&path, &mut files) } else { files.push(path) }
    }
    let mut citations = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (file, anchor) in cited_documents(&text) {
            let name = path.strip_prefix(root()).unwrap().display().to_string();
            let target = root().join(&file);
            assert!(target.exists(), "{name} cites {file}, which does not exist");
            if let Some(anchor) = anchor {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                assert!(
                    headings.contains(&anchor),
                    "{name} cites {file}#{anchor}: no such heading"
                );
            }
            citations += 1;
        }
    }
    assert!(citations >= 5, "the fake cites docs/zitadel-api.md: {citations} citations found");
}
