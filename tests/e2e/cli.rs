//! The command line: help and version, settings from flags, variables and files, and
//! configuration errors that are one line, name the setting and suggest the fix.

use std::process::Command;

use crate::harness::*;

#[test]
fn explicit_org_id_with_an_instance_token_syncs_that_org() {
    let fake = serve_demo();
    let run = sync(&fake, &["--org-id", ACME], &[("BATON_PAT", INSTANCE_PAT)]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout == demo_golden(), "the same org via header gives the same output");
    assert!(fake.requests().iter().all(|r| r.org_header.as_deref() == Some(ACME)));

    let run = sync(&fake, &[], &[("BATON_PAT", INSTANCE_PAT), ("BATON_ORG_ID", GLOBEX)]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(summary(&run.stdout)["org_id"], GLOBEX);
    assert!(!run.stdout.contains(ACME_ORG_NAME));
}

#[test]
fn help_and_version() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().arg("--help");
    let help = run(command);
    assert_eq!(help.status, 0);
    for section in [
        "USAGE:",
        "OPTIONS:",
        "EXIT STATUS:",
        "EXAMPLES:",
        "BATON_PAT_FILE",
        "--include-inactive-grants",
    ] {
        assert!(help.stdout.contains(section), "--help lacks {section}");
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().arg("-V");
    let version = run(command);
    assert_eq!(version.status, 0);
    let first = version.stdout.lines().next();
    assert_eq!(first, Some(format!("baton-zitadel {}", env!("CARGO_PKG_VERSION")).as_str()));
}

#[test]
fn bad_configuration_exits_2_before_any_request() {
    let fake = serve_demo();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 6] = [
        (
            &["--page-size", "0"],
            &[],
            "--page-size (BATON_PAGE_SIZE) must be a whole number from 1 to 1000",
        ),
        (&[], &[("BATON_PAGE_SIZE", "5000")], "--page-size (BATON_PAGE_SIZE)"),
        (&["--bogus"], &[], "unknown flag --bogus"),
        (&[], &[("BATON_INCLUDE_INACTIVE_GRANTS", "sometimes")], "BATON_INCLUDE_INACTIVE_GRANTS"),
        (
            &[],
            &[("BATON_INSTANCE_URL", "zitadel.example.com")],
            "--instance-url (BATON_INSTANCE_URL) must start with https://",
        ),
        (
            &[],
            &[("BATON_PAT_FILE", "/nonexistent")],
            "--pat-file (BATON_PAT_FILE) names no readable file: No such file or directory",
        ),
    ];
    for (args, env, needle) in cases {
        let run = sync(&fake, args, env);
        assert_eq!(run.status, 2, "{args:?} {env:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?} {env:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn the_pat_can_come_from_a_file() {
    let fake = serve_demo();
    let path = temp_file("pat", &format!("{ACME_PAT}\n"));
    let run = sync(&fake, &["--pat-file", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout == demo_golden());
    let run = sync(&fake, &[], &[("BATON_PAT_FILE", path.to_str().unwrap())]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let run = sync(&fake, &["--pat", ACME_PAT, "--pat-file", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("both given"));
}

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
fn version_names_target_root_certificates_and_commit() {
    let run = crate::harness::run({
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

    // Built from a checkout: the commit, marked when the binary's sources (build.rs's
    // `SOURCES`) differed from it.
    let git = |args: &[&str]| {
        let output = Command::new("git").args(args).current_dir(root()).output().ok()?;
        output.status.success().then(|| String::from_utf8(output.stdout).unwrap())
    };
    let commit = lines.iter().find_map(|line| line.strip_prefix("commit: "));
    match git(&["rev-parse", "HEAD"]) {
        Some(head) => {
            let sources = ["src", "build.rs", "Cargo.toml", "Cargo.lock"];
            let status = [&["status", "--porcelain", "--untracked-files=no", "--"][..], &sources];
            let dirty = !git(&status.concat()).unwrap_or_default().is_empty();
            let expected = format!("{}{}", head.trim(), if dirty { "-dirty" } else { "" });
            assert_eq!(commit, Some(expected.as_str()), "{}", run.stdout);
        }
        None => assert_eq!(commit, None, "no checkout, no commit: {}", run.stdout),
    }
}

#[test]
fn help_lists_every_flag_with_its_variable() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().arg("--help");
    let help = crate::harness::run(command).stdout;
    for (flag, var) in [
        ("--instance-url", "BATON_INSTANCE_URL"),
        ("--pat", "BATON_PAT"),
        ("--pat-file", "BATON_PAT_FILE"),
        ("--org-id", "BATON_ORG_ID"),
        ("--page-size", "BATON_PAGE_SIZE"),
        ("--include-inactive-grants", "BATON_INCLUDE_INACTIVE_GRANTS"),
        ("--output", "BATON_OUTPUT"),
        ("--resource-types", "BATON_SYNC_RESOURCE_TYPES"),
        ("--project-id", "BATON_PROJECT_IDS"),
        ("--skip-grants", "BATON_SKIP_GRANTS"),
        ("--skip-managers", "BATON_SKIP_MANAGERS"),
        ("--log-level", "BATON_LOG_LEVEL"),
        ("--log-format", "BATON_LOG_FORMAT"),
        ("--timeout", "BATON_TIMEOUT"),
        ("--max-retries", "BATON_MAX_RETRIES"),
        ("--retry-max-wait", "BATON_RETRY_MAX_WAIT"),
        ("--max-rps", "BATON_MAX_RPS"),
        ("--ca-cert", "BATON_CA_CERT"),
        ("--allow-insecure-http", "BATON_ALLOW_INSECURE_HTTP"),
    ] {
        assert!(
            help.contains(&format!("    {flag} ")) && help.contains(var),
            "--help lacks {flag} / {var}"
        );
    }
    assert!(help.contains("    --check "));
    for status in ["0  ", "1  ", "2  ", "3  ", "4  ", "5  ", "6  "] {
        assert!(help.contains(&format!("\n    {status}")), "exit status {status}");
    }
}

const ACME_ORG_NAME: &str = "ACME Corporation";
