//! `--generate`: the man page renders without a warning, and the shell completions complete
//! what the program takes, as a shell runs them.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::*;

/// What `baton-zitadel --generate WHAT` prints, with exit status 0.
fn generated(what: &str) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().args(["--generate", what]);
    let run = run(command);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    run.stdout
}

/// Runs `program` with `args` and `input` on stdin: its status, stdout and stderr.
fn pipe(program: &str, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{program} runs (make test-tools installs it): {err}"));
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

/// Whether `program` is here. When it is not, the test that needs it is skipped with one
/// line saying what to install, unless `CI` says this is CI, where every test runs.
fn is_here(program: &str, package: &str) -> bool {
    let present = Command::new(program).arg("--version").output().is_ok();
    let ci = std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false");
    assert!(
        present || !ci,
        "{program} is missing, and CI runs every test: apt-get install {package}"
    );
    if !present {
        eprintln!(
            "skipped a test that needs {program}: apt-get install {package}, or run `make test`"
        );
    }
    present
}

#[test]
fn the_man_page_renders_without_warnings_and_names_every_variable() {
    if !is_here("groff", "groff-base") {
        return;
    }
    let page = generated("man");
    let (ok, _, warnings) = pipe("groff", &["-ww", "-man", "-z"], &page);
    assert!(ok && warnings.is_empty(), "groff -ww -man -z:\n{warnings}");
    let (ok, text, warnings) = pipe("groff", &["-man", "-Tascii", "-P", "-cbou"], &page);
    assert!(ok, "{warnings}");
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT", "EXIT STATUS"] {
        assert!(text.contains(&format!("\n{section}\n")), "{section}:\n{text}");
    }
    for section in ["FILES", "EXAMPLES", "SEE ALSO"] {
        assert!(text.contains(&format!("\n{section}\n")), "{section}:\n{text}");
    }
    // Every variable --help names is in the page, with its flag.
    let mut help = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    help.env_clear().arg("--help");
    let help = run(help).stdout;
    for var in help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if var.starts_with("BATON_") {
            assert!(text.contains(var), "the man page lacks {var}");
        }
    }
    assert!(text.contains(&format!("baton-zitadel {}", env!("CARGO_PKG_VERSION"))));
}

/// What bash's completion offers for the words of a command line, the last one being the
/// word under the cursor.
fn bash_completes(script: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|word| format!("'{word}'")).collect();
    let driver = format!(
        "{script}\nCOMP_WORDS=(baton-zitadel {})\nCOMP_CWORD={}\n_baton_zitadel\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        words.len()
    );
    let (ok, stdout, stderr) = pipe("bash", &["--norc", "-s"], &driver);
    assert!(ok && stderr.is_empty(), "bash: {stderr}");
    stdout.lines().filter(|line| !line.is_empty()).map(String::from).collect()
}

#[test]
fn bash_completes_res_to_resource_types_and_then_its_values() {
    let script = generated("complete-bash");
    assert_eq!(bash_completes(&script, &["--res"]), ["--resource-types"]);
    assert_eq!(
        bash_completes(&script, &["--resource-types", ""]),
        [
            "user",
            "project",
            "org",
            "project_grant",
            "instance",
            "pat",
            "machine_key",
            "client_secret"
        ]
    );
    // A list: the items typed stay, the last one is completed.
    assert_eq!(
        bash_completes(&script, &["--resource-types", "user,proj"]),
        ["user,project", "user,project_grant"]
    );
    // `--flag=value`, which bash splits at the `=`.
    assert_eq!(bash_completes(&script, &["--log-level", "=", "d"]), ["debug"]);
    assert_eq!(bash_completes(&script, &["--generate", "complete-"]).len(), 3);
    // A value to type is not completed, not even as a flag.
    assert_eq!(bash_completes(&script, &["--instance-url", ""]), Vec::<String>::new());
    assert_eq!(bash_completes(&script, &["--skip-grants", "--skip-m"]), ["--skip-managers"]);
}

#[test]
fn an_unknown_kind_of_generated_text_is_a_configuration_error() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().args(["--generate", "completions"]);
    let run = run(command);
    assert_failure(&run, 2, &["--generate must be one of man, complete-bash"]);
    assert!(run.stdout.is_empty());
}

#[test]
fn fish_completes_resource_types_and_zsh_reads_its_completion() {
    if is_here("fish", "fish") {
        let script = temp_file("baton-zitadel.fish", &generated("complete-fish"));
        let complete = |line: &str| {
            let command = format!("source {}; complete -C '{line}'", script.display());
            let (ok, stdout, stderr) = pipe("fish", &["--no-config", "-c", &command], "");
            assert!(ok && stderr.is_empty(), "fish: {stderr}");
            let words = stdout.lines().map(|line| line.split('\t').next().unwrap().to_string());
            words.collect::<Vec<_>>()
        };
        assert_eq!(complete("baton-zitadel --res"), ["--resource-types"]);
        assert_eq!(
            complete("baton-zitadel --resource-types user,p"),
            ["user,pat", "user,project", "user,project_grant"]
        );
        assert_eq!(complete("baton-zitadel --log-level d"), ["debug"]);
    }
    if is_here("zsh", "zsh") {
        let (ok, _, stderr) = pipe("zsh", &["-n"], &generated("complete-zsh"));
        assert!(ok && stderr.is_empty(), "zsh -n: {stderr}");
    }
}
