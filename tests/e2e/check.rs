//! `--check`: every permission the sync needs, probed without printing a record, and each
//! missing one named with the setting that skips it.

use fake_zitadel::{FakeZitadel, Options, Token};

use crate::harness::*;

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
        // The organization-wide credential lists a sync reads, probed as it reads them.
        "check: user.read ok: credentials: the organization's lists hold 1 tokens and 1 keys",
        "check: org.member.read ok: the organization has 10 manager roles and 4 managers",
        "check: iam.member.read ok: the instance has 7 manager roles and 3 managers",
        "check: iam.read ok: instance \"acme-corp\" (284904986052325380)",
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
    assert_eq!(role_lists.len(), 4, "each member-role list once: {role_lists:?}");
    let limits: Vec<_> = lists.iter().map(|r| r.limit).collect();
    assert_eq!(limits, [Some(1); 10], "each list probe asks for one row");
    let credentials: Vec<_> = lists.iter().filter(|r| r.path.starts_with("/v2/")).collect();
    assert_eq!(credentials.len(), 2, "the tokens' and the keys' lists: {credentials:?}");
    for request in credentials {
        let body = &request.body;
        assert!(body.contains(r#""organizationIdFilter":{"id":"284905129371435012"}"#), "{body}");
    }
}

/// The credential lists are probed as a sync reads them: refused, the check fails as the
/// sync would; absent (an older server), a sync reads each service user's lists instead,
/// so the check passes and says so; not synced, they are not probed.
#[test]
fn check_probes_the_credential_lists() {
    let fake = serve_demo();
    fake.inject(
        answer(403, r#"{"code":7,"message":"No matching permissions found"}"#)
            .on_path("/v2/users/keys/search"),
    );
    let run = check(&fake, &[], &[]);
    assert_eq!(run.status, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: check: user.read missing: POST /v2/users/keys/search"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.lines().last().unwrap().contains("check failed at user.read"),
        "{}",
        run.stderr
    );

    let old = serve(demo(), Options { without_v2_credential_lists: true, ..Options::default() });
    let run = check(&old, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let said = "check: user.read ok: credentials: POST /v2/users/pats/search is not on this server (an older ZITADEL); a sync reads each service user's tokens and keys instead";
    assert!(run.stderr.contains(said), "{}", run.stderr);

    let fake = serve_demo();
    let run =
        check(&fake, &["--resource-types", "user,org,project,project_grant,client_secret"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("credentials:"), "{}", run.stderr);
    let credential_list = |r: &fake_zitadel::RequestLog| {
        r.path.starts_with("/v2/users/") && r.path.ends_with("/search")
    };
    assert!(!fake.requests().iter().any(credential_list), "no credential probe");
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
        // The probe's line gives the advice; the last line only names the probe.
        let error = run.stderr.lines().find(|line| line.contains("missing")).unwrap();
        let last = run.stderr.lines().last().unwrap();
        assert_eq!(last, format!("baton-zitadel: check failed at {permission}"), "{token}");
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
    // The permissions of the documented minimal custom role: no member or project-grant
    // permission.
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
        user_id: String::new(),
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

/// Without `org` among the resource types, a sync reads no organization managers, so
/// `--check` does not probe `org.member.read`: a token without it passes.
#[test]
fn check_probes_no_org_managers_when_org_is_not_synced() {
    let mut dataset = demo();
    dataset.add_token(Token {
        token: "demo-pat-acme-no-org-members".into(),
        user_org: ACME.into(),
        instance_level: false,
        permissions: [
            "org.read",
            "user.read",
            "project.read",
            "project.role.read",
            "project.member.read",
            "project.grant.read",
            "project.grant.member.read",
            "user.grant.read",
        ]
        .map(String::from)
        .to_vec(),
        user_id: String::new(),
    });
    let fake = serve(dataset, Options::default());
    let env = [("BATON_PAT", "demo-pat-acme-no-org-members")];
    let run = check(&fake, &["--resource-types", "user,project,project_grant"], &env);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("org.member.read"), "{}", run.stderr);
    assert!(run.stderr.contains("check: project.member.read ok"), "{}", run.stderr);
    let org_members = fake
        .requests()
        .iter()
        .filter(|r| r.path.contains("orgs/me/members") || r.path.contains("orgs/members"))
        .count();
    assert_eq!(org_members, 0, "no organization member list is read");
    // With `org` synced, the same token fails on it, as a sync would.
    let run = check(&fake, &[], &env);
    assert_eq!(run.status, 4, "{}", run.stderr);
    assert!(run.stderr.contains("org.member.read"), "{}", run.stderr);
}

#[test]
fn check_names_each_missing_permission_and_fails_as_the_sync_would() {
    let fake = serve_demo();
    let run = check(&fake, &[], &[("BATON_PAT", "demo-pat-acme-no-grants")]);
    assert_eq!(run.status, 4, "{}", run.stderr);
    assert!(run.stderr.contains("check: user.read ok"));
    assert!(run.stderr.contains("warning: check: user.grant.read missing: POST /management/v1/users/grants/_search at offset 0: permission denied (HTTP 403: No matching permissions found (AUTH-5mWD2))"), "{}", run.stderr);
    // A failed probe's message is printed once: the last line names the probe only.
    assert_eq!(run.stderr.matches("AUTH-5mWD2").count(), 1, "{}", run.stderr);
    assert_eq!(run.stderr.lines().last(), Some("baton-zitadel: check failed at user.grant.read"));

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
    assert_eq!(
        error,
        "baton-zitadel: check failed at user.read, project.read, project.member.read, project.grant.member.read, user.grant.read"
    );
    assert_eq!(run.stderr.matches("POST /management/v1/users/_search").count(), 1);
}

/// A host that does not answer: `--check` tries it twice at most and is done well within
/// 15 seconds whatever `--timeout` and `--max-retries` say, naming the probe that failed.
#[test]
fn check_gives_up_on_a_silent_host_within_15_seconds_naming_the_step() {
    // A listener that never accepts: connections complete in the backlog, and no answer
    // ever comes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().args(["--check", "--instance-url", &url]).envs([
        ("BATON_PAT", ACME_PAT),
        ("BATON_LOG_FORMAT", "console"),
        ("BATON_MAX_RETRIES", "8"),
        ("BATON_TIMEOUT", "120"),
    ]);
    let started = std::time::Instant::now();
    let run = run(command);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}: {}", run.stderr);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(run.stderr.matches("retrying in").count(), 1, "one retry: {}", run.stderr);
    assert!(run.stderr.contains("check: org.read failed: "), "{}", run.stderr);
    assert!(run.stderr.contains("gave up after 2 attempts: no complete answer"), "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().last(),
        Some(
            "baton-zitadel: check failed at org.read, the first probe: nothing else can be checked"
        )
    );
    assert_eq!(run.stderr.matches("no complete answer").count(), 2, "{}", run.stderr);
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
