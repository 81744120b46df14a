//! End-to-end tests: the built binary against the fake ZITADEL on loopback.
//!
//! Every run goes through `sync`, which also checks what must hold for any run: no token
//! anywhere in the output, stdout made of whole JSON lines, and for a successful run a
//! stream whose references all point backwards and whose summary counts what it holds.
//! Golden files live in `testdata/golden/`; `UPDATE_GOLDEN=1 cargo test` rewrites them.

mod access;
mod console;
mod deploy;
mod echoes;
mod faults;
mod hostile;
mod operator;
mod output_attacks;
mod recipes;
mod relays;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fake_zitadel::{
    Contract, Dataset, FakeZitadel, Fault, FaultAction, Limits, Options, Record, Token,
};
use serde_json::Value;

const ACME: &str = "284905129371435012";
const GLOBEX: &str = "284905311209451523";
const ACME_PAT: &str = "demo-pat-acme-viewer";
const INSTANCE_PAT: &str = "demo-pat-instance";

/// What a run of the binary printed.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn demo() -> Dataset {
    Dataset::load(root().join("testdata/demo.json")).expect("testdata/demo.json loads")
}

fn serve(dataset: Dataset, options: Options) -> FakeZitadel {
    FakeZitadel::start(dataset, options).expect("the fake ZITADEL starts")
}

fn serve_demo() -> FakeZitadel {
    serve(demo(), Options::default())
}

/// Runs the binary with only the given environment (plus the fake's URL and, unless `env`
/// names a PAT source, the ACME token).
fn sync(fake: &FakeZitadel, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url());
    if !env.iter().any(|(name, _)| name.starts_with("BATON_PAT")) {
        command.env("BATON_PAT", ACME_PAT);
    }
    // Console logs are stable enough for golden files; the JSON format has its own test.
    if !env.iter().any(|(name, _)| *name == "BATON_LOG_FORMAT") {
        command.env("BATON_LOG_FORMAT", "console");
    }
    command.envs(env.iter().copied()).args(args);
    let run = run(command);
    assert!(run.stdout.is_empty() || run.stdout.ends_with('\n'), "stdout ends mid-line");
    for line in run.stdout.lines() {
        let record: Value = serde_json::from_str(line).expect("each stdout line is JSON");
        assert!(line.starts_with("{\"kind\":"), "kind comes first: {line}");
        assert!(record.is_object());
    }
    if run.status == 0 {
        check_stream(&run.stdout);
    }
    run
}

/// Runs `command` and checks that no token, and no piece of 8 characters of any PAT the
/// command gives the binary, appears in anything it printed.
fn run(mut command: Command) -> Run {
    let pats = pats_of(&command);
    let output = command.stdin(Stdio::null()).output().expect("the binary runs");
    let run = Run {
        status: output.status.code().expect("the binary exits, not killed by a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    let mut secrets = vec!["demo-pat-".to_string(), "not-a-real-pat-1234".to_string()];
    secrets.extend(pats.iter().flat_map(|pat| pieces(pat)));
    for secret in &secrets {
        assert!(!run.stdout.contains(secret), "stdout contains {secret:?}:\n{}", run.stdout);
        assert!(!run.stderr.contains(secret), "stderr contains {secret:?}:\n{}", run.stderr);
    }
    run
}

/// Every PAT `command` gives the binary: `--pat`, `BATON_PAT`, and the contents of the
/// files named by `--pat-file` and `BATON_PAT_FILE`.
fn pats_of(command: &Command) -> Vec<String> {
    let args: Vec<String> = command.get_args().map(|arg| arg.to_string_lossy().into()).collect();
    let (mut pats, mut files) = (Vec::new(), Vec::new());
    for (at, arg) in args.iter().enumerate() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let value = inline.or_else(|| args.get(at + 1).cloned());
        match flag {
            "--pat" => pats.extend(value),
            "--pat-file" => files.extend(value),
            _ => {}
        }
    }
    for (name, value) in command.get_envs() {
        let value = value.map(|value| value.to_string_lossy().into_owned());
        match name.to_str() {
            Some("BATON_PAT") => pats.extend(value),
            Some("BATON_PAT_FILE") => files.extend(value),
            _ => {}
        }
    }
    pats.extend(files.iter().filter_map(|path| std::fs::read_to_string(path).ok()));
    pats.iter().map(|pat| pat.trim_end().to_string()).filter(|pat| !pat.is_empty()).collect()
}

/// The pieces of `pat` that must never be printed: every run of 8 characters, or the whole
/// PAT if it is shorter.
fn pieces(pat: &str) -> Vec<String> {
    let chars: Vec<char> = pat.chars().collect();
    if chars.len() < 8 {
        return vec![pat.to_string()];
    }
    chars.windows(8).map(|piece| piece.iter().collect()).collect()
}

/// Checks the contract of a complete stream (`fake_zitadel::Contract`): resource types
/// first, each id once per kind, every reference to a record printed before it, and a
/// summary that counts the rest.
fn check_stream(stdout: &str) {
    if stdout.is_empty() {
        return; // `--check`, or records written to a file
    }
    let records: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (summary, records) = records.split_last().expect("a summary line");
    assert_eq!(summary["kind"], "summary", "the last line is the summary");
    // Without user (org, project grant) records, grants name those by id only.
    let synced = summary["filters"]["resource_types"].as_array().map(|types| {
        types.iter().map(|t| t.as_str().expect("a resource type").to_string()).collect()
    });
    let mut contract = Contract::new(synced);
    for record in records {
        if let Err(broken) = contract.record(&contract_fields(record)) {
            panic!("{broken}: {record}");
        }
    }
    let counts = &summary["counts"];
    contract.finish(|name| counts[name].as_u64()).unwrap_or_else(|broken| panic!("{broken}"));
}

/// The fields of an output record that the stream's contract reads.
fn contract_fields(record: &Value) -> Record<'_> {
    let text = |name: &str| record[name].as_str().unwrap_or_default();
    Record {
        kind: text("kind"),
        id: text("id"),
        resource_type: text("resource_type"),
        external: record["external"].as_bool(),
        project_id: text("project_id"),
        granted_org_id: text("granted_org_id"),
        status_details: text("status_details"),
        resource_id: text("resource_id"),
        slug: text("slug"),
        purpose: text("purpose"),
        entitlement_id: text("entitlement_id"),
        principal_type: text("principal_type"),
        principal_id: text("principal_id"),
        user_grant_id: record["user_grant_id"].as_str(),
        state: text("state"),
        project_grant_id: record["project_grant_id"].as_str(),
        granted_by_org_id: text("granted_by_org_id"),
    }
}

/// The records of a stream (its summary left out), each by its kind (a resource's with its
/// type) and id, which `check_stream` proves unique.
fn records_by_id(stdout: &str) -> HashMap<(String, String), Value> {
    let (records, _) = records_and_requests(stdout);
    records.lines().map(|line| keyed(serde_json::from_str(line).unwrap())).collect()
}

fn keyed(record: Value) -> ((String, String), Value) {
    let kind = match record["kind"].as_str().unwrap() {
        "resource" => format!("resource:{}", record["resource_type"].as_str().unwrap()),
        other => other.to_string(),
    };
    ((kind, record["id"].as_str().unwrap().to_string()), record)
}

/// Asserts that `stdout` holds exactly the `expected` records (in any order). An external
/// user's record is built from the first member or user grant that names it, so its fields
/// depend on which came first; it must be the same user, all fields both sources carry
/// equal. Every other record must be equal byte for byte, as JSON.
fn assert_same_records(stdout: &str, expected: impl IntoIterator<Item = String>, what: &str) {
    let actual = records_by_id(stdout);
    let expected: HashMap<_, _> =
        expected.into_iter().map(|line| keyed(serde_json::from_str(&line).unwrap())).collect();
    let mut missing: Vec<_> = expected.keys().filter(|key| !actual.contains_key(*key)).collect();
    let mut extra: Vec<_> = actual.keys().filter(|key| !expected.contains_key(*key)).collect();
    missing.sort();
    extra.sort();
    assert!(missing.is_empty() && extra.is_empty(), "{what}: missing {missing:?}, extra {extra:?}");
    for (key, record) in &actual {
        let wanted = &expected[key];
        let same = record == wanted
            || record["external"] == true && key.0 == "resource:user" && same_user(record, wanted);
        assert!(same, "{what}: {record}\nexpected: {wanted}");
    }
}

/// Whether two records of an external user agree: every field is in both and equal, but
/// for those that only a user grant carries (the user's org name and username).
fn same_user(one: &Value, other: &Value) -> bool {
    const ONLY_IN_USER_GRANTS: [&str; 2] = ["org_name", "username"];
    match (one, other) {
        (Value::Object(one), Value::Object(other)) => {
            let keys: HashSet<&String> = one.keys().chain(other.keys()).collect();
            keys.into_iter().all(|key| match (one.get(key), other.get(key)) {
                (Some(a), Some(b)) => same_user(a, b),
                _ => ONLY_IN_USER_GRANTS.contains(&key.as_str()),
            })
        }
        _ => one == other,
    }
}

/// Replaces the one varying part of console logs, `sync complete in 0.1s`, with `in Ns`.
fn without_durations(stderr: &str) -> String {
    stderr
        .lines()
        .map(|line| match line.split_once("sync complete in ") {
            Some((head, tail)) => {
                format!("{head}sync complete in Ns{}\n", &tail[tail.find(':').unwrap_or(0)..])
            }
            None => format!("{line}\n"),
        })
        .collect()
}

/// Compares `actual` with `testdata/golden/<name>`, or rewrites it with `UPDATE_GOLDEN=1`.
fn golden(name: &str, actual: &str) {
    let path = root().join("testdata/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!("{}: {err}; run with UPDATE_GOLDEN=1 to create it", path.display())
    });
    assert!(
        expected == actual,
        "{name} differs from its golden file; run with UPDATE_GOLDEN=1 and review the diff.\n--- actual ---\n{actual}"
    );
}

fn summary(stdout: &str) -> Value {
    serde_json::from_str(stdout.lines().last().expect("a summary line")).unwrap()
}

/// Splits a stream into its records and its summary's request count.
fn records_and_requests(stdout: &str) -> (String, u64) {
    let (records, last) = stdout.trim_end().rsplit_once('\n').expect("records and a summary");
    let summary: Value = serde_json::from_str(last).unwrap();
    (records.to_string(), summary["requests"].as_u64().unwrap())
}

fn demo_golden() -> String {
    std::fs::read_to_string(root().join("testdata/golden/demo.ndjson")).unwrap()
}

#[test]
fn demo_organization_matches_golden_files() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    golden("demo.ndjson", &run.stdout);
    golden("demo.stderr", &without_durations(&run.stderr));
    assert_eq!(summary(&run.stdout)["requests"], fake.request_count() as u64);
}

#[test]
fn two_runs_print_identical_bytes() {
    let fake = serve_demo();
    let first = sync(&fake, &[], &[]);
    let second = sync(&fake, &[], &[]);
    assert_eq!(first.status, 0);
    assert!(first.stdout == second.stdout);
}

#[test]
fn every_page_size_gives_the_same_records() {
    let (expected, _) = records_and_requests(&demo_golden());
    for page_size in ["1", "2", "3", "1000"] {
        let fake = serve_demo();
        let run = sync(&fake, &["--page-size", page_size], &[]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let (records, requests) = records_and_requests(&run.stdout);
        assert!(records == expected, "page size {page_size} changes the records");
        let log = fake.requests();
        assert_eq!(requests, log.len() as u64, "the summary counts every request");
        let page_size = page_size.parse().unwrap();
        for request in log.iter().filter(|r| r.method == "POST") {
            assert_eq!(
                request.limit,
                page_limit(request, page_size),
                "explicit limit: {request:?}"
            );
        }
    }
}

/// The `limit` a request of a sync with this page size carries: every list is paged with an
/// explicit limit, but the three member-role lists take no body, so they have none.
fn page_limit(request: &fake_zitadel::RequestLog, page_size: u64) -> Option<u64> {
    (!request.path.ends_with("/members/roles/_search")).then_some(page_size)
}

#[test]
fn page_size_from_the_environment() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[("BATON_PAGE_SIZE", "2")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let posts: Vec<_> = fake.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert!(posts.iter().all(|r| r.limit == page_limit(r, 2)), "{posts:?}");
}

#[test]
fn a_complete_walk_makes_the_minimum_of_requests() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let counts = &summary(&run.stdout)["counts"];
    let projects = counts["project"].as_u64().unwrap();
    let project_grants = counts["project_grant"].as_u64().unwrap();
    // orgs/me, one page of users, the three member-role lists once each, one page of org
    // managers, one of projects, per project one of roles, of managers, of project grants and
    // of user grants, and per project grant one of managers: every list of the demo fits in
    // one page of 1000.
    let log = fake.requests();
    assert_eq!(log.len() as u64, 1 + 1 + 3 + 1 + 1 + 4 * projects + project_grants);
    let mut pages = HashSet::new();
    for request in &log {
        assert!(
            pages.insert((request.path.clone(), request.body.clone())),
            "page fetched twice: {request:?}"
        );
        assert_eq!(request.status, 200);
    }
    assert_eq!(log[0].path, "/management/v1/orgs/me");
    assert_eq!(log[0].org_header, None, "auto-detection asks for the token's own organization");
    for request in &log[1..] {
        assert_eq!(
            request.org_header.as_deref(),
            Some(ACME),
            "pinned to the announced org: {request:?}"
        );
    }
}

#[test]
fn short_pages_from_a_capped_server_do_not_end_the_walk() {
    // A server whose maximum page is 2 answers every request for 1000 with 400: the user
    // lowers --page-size. With a server default below the requested size, rows beyond the
    // default would be lost by a client that stops on a short page.
    let fake = serve(
        demo(),
        Options { limits: Limits::Enforced { default: 100, max: 2 }, ..Options::default() },
    );
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("Limit exceeded (QUERY-4M0fs)"), "{}", run.stderr);
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(records_and_requests(&run.stdout).0 == records_and_requests(&demo_golden()).0);
}

#[test]
fn servers_without_page_limits_give_the_same_output() {
    let fake = serve(demo(), Options { limits: Limits::Unlimited, ..Options::default() });
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout == demo_golden());
}

#[test]
fn an_inflated_user_total_ends_on_the_first_empty_page() {
    let fake = serve(demo(), Options { users_total_inflation: 5, ..Options::default() });
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(records_and_requests(&run.stdout).0 == records_and_requests(&demo_golden()).0);
    let user_pages: Vec<_> =
        fake.requests().into_iter().filter(|r| r.path.ends_with("/users/_search")).collect();
    let users = summary(&run.stdout)["counts"]["user"].as_u64().unwrap();
    assert_eq!(
        user_pages.len() as u64,
        users.div_ceil(2) + 1,
        "one probe of an empty page, then stop"
    );
}

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

const ACME_ORG_NAME: &str = "ACME Corporation";

#[test]
fn empty_organization() {
    let mut dataset = Dataset::new();
    dataset
        .add_org(r#"{"id":"111111111111111111","details":{"sequence":"1","creationDate":"2025-01-01T00:00:00Z","changeDate":"2025-01-01T00:00:00Z","resourceOwner":"111111111111111111"},"state":"ORG_STATE_ACTIVE","name":"Empty","primaryDomain":"empty.example.com"}"#)
        .unwrap();
    dataset.add_token(Token::org_viewer("demo-pat-empty", "111111111111111111"));
    let fake = serve(dataset, Options::default());
    let run = sync(&fake, &[], &[("BATON_PAT", "demo-pat-empty")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    golden("empty.ndjson", &run.stdout);
    // Without projects, neither the project nor the project grant manager roles are read.
    assert_eq!(
        fake.request_count(),
        5,
        "orgs/me, users, org manager roles, org managers and projects: one request each"
    );
}

#[test]
fn inactive_grants_are_skipped_unless_included() {
    let fake = serve_demo();
    let skipped = summary(&demo_golden());
    assert!(
        skipped["counts"]["inactive_user_grant"].as_u64().unwrap() > 0,
        "the demo has an inactive grant"
    );
    assert!(!demo_golden().contains("USER_GRANT_STATE_INACTIVE"));
    for (args, env) in [
        (&["--include-inactive-grants"][..], &[][..]),
        (&[], &[("BATON_INCLUDE_INACTIVE_GRANTS", "yes")]),
    ] {
        let run = sync(&fake, args, env);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let included = summary(&run.stdout);
        assert_eq!(included["counts"]["inactive_user_grant"], 0);
        assert!(included["counts"]["grant"].as_u64() > skipped["counts"]["grant"].as_u64());
        assert!(run.stdout.contains("\"state\":\"USER_GRANT_STATE_INACTIVE\""));
    }
}

/// Asserts a failed run: its status, one error line naming `needles`, and stdout that holds
/// whole records but no summary.
fn assert_failure(run: &Run, status: i32, needles: &[&str]) {
    assert_eq!(run.status, status, "stderr: {}", run.stderr);
    let error = run.stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("baton-zitadel: "), "{}", run.stderr);
    for needle in needles {
        assert!(error.contains(needle), "error line lacks {needle:?}: {error}");
    }
    assert!(!run.stdout.contains("\"kind\":\"summary\""), "a failed run writes no summary");
}

#[test]
fn rejected_token_exits_3() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[("BATON_PAT", "not-a-real-pat-1234")]);
    assert_failure(&run, 3, &["GET /management/v1/orgs/me", "401", "AUTH-7fs1e"]);
    assert!(run.stdout.is_empty());
}

#[test]
fn missing_permissions_exit_4_and_name_the_permission() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[("BATON_PAT", "demo-pat-acme-settings")]);
    assert_failure(
        &run,
        4,
        &[
            "POST /management/v1/users/_search at offset 0",
            "user.read",
            "AUTH-5mWD2",
            "ORG_OWNER_VIEWER",
        ],
    );
    // The minimal custom role, without user.grant.read: managers and project grants need
    // permissions it lacks, so the sync leaves them out to get as far as the user grants.
    let run = sync(
        &fake,
        &["--skip-managers", "--resource-types", "user,project"],
        &[("BATON_PAT", "demo-pat-acme-no-grants")],
    );
    assert_failure(
        &run,
        4,
        &["POST /management/v1/users/grants/_search at offset 0", "user.grant.read", "AUTH-5mWD2"],
    );
    assert!(run.stdout.contains("\"kind\":\"entitlement\""), "records before the failure are kept");
}

#[test]
fn inaccessible_organizations_exit_4() {
    let fake = serve_demo();
    let run = sync(&fake, &["--org-id", GLOBEX], &[]);
    assert_failure(
        &run,
        4,
        &["GET /management/v1/orgs/me", "no membership", GLOBEX, "AUTHZ-cdgFk"],
    );
    let run = sync(&fake, &["--org-id", "999999999999999999"], &[]);
    assert_failure(&run, 4, &["999999999999999999", "does not exist", "AUTH-Bs7Ds", "--org-id"]);
}

#[test]
fn server_errors_exit_1_and_name_endpoint_and_offset() {
    let fake = serve_demo();
    fake.inject(
        Fault::new(FaultAction::Status {
            status: 500,
            body: r#"{"code":13,"message":"An internal error occurred (QUERY-2j00f)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"QUERY-2j00f","message":"Errors.Internal"}]}"#.into(),
            headers: Vec::new(),
        })
        .on_path("/projects/_search"),
    );
    let run = sync(&fake, &[], &[("BATON_MAX_RETRIES", "1")]);
    let needles = [
        "POST /management/v1/projects/_search at offset 0",
        "gave up after 2 attempts",
        "HTTP 500",
        "QUERY-2j00f",
    ];
    assert_failure(&run, 1, &needles);
    assert!(
        run.stdout.contains("\"resource_type\":\"user\""),
        "users printed before the failure are kept"
    );
}

#[test]
fn broken_responses_exit_1() {
    let cases: [(FaultAction, &[&str]); 4] = [
        (
            FaultAction::Garbage,
            &["POST /management/v1/users/_search at offset 0", "malformed response"],
        ),
        (FaultAction::DropConnection, &["POST /management/v1/users/_search at offset 0", "failed"]),
        (FaultAction::CutBody, &["POST /management/v1/users/_search at offset 0"]),
        (
            FaultAction::Status {
                status: 502,
                body: "<html>Bad Gateway</html>".into(),
                headers: vec![("Content-Type".into(), "text/html".into())],
            },
            &["HTTP 502", "not a ZITADEL error body", "Bad Gateway"],
        ),
    ];
    for (action, needles) in cases {
        let fake = serve_demo();
        fake.inject(Fault::new(action).on_path("/users/_search"));
        assert_failure(&sync(&fake, &[], &[("BATON_MAX_RETRIES", "0")]), 1, needles);
    }
}

#[test]
fn a_redirect_is_not_followed() {
    let fake = serve_demo();
    fake.inject(Fault::new(FaultAction::Status {
        status: 302,
        body: String::new(),
        headers: vec![("Location".into(), "https://login.example.com/ui/login".into())],
    }));
    let run = sync(&fake, &[], &[]);
    assert_failure(&run, 1, &["redirects to https://login.example.com/ui/login", "--instance-url"]);
    assert_eq!(fake.request_count(), 1);
}

#[test]
fn unreachable_instance_exits_1() {
    let fake = serve_demo();
    let url = fake.url();
    drop(fake);
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command
        .env_clear()
        .env("BATON_INSTANCE_URL", &url)
        .env("BATON_PAT", ACME_PAT)
        .env("BATON_MAX_RETRIES", "0")
        .env("BATON_LOG_FORMAT", "console");
    assert_failure(&run(command), 1, &["GET /management/v1/orgs/me", &url, "refused"]);
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
            "cannot read the PAT file /nonexistent given by --pat-file (BATON_PAT_FILE)",
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

#[test]
fn a_closed_stdout_ends_the_sync_quietly() {
    let fake = serve_demo();
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).env("BATON_PAT", ACME_PAT);
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Closing our end of the pipe before the first record is written makes every write fail.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error") && !stderr.to_lowercase().contains("pipe"), "{stderr}");
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-zitadel-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}
