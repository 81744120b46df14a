//! Filters: resource types, projects, `--skip-grants` and inactive grants; what each leaves
//! out and what it keeps.

use serde_json::Value;

use crate::harness::*;

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
    assert!(run.stderr.contains("--resource-types (BATON_SYNC_RESOURCE_TYPES) knows the resource types user, project, org, project_grant, instance, pat, machine_key and client_secret, got \"group\""), "{}", run.stderr);
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
    // The organization's and the instance's sections stay: their records, manager roles
    // and managers.
    let wanted = |r: &Value| {
        let resource = if r["kind"] == "resource" { &r["id"] } else { &r["resource_id"] };
        is_user(r)
            || r["resource_type"] == "org"
            || r["resource_type"] == "instance"
            || r["secret"].is_object()
            || r["resource_type"] == "project" && (resource == PORTAL || resource == BILLING)
            || r["resource_type"] == "project_grant" && grants.contains(resource)
            || r["kind"] == "resource_type"
            // Every manager holds a role of the organization, the instance or the projects
            // synced.
            || r["kind"] == "user_auth"
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
            golden_where(|r| {
                // No manager grant, so no manager's authentication methods.
                r["kind"] != "grant" && r["external"] != true && r["kind"] != "user_auth"
            })
        );
        assert_eq!(summary(&run.stdout)["filters"], serde_json::json!({"skip_grants": true}));
    }
    // Project grants are resources, read as before; user grants and managers are not.
    for request in fake.requests() {
        let path = &request.path;
        assert!(!path.ends_with("/users/grants/_search"), "no user grant is even read");
        assert!(!path.ends_with("/members/_search"), "no manager is even read: {path}");
    }
    assert!(fake.requests().iter().any(|r| r.path == "/management/v1/projectgrants/_search"));
}
