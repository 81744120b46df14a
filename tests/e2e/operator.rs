//! What operators use around a sync: `--check`, filters, logs and progress on stderr, and
//! `--output` files that are replaced only by a complete sync.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::zitadel::{Fault, FaultAction, Options};
use super::*;

fn check(fake: &FakeZitadel, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = args.to_vec();
    args.push("--check");
    let run = sync(fake, &args, env);
    assert!(run.stdout.is_empty(), "--check writes no records");
    run
}

#[test]
fn check_with_full_rights_passes() {
    let fake = serve_demo();
    let run = check(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    for line in [
        "check: org.read ok: organization \"ACME Corporation\" (284905129371435012)",
        "check: user.read ok: 9 users",
        "check: project.read ok",
        "check: project.role.read ok: 4 roles in project 284906487321587717",
        "check: user.grant.read ok: 6 user grants in project 284906487321587717",
        "check passed: a sync would succeed",
    ] {
        assert!(run.stderr.contains(line), "lacks {line:?}:\n{}", run.stderr);
    }
    let limits: Vec<_> =
        fake.requests().iter().filter(|r| r.method == "POST").map(|r| r.limit).collect();
    assert_eq!(limits, [Some(1); 4], "each probe asks for one row");
}

#[test]
fn check_names_each_missing_permission_and_fails_as_the_sync_would() {
    let fake = serve_demo();
    let run = check(&fake, &[], &[("BATON_PAT", "demo-pat-acme-no-grants")]);
    assert_eq!(run.status, 4, "{}", run.stderr);
    assert!(run.stderr.contains("check: user.read ok"));
    assert!(run.stderr.contains("warning: check: user.grant.read missing: POST /management/v1/users/grants/_search at offset 0: permission denied (HTTP 403: No matching permissions found (AUTH-5mWD2))"), "{}", run.stderr);

    let run = check(&fake, &[], &[("BATON_PAT", "demo-pat-acme-settings")]);
    assert_eq!(run.status, 4);
    for permission in ["user.read", "project.read", "user.grant.read"] {
        assert!(
            run.stderr.contains(&format!("check: {permission} missing")),
            "{permission}: {}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("check: project.role.read not checked"));
    let error = run.stderr.lines().last().unwrap();
    assert!(
        error.starts_with("baton-zitadel: check failed: POST /management/v1/users/_search"),
        "the sync's first failure: {error}"
    );
}

#[test]
fn check_checks_every_project_id() {
    let fake = serve_demo();
    let run = check(
        &fake,
        &["--project-id", "284906487321587717", "--project-id", "999999999999999999"],
        &[],
    );
    assert_eq!(run.status, 2, "as the sync would: {}", run.stderr);
    assert!(
        run.stderr.contains("check: project.read failed")
            && run.stderr.contains("\"999999999999999999\" is not a project"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_without_membership_or_with_a_bad_token() {
    let fake = serve_demo();
    let run = check(&fake, &["--org-id", GLOBEX], &[]);
    assert_eq!(run.status, 4);
    assert!(
        run.stderr.contains("check: org.read missing") && run.stderr.contains("AUTHZ-cdgFk"),
        "{}",
        run.stderr
    );
    let run = check(&fake, &[], &[("BATON_PAT", "not-a-real-pat-1234")]);
    assert_eq!(run.status, 3);
    assert!(
        run.stderr.contains("check: org.read failed") && run.stderr.contains("AUTH-7fs1e"),
        "{}",
        run.stderr
    );
}

/// The demo's golden records (summary left out) that `keep` selects.
fn golden_where(keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let golden = demo_golden();
    let (records, _) = golden.trim_end().rsplit_once('\n').unwrap();
    records
        .lines()
        .filter(|line| keep(&serde_json::from_str(line).unwrap()))
        .map(String::from)
        .collect()
}

fn records_of(stdout: &str) -> Vec<String> {
    let (records, _) = stdout.trim_end().rsplit_once('\n').expect("records and a summary");
    records.lines().map(String::from).collect()
}

fn is_user(record: &Value) -> bool {
    record["resource_type"] == "user"
        && record["kind"] != "entitlement"
        && record["kind"] != "grant"
        || record["kind"] == "resource_type" && record["id"] == "user"
}

#[test]
fn resource_type_filters_restrict_the_output() {
    let fake = serve_demo();
    let run = sync(&fake, &["--resource-types", "user"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    // External users come only with grants, which are project records.
    assert_eq!(records_of(&run.stdout), golden_where(|r| is_user(r) && r["external"] != true));
    assert_eq!(summary(&run.stdout)["filters"], serde_json::json!({"resource_types": ["user"]}));

    let run = sync(&fake, &[], &[("BATON_SYNC_RESOURCE_TYPES", "project")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(records_of(&run.stdout), golden_where(|r| !is_user(r)));
    assert_eq!(summary(&run.stdout)["counts"]["user"], 0);
    assert_eq!(summary(&run.stdout)["filters"], serde_json::json!({"resource_types": ["project"]}));

    let run = sync(&fake, &["--resource-types", "user,group"], &[]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("--resource-types (BATON_SYNC_RESOURCE_TYPES) knows the resource types user and project, got \"group\""));
}

#[test]
fn project_filters_restrict_the_output() {
    const PORTAL: &str = "284906487321587717";
    const BILLING: &str = "284906598411882501";
    let fake = serve_demo();
    let wanted = |r: &Value| {
        let project = if r["kind"] == "resource" { &r["id"] } else { &r["resource_id"] };
        is_user(r)
            || r["resource_type"] == "project" && (project == PORTAL || project == BILLING)
            || r["kind"] == "resource_type"
    };
    for (args, env) in [
        (&["--project-id", PORTAL, "--project-id", BILLING][..], &[][..]),
        (&[][..], &[("BATON_PROJECT_IDS", "284906487321587717, 284906598411882501")][..]),
    ] {
        let run = sync(&fake, args, env);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert_eq!(records_of(&run.stdout), golden_where(wanted));
        assert_eq!(
            summary(&run.stdout)["filters"],
            serde_json::json!({"project_ids": [PORTAL, BILLING]})
        );
    }

    fake.clear_requests();
    let run = sync(&fake, &["--project-id", PORTAL, "--project-id", "999999999999999999"], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--project-id (BATON_PROJECT_IDS) \"999999999999999999\" is not a project of the organization"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no record before the check of the project ids");
    // A project of another organization is unknown here too.
    let run = sync(&fake, &["--project-id", "284905350627518467"], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
}

#[test]
fn skip_grants_keeps_resources_and_entitlements() {
    let fake = serve_demo();
    for (args, env) in
        [(&["--skip-grants"][..], &[][..]), (&[][..], &[("BATON_SKIP_GRANTS", "true")][..])]
    {
        let run = sync(&fake, args, env);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert_eq!(
            records_of(&run.stdout),
            golden_where(|r| r["kind"] != "grant" && r["external"] != true)
        );
        assert_eq!(summary(&run.stdout)["filters"], serde_json::json!({"skip_grants": true}));
    }
    assert!(fake.requests().iter().all(|r| !r.path.contains("grants")), "no grant is even read");
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
    let end =
        lines.iter().find(|l| l["msg"].as_str().unwrap().starts_with("sync complete")).unwrap();
    assert_eq!(end["retries"], 1);
    assert_eq!(end["counts"]["grant"], 14);
    assert!(end["duration_s"].is_number());

    // Failures are JSON too, and JSON is the default when stderr is not a terminal.
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command
        .env_clear()
        .env("BATON_INSTANCE_URL", fake.url())
        .env("BATON_PAT", "not-a-real-pat-1234");
    let failed = super::run(command);
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
    assert_eq!(warnings.stderr.lines().count(), 2, "{}", warnings.stderr);
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
    let output = temp_dir("progress").join("acme.ndjson");
    let line = format!("{binary} --instance-url {} --output {}", fake.url(), output.display());
    let mut command = Command::new("script");
    command.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    command.env_clear().env("BATON_PAT", ACME_PAT).env("PATH", "/usr/bin:/bin").env("TERM", "dumb");
    let run = super::run(command);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("\r\x1b[2K"), "the line is drawn and cleared: {:?}", run.stdout);
    assert!(run.stdout.contains(" grants, "), "the progress line: {:?}", run.stdout);
    assert!(run.stdout.contains("baton-zitadel: sync complete"), "console logs on a terminal");
}

/// A fresh directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-zitadel-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn output_files_are_replaced_only_by_a_complete_sync() {
    let dir = temp_dir("output");
    let path = dir.join("acme.ndjson");
    let fake = serve_demo();
    let run = sync(&fake, &["--output", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(std::fs::read_to_string(&path).unwrap() == demo_golden());
    assert_eq!(files_in(&dir), ["acme.ndjson"]);

    // A sync that fails mid-way leaves yesterday's file byte for byte, and nothing beside it.
    std::fs::write(&path, "yesterday's export\n").unwrap();
    fake.inject(
        Fault::new(FaultAction::Status { status: 500, body: "{}".into(), headers: vec![] })
            .on_path("/projects/_search"),
    );
    let run =
        sync(&fake, &[], &[("BATON_OUTPUT", path.to_str().unwrap()), ("BATON_MAX_RETRIES", "0")]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's export\n");
    assert_eq!(files_in(&dir), ["acme.ndjson"]);

    let run = sync(
        &fake,
        &["--output", "-"],
        &[("BATON_OUTPUT", path.to_str().unwrap()), ("BATON_MAX_RETRIES", "0")],
    );
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("\"kind\":\"resource_type\""), "`-` is stdout");

    let run = sync(&fake, &["--output", dir.join("missing/acme.ndjson").to_str().unwrap()], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot create") && run.stderr.contains("--output (BATON_OUTPUT)"));
    let run = sync(&fake, &["--output", dir.to_str().unwrap()], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is a directory"));
}

#[test]
fn output_to_a_device_writes_through_it_and_leaves_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let fake = serve_demo();
    let run = sync(&fake, &["--output", "/dev/null"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let null = std::fs::metadata("/dev/null").unwrap();
    assert!(null.file_type().is_char_device(), "/dev/null must never be replaced");
}

#[test]
fn an_interrupted_sync_leaves_the_output_file_alone() {
    let dir = temp_dir("interrupted");
    let path = dir.join("acme.ndjson");
    std::fs::write(&path, "yesterday's export\n").unwrap();
    let fake = serve(demo(), Options { latency: Duration::from_secs(30), ..Options::default() });
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).env("BATON_PAT", ACME_PAT);
    command.args(["--output", path.to_str().unwrap()]).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    // The temporary file exists before the first request is sent.
    assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
    assert_eq!(files_in(&dir).len(), 2, "the temporary file is there: {:?}", files_in(&dir));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(15));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's export\n");
    assert_eq!(files_in(&dir), ["acme.ndjson"], "no temporary file left behind");
}

#[test]
fn help_lists_every_flag_with_its_variable() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().arg("--help");
    let help = super::run(command).stdout;
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
    for status in ["0  ", "1  ", "2  ", "3  ", "4  ", "5  "] {
        assert!(help.contains(&format!("\n    {status}")), "exit status {status}");
    }
}
