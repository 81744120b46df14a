//! What operators use around a sync: `--check`, filters, logs and progress on stderr, and
//! `--output` files that are replaced only by a complete sync.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::*;
use fake_zitadel::{Fault, FaultAction, Options};

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
        "check: org.member.read ok: the organization has 10 manager roles and 4 managers",
        "check: project.read ok",
        "check: project.role.read ok: 4 roles in project 284906487321587717",
        "check: project.member.read ok: project 284906487321587717 has 4 manager roles and 2 managers",
        "check: project.grant.read ok: 1 project grants of project 284906487321587717",
        "check: project.grant.member.read ok: 2 project grant manager roles",
        // With `withGrantedQuery`: the grant Initech made through its project grant too.
        "check: user.grant.read ok: 7 user grants in project 284906487321587717",
        "check passed: a sync would succeed",
    ] {
        assert!(run.stderr.contains(line), "lacks {line:?}:\n{}", run.stderr);
    }
    let (role_lists, lists): (Vec<_>, Vec<_>) = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .partition(|r| r.path.ends_with("/members/roles/_search"));
    assert_eq!(role_lists.len(), 3, "each member-role list once: {role_lists:?}");
    let limits: Vec<_> = lists.iter().map(|r| r.limit).collect();
    assert_eq!(limits, [Some(1); 7], "each list probe asks for one row");
}

#[test]
fn check_names_each_permission_of_the_access_picture_and_the_setting_that_skips_it() {
    let fake = serve_demo();
    for (token, permission, setting, skip) in [
        (
            "demo-pat-acme-no-members",
            "org.member.read",
            "--skip-managers",
            &["--skip-managers"][..],
        ),
        (
            "demo-pat-acme-no-project-members",
            "project.member.read",
            "--skip-managers",
            &["--skip-managers"],
        ),
        (
            "demo-pat-acme-no-project-grants",
            "project.grant.read",
            "--resource-types user,project,org",
            &["--resource-types", "user,project,org"],
        ),
        (
            "demo-pat-acme-no-grant-members",
            "project.grant.member.read",
            "--skip-managers",
            &["--skip-managers"],
        ),
    ] {
        let run = check(&fake, &[], &[("BATON_PAT", token)]);
        assert_eq!(run.status, 4, "{token}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("warning: check: {permission} missing")),
            "{token}: {}",
            run.stderr
        );
        let error = run.stderr.lines().last().unwrap();
        for needle in [
            &format!("this call needs {permission}") as &str,
            "Org Owner Viewer role (ORG_OWNER_VIEWER)",
            &format!("or sync without it: {setting}"),
        ] {
            assert!(error.contains(needle), "{token}: lacks {needle:?}: {error}");
        }
        // The sync fails the same way, and the setting named syncs without the permission.
        let synced = sync(&fake, &[], &[("BATON_PAT", token)]);
        assert_eq!(synced.status, 4, "{token}: {}", synced.stderr);
        assert!(synced.stderr.contains(&format!("or sync without it: {setting}")));
        let run = check(&fake, skip, &[("BATON_PAT", token)]);
        assert_eq!(run.status, 0, "{token} {skip:?}: {}", run.stderr);
        assert!(
            !run.stderr.contains(permission),
            "{token}: {permission} not probed: {}",
            run.stderr
        );
        let synced = sync(&fake, skip, &[("BATON_PAT", token)]);
        assert_eq!(synced.status, 0, "{token} {skip:?}: {}", synced.stderr);
    }
}

#[test]
fn a_minimal_custom_role_suffices_without_managers_and_the_new_types() {
    // The permissions of issue 2's minimal role: no member or project-grant permission.
    let mut dataset = demo();
    dataset.add_token(Token {
        token: "demo-pat-acme-minimal".into(),
        user_org: ACME.into(),
        instance_level: false,
        permissions: [
            "org.read",
            "user.read",
            "project.read",
            "project.role.read",
            "user.grant.read",
        ]
        .map(String::from)
        .to_vec(),
    });
    let fake = serve(dataset, Options::default());
    let env = [("BATON_PAT", "demo-pat-acme-minimal")];
    let args = ["--skip-managers", "--resource-types", "user,project"];
    assert_eq!(check(&fake, &args, &env).status, 0);
    let run = sync(&fake, &args, &env);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let members_or_grants = fake
        .requests()
        .iter()
        .filter(|r| {
            r.path.contains("/members")
                || r.path.contains("/grants/_search") && r.path.contains("/projects/")
        })
        .count();
    assert_eq!(members_or_grants, 0, "no manager or project grant list is read");
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

    // Projects alone: no organization records and no project grants, so no grants to
    // organizations either; grants name their users by id.
    let run = sync(&fake, &[], &[("BATON_SYNC_RESOURCE_TYPES", "project")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let of_projects = |r: &Value| match r["kind"].as_str() {
        Some("resource_type") => r["id"] == "project",
        _ => r["resource_type"] == "project" && r["principal_type"] != "org",
    };
    assert_eq!(records_of(&run.stdout), golden_where(of_projects));
    assert_eq!(summary(&run.stdout)["counts"]["user"], 0);
    assert_eq!(summary(&run.stdout)["filters"], serde_json::json!({"resource_types": ["project"]}));

    let run = sync(&fake, &["--resource-types", "user,group"], &[]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("--resource-types (BATON_SYNC_RESOURCE_TYPES) knows the resource types user, project, org and project_grant, got \"group\""), "{}", run.stderr);
}

#[test]
fn project_filters_restrict_the_output() {
    const PORTAL: &str = "284906487321587717";
    const BILLING: &str = "284906598411882501";
    let fake = serve_demo();
    // The project grants of the two projects, whose records stay with them.
    let grants: Vec<Value> = golden_where(|r| {
        r["resource_type"] == "project_grant"
            && r["kind"] == "resource"
            && (r["project_id"] == PORTAL || r["project_id"] == BILLING)
    })
    .iter()
    .map(|r| serde_json::from_str::<Value>(r).unwrap()["id"].clone())
    .collect();
    assert_eq!(grants.len(), 2);
    // The organization's section stays: its record, manager roles and managers.
    let wanted = |r: &Value| {
        let resource = if r["kind"] == "resource" { &r["id"] } else { &r["resource_id"] };
        is_user(r)
            || r["resource_type"] == "org"
            || r["resource_type"] == "project" && (resource == PORTAL || resource == BILLING)
            || r["resource_type"] == "project_grant" && grants.contains(resource)
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
    // Globex's project: ZITADEL finds it by id in the whole instance, but it is not ACME's.
    let run = sync(&fake, &["--project-id", "284905577239117827"], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("\"284905577239117827\" is not a project of the organization"));
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
    // Project grants are resources, read as before; user grants and managers are not.
    for request in fake.requests() {
        let path = &request.path;
        assert!(!path.ends_with("/users/grants/_search"), "no user grant is even read");
        assert!(!path.ends_with("/members/_search"), "no manager is even read: {path}");
    }
    assert!(fake.requests().iter().any(|r| r.path.ends_with("/grants/_search")));
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
    assert_eq!(end["counts"], summary(&demo_golden())["counts"]);
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
    // A new export names every user and their access: for its owner's eyes only. A replaced
    // one keeps the mode it had, whatever the umask.
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
    let run = sync(&fake, &["--output", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(mode(&path), 0o664);

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

/// The C library calls the process tests need: limits and signal dispositions set in the
/// child before it runs the binary, signals, and a lock.
mod os {
    use std::ffi::c_int;

    unsafe extern "C" {
        fn setrlimit(resource: c_int, limit: *const [u64; 2]) -> c_int;
        fn signal(signum: c_int, handler: usize) -> usize;
        fn kill(pid: c_int, signum: c_int) -> c_int;
        fn flock(fd: c_int, operation: c_int) -> c_int;
    }

    pub const SIGHUP: c_int = 1;
    pub const SIGINT: c_int = 2;
    pub const SIGQUIT: c_int = 3;
    pub const SIGKILL: c_int = 9;
    pub const SIGUSR1: c_int = 10;
    pub const SIGUSR2: c_int = 12;
    pub const SIGALRM: c_int = 14;
    pub const SIGTERM: c_int = 15;
    pub const SIGXFSZ: c_int = 25;
    pub const RLIMIT_FSIZE: c_int = 1;
    pub const RLIMIT_CORE: c_int = 4;

    /// Sets a resource limit; for `pre_exec`.
    pub fn limit(resource: c_int, value: u64) -> std::io::Result<()> {
        // SAFETY: setrlimit reads the two-word struct rlimit passed by pointer.
        match unsafe { setrlimit(resource, &[value, value]) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    }

    /// Ignores a signal; for `pre_exec`, as `nohup` does.
    pub fn ignore(signum: c_int) -> std::io::Result<()> {
        // SAFETY: SIG_IGN (1) installs no code.
        unsafe { signal(signum, 1) };
        Ok(())
    }

    pub fn send(child: &std::process::Child, signum: c_int) {
        // SAFETY: signals a child that has not been waited for, so its pid is still its own.
        let sent = unsafe { kill(child.id() as c_int, signum) };
        assert_eq!(sent, 0, "signal {signum} sent");
    }

    /// Holds an exclusive lock on `file` while it is open.
    pub fn lock(file: &std::fs::File) {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on an open descriptor; LOCK_EX | LOCK_NB.
        assert_eq!(unsafe { flock(file.as_raw_fd(), 2 | 4) }, 0, "locked");
    }
}

/// The binary, set up as `sync` sets it up, to be spawned by a test that acts on the process.
fn binary(fake: &FakeZitadel, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).env("BATON_PAT", ACME_PAT);
    command.env("BATON_LOG_FORMAT", "console").args(args);
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    command
}

/// A fake whose every answer takes `latency`: a sync against it is still running when a
/// test has seen its first request arrive.
fn slow_demo(latency: Duration) -> FakeZitadel {
    serve(demo(), Options { latency, ..Options::default() })
}

#[test]
fn an_interrupted_sync_leaves_the_output_file_alone() {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("interrupted");
    let path = dir.join("acme.ndjson");
    let signals =
        [os::SIGHUP, os::SIGINT, os::SIGQUIT, os::SIGUSR1, os::SIGUSR2, os::SIGALRM, os::SIGTERM];
    for signum in signals {
        std::fs::write(&path, "yesterday's export\n").unwrap();
        let fake = slow_demo(Duration::from_secs(30));
        let mut child = binary(&fake, &["--output", path.to_str().unwrap()]).spawn().unwrap();
        // The temporary file exists before the first request is sent.
        assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
        assert_eq!(files_in(&dir).len(), 2, "the temporary file is there: {:?}", files_in(&dir));
        os::send(&child, signum);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signum), "it dies of the signal, as without a handler");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's export\n");
        assert_eq!(files_in(&dir), ["acme.ndjson"], "signal {signum}: no temporary file left");
    }
}

#[test]
fn a_signal_ignored_at_start_stays_ignored() {
    // `nohup` and service managers start a program with SIGHUP (or SIGINT) ignored.
    let dir = temp_dir("nohup");
    let path = dir.join("acme.ndjson");
    let fake = slow_demo(Duration::from_millis(200));
    let mut command = binary(&fake, &["--output", path.to_str().unwrap()]);
    // SAFETY: signal is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            os::ignore(os::SIGHUP)?;
            os::ignore(os::SIGINT)
        })
    };
    let mut child = command.spawn().unwrap();
    assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
    os::send(&child, os::SIGHUP);
    os::send(&child, os::SIGINT);
    // Requests are logged as they are answered, and the sync needs every answer: it was
    // still running when the signals came.
    let (_, requests) = records_and_requests(&demo_golden());
    assert!((fake.request_count() as u64) < requests, "the signals came mid-sync");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(std::fs::read_to_string(&path).unwrap() == demo_golden());
    assert_eq!(files_in(&dir), ["acme.ndjson"]);
}

#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    let dir = temp_dir("killed");
    let path = dir.join("acme.ndjson");
    std::fs::write(&path, "yesterday's export\n").unwrap();
    let fake = slow_demo(Duration::from_secs(30));
    let mut child = binary(&fake, &["--output", path.to_str().unwrap()]).spawn().unwrap();
    assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
    os::send(&child, os::SIGKILL);
    child.wait().unwrap();
    let killed = child.id();
    // `.<target>.<pid>.<16 random hex digits>.tmp`
    let left = files_in(&dir);
    let leftover = left[0].clone();
    let random = leftover.strip_prefix(&format!(".acme.ndjson.{killed}.")).unwrap();
    let random = random.strip_suffix(".tmp").unwrap();
    assert!(random.len() == 16 && random.bytes().all(|byte| byte.is_ascii_hexdigit()), "{left:?}");
    assert_eq!(left, [leftover.as_str(), "acme.ndjson"], "SIGKILL cannot be caught");

    // Beside it: the file of a live run (this test's own pid), a file of another target, and
    // one whose pid is gone but which a live process holds locked (a run in another
    // container, whose pid this one cannot see).
    let live = format!(".acme.ndjson.{}.0123456789abcdef.tmp", std::process::id());
    let other_target = format!(".other.ndjson.{killed}.0123456789abcdef.tmp");
    let mut finished = Command::new("true").spawn().unwrap();
    finished.wait().unwrap();
    let locked = format!(".acme.ndjson.{}.0123456789abcdef.tmp", finished.id());
    for name in [&live, &other_target, &locked] {
        std::fs::write(dir.join(name), "").unwrap();
    }
    let held = std::fs::File::open(dir.join(&locked)).unwrap();
    os::lock(&held);

    let run = sync(&serve_demo(), &["--output", path.to_str().unwrap()], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("removed {}", dir.join(&leftover).display())));
    assert!(std::fs::read_to_string(&path).unwrap() == demo_golden());
    let mut expected = vec![live.as_str(), locked.as_str(), other_target.as_str(), "acme.ndjson"];
    expected.sort();
    assert_eq!(files_in(&dir), expected, "only the killed run's file is gone");
    drop(held);
}

#[test]
fn a_failed_write_names_where_and_exits_6() {
    let fake = serve_demo();
    // stdout on a full disk.
    let mut command = binary(&fake, &[]);
    command.stdout(std::fs::File::create("/dev/full").unwrap()).stderr(Stdio::piped());
    let run = super::run(command);
    assert_failure(&run, 6, &["cannot write the records to stdout: No space left on device"]);

    // --output on a device that is full, and on a file that outgrows the file size limit.
    let run = sync(&fake, &["--output", "/dev/full"], &[]);
    assert_failure(&run, 6, &["cannot write the records to --output /dev/full: No space left"]);
    let dir = temp_dir("too-large");
    let path = dir.join("acme.ndjson");
    std::fs::write(&path, "yesterday's export\n").unwrap();
    let mut command = binary(&fake, &["--output", path.to_str().unwrap()]);
    command.stderr(Stdio::piped());
    // SAFETY: setrlimit and signal are async-signal-safe. With SIGXFSZ ignored, a write
    // past the limit fails with EFBIG instead of killing the process.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            os::ignore(os::SIGXFSZ)?;
            os::limit(os::RLIMIT_FSIZE, 1000)
        })
    };
    let run = super::run(command);
    let expected =
        format!("cannot write the records to --output {}: File too large", path.display());
    assert_failure(&run, 6, &[&expected]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's export\n");
    assert_eq!(files_in(&dir), ["acme.ndjson"]);
}

#[test]
fn no_core_dump_holds_the_pat() {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("core");
    let unlimited = |command: &mut Command| {
        command.current_dir(&dir);
        // SAFETY: setrlimit is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(command, || {
                os::limit(os::RLIMIT_CORE, u64::MAX)
            })
        };
    };
    // First, that this machine writes core dumps at all (`/proc/sys/kernel/core_pattern`).
    let mut control = Command::new("sleep");
    control.arg("30");
    unlimited(&mut control);
    let mut child = control.spawn().unwrap();
    os::send(&child, os::SIGQUIT);
    let status = child.wait().unwrap();
    assert!(status.core_dumped(), "this machine writes no core dumps, so this test cannot tell");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();

    let fake = slow_demo(Duration::from_secs(30));
    let mut command = binary(&fake, &[]);
    unlimited(&mut command);
    let mut child = command.spawn().unwrap();
    assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
    os::send(&child, os::SIGQUIT);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(os::SIGQUIT));
    assert!(!status.core_dumped(), "a core dump would hold the PAT");
    assert_eq!(files_in(&dir), Vec::<String>::new());
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
