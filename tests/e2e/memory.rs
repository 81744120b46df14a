//! The memory limit: a server that makes what a sync keeps across pages grow (the users read,
//! a project's role keys, the manager roles of a resource, the external users, the names of
//! other organizations) is stopped within `--memory-limit`, exit 1 naming what outgrew it and
//! the setting to raise; a large organization within the limit still completes.

use fake_zitadel::{Answer, Fault, FaultAction};

use crate::harness::*;

/// The least limit, so that the tests reach it quickly: 1 MiB to keep across pages.
const LIMIT: &str = "25";
const LIMIT_KIB: u64 = 25 * 1024;
/// The demo's project with the roles `viewer`, `editor` and `admin`.
const PROJECT: &str = "284906487321587717";

/// Answers every page of a list with `limit` rows never sent before (`row` makes the row of
/// each number), announcing `total` rows, up to `end`; past it, with an empty page.
fn fresh_rows(total: u64, end: u64, row: impl Fn(u64) -> String + Send + Sync + 'static) -> Fault {
    Fault::new(FaultAction::Answer(Answer::new(move |request| {
        let offset = request.offset.unwrap_or_default();
        if offset >= end {
            return r#"{"details":{"processedSequence":"1"}}"#.to_string();
        }
        let limit = request.limit.unwrap_or(1).min(end - offset);
        let rows: Vec<String> = (offset..offset + limit).map(&row).collect();
        format!(
            r#"{{"details":{{"totalResult":"{total}","processedSequence":"1"}},"result":[{}]}}"#,
            rows.join(",")
        )
    })))
}

/// A hostile server's endless list: 99 million rows announced, far more than any limit holds.
fn endless(row: impl Fn(u64) -> String + Send + Sync + 'static) -> Fault {
    fresh_rows(99_000_000, 99_000_000, row)
}

/// A sync with `--memory-limit 25` that must fail with status 1, within the limit, and name
/// `what` outgrew it; returns the number of requests to `path`.
fn stopped_within_the_limit(fault: Fault, path: &str, env: &[(&str, &str)], what: &str) -> usize {
    let fake = serve_demo();
    fake.inject(fault.on_path(path));
    let mut env = env.to_vec();
    env.extend([("BATON_MEMORY_LIMIT", LIMIT), ("BATON_MAX_RETRIES", "0")]);
    let (run, peak_kib) = sync_measured(&fake, &env);
    assert!(peak_kib > 0 && peak_kib <= LIMIT_KIB, "peak RSS {peak_kib} KiB over {LIMIT} MiB");
    assert_failure(
        &run,
        1,
        &[
            what,
            "would take the sync past its memory limit of 25 MiB",
            "raise --memory-limit (BATON_MEMORY_LIMIT) if the organization is that large",
        ],
    );
    fake.requests().iter().filter(|request| request.path.ends_with(path)).count()
}

#[test]
fn users_without_end_are_stopped_within_the_limit() {
    // Service users, each kept twice: its hash among the users read, its id for its
    // credentials.
    let row = |i: u64| format!(r#"{{"id":"{}","machine":{{}}}}"#, 400_000_000_000_000_000 + i);
    let pages = stopped_within_the_limit(
        endless(row),
        "/users/_search",
        &[],
        "POST /management/v1/users/_search at offset",
    );
    assert!(pages < 100, "{pages} pages read");
}

#[test]
fn role_keys_without_end_are_stopped_within_the_limit() {
    let path = format!("/projects/{PROJECT}/roles/_search");
    let row = |i: u64| format!(r#"{{"key":"role-{i}"}}"#);
    stopped_within_the_limit(
        endless(row),
        &path,
        &[("BATON_SYNC_RESOURCE_TYPES", "project")],
        &format!("role keys of project {PROJECT} would take"),
    );
}

#[test]
fn manager_roles_without_end_are_stopped_within_the_limit() {
    // Each member, a user of another organization, holds 20 roles no role list names: each
    // role is an entitlement of the organization, remembered until its managers end.
    let row = |i: u64| {
        let roles: Vec<String> = (0..20).map(|r| format!(r#""ROLE_{i}_{r}""#)).collect();
        format!(
            r#"{{"userId":"{}","userResourceOwner":"{GLOBEX}","roles":[{}]}}"#,
            500_000_000_000_000_000 + i,
            roles.join(",")
        )
    };
    stopped_within_the_limit(
        endless(row),
        "/orgs/me/members/_search",
        &[("BATON_SYNC_RESOURCE_TYPES", "user,org")],
        &format!("manager roles of org {ACME} would take"),
    );
}

#[test]
fn external_users_without_end_are_stopped_within_the_limit() {
    // Each grant names a new user of another organization, printed once and remembered (as
    // are the grant's id and the row's, until the project ends).
    let row = |i: u64| {
        format!(
            r#"{{"id":"{}","roleKeys":["viewer"],"state":"USER_GRANT_STATE_ACTIVE","userId":"{}","projectId":"{PROJECT}","grantedOrgId":"{GLOBEX}"}}"#,
            600_000_000_000_000_000 + i,
            700_000_000_000_000_000 + i
        )
    };
    stopped_within_the_limit(
        endless(row),
        "/users/grants/_search",
        &[("BATON_PROJECT_IDS", PROJECT)],
        "POST /management/v1/users/grants/_search at offset",
    );
}

#[test]
fn names_of_other_organizations_without_end_are_stopped_within_the_limit() {
    // Project grants to ever new organizations, each with a name of 60 KiB.
    let name = "n".repeat(60 * 1024);
    let row = move |i: u64| {
        format!(
            r#"{{"grantId":"{}","grantedOrgId":"{}","grantedOrgName":"{name}","projectId":"{PROJECT}","state":"PROJECT_GRANT_STATE_ACTIVE"}}"#,
            800_000_000_000_000_000 + i,
            900_000_000_000_000_000 + i
        )
    };
    stopped_within_the_limit(
        endless(row),
        &format!("/projects/{PROJECT}/grants/_search"),
        &[("BATON_PROJECT_IDS", PROJECT), ("BATON_SKIP_MANAGERS", "1"), ("BATON_PAGE_SIZE", "50")],
        "names of the",
    );
}

#[test]
fn a_large_organization_completes_within_a_small_limit() {
    // 120,000 users in 4 MiB of budget: their hashes take 2 MiB with room to spare.
    const USERS: u64 = 120_000;
    let fake = serve_demo();
    let row = |i: u64| format!(r#"{{"id":"{}"}}"#, 400_000_000_000_000_000 + i);
    fake.inject(fresh_rows(USERS, USERS, row).on_path("/users/_search"));
    let env = [("BATON_MEMORY_LIMIT", "28"), ("BATON_SYNC_RESOURCE_TYPES", "user,project")];
    let (run, peak_kib) = sync_measured(&fake, &env);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(peak_kib > 0 && peak_kib <= 28 * 1024, "peak RSS {peak_kib} KiB over 28 MiB");
    assert_eq!(summary(&run.stdout)["counts"]["user"], USERS);
    // The demo's grants name users the server no longer sends: none is printed.
    assert!(summary(&run.stdout)["counts"]["grant_without_principal"].as_u64() > Some(0));
}
