//! Exit statuses: each kind of failure exits with its documented status and one error line
//! naming the endpoint, and a closed stdout ends the sync quietly.

use std::io::Read;
use std::process::{Command, Stdio};

use fake_zitadel::{Fault, FaultAction};

use crate::harness::*;

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
        (FaultAction::Garbage, &["POST /management/v1/users/_search at offset 0", "is not JSON"]),
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

/// A wrong URL fails fast and says so: a web page answered with 200 (a proxy's login page,
/// a web server) is the same on every attempt, so it is not retried, and the message names
/// the setting to fix and shows what came back, escaped.
#[test]
fn a_web_page_instead_of_the_api_fails_at_once_naming_the_instance_url() {
    let fake = serve_demo();
    fake.inject(Fault::new(FaultAction::Garbage));
    let run = sync(&fake, &[], &[]);
    assert_failure(
        &run,
        1,
        &[
            "HTTP 200 but the answer is not JSON (Content-Type text/html, starting \"<html>\\r\\n<head><title>502 Bad Gateway",
            "check that --instance-url (BATON_INSTANCE_URL) is the ZITADEL instance's own address",
        ],
    );
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
    assert_eq!(fake.request_count(), 1, "one request, no retry");
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
fn a_closed_stdout_ends_the_sync_quietly() {
    let fake = serve_demo();
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).env("BATON_PAT", ACME_PAT);
    let mut child =
        bounded(&mut command).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Closing our end of the pipe before the first record is written makes every write fail.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error") && !stderr.to_lowercase().contains("pipe"), "{stderr}");
}
