//! A first run, tried as a new user would: the progress line only where it cannot break
//! another program's output, the variables people guess, and a help that fits a terminal
//! and says which role the PAT needs and where the output is described.

use std::process::Command;

use crate::harness::*;

/// The progress line's redraw: back to the start of the line, erase it.
const REDRAW: &str = "\r\x1b[2K";

/// Runs `shell` (which names the binary `$BIN`) on a terminal made by `script`, against
/// `fake`, and returns what the terminal showed; `None` where `script` is missing.
fn on_a_terminal(fake: &fake_zitadel::FakeZitadel, shell: &str) -> Option<Run> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) to run the binary on a terminal");
        return None;
    }
    let dir = crate::harness::temp_dir("tty");
    let mut command = Command::new("script");
    command.current_dir(&dir).env_clear().args(["-qec", shell, "/dev/null"]).envs([
        ("BIN", env!("CARGO_BIN_EXE_baton-zitadel")),
        ("BATON_INSTANCE_URL", &fake.url()),
        ("BATON_PAT", ACME_PAT),
        ("PATH", "/usr/bin:/bin"),
    ]);
    Some(run(command))
}

#[test]
fn the_progress_line_shows_on_a_terminal_but_not_when_stdout_is_a_pipe() {
    let fake = serve_demo();
    let Some(to_file) = on_a_terminal(&fake, "$BIN > out.ndjson") else { return };
    assert_eq!(to_file.status, 0, "{}", to_file.stdout);
    assert!(to_file.stdout.contains(REDRAW), "progress on a terminal: {:?}", to_file.stdout);
    // A pipe usually feeds a program that writes to the same terminal.
    let piped = on_a_terminal(&fake, "$BIN | cat > out.ndjson").unwrap();
    assert_eq!(piped.status, 0, "{}", piped.stdout);
    assert!(piped.stdout.contains("sync complete"), "{:?}", piped.stdout);
    assert!(!piped.stdout.contains(REDRAW), "no progress into a pipe: {:?}", piped.stdout);
    let forced = on_a_terminal(&fake, "$BIN --progress | cat > out.ndjson").unwrap();
    assert!(forced.stdout.contains(REDRAW), "--progress forces it: {:?}", forced.stdout);
    let off = on_a_terminal(&fake, "$BIN --no-progress > out.ndjson").unwrap();
    assert!(!off.stdout.contains(REDRAW), "--no-progress: {:?}", off.stdout);
}

#[test]
fn progress_can_be_forced_when_stderr_is_no_terminal() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[]);
    assert!(!run.stderr.contains(REDRAW), "{:?}", run.stderr);
    let run = sync(&fake, &["--progress"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains(REDRAW), "{:?}", run.stderr);
    let run = sync(&fake, &[], &[("BATON_PROGRESS", "1")]);
    assert!(run.stderr.contains(REDRAW), "{:?}", run.stderr);
    assert!(run.stdout == demo_golden(), "the records are the same");
}

#[test]
fn variables_people_guess_are_aliases_and_unknown_ones_get_a_suggestion() {
    let fake = serve_demo();
    let filtered = sync(&fake, &["--resource-types", "user,org"], &[]);
    let run = sync(&fake, &[], &[("BATON_RESOURCE_TYPES", "user,org")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout == filtered.stdout, "BATON_RESOURCE_TYPES is --resource-types");
    let project = "284906487321587717";
    let filtered = sync(&fake, &["--project-id", project], &[]);
    let run = sync(&fake, &[], &[("BATON_PROJECT_ID", project)]);
    assert!(run.stdout == filtered.stdout, "BATON_PROJECT_ID is --project-id");

    let run = sync(&fake, &[], &[("BATON_SKIP_GRANT", "1"), ("BATON_FROBNICATE", "1")]);
    assert_eq!(run.status, 0, "a warning, not an error: {}", run.stderr);
    for line in [
        "baton-zitadel: warning: unknown variable BATON_SKIP_GRANT is ignored: did you mean BATON_SKIP_GRANTS?\n",
        "baton-zitadel: warning: unknown variable BATON_FROBNICATE is ignored: see baton-zitadel --help for every variable\n",
    ] {
        assert!(run.stderr.contains(line), "lacks {line:?}: {}", run.stderr);
    }
    assert!(run.stdout == demo_golden(), "ignored, as the warning says");
}

#[test]
fn a_pat_variable_made_from_a_file_with_its_newline_is_read() {
    let fake = serve_demo();
    for pat in [format!("{ACME_PAT}\n"), format!("{ACME_PAT}\r\n")] {
        let run = sync(&fake, &[], &[("BATON_PAT", &pat)]);
        assert_eq!(run.status, 0, "{pat:?}: {}", run.stderr);
    }
}

#[test]
fn help_fits_80_columns_and_says_which_role_and_where_the_output_is_described() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().arg("--help");
    let help = run(command).stdout;
    for line in help.lines() {
        assert!(line.chars().count() <= 80, "{} columns: {line}", line.chars().count());
    }
    assert!(help.contains("Org Owner Viewer (ORG_OWNER_VIEWER)"), "{help}");
    assert!(help.contains("docs/output.md"), "{help}");
    assert!(root().join("docs/output.md").exists(), "the document the help names");
}
