//! What a person sees on a terminal in the first hour: one-line configuration errors with
//! suggestions, values that are never echoed, `--version`, the progress line on a
//! pseudo-terminal and the console lines that sum a sync up.

use std::process::Command;
use std::time::Duration;

use super::*;
use fake_zitadel::{GENERATED_PAT, GenerateSpec, Options};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear();
    command
}

#[test]
fn configuration_errors_are_one_line_with_a_suggestion() {
    let fake = serve_demo();
    for (args, suggestion) in [
        (&["--instance-urll", "https://x.example.com"][..], "did you mean --instance-url?"),
        (&["--org", ACME][..], "did you mean --org-id?"),
        (&["--page", "5"][..], "did you mean --page-size?"),
        (&["--verbose"][..], "see baton-zitadel --help for every flag"),
    ] {
        let run = sync(&fake, args, &[]);
        assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        assert!(run.stderr.starts_with("baton-zitadel: unknown flag --"), "{}", run.stderr);
        assert!(run.stderr.trim_end().ends_with(suggestion), "{args:?}: {}", run.stderr);
    }
    let run = sync(&fake, &["--page-size", "0"], &[]);
    assert_eq!(run.status, 2);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn batons_name_for_resource_types_is_accepted() {
    let fake = serve_demo();
    let baton = sync(&fake, &["--sync-resource-types", "project"], &[]);
    assert_eq!(baton.status, 0, "{}", baton.stderr);
    let ours = sync(&fake, &["--resource-types", "project"], &[]);
    assert!(baton.stdout == ours.stdout);
}

#[test]
fn values_that_may_be_a_pat_are_never_echoed() {
    // `run` fails the test if any output holds "demo-pat-".
    let fake = serve_demo();
    for args in [
        &["demo-pat-acme-viewer"][..],
        &["--check=demo-pat-acme-viewer"],
        &["--skip-grants=demo-pat-acme-viewer"],
        &["--token=demo-pat-acme-viewer"],
    ] {
        let run = sync(&fake, args, &[]);
        assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    let run = sync(&fake, &["demo-pat-acme-viewer"], &[]);
    assert!(run.stderr.contains("unexpected argument"), "{}", run.stderr);
    let run = sync(&fake, &["--check=demo-pat-acme-viewer"], &[]);
    assert!(run.stderr.contains("--check takes no value"), "{}", run.stderr);
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn a_pat_that_is_not_ascii_exits_2_before_any_request() {
    let fake = serve_demo();
    // A PAT file saved by an editor that starts it with a UTF-8 byte-order mark.
    let with_bom = temp_file("pat-bom", &format!("\u{feff}{ACME_PAT}\r\n"));
    let run = sync(&fake, &[], &[("BATON_PAT_FILE", with_bom.to_str().unwrap())]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "baton-zitadel: the PAT from --pat-file (BATON_PAT_FILE) starts with a byte-order mark (U+FEFF), as some Windows editors write: save it without one\n"
    );
    let accented = temp_file("pat-accented", &format!("{ACME_PAT}é\n"));
    let run = sync(&fake, &["--pat-file", accented.to_str().unwrap()], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "the PAT from --pat-file (BATON_PAT_FILE) contains a character that is not ASCII"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(fake.request_count(), 0, "no request with a PAT that cannot be sent");
}

#[test]
fn version_names_target_root_certificates_and_commit() {
    let run = super::run({
        let mut command = binary();
        command.arg("--version");
        command
    });
    assert_eq!(run.status, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], format!("baton-zitadel {}", env!("CARGO_PKG_VERSION")));
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    let roots = lock.split("name = \"webpki-roots\"\nversion = \"").nth(1).unwrap();
    let roots = &roots[..roots.find('"').unwrap()];
    assert!(
        lines.contains(
            &format!("root certificates: webpki-roots {roots} (Mozilla's, built in)").as_str()
        ),
        "{}",
        run.stdout
    );
    let target = lines.iter().find_map(|line| line.strip_prefix("target: ")).unwrap();
    assert!(target.starts_with(std::env::consts::ARCH), "{target}");
    assert!(target.contains(std::env::consts::OS), "{target}");

    // Built from a checkout: the commit, marked when files differed from it.
    let git = |args: &[&str]| {
        let output = Command::new("git").args(args).current_dir(root()).output().ok()?;
        output.status.success().then(|| String::from_utf8(output.stdout).unwrap())
    };
    let commit = lines.iter().find_map(|line| line.strip_prefix("commit: "));
    match git(&["rev-parse", "HEAD"]) {
        Some(head) => {
            let dirty = !git(&["status", "--porcelain", "--untracked-files=no"])
                .unwrap_or_default()
                .is_empty();
            let expected = format!("{}{}", head.trim(), if dirty { "-dirty" } else { "" });
            assert_eq!(commit, Some(expected.as_str()), "{}", run.stdout);
        }
        None => assert_eq!(commit, None, "no checkout, no commit: {}", run.stdout),
    }
}

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
    let run = super::run(command);
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
        end.contains(": 9 users, 4 external users, 1 org, 1 external org, 3 projects, 3 project grants, 37 entitlements, 30 grants, 12 manager grants, 2 org grants, 2 delegated grants; skipped 1 inactive project grant, 1 inactive user grant, 2 unknown role keys, 1 user grant without roles; 22 requests, 0 retries"),
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
fn check_probes_no_grants_with_skip_grants() {
    let fake = serve_demo();
    // This token cannot read user grants: with --skip-grants, a sync does not need to.
    let run =
        sync(&fake, &["--check", "--skip-grants"], &[("BATON_PAT", "demo-pat-acme-no-grants")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("user.grant.read"), "{}", run.stderr);
    assert!(
        fake.requests().iter().all(|r| !r.path.contains("/users/grants/")),
        "no user grant probe"
    );
}
