//! Logs and progress on stderr: JSON or console lines, levels, the progress line on a
//! terminal only, and the lines that sum a sync up.

use std::process::Command;
use std::time::Duration;

use fake_zitadel::{
    Dataset, FakeZitadel, Fault, FaultAction, GENERATED_PAT, GenerateSpec, Options,
};
use serde_json::Value;

use crate::harness::*;

/// Runs the binary on a pseudo-terminal of `columns` columns (`script`), against `fake`
/// serving the generated organization; returns everything written to the terminal.
fn on_terminal(fake: &FakeZitadel, columns: u32, args: &str, env: &[(&str, &str)]) -> String {
    let binary = env!("CARGO_BIN_EXE_baton-zitadel");
    let output = temp_file(&format!("terminal-{columns}.ndjson"), "");
    let line = format!(
        "stty cols {columns} rows 24 && exec {binary} --instance-url {} --output {} {args}",
        fake.url(),
        output.display()
    );
    let mut command = Command::new("script");
    command.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    command.env_clear().env("PATH", "/usr/bin:/bin").env("TERM", "xterm");
    command.env("BATON_PAT", GENERATED_PAT).envs(env.iter().copied());
    let run = crate::harness::run(command);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    run.stdout
}

/// The large benchmark's organization made `divided` times smaller, served slowly enough
/// that the progress line is redrawn several times.
fn serve_generated(divided: usize, latency_ms: u64) -> FakeZitadel {
    let (dataset, _) = Dataset::generate(GenerateSpec::LARGE.divided(divided));
    serve(dataset, Options { latency: Duration::from_millis(latency_ms), ..Options::default() })
}

/// The progress lines drawn: what follows each `\r\x1b[2K` that is not a log line.
fn progress_lines(terminal: &str) -> Vec<&str> {
    terminal
        .split("\r\x1b[2K")
        .skip(1)
        .map(|drawn| drawn.split('\r').next().unwrap())
        .filter(|drawn| !drawn.starts_with("baton-zitadel: ") && !drawn.is_empty())
        .collect()
}

/// What a terminal `columns` wide shows after `output`: its rows, and whether each was
/// reached by wrapping a line too long for the one before. Handles what the binary writes:
/// text, `\r`, `\n` and `\x1b[2K` (erase the row).
fn screen(output: &str, columns: usize) -> Vec<(String, bool)> {
    let mut rows: Vec<(Vec<char>, bool)> = vec![(Vec::new(), false)];
    let (mut row, mut column) = (0, 0);
    let mut chars = output.chars();
    while let Some(c) = chars.next() {
        match c {
            '\r' => column = 0,
            '\n' => {
                row += 1;
                if rows.len() == row {
                    rows.push((Vec::new(), false));
                }
            }
            '\x1b' => {
                let sequence: String = chars.by_ref().take(3).collect();
                assert_eq!(sequence, "[2K", "only erase-line is expected");
                rows[row].0.clear();
            }
            _ => {
                if column == columns {
                    (row, column) = (row + 1, 0);
                    if rows.len() == row {
                        rows.push((Vec::new(), true));
                    }
                    rows[row].1 = true;
                }
                let cells = &mut rows[row].0;
                if cells.len() <= column {
                    cells.resize(column + 1, ' ');
                }
                cells[column] = c;
                column += 1;
            }
        }
    }
    rows.into_iter().map(|(cells, wrapped)| (cells.into_iter().collect(), wrapped)).collect()
}

#[test]
fn the_progress_line_fits_an_80_column_terminal_and_leaves_no_row_behind() {
    // Half the large organization: 50,000 users and 218,000 grants, numbers that make a
    // full progress line longer than 80 columns.
    let fake = serve_generated(2, 0);
    let terminal = on_terminal(&fake, 80, "", &[]);
    let drawn = progress_lines(&terminal);
    assert!(!drawn.is_empty(), "the progress line was drawn: {terminal:?}");
    for line in &drawn {
        assert!(line.chars().count() < 80, "{} columns: {line:?}", line.chars().count());
        assert!(!line.contains('\n'), "{line:?}");
    }
    // Every row left on the screen belongs to a log line: no fragment of a progress line.
    let rows = screen(&terminal, 80);
    for (text, wrapped) in &rows {
        assert!(
            text.trim().is_empty() || *wrapped || text.starts_with("baton-zitadel: "),
            "a row left behind: {text:?}\n{rows:#?}"
        );
    }
    assert!(rows.iter().any(|(text, _)| text.starts_with("baton-zitadel: sync complete")));

    // Without a size from the terminal, COLUMNS says it.
    let fake = serve_generated(100, 5);
    let terminal = on_terminal(&fake, 0, "--page-size 100", &[("COLUMNS", "50")]);
    let drawn = progress_lines(&terminal);
    assert!(!drawn.is_empty());
    assert!(drawn.iter().all(|line| line.chars().count() < 50), "{drawn:?}");
}

#[test]
fn the_progress_line_counts_external_users_apart() {
    let fake = serve_generated(100, 5);
    let terminal = on_terminal(&fake, 250, "", &[]);
    let last = *progress_lines(&terminal).last().expect("a progress line");
    // The organization has 1000 users of its own; external ones are never counted as such.
    let users: u64 = last.split(" users").next().unwrap().parse().unwrap();
    assert!(users <= 1000, "{last}");
    assert!(last.contains(" external user"), "{last}");
}

#[test]
fn no_progress_when_asked_or_below_info() {
    let fake = serve_generated(100, 5);
    for (args, env) in [
        ("--no-progress", &[][..]),
        ("", &[("BATON_NO_PROGRESS", "yes")][..]),
        ("--log-level warn", &[][..]),
        ("", &[("BATON_LOG_LEVEL", "error")][..]),
    ] {
        let terminal = on_terminal(&fake, 80, args, env);
        assert!(!terminal.contains('\x1b'), "{args} {env:?}: {terminal:?}");
    }
}

#[test]
fn the_summary_line_names_what_was_skipped() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[]);
    let end = run.stderr.lines().find(|line| line.contains("sync complete")).unwrap();
    assert!(
        end.contains(": 9 users, 5 external users, 1 pat, 1 machine key, 1 client secret, 5 user auths, 1 org, 1 external org, 1 instance, 3 projects, 3 project grants, 44 entitlements, 33 grants, 15 manager grants, 2 org grants, 2 delegated grants; skipped 1 inactive project grant, 1 inactive user grant, 2 unknown role keys, 1 user grant without roles; 32 requests, 0 retries"),
        "{end}"
    );
}

/// The demo with `extra` more user grants without role keys, all on one project.
fn demo_with_grants_without_roles(extra: usize) -> Dataset {
    let text = std::fs::read_to_string(root().join("testdata/demo.json")).unwrap();
    let line = text.lines().find(|line| line.contains("\"id\":\"284915780113367045\"")).unwrap();
    let grant = line.trim().trim_end_matches(',');
    let mut dataset = demo();
    for n in 0..extra {
        let json = grant.replace("284915780113367045", &format!("2849157801133671{n:02}"));
        dataset.add_user_grant(ACME, &json).unwrap();
    }
    dataset
}

#[test]
fn only_the_first_ten_skipped_grants_of_a_kind_are_listed() {
    let fake = serve(demo_with_grants_without_roles(11), Options::default());
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(summary(&run.stdout)["counts"]["user_grant_without_roles"], 12);
    let listed = run.stderr.lines().filter(|line| line.contains("has no role keys")).count();
    assert_eq!(listed, 10, "{}", run.stderr);
    let more: Vec<&str> = run.stderr.lines().filter(|line| line.contains("more ")).collect();
    assert_eq!(
        more,
        [
            "baton-zitadel: warning: more user grants without roles are not listed; the summary counts them all (all are listed at --log-level debug)"
        ]
    );
    // The other kind, with one grant, is listed as before.
    assert!(run.stderr.contains("names role \"deprecated-role\""));

    let run = sync(&fake, &["--log-level", "debug"], &[]);
    let listed = run.stderr.lines().filter(|line| line.contains("has no role keys")).count();
    assert_eq!(listed, 12, "all at debug level");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let fake = serve_demo();
    fake.inject(Fault::new(FaultAction::DropConnection).on_path("/projects/_search").once());
    let run = sync(&fake, &["--log-format", "json", "--log-level", "debug"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let lines: Vec<Value> =
        run.stderr.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
    for line in &lines {
        assert!(
            line["ts"].as_str().is_some_and(|ts| ts.ends_with('Z'))
                && line["level"].is_string()
                && line["msg"].is_string()
        );
    }
    let requests: Vec<&Value> = lines.iter().filter(|l| l["msg"] == "request").collect();
    assert_eq!(requests.len(), fake.request_count(), "every attempt is logged");
    let users = requests.iter().find(|r| r["path"] == "/management/v1/users/_search").unwrap();
    for key in ["method", "path", "offset", "limit", "status", "bytes", "duration_ms", "attempt"] {
        assert!(!users[key].is_null(), "{key} in {users}");
    }
    let retried: Vec<_> =
        requests.iter().filter(|r| r["path"] == "/management/v1/projects/_search").collect();
    assert_eq!(
        retried.iter().map(|r| r["attempt"].as_u64()).collect::<Vec<_>>(),
        [Some(1), Some(2)]
    );
    assert!(retried[0]["status"].is_null(), "a dropped connection has no status");
    assert_eq!(retried[0]["bytes"], 0, "nor any bytes, whatever the buffer held before");
    let end =
        lines.iter().find(|l| l["msg"].as_str().unwrap().starts_with("sync complete")).unwrap();
    assert_eq!(end["retries"], 1);
    assert_eq!(end["counts"], summary(&demo_golden())["counts"]);
    assert!(end["duration_s"].is_number());

    // Failures are JSON too, and JSON is the default when stderr is not a terminal.
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command
        .env_clear()
        .env("BATON_INSTANCE_URL", fake.url())
        .env("BATON_PAT", "not-a-real-pat-1234");
    let failed = crate::harness::run(command);
    assert_eq!(failed.status, 3);
    let last: Value = serde_json::from_str(failed.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(last["level"], "error");
}

#[test]
fn log_levels_filter_stderr() {
    let fake = serve_demo();
    let quiet = sync(&fake, &["--log-level", "error"], &[]);
    assert_eq!(quiet.status, 0);
    assert_eq!(quiet.stderr, "");
    let warnings = sync(&fake, &[], &[("BATON_LOG_LEVEL", "warn")]);
    assert_eq!(warnings.stderr.lines().count(), 3, "{}", warnings.stderr);
    assert!(warnings.stderr.lines().all(|l| l.starts_with("baton-zitadel: warning: ")));
    assert_eq!(sync(&fake, &["--log-level", "loud"], &[]).status, 2);
    assert_eq!(sync(&fake, &["--log-format", "xml"], &[]).status, 2);
}

#[test]
fn the_progress_line_appears_only_on_a_terminal() {
    let fake = serve_demo();
    // Not a terminal: no carriage returns, no escape sequences.
    let run = sync(&fake, &[], &[]);
    assert!(!run.stderr.contains('\r') && !run.stderr.contains('\x1b'));

    // A terminal: `script` runs the binary on a pseudo-terminal and copies what it writes.
    let binary = env!("CARGO_BIN_EXE_baton-zitadel");
    let dir = temp_dir("progress");
    let output = dir.join("acme.ndjson");
    let line = format!("{binary} --instance-url {} --output {}", fake.url(), output.display());
    let mut command = Command::new("script");
    command.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    command.env_clear().env("BATON_PAT", ACME_PAT).env("PATH", "/usr/bin:/bin").env("TERM", "dumb");
    let run = crate::harness::run(command);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("\r\x1b[2K"), "the line is drawn and cleared: {:?}", run.stdout);
    assert!(run.stdout.contains(" grants, "), "the progress line: {:?}", run.stdout);
    assert!(run.stdout.contains("baton-zitadel: sync complete"), "console logs on a terminal");
}
