//! How managers sign in: the organization's login policy on its record, and the kinds of
//! authentication method of each human manager of the organization (or of every human user),
//! read once each, just before the manager's first grant (or right after the user).

use std::collections::HashMap;

use super::*;

const ZOE: &str = "284907558113705989";
const FRANK: &str = "284911893456683013";
const CI_BOT: &str = "284912230194381317";
const BATON_SYNC: &str = "284913718839001605";
const TOTP: &str = "AUTHENTICATION_METHOD_TYPE_TOTP";
const PASSKEY: &str = "AUTHENTICATION_METHOD_TYPE_PASSKEY";
const PASSWORD: &str = "AUTHENTICATION_METHOD_TYPE_PASSWORD";

/// The path of one user's authentication methods.
fn methods_path(user: &str) -> String {
    format!("/v2/users/{user}/authentication_methods")
}

/// How many requests asked for each user's methods, by user.
fn methods_asked(fake: &FakeZitadel) -> HashMap<String, usize> {
    let mut asked = HashMap::new();
    for request in fake.requests() {
        let user = request.path.strip_prefix("/v2/users/");
        if let Some(user) = user.and_then(|rest| rest.strip_suffix("/authentication_methods")) {
            assert_eq!(request.method, "GET");
            *asked.entry(user.to_string()).or_default() += 1;
        }
    }
    asked
}

/// The `user_auth` records of a stream, by user.
fn user_auths(records: &[Value]) -> Vec<&Value> {
    records.iter().filter(|record| record["kind"] == "user_auth").collect()
}

#[test]
fn each_human_manager_of_the_organization_is_described_just_before_its_first_manager_grant() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    let records = all_records(&run.stdout);
    let described: Vec<&str> =
        user_auths(&records).iter().map(|r| r["user_id"].as_str().unwrap()).collect();
    // Erin and Alice manage the organization, Carol the instance (and a project), Bob and
    // Dave their projects; Ivy, Victor, Henry and Peter are of other organizations, and the
    // two service users have no methods to read.
    assert_eq!(described, [ERIN, ALICE, CAROL, BOB, DAVE]);
    for (at, record) in records.iter().enumerate().filter(|(_, r)| r["kind"] == "user_auth") {
        let user = &record["user_id"];
        let next = &records[at + 1];
        assert!(next["kind"] == "grant" && next["principal_id"] == *user, "{next}");
        assert!(next.get("user_grant_id").is_none(), "a manager grant: {next}");
        let manager_grant = |r: &Value| {
            r["kind"] == "grant" && r["principal_id"] == *user && r.get("user_grant_id").is_none()
        };
        let first = records.iter().position(manager_grant);
        assert_eq!(first, Some(at + 1), "{user}'s first manager grant");
    }
    // A manager without a second factor, and one with TOTP and a passkey.
    let of = |user: &str| *user_auths(&records).iter().find(|r| r["user_id"] == user).unwrap();
    assert_eq!(
        *of(ALICE),
        json!({"kind": "user_auth", "user_id": ALICE, "auth_methods": [PASSWORD],
               "mfa_status": {"mfa_enabled": false}, "sso_status": {"sso_enabled": false}})
    );
    assert_eq!(of(BOB)["auth_methods"], json!([PASSKEY, PASSWORD, TOTP]), "sorted");
    assert_eq!(of(BOB)["mfa_status"], json!({"mfa_enabled": true}));
    assert_eq!(of(DAVE)["sso_status"], json!({"sso_enabled": true}));
    // One request per human manager, however many roles it holds (Carol: two resources).
    let asked = methods_asked(&fake);
    let expected: HashMap<String, usize> =
        [ERIN, ALICE, CAROL, BOB, DAVE].iter().map(|user| (user.to_string(), 1)).collect();
    assert_eq!(asked, expected, "service users and users of other organizations: no request");
    assert!(!asked.contains_key(CI_BOT) && !asked.contains_key(BATON_SYNC));
    let counts = &summary(&run.stdout)["counts"];
    assert_eq!((&counts["user_auth"], &counts["auth_methods_unknown"]), (&json!(5), &json!(0)));
    let policies =
        fake.requests().into_iter().filter(|r| r.path == "/management/v1/policies/login");
    assert_eq!(policies.count(), 1);
}

#[test]
fn all_describes_every_human_user_right_after_its_record() {
    let fake = serve_demo();
    for (args, env) in
        [(&["--auth-methods", "all"][..], &[][..]), (&[][..], &[("BATON_AUTH_METHODS", "all")][..])]
    {
        fake.clear_requests();
        let run = sync_ok(&fake, args, env);
        let records = all_records(&run.stdout);
        let humans = [ALICE, BOB, ZOE, CAROL, DAVE, ERIN, FRANK];
        for user in humans {
            let at = position(&records, "resource:user", user);
            assert_eq!(records[at + 1]["kind"], "user_auth", "{user}");
            assert_eq!(records[at + 1]["user_id"], user);
        }
        assert_eq!(user_auths(&records).len(), humans.len(), "the service users have none");
        // Frank has set up nothing yet.
        let frank = &records[position(&records, "resource:user", FRANK) + 1];
        assert_eq!(frank["auth_methods"], json!([]));
        assert_eq!(frank["mfa_status"]["mfa_enabled"], false);
        let asked = methods_asked(&fake);
        assert_eq!(asked.len(), humans.len());
        assert!(asked.values().all(|n| *n == 1), "{asked:?}");
        let summary = summary(&run.stdout);
        assert_eq!(summary["filters"], json!({"auth_methods": "all"}));
        assert_eq!(summary["counts"]["user_auth"], 7);
    }
}

#[test]
fn methods_that_cannot_be_read_are_counted_and_not_printed() {
    let fake = serve_demo();
    let not_found = r#"{"code":5,"message":"Errors.User.NotFound (QUERY-Dfbg2)"}"#;
    fake.inject(answer(404, not_found).on_path(&methods_path(ALICE)));
    let denied = r#"{"code":7,"message":"No matching permissions found (AUTH-AWfge)"}"#;
    fake.inject(answer(403, denied).on_path(&methods_path(BOB)));
    let run = sync_ok(&fake, &[], &[]);
    let records = all_records(&run.stdout);
    let described: Vec<&str> =
        user_auths(&records).iter().map(|r| r["user_id"].as_str().unwrap()).collect();
    assert_eq!(described, [ERIN, CAROL, DAVE]);
    let counts = &summary(&run.stdout)["counts"];
    assert_eq!((&counts["user_auth"], &counts["auth_methods_unknown"]), (&json!(3), &json!(2)));
    // Each asked once, not retried, and said.
    let asked = methods_asked(&fake);
    assert_eq!((asked[ALICE], asked[BOB]), (1, 1));
    for (user, status) in [(ALICE, 404), (BOB, 403)] {
        let said = format!("user {user}: GET {} answered HTTP {status}", methods_path(user));
        assert!(run.stderr.contains(&said), "{said}: {}", run.stderr);
    }
    assert!(run.stderr.contains("skipped 2 auth methods unknown"), "{}", run.stderr);
    // Their grants are printed as ever.
    assert_eq!(grant_ids(&records, ALICE), grant_ids(&all_records(&demo_golden()), ALICE));
}

#[test]
fn none_reads_neither_the_login_policy_nor_any_methods() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &["--auth-methods", "none"], &[]);
    let sign_in = |r: &fake_zitadel::RequestLog| {
        r.path == "/management/v1/policies/login" || r.path.ends_with("/authentication_methods")
    };
    assert!(!fake.requests().iter().any(sign_in), "{:?}", fake.requests());
    let mut expected = stream_records(&demo_golden());
    let org = position(&expected, "resource:org", ACME);
    expected[org].as_object_mut().unwrap().remove("login_policy");
    assert_eq!(all_records(&run.stdout), expected);
    let summary = summary(&run.stdout);
    assert_eq!(summary["filters"], json!({"auth_methods": "none"}));
    assert_eq!(summary["requests"], 32 - 1 - 5);
    // Without managers, the policy is read and no manager's methods are.
    fake.clear_requests();
    let run = sync_ok(&fake, &["--skip-managers"], &[]);
    assert!(user_auths(&all_records(&run.stdout)).is_empty());
    assert!(methods_asked(&fake).is_empty());
    let org = all_records(&run.stdout).into_iter().find(|r| r["id"] == ACME).unwrap();
    assert_eq!(org["login_policy"]["force_mfa"], false);
}

#[test]
fn a_token_that_cannot_read_the_login_policy_exits_4_naming_it_and_the_way_out() {
    let mut dataset = demo();
    let mut token = Token::org_viewer("no-policy", ACME);
    token.permissions.retain(|permission| permission != "policy.read");
    dataset.add_token(token);
    let fake = serve(dataset, Options::default());
    let env = [("BATON_PAT", "no-policy")];
    let run = sync(&fake, &[], &env);
    assert_failure(
        &run,
        4,
        &[
            "GET /management/v1/policies/login",
            "this call needs policy.read",
            "Org Owner Viewer",
            "--auth-methods none (BATON_AUTH_METHODS=none)",
        ],
    );
    assert!(!run.stdout.contains("\"kind\":\"summary\""), "an incomplete stream");
    let run = sync_ok(&fake, &["--auth-methods", "none"], &env);
    assert!(!run.stdout.contains("login_policy"));
    let run = sync(&fake, &["--check"], &env);
    assert_eq!(run.status, 4, "{}", run.stderr);
    assert!(run.stderr.contains("check: policy.read missing"), "{}", run.stderr);
}

#[test]
fn the_instance_default_policy_is_said_to_be_the_default() {
    let mut dataset = demo();
    dataset.org_mut(ACME).unwrap().login_policy = None;
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    let org = all_records(&run.stdout).into_iter().find(|r| r["id"] == ACME).unwrap();
    assert_eq!(org["login_policy"]["is_default"], true);
    assert_eq!(org["login_policy"]["allow_external_idp"], true);
}

#[test]
fn hostile_method_lists_are_read_within_bounds_or_refused() {
    let mut dataset = demo();
    // A newer server's kind, repeats, and a list a hundred thousand long.
    let mut many = vec!["AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE", TOTP];
    many.extend(std::iter::repeat_n(PASSWORD, 100_000));
    dataset.set_auth_methods(ACME, ALICE, &many).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    let records = all_records(&run.stdout);
    let alice = user_auths(&records).into_iter().find(|r| r["user_id"] == ALICE).unwrap();
    assert_eq!(
        alice["auth_methods"],
        json!([PASSWORD, "AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE", TOTP])
    );
    assert_eq!(alice["mfa_status"]["mfa_enabled"], true);

    // A method that would move a terminal's cursor is no method ZITADEL names.
    for hostile in ["AUTHENTICATION_METHOD_TYPE_\u{1b}[2J\u{202e}", "totp"] {
        let mut dataset = demo();
        dataset.set_auth_methods(ACME, ALICE, &[hostile]).unwrap();
        let fake = serve(dataset, Options::default());
        let run = sync(&fake, &[], &[]);
        assert_failure(
            &run,
            1,
            &[
                &format!("GET {}", methods_path(ALICE)),
                "is not a AUTHENTICATION_METHOD_TYPE_* name",
            ],
        );
        assert!(!run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{202e}'));
    }
    // More distinct kinds than any ZITADEL has.
    let mut dataset = demo();
    let kinds: Vec<String> = (0..40).map(|i| format!("AUTHENTICATION_METHOD_TYPE_K{i}")).collect();
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    dataset.set_auth_methods(ACME, ALICE, &kinds).unwrap();
    let fake = serve(dataset, Options::default());
    assert_failure(&sync(&fake, &[], &[]), 1, &["more than 32 distinct"]);
}

#[test]
fn an_unknown_auth_methods_value_is_a_configuration_error() {
    let fake = serve_demo();
    let run = sync(&fake, &["--auth-methods", "admins"], &[]);
    assert_failure(
        &run,
        2,
        &["--auth-methods (BATON_AUTH_METHODS) must be none, managers or all, got \"admins\""],
    );
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn check_says_whether_the_policy_and_the_methods_are_readable() {
    let fake = serve_demo();
    let run = sync(&fake, &["--check"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    for line in [
        "check: policy.read ok: the login policy (the organization's own) forces MFA: false",
        &format!(
            "check: user.read (authentication methods) ok: user {ALICE} has 1 kinds of method"
        ),
    ] {
        assert!(run.stderr.contains(line), "{line}: {}", run.stderr);
    }
    // Methods refused: said, and no failure, as a sync goes on without them.
    let denied = r#"{"code":7,"message":"No matching permissions found (AUTH-AWfge)"}"#;
    fake.inject(answer(403, denied).on_path("/authentication_methods"));
    let run = sync(&fake, &["--check"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains("user.read (authentication methods) missing"), "{}", run.stderr);
    assert!(run.stderr.contains("auth_methods_unknown"), "{}", run.stderr);
    // With none, neither is probed.
    fake.clear_requests();
    let run = sync(&fake, &["--check", "--auth-methods", "none"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("policy.read"), "{}", run.stderr);
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.path.contains("polic") && !r.path.starts_with("/v2/users/2"))
    );
}

#[test]
fn a_login_policy_answer_without_a_policy_is_refused() {
    let fake = serve_demo();
    fake.inject(answer(200, r#"{"isDefault":true}"#).on_path("/policies/login"));
    let run = sync(&fake, &[], &[]);
    assert_failure(&run, 1, &["GET /management/v1/policies/login", "no login policy"]);
    let run = sync(&fake, &["--check"], &[]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("check: policy.read failed: GET /management/v1/policies/login"));
    assert!(run.stderr.contains("no login policy"), "{}", run.stderr);
}

#[test]
fn a_server_without_the_user_service_v2_leaves_every_manager_unknown_and_the_rest_whole() {
    // ZITADEL before the user service v2 (2024) has no such route: grpc-gateway's 404.
    let fake = serve_demo();
    fake.inject(
        answer(404, r#"{"code":5,"message":"Not Found"}"#).on_path("/authentication_methods"),
    );
    let run = sync_ok(&fake, &[], &[]);
    let records = all_records(&run.stdout);
    assert!(user_auths(&records).is_empty());
    assert_eq!(records, stream_records(&demo_golden()));
    let counts = &summary(&run.stdout)["counts"];
    assert_eq!((&counts["user_auth"], &counts["auth_methods_unknown"]), (&json!(0), &json!(5)));
    assert_eq!(methods_asked(&fake).len(), 5, "each manager once, none retried");
    assert_eq!(run.stderr.matches("answered HTTP 404").count(), 5, "{}", run.stderr);
}
