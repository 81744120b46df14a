//! The instance: its managers hold their roles in every organization, so a token that can
//! read them syncs them after the organization's own managers, and one that cannot syncs
//! the rest and says in the summary what it left out.

use super::*;

/// The demo with a token of an Org Owner Viewer of ACME and no instance role.
fn with_org_token() -> FakeZitadel {
    let mut dataset = demo();
    dataset.add_token(Token::org_viewer("demo-pat-acme-org-only", ACME));
    serve(dataset, Options::default())
}

const ORG_TOKEN: [(&str, &str); 1] = [("BATON_PAT", "demo-pat-acme-org-only")];

const IAM_ROLES: [&str; 7] = [
    "IAM_OWNER",
    "IAM_OWNER_VIEWER",
    "IAM_ORG_MANAGER",
    "IAM_USER_MANAGER",
    "IAM_ADMIN_IMPERSONATOR",
    "IAM_END_USER_IMPERSONATOR",
    "IAM_LOGIN_CLIENT",
];

#[test]
fn instance_managers_follow_the_organizations_and_precede_the_projects() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    assert_eq!(
        records[4],
        json!({"kind": "resource_type", "id": "instance", "display_name": "Instance",
               "traits": ["TRAIT_GROUP"]})
    );
    let instance = position(&records, "resource:instance", INSTANCE);
    assert_eq!(
        records[instance],
        json!({"kind": "resource", "resource_type": "instance", "id": INSTANCE,
               "display_name": "acme-corp", "status": "ENABLED", "status_details": "STATE_RUNNING",
               "created_at": "2024-11-04T15:00:00.000001Z"})
    );
    let last_org_grant =
        records.iter().rposition(|r| r["kind"] == "grant" && r["resource_type"] == "org").unwrap();
    assert_eq!(instance, last_org_grant + 1, "right after the organization's managers");
    assert!(instance < position(&records, "resource:project", PORTAL));
    // Every role the role list names, in its order, then each manager's grants in user id
    // order, Victor of Globex printed just before his.
    for (i, role) in IAM_ROLES.iter().enumerate() {
        let id = format!("instance:{INSTANCE}:{role}");
        assert_eq!(position(&records, "entitlement", &id), instance + 1 + i);
        assert_eq!(record(&records, "entitlement", &id)["purpose"], "PERMISSION");
    }
    assert_eq!(
        record(&records, "entitlement", &format!("instance:{INSTANCE}:IAM_OWNER"))["display_name"],
        "Iam Owner"
    );
    let victor = position(&records, "resource:user", VICTOR);
    assert_eq!(victor, instance + 1 + IAM_ROLES.len());
    assert_eq!(records[victor]["org_id"], GLOBEX);
    assert_eq!(records[victor]["external"], true);
    let grants: Vec<&Value> = records[victor + 1..victor + 4].iter().collect();
    let ids: Vec<&str> = grants.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            format!("instance:{INSTANCE}:IAM_OWNER:user:{VICTOR}"),
            format!("instance:{INSTANCE}:IAM_ORG_MANAGER:user:{CAROL}"),
            format!("instance:{INSTANCE}:IAM_OWNER_VIEWER:user:284913718839001605"),
        ]
    );
    assert_eq!(
        *grants[1],
        json!({"kind": "grant", "id": ids[1], "entitlement_id": format!("instance:{INSTANCE}:IAM_ORG_MANAGER"),
               "resource_type": "instance", "resource_id": INSTANCE, "slug": "IAM_ORG_MANAGER",
               "principal_type": "user", "principal_id": CAROL,
               "created_at": "2024-12-01T10:00:00Z", "updated_at": "2025-04-10T12:30:00Z"})
    );
    let summary = summary(&run.stdout);
    assert_eq!(summary["counts"]["instance"], 1);
    assert!(summary.get("omitted").is_none(), "{summary}");
    // The member list is asked sorted by user id: its default order is none.
    let members: Vec<_> =
        fake.requests().into_iter().filter(|r| r.path == "/admin/v1/members/_search").collect();
    assert_eq!(members.len(), 1);
    assert!(members[0].body.contains(r#""sortingColumn":"MEMBER_FIELD_NAME_USER_ID""#));
}

#[test]
fn an_organization_token_leaves_the_instance_out_and_says_so() {
    let fake = with_org_token();
    let run = sync_ok(&fake, &["--log-format", "console"], &ORG_TOKEN);
    let is_instance_type = |r: &Value| r["kind"] == "resource_type" && r["id"] == "instance";
    let expected = golden_where(|r| !of_instance(r) || is_instance_type(r));
    assert_eq!(stream_records(&run.stdout), expected);
    let summary = summary(&run.stdout);
    assert_eq!(
        summary["omitted"],
        json!({"instance": "the token lacks iam.member.read (IAM_OWNER_VIEWER)"})
    );
    assert_eq!(summary["counts"]["instance"], 0);
    let said: Vec<&str> =
        run.stderr.lines().filter(|line| line.contains("instance managers not synced")).collect();
    assert_eq!(said.len(), 1, "{}", run.stderr);
    assert!(!said[0].contains("warning"), "said at info level: {}", said[0]);
    // One request to learn it, none after.
    let admin = fake.requests().into_iter().filter(|r| r.path.starts_with("/admin/")).count();
    assert_eq!(admin, 1);
    // The login policy and the methods of five managers, Carol's before her first project
    // grant now.
    assert_eq!(summary["requests"], 24 + 1 + 5);
}

#[test]
fn an_instance_named_in_resource_types_that_the_token_cannot_read_exits_4() {
    let fake = with_org_token();
    let run = sync(&fake, &["--resource-types", "user,instance"], &ORG_TOKEN);
    assert_failure(
        &run,
        4,
        &["POST /admin/v1/members/roles/_search", "iam.member.read", "IAM_OWNER_VIEWER"],
    );
}

#[test]
fn the_instance_alone_names_its_managers_by_id() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &["--resource-types", "instance"], &[]);
    let records = stream_records(&run.stdout);
    let expected: Vec<Value> =
        golden_where(|r| of_instance(r) && r["id"] != VICTOR).into_iter().collect();
    assert_eq!(records, expected);
    assert_eq!(summary(&run.stdout)["filters"], json!({"resource_types": ["instance"]}));

    // Without grants: the instance and its roles, and no member list.
    fake.clear_requests();
    let run = sync_ok(&fake, &["--resource-types", "instance", "--skip-grants"], &[]);
    let expected = golden_where(|r| of_instance(r) && r["kind"] != "grant" && r["id"] != VICTOR);
    assert_eq!(stream_records(&run.stdout), expected);
    assert!(!fake.requests().iter().any(|r| r.path == "/admin/v1/members/_search"));
}

#[test]
fn check_says_whether_the_instance_is_readable() {
    let fake = with_org_token();
    let run = sync(&fake, &["--check", "--log-format", "console"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("check: iam.member.read ok: the instance has 7 manager roles and 3 managers"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(r#"check: iam.read ok: instance "acme-corp" (284904986052325380)"#),
        "{}",
        run.stderr
    );

    let run = sync(&fake, &["--check", "--log-format", "console"], &ORG_TOKEN);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("check: iam.member.read not granted: a sync leaves out the instance"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("check passed"), "{}", run.stderr);

    let args = ["--check", "--resource-types", "user,instance", "--log-format", "console"];
    let run = sync(&fake, &args, &ORG_TOKEN);
    assert_eq!(run.status, 4, "{}", run.stderr);
    assert!(run.stderr.contains("check: iam.member.read missing"), "{}", run.stderr);
}
