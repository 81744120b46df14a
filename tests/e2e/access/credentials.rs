//! Credentials of service users: the Personal Access Tokens, machine keys and client
//! secrets through which they act, printed after the users, never their material.

use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

const BATON_SYNC: &str = "284913718839001605";
const CI_BOT: &str = "284912230194381317";
const SYNC_PAT: &str = "284913802349133829";
const CI_KEY: &str = "284912367488733189";

/// A token of `user` as a dataset row (`Dataset::add_pat`).
fn pat(id: &str, user: &str, expires: &str) -> String {
    json!({"id": id, "userId": user, "creationDate": "2025-05-01T10:00:00Z",
           "expirationDate": expires})
    .to_string()
}

#[test]
fn credentials_follow_the_users_as_zitadel_lists_them() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    for (i, (id, name)) in [
        ("pat", "Personal Access Token"),
        ("machine_key", "Machine Key"),
        ("client_secret", "Client Secret"),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(
            records[5 + i],
            json!({"kind": "resource_type", "id": id, "display_name": name, "traits": ["TRAIT_SECRET"]})
        );
    }
    let last_user =
        records.iter().rposition(|r| r["resource_type"] == "user" && r["external"] == false);
    let first = last_user.unwrap() + 1;
    // A never-expiring token of a service user who manages the organization: ZITADEL's
    // "never" exactly as it sends it.
    assert_eq!(
        records[first],
        json!({"kind": "resource", "resource_type": "pat", "id": SYNC_PAT,
               "display_name": format!("Personal Access Token {SYNC_PAT} of {BATON_SYNC}"),
               "org_id": ACME, "created_at": "2025-02-03T07:52:40.117Z",
               "secret": {"identity_id": BATON_SYNC, "credential_type": "CREDENTIAL_TYPE_STATIC_SECRET",
                          "credential_detail": "zitadel.personal_access_token",
                          "expires_at": "9999-12-31T23:59:59Z"}})
    );
    assert_eq!(records[first + 1]["id"], CI_KEY);
    assert_eq!(records[first + 1]["secret"]["expires_at"], "2026-06-30T00:00:00Z");
    assert_eq!(records[first + 1]["secret"]["credential_type"], "CREDENTIAL_TYPE_ASYMMETRIC_KEY");
    assert_eq!(
        records[first + 2],
        json!({"kind": "resource", "resource_type": "client_secret", "id": BATON_SYNC,
               "display_name": format!("Client Secret of {BATON_SYNC}"), "org_id": ACME,
               "secret": {"identity_id": BATON_SYNC, "credential_type": "CREDENTIAL_TYPE_STATIC_SECRET",
                          "credential_detail": "zitadel.client_secret"}})
    );
    assert_eq!(records[first + 3]["resource_type"], "org");
    let counts = &summary(&run.stdout)["counts"];
    assert_eq!(
        (&counts["pat"], &counts["machine_key"], &counts["client_secret"]),
        (&json!(1), &json!(1), &json!(1))
    );
    // Initech's bot has a token too, which ACME's filtered list does not hold.
    assert!(!run.stdout.contains("284905901263470595"));
    for list in ["/v2/users/pats/search", "/v2/users/keys/search"] {
        let asked: Vec<_> = fake.requests().into_iter().filter(|r| r.path == list).collect();
        assert_eq!(asked.len(), 1, "{list}");
        assert!(
            asked[0]
                .body
                .contains(&format!(r#""filters":[{{"organizationIdFilter":{{"id":"{ACME}"}}}}]"#))
        );
        assert!(asked[0].body.contains(r#"_FIELD_NAME_ID","#), "sorted by id: {}", asked[0].body);
    }
}

#[test]
fn an_old_server_is_read_through_each_service_users_lists() {
    let options = Options { without_v2_credential_lists: true, ..Options::default() };
    let fake = serve(demo(), options);
    let run = sync_ok(&fake, &[], &[]);
    assert_same_records(
        &run.stdout,
        records_and_requests(&demo_golden()).0.lines().map(String::from),
        "the demo's records",
    );
    let said = run.stderr.matches("no organization-wide list of credentials").count();
    assert_eq!(said, 1, "said once: {}", run.stderr);
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    let v1 = |user: &str, list: &str| format!("/management/v1/users/{user}/{list}/_search");
    for user in [CI_BOT, BATON_SYNC] {
        for list in ["pats", "keys"] {
            assert_eq!(paths.iter().filter(|p| **p == v1(user, list)).count(), 1, "{user} {list}");
        }
    }
    // One refused v2 list, then two lists per service user: 2 × M.
    let v2_lists = paths.iter().filter(|p| p.starts_with("/v2/") && p.ends_with("/search"));
    assert_eq!(v2_lists.count(), 1);
    assert_eq!(summary(&run.stdout)["requests"].as_u64(), Some(32 - 2 + 1 + 4));
}

#[test]
fn a_credential_created_while_its_list_is_read_is_printed_once() {
    let mut dataset = demo();
    dataset.add_pat(ACME, &pat("284913802349133830", CI_BOT, "2026-01-01T00:00:00Z")).unwrap();
    let fake = serve(dataset, Options::default());
    let calls = AtomicU32::new(0);
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(move |d: &mut Dataset| {
            // At the second page: a token with the highest id yet.
            if calls.fetch_add(1, Ordering::SeqCst) == 1 {
                d.add_pat(ACME, &pat("284913802349133831", BATON_SYNC, "9999-12-31T23:59:59Z"))
                    .unwrap();
            }
        })))
        .on_path("/v2/users/pats/search"),
    );
    let run = sync_ok(&fake, &[], &[("BATON_PAGE_SIZE", "1")]);
    let pats: Vec<&str> =
        run.stdout.lines().filter(|l| l.contains(r#""resource_type":"pat""#)).collect();
    assert_eq!(pats.len(), 3, "{pats:?}");
    assert_eq!(summary(&run.stdout)["counts"]["pat"], 3);
}

#[test]
fn a_credential_of_a_user_not_printed_is_skipped_and_counted() {
    let fake = serve_demo();
    const LATE: &str = "300000000000000001";
    let new_user = json!({
        "id": LATE, "details": details(ACME), "state": "USER_STATE_ACTIVE", "userName": "late",
        "loginNames": ["late"], "preferredLoginName": "late", "machine": {"name": "Late"},
    })
    .to_string();
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(move |d: &mut Dataset| {
            d.add_user(ACME, &new_user).unwrap();
            d.add_pat(ACME, &pat("300000000000000002", LATE, "9999-12-31T23:59:59Z")).unwrap();
        })))
        .on_path("/v2/users/pats/search")
        .once(),
    );
    let run = sync_ok(&fake, &[], &[]);
    assert!(!run.stdout.contains("300000000000000002"), "no record of the token");
    assert_eq!(summary(&run.stdout)["counts"]["secret_without_identity"], 1);
    assert!(
        run.stderr.contains(&format!(
            "pat 300000000000000002 of user {LATE}, who is not among the users printed"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn no_field_holding_token_or_key_material_can_be_printed() {
    // A server that sent the material beside a row: the sync reads no such field.
    let mut dataset = demo();
    let leaky = json!({"id": "284913802349133839", "userId": BATON_SYNC, "creationDate": "2025-05-01T10:00:00Z",
        "expirationDate": "9999-12-31T23:59:59Z",
        "extra": {"token": "TOKEN-MATERIAL-7f3a", "keyDetails": "KEY-MATERIAL-9c1b", "publicKey": "PUBLIC-KEY-5d2e"}});
    dataset.add_pat(ACME, &leaky.to_string()).unwrap();
    let mut key = leaky.clone();
    key["id"] = "284913802349133840".into();
    dataset.add_machine_key(ACME, &key.to_string()).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    assert!(fake.requests().iter().any(|r| r.status == 200 && r.path.contains("/v2/users/")));
    let materials =
        ["TOKEN-MATERIAL", "KEY-MATERIAL", "PUBLIC-KEY", "\"token\"", "keyDetails", "publicKey"];
    for material in materials {
        assert!(!run.stdout.contains(material), "{material} printed");
        assert!(!run.stderr.contains(material), "{material} logged");
    }
    assert_eq!(summary(&run.stdout)["counts"]["pat"], 2);
    assert_eq!(summary(&run.stdout)["counts"]["machine_key"], 2);
}

#[test]
fn the_sync_makes_exactly_the_read_requests_and_calls_nothing_that_returns_a_secret() {
    let fake = serve_demo();
    sync_ok(&fake, &[], &[]);
    let mut endpoints: Vec<String> = fake
        .requests()
        .into_iter()
        .map(|r| endpoint_of(&r.path).expect("a known endpoint").to_string())
        .collect();
    endpoints.sort();
    endpoints.dedup();
    let expected = [
        "GET /admin/v1/instances/me",
        "GET /auth/v1/users/me",
        "GET /management/v1/orgs/me",
        "GET /management/v1/policies/login",
        "GET /v2/users/{user_id}/authentication_methods",
        "POST /admin/v1/members/_search",
        "POST /admin/v1/members/roles/_search",
        "POST /management/v1/orgs/me/members/_search",
        "POST /management/v1/orgs/members/roles/_search",
        "POST /management/v1/projectgrants/_search",
        "POST /management/v1/projects/_search",
        "POST /management/v1/projects/grants/members/roles/_search",
        "POST /management/v1/projects/members/roles/_search",
        "POST /management/v1/projects/{project_id}/grants/{grant_id}/members/_search",
        "POST /management/v1/projects/{project_id}/members/_search",
        "POST /management/v1/projects/{project_id}/roles/_search",
        "POST /management/v1/users/_search",
        "POST /management/v1/users/grants/_search",
        "POST /v2/users/keys/search",
        "POST /v2/users/pats/search",
    ];
    assert_eq!(endpoints, expected.map(String::from));
    // Every POST is a search: none adds a token or a key, the only calls that return one.
    let searches =
        |e: &&String| e.starts_with("GET ") || e.ends_with("/_search") || e.ends_with("/search");
    assert!(endpoints.iter().all(|e| searches(&e)));
}

#[test]
fn a_credential_type_without_user_is_a_configuration_error() {
    let fake = serve_demo();
    for types in ["pat", "project,machine_key", "client_secret"] {
        let run = sync(&fake, &["--resource-types", types], &[]);
        assert_eq!(run.status, 2, "{types}: {}", run.stderr);
        assert!(
            run.stderr.contains("without user: a credential names the service user"),
            "{}",
            run.stderr
        );
    }
    // Credentials alone, with their users.
    let run = sync_ok(&fake, &["--resource-types", "user,pat"], &[]);
    assert_eq!(summary(&run.stdout)["counts"]["pat"], 1);
    assert_eq!(summary(&run.stdout)["counts"]["machine_key"], 0);
    assert!(!fake.requests().iter().any(|r| r.path == "/v2/users/keys/search"), "no key list");
}
