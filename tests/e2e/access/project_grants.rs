//! Project grants: resources with grants to the organizations they delegate to, their
//! managers, and the user grants those organizations make through them.

use super::*;

#[test]
fn project_grants_are_resources_with_grants_to_their_organization() {
    // Legacy Billing's grant to Initech delegates a key too, so Initech is named twice.
    let dataset = demo_changed(|demo| {
        demo["orgs"][0]["projectGrants"][BILLING][0]["grantedRoleKeys"] = json!(["billing.read"]);
    });
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    let grant = position(&records, "resource:project_grant", PORTAL_GRANT);
    assert_eq!(
        records[grant],
        json!({
            "kind": "resource", "resource_type": "project_grant", "id": PORTAL_GRANT,
            "display_name": "Customer Portal for Initech", "status": "ENABLED",
            "status_details": "PROJECT_GRANT_STATE_ACTIVE", "project_id": PORTAL,
            "granted_org_id": INITECH, "granted_org_name": "Initech",
            "role_keys": ["viewer", "support", "legacy-export"],
            "created_at": "2025-03-10T15:20:44.612378Z",
        })
    );
    // The organization, once, just before the project grant that first names it.
    let initech: Vec<usize> = (0..records.len()).filter(|&i| records[i]["id"] == INITECH).collect();
    assert_eq!(initech, [grant - 1]);
    assert_eq!(
        records[grant - 1],
        json!({
            "kind": "resource", "resource_type": "org", "id": INITECH, "display_name": "Initech",
            "external": true,
        })
    );
    // One grant to the organization per delegated key the project has, after the grant.
    assert_eq!(
        records[grant + 1],
        json!({
            "kind": "grant", "id": format!("project:{PORTAL}:viewer:org:{INITECH}"),
            "entitlement_id": format!("project:{PORTAL}:viewer"), "resource_type": "project",
            "resource_id": PORTAL, "slug": "viewer", "principal_type": "org",
            "principal_id": INITECH, "project_grant_id": PORTAL_GRANT,
            "state": "PROJECT_GRANT_STATE_ACTIVE",
            // The project grant's: made, and last changed (its keys or state).
            "created_at": "2025-03-10T15:20:44.612378Z", "updated_at": "2025-04-02T08:15:00.25Z",
        })
    );
    assert_eq!(records[grant + 2]["id"], format!("project:{PORTAL}:support:org:{INITECH}"));
    assert_eq!(
        grant_ids(&records, INITECH),
        [
            format!("project:{PORTAL}:viewer:org:{INITECH}"),
            format!("project:{PORTAL}:support:org:{INITECH}"),
            format!("project:{BILLING}:billing.read:org:{INITECH}"),
        ],
        "none for legacy-export, which Customer Portal no longer has"
    );
    let counts = &summary(&run.stdout)["counts"];
    assert_eq!(
        (counts["project_grant"].as_u64(), counts["external_org"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        (counts["org_grant"].as_u64(), counts["unknown_role_key"].as_u64()),
        (Some(3), Some(2))
    );
    assert!(
        run.stderr.contains(&format!(
            "warning: project grant {PORTAL_GRANT} delegates role \"legacy-export\" to \
             organization {INITECH}, which project {PORTAL} does not have"
        )),
        "{}",
        run.stderr
    );

    // A project grant without keys is a resource that delegates nothing.
    let fake = serve_demo();
    let records = stream_records(&sync_ok(&fake, &[], &[]).stdout);
    let billing = record(&records, "resource:project_grant", BILLING_GRANT);
    assert_eq!(
        (&billing["role_keys"], &billing["display_name"]),
        (&json!([]), &json!("Legacy Billing for Initech"))
    );
    assert!(!records.iter().any(|r| r["project_grant_id"] == BILLING_GRANT));
}

#[test]
fn an_inactive_project_grant_delegates_nothing_unless_included() {
    // Globex made a grant through the inactive grant while it was active; ZITADEL leaves
    // such grants active when it deactivates the project grant.
    let mut dataset = demo();
    let ivys =
        user_grant("300000000000000010", GLOBEX, IVY, GLOBEX, TOOLS, &["auditor"], TOOLS_GRANT);
    dataset.add_user_grant(GLOBEX, &ivys).unwrap();
    let fake = serve(dataset, Options::default());
    let ivys_grant = format!("project:{TOOLS}:auditor:user:{IVY}:project_grant:{TOOLS_GRANT}");
    let globex_grant = format!("project:{TOOLS}:auditor:org:{GLOBEX}");

    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    let grant = record(&records, "resource:project_grant", TOOLS_GRANT);
    assert_eq!(
        (&grant["status"], &grant["status_details"]),
        (&json!("DISABLED"), &json!("PROJECT_GRANT_STATE_INACTIVE"))
    );
    assert!(
        has(
            &records,
            "grant",
            &format!("project_grant:{TOOLS_GRANT}:PROJECT_GRANT_OWNER_VIEWER:user:{HENRY}")
        ),
        "its managers"
    );
    assert!(!has(&records, "grant", &globex_grant));
    assert!(!has(&records, "resource:org", GLOBEX), "Globex is named by no grant");
    assert_eq!(record(&records, "grant", &ivys_grant)["state"], "USER_GRANT_STATE_ACTIVE");
    assert_eq!(summary(&run.stdout)["counts"]["inactive_project_grant"], 1);

    let run = sync_ok(&fake, &["--include-inactive-grants"], &[]);
    let records = stream_records(&run.stdout);
    let delegation = position(&records, "grant", &globex_grant);
    assert_eq!(records[delegation]["state"], "PROJECT_GRANT_STATE_INACTIVE");
    assert_eq!(records[delegation]["principal_type"], "org");
    assert!(position(&records, "resource:org", GLOBEX) < delegation);
    assert_eq!(summary(&run.stdout)["counts"]["inactive_project_grant"], 0);
}

#[test]
fn project_grant_managers_are_entitlements_and_grants_of_the_project_grant() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    let owner = format!("project_grant:{PORTAL_GRANT}:PROJECT_GRANT_OWNER");
    let entitlement = position(&records, "entitlement", &owner);
    assert_eq!(
        records[entitlement],
        json!({
            "kind": "entitlement", "id": owner, "resource_type": "project_grant",
            "resource_id": PORTAL_GRANT, "slug": "PROJECT_GRANT_OWNER",
            "display_name": "Project Grant Owner", "purpose": "PERMISSION",
            "grantable_to": ["user"],
        })
    );
    assert_eq!(records[entitlement + 1]["id"], format!("{owner}_VIEWER"));
    // Peter, of Initech, from his member row, then his grant.
    assert_eq!(records[entitlement + 2]["id"], PETER);
    assert_eq!(records[entitlement + 2]["org_id"], INITECH);
    assert_eq!(
        records[entitlement + 3],
        json!({
            "kind": "grant", "id": format!("{owner}:user:{PETER}"), "entitlement_id": owner,
            "resource_type": "project_grant", "resource_id": PORTAL_GRANT,
            "slug": "PROJECT_GRANT_OWNER", "principal_type": "user", "principal_id": PETER,
            "created_at": "2025-03-10T15:25:13.5Z", "updated_at": "2025-03-10T15:25:13.5Z",
        })
    );
    // Every project grant has the manager roles, and the role list is read once.
    for grant in [PORTAL_GRANT, TOOLS_GRANT, BILLING_GRANT] {
        assert!(has(
            &records,
            "entitlement",
            &format!("project_grant:{grant}:PROJECT_GRANT_OWNER_VIEWER")
        ));
    }
    let roles_read = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/projects/grants/members/roles/_search"))
        .count();
    assert_eq!(roles_read, 1);
}

#[test]
fn grants_made_through_a_project_grant_are_read_with_with_granted_query() {
    // The fake, as ZITADEL, returns them only to a request with `withGrantedQuery`.
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    let user_grant_requests: Vec<_> =
        fake.requests().into_iter().filter(|r| r.path.ends_with("/users/grants/_search")).collect();
    assert_eq!(user_grant_requests.len(), 3);
    for request in user_grant_requests {
        assert!(
            request.body.contains(r#"{"withGrantedQuery":{"withGranted":true}}"#),
            "{}",
            request.body
        );
    }
    let viewer = format!("project:{PORTAL}:viewer:user:{SAMIR}:project_grant:{PORTAL_GRANT}");
    assert_eq!(
        *record(&records, "grant", &viewer),
        json!({
            "kind": "grant", "id": viewer, "entitlement_id": format!("project:{PORTAL}:viewer"),
            "resource_type": "project", "resource_id": PORTAL, "slug": "viewer",
            "principal_type": "user", "principal_id": SAMIR, "user_grant_id": SAMIRS_GRANT,
            "state": "USER_GRANT_STATE_ACTIVE", "project_grant_id": PORTAL_GRANT,
            "granted_by_org_id": INITECH,
            "created_at": "2025-03-11T10:02:33.404185Z", "updated_at": "2025-04-02T08:16:21.06Z",
        })
    );
    assert_eq!(
        grant_ids(&records, SAMIR),
        [viewer.clone(), viewer.replace(":viewer:", ":support:")]
    );
    // Samir, of Initech, once, just before.
    let samir = position(&records, "resource:user", SAMIR);
    assert_eq!(
        (records[samir]["external"].as_bool(), &records[samir]["org_id"]),
        (Some(true), &json!(INITECH))
    );
    assert_eq!(samir + 1, position(&records, "grant", &viewer));
    assert_eq!(summary(&run.stdout)["counts"]["delegated_grant"], 2);
}

#[test]
fn a_role_held_from_the_organization_and_through_a_project_grant_is_two_grants() {
    let mut dataset = demo();
    // ACME grants Samir the viewer role he already holds through Initech's project grant,
    // and Initech grants ACME's Alice the support role through it.
    let direct = user_grant("300000000000000011", ACME, SAMIR, INITECH, PORTAL, &["viewer"], "");
    dataset.add_user_grant(ACME, &direct).unwrap();
    let alices =
        user_grant("300000000000000012", INITECH, ALICE, ACME, PORTAL, &["support"], PORTAL_GRANT);
    dataset.add_user_grant(INITECH, &alices).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    let samirs: Vec<String> =
        grant_ids(&records, SAMIR).into_iter().filter(|id| id.contains(":viewer:")).collect();
    assert_eq!(
        samirs,
        [
            format!("project:{PORTAL}:viewer:user:{SAMIR}"),
            format!("project:{PORTAL}:viewer:user:{SAMIR}:project_grant:{PORTAL_GRANT}"),
        ]
    );
    assert!(record(&records, "grant", &samirs[0]).get("project_grant_id").is_none());
    assert_eq!(records.iter().filter(|r| r["id"] == SAMIR).count(), 1, "one record of Samir");
    // Alice is the organization's own user, whoever granted her the role.
    let alices = record(
        &records,
        "grant",
        &format!("project:{PORTAL}:support:user:{ALICE}:project_grant:{PORTAL_GRANT}"),
    );
    assert_eq!(alices["granted_by_org_id"], INITECH);
    assert_eq!(records.iter().filter(|r| r["id"] == ALICE).count(), 1);
    assert_eq!(summary(&run.stdout)["counts"]["delegated_grant"], 3);
}

#[test]
fn resource_types_without_org_print_no_organization() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &["--resource-types", "user,project,project_grant"], &[]);
    // Not even the external one: grants to Initech name it by id, and Ivy, named only as
    // an org manager, is not printed.
    let expected = golden_where(|r| {
        r["resource_type"] != "org"
            && r["id"] != "org"
            && r["id"] != IVY
            && !of_instance(r)
            && !of_credentials(r)
    });
    assert_eq!(stream_records(&run.stdout), expected);
    assert!(run.stdout.contains(&format!(r#""principal_type":"org","principal_id":"{INITECH}""#)));
    let org_managers = fake.requests().into_iter().filter(|r| r.path.contains("/orgs/"));
    assert_eq!(org_managers.map(|r| r.path).collect::<Vec<_>>(), ["/management/v1/orgs/me"]);

    // The organization alone: its record, manager roles and managers, named by id.
    let run = sync_ok(&fake, &["--resource-types", "org"], &[]);
    let expected = golden_where(|r| {
        r["kind"] == "resource_type" && r["id"] == "org"
            || r["resource_type"] == "org" && r["external"] != true
    });
    assert_eq!(stream_records(&run.stdout), expected);
    assert!(run.stdout.contains(&format!(r#""principal_id":"{IVY}""#)));
}

#[test]
fn resource_types_without_project_grant_keep_grants_made_through_them() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &["--resource-types", "project,user,org"], &[]);
    // No project grant, no grant to an organization and so no external one, no project grant
    // manager (Peter is no other); Samir's grants are access to the project's roles.
    let expected = golden_where(|r| {
        r["resource_type"] != "project_grant"
            && r["id"] != "project_grant"
            && r["principal_type"] != "org"
            && !(r["resource_type"] == "org" && r["external"] == true)
            && r["id"] != PETER
            && !of_instance(r)
            && !of_credentials(r)
    });
    assert_eq!(stream_records(&run.stdout), expected);
    assert_eq!(grant_ids(&stream_records(&run.stdout), SAMIR).len(), 2);
    assert_eq!(
        summary(&run.stdout)["filters"],
        json!({"resource_types": ["user", "project", "org"]})
    );
    let project_grant_lists = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("grants/") && r.path != "/management/v1/users/grants/_search");
    assert_eq!(project_grant_lists.count(), 0, "no project grant or project grant manager is read");

    // A project grant's grants are of its project's roles: it needs the project.
    fake.clear_requests();
    let run = sync(&fake, &["--resource-types", "user,project_grant"], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("names project_grant without project"), "{}", run.stderr);
    assert_eq!(fake.request_count(), 0);
}

/// The paths of the project-grant lists a sync asked for: the organization's and each
/// project's.
fn project_grant_lists(fake: &FakeZitadel) -> (usize, Vec<String>) {
    let requests = fake.requests();
    let whole = requests.iter().filter(|r| r.path == "/management/v1/projectgrants/_search");
    let per_project = requests.iter().filter(|r| {
        r.path.starts_with("/management/v1/projects/") && r.path.ends_with("/grants/_search")
    });
    (whole.count(), per_project.map(|r| r.path.clone()).collect())
}

#[test]
fn the_organizations_project_grants_are_one_list_read_once_with_the_same_records() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    assert_eq!(records_and_requests(&run.stdout).0, records_and_requests(&demo_golden()).0);
    assert_eq!(project_grant_lists(&fake), (1, Vec::new()), "one list instead of three");
}

#[test]
fn with_project_id_each_named_project_reads_its_own_project_grants() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &["--project-id", BILLING, "--project-id", PORTAL], &[]);
    let expected = [PORTAL, BILLING].map(|p| format!("/management/v1/projects/{p}/grants/_search"));
    assert_eq!(project_grant_lists(&fake), (0, expected.to_vec()));
    // The same project grants as a whole sync prints for these two projects.
    let of_named = |stdout: &str| -> Vec<Value> {
        let records = stream_records(stdout).into_iter();
        let named = |r: &Value| r["project_id"] == PORTAL || r["project_id"] == BILLING;
        records.filter(|r| r["resource_type"] == "project_grant" && named(r)).collect()
    };
    assert_eq!(of_named(&run.stdout), of_named(&demo_golden()));
    assert!(!of_named(&run.stdout).is_empty());
}

#[test]
fn a_project_owners_token_gets_every_project_grant_from_each_projects_list() {
    // A service user that reads the organization and its users with an org role, and its
    // projects as Project Owner Viewer of each: ZITADEL holds the project permissions for
    // those project ids only, and narrows the organization's list of project grants to the
    // grants whose ids they name, none; each project's own list shows all of its grants.
    let mut dataset = demo();
    let mut permissions: Vec<String> =
        ["org.read", "org.member.read", "user.read", "user.grant.read", "policy.read"]
            .map(String::from)
            .to_vec();
    for project in [PORTAL, TOOLS, BILLING] {
        for permission in [
            "project.read",
            "project.role.read",
            "project.member.read",
            "project.grant.read",
            "project.grant.member.read",
        ] {
            permissions.push(format!("{permission}:{project}"));
        }
    }
    dataset.add_token(Token { permissions, ..Token::org_viewer("project-owner", ACME) });
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[("BATON_PAT", "project-owner")]);
    // The instance is left out: no project role reads it.
    let is_instance_type = |r: &Value| r["kind"] == "resource_type" && r["id"] == "instance";
    let expected = golden_where(|r| !of_instance(r) || is_instance_type(r));
    assert_eq!(stream_records(&run.stdout), expected);
    let (whole, per_project) = project_grant_lists(&fake);
    assert_eq!((whole, per_project.len()), (1, 3), "{per_project:?}");
}

#[test]
fn a_project_grant_without_project_id_in_the_organizations_list_is_refused() {
    let fake = serve_demo();
    let grant = json!({"grantId": BILLING_GRANT, "grantedOrgId": ACME, "details": {}});
    let page =
        json!({"details": {"totalResult": "1", "processedSequence": "7"}, "result": [grant]});
    let action = FaultAction::Status { status: 200, body: page.to_string(), headers: Vec::new() };
    fake.inject(Fault::new(action).on_path("/management/v1/projectgrants/_search"));
    let run = sync(&fake, &[], &[]);
    let needles = ["POST /management/v1/projectgrants/_search at offset 0", "has no projectId"];
    assert_failure(&run, 1, &needles);
}

#[test]
fn project_grants_past_what_may_be_held_are_read_with_each_projects_list() {
    // A hundred more grants of Customer Portal, each with 50 KB of role keys: 5 MB, more than
    // the sync holds (4 MiB, a response body's worth), so it keeps its memory bound by
    // reading each project's own list instead, and prints the same.
    let dataset = demo_changed(|demo| {
        for n in 0..100 {
            let org = json!({"id": format!("3910000000000{n:05}"), "name": format!("Partner {n}"),
                             "details": {"sequence": "1"}, "state": "ORG_STATE_ACTIVE"});
            demo["orgs"].as_array_mut().unwrap().push(json!({"org": org}));
        }
        let grants = demo["orgs"][0]["projectGrants"][PORTAL].as_array_mut().unwrap();
        for n in 0..100 {
            let keys: Vec<String> = (0..10).map(|k| format!("{k}{}", "k".repeat(5_000))).collect();
            grants.push(json!({
                "grantId": format!("3900000000000{n:05}"), "grantedOrgId": format!("3910000000000{n:05}"),
                "grantedRoleKeys": keys, "state": "PROJECT_GRANT_STATE_ACTIVE",
                "details": {"sequence": "3", "creationDate": "2025-03-10T15:20:44Z",
                            "changeDate": "2025-03-10T15:20:44Z", "resourceOwner": ACME},
            }));
        }
    });
    let fake = serve(dataset, Options::default());
    let args = ["--page-size", "50", "--skip-grants", "--skip-managers"];
    let run = sync_ok(&fake, &args, &[]);
    assert_eq!(summary(&run.stdout)["counts"]["project_grant"], 103);
    let (whole, per_project) = project_grant_lists(&fake);
    assert!(whole >= 2, "the organization's list was read until too much was held");
    assert_eq!(per_project.len(), 2 + 3, "Customer Portal's three pages and one per other");
    assert!(run.stderr.contains("its own list instead"), "{}", run.stderr);
}
