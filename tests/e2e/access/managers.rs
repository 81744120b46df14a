//! The managers of the organization and of its projects: entitlements of their roles and
//! grants to their users, wherever those users belong.

use super::*;

#[test]
fn the_organization_is_a_resource_printed_after_the_users() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    assert_eq!(
        records[2],
        json!({
            "kind": "resource_type", "id": "org", "display_name": "Organization",
            "traits": ["TRAIT_GROUP"],
        })
    );
    assert_eq!(
        records[3],
        json!({
            "kind": "resource_type", "id": "project_grant", "display_name": "Project Grant",
            "traits": ["TRAIT_GROUP"],
        })
    );
    let org = position(&records, "resource:org", ACME);
    assert_eq!(
        records[org],
        json!({
            "kind": "resource", "resource_type": "org", "id": ACME,
            "display_name": "ACME Corporation", "status": "ENABLED",
            "status_details": "ORG_STATE_ACTIVE", "primary_domain": "acme.example.com",
            "created_at": "2024-11-05T09:02:47.719245Z", "external": false,
            "login_policy": {
                "force_mfa": false, "force_mfa_local_only": false,
                "allow_username_password": true, "allow_external_idp": true,
                "passwordless_type": "PASSWORDLESS_TYPE_ALLOWED",
                "second_factors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"],
                "multi_factors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"], "is_default": false,
            },
        })
    );
    let last_user =
        records.iter().rposition(|r| r["resource_type"] == "user" && r["external"] == false);
    let between = &records[last_user.unwrap() + 1..org];
    assert!(between.iter().all(of_credentials), "right after the users and their credentials");
    assert!(org < position(&records, "resource:project", PORTAL));
    assert_eq!(summary(&run.stdout)["counts"]["org"], 1);

    let fake = serve(
        demo_changed(|demo| demo["orgs"][0]["org"]["state"] = "ORG_STATE_INACTIVE".into()),
        Options::default(),
    );
    let run = sync_ok(&fake, &[], &[]);
    let org = stream_records(&run.stdout).into_iter().find(|r| r["id"] == ACME).unwrap();
    assert_eq!(
        (&org["status"], &org["status_details"]),
        (&json!("DISABLED"), &json!("ORG_STATE_INACTIVE"))
    );
}

#[test]
fn org_manager_roles_are_the_entitlements_of_the_org() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    let org = position(&records, "resource:org", ACME);
    // Every role ListOrgMemberRoles names, in its order, right after the organization.
    let roles = [
        "ORG_OWNER",
        "ORG_USER_MANAGER",
        "ORG_OWNER_VIEWER",
        "ORG_SETTINGS_MANAGER",
        "ORG_USER_PERMISSION_EDITOR",
        "ORG_PROJECT_PERMISSION_EDITOR",
        "ORG_PROJECT_CREATOR",
        "ORG_ADMIN_IMPERSONATOR",
        "ORG_END_USER_IMPERSONATOR",
        "ORG_USER_SELF_MANAGER",
    ];
    for (i, role) in roles.iter().enumerate() {
        assert_eq!(records[org + 1 + i]["id"], format!("org:{ACME}:{role}"));
    }
    assert_eq!(
        records[org + 1],
        json!({
            "kind": "entitlement", "id": format!("org:{ACME}:ORG_OWNER"),
            "resource_type": "org", "resource_id": ACME, "slug": "ORG_OWNER",
            "display_name": "Org Owner", "purpose": "PERMISSION", "grantable_to": ["user"],
        })
    );
    let editor = format!("org:{ACME}:ORG_PROJECT_PERMISSION_EDITOR");
    assert_eq!(
        record(&records, "entitlement", &editor)["display_name"],
        "Org Project Permission Editor"
    );
    // One grant per manager and role: Erin holds two.
    assert_eq!(
        grant_ids(&records, ERIN),
        [
            format!("org:{ACME}:ORG_USER_MANAGER:user:{ERIN}"),
            format!("org:{ACME}:ORG_PROJECT_PERMISSION_EDITOR:user:{ERIN}"),
            // And the user grant of Internal Tools.
            format!("project:{TOOLS}:auditor:user:{ERIN}"),
        ]
    );
    assert_eq!(
        *record(&records, "grant", &format!("org:{ACME}:ORG_OWNER:user:{ALICE}")),
        json!({
            "kind": "grant", "id": format!("org:{ACME}:ORG_OWNER:user:{ALICE}"),
            "entitlement_id": format!("org:{ACME}:ORG_OWNER"), "resource_type": "org",
            "resource_id": ACME, "slug": "ORG_OWNER", "principal_type": "user",
            "principal_id": ALICE,
            // When the membership was added, and its roles last changed.
            "created_at": "2024-11-05T09:02:47.719245Z", "updated_at": "2024-11-05T09:02:47.719245Z",
        })
    );
    let org_grants = records.iter().filter(|r| r["kind"] == "grant" && r["resource_type"] == "org");
    assert_eq!(org_grants.count(), 5, "Erin's two, Alice's, Baton Sync's and Ivy's");
    let roles_read =
        fake.requests().iter().filter(|r| r.path.ends_with("/orgs/members/roles/_search")).count();
    assert_eq!(roles_read, 1);
}

#[test]
fn a_manager_role_missing_from_the_role_list_is_printed_before_its_first_grant() {
    // A self-hosted instance may configure roles of its own, which a member may hold.
    let mut dataset = demo();
    dataset.add_org_member(ACME, &member(BOB, ACME, &["ORG_AUDITOR"])).unwrap();
    dataset.add_org_member(ACME, &member(CAROL, ACME, &["ORG_OWNER", "ORG_AUDITOR"])).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    let auditor = format!("org:{ACME}:ORG_AUDITOR");
    let entitlement = position(&records, "entitlement", &auditor);
    assert_eq!(records[entitlement]["display_name"], "Org Auditor");
    assert_eq!(records[entitlement]["purpose"], "PERMISSION");
    assert_eq!(records[entitlement + 1]["id"], format!("{auditor}:user:{BOB}"), "just before");
    assert!(has(&records, "grant", &format!("{auditor}:user:{CAROL}")), "and once for both");
    assert!(has(&records, "grant", &format!("org:{ACME}:ORG_OWNER:user:{CAROL}")));
}

#[test]
fn the_default_organization_lists_other_manager_roles() {
    // In the instance's default organization the project roles list names only the *_GLOBAL
    // roles, and the org roles list adds SELF_MANAGEMENT_GLOBAL: the roles Bob and CI Bot
    // hold on Customer Portal are not listed, so each gets its entitlement before its grant.
    let mut dataset = demo();
    dataset.default_org = Some(ACME.to_string());
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    assert!(has(&records, "entitlement", &format!("org:{ACME}:SELF_MANAGEMENT_GLOBAL")));
    let project = position(&records, "resource:project", PORTAL);
    let listed: Vec<&Value> = records[project..]
        .iter()
        .skip_while(|r| r["purpose"] != "PERMISSION")
        .take(2)
        .map(|r| &r["slug"])
        .collect();
    assert_eq!(listed, ["manager:PROJECT_OWNER_GLOBAL", "manager:PROJECT_OWNER_VIEWER_GLOBAL"]);
    for (role, user) in [("PROJECT_OWNER", BOB), ("PROJECT_OWNER_VIEWER", "284912230194381317")] {
        let id = format!("project:{PORTAL}:manager:{role}");
        let entitlement = position(&records, "entitlement", &id);
        assert_eq!(records[entitlement + 1]["id"], format!("{id}:user:{user}"));
    }
}

#[test]
fn a_manager_of_another_organization_is_an_external_user_printed_once() {
    // Ivy manages the organization, a project and a project grant: one record of hers,
    // built from the first member row, before her first grant.
    let mut dataset = demo_changed(|demo| {
        let ivy = member(IVY, ACME, &["PROJECT_GRANT_OWNER_VIEWER"]);
        let members = &mut demo["orgs"][0]["projectGrants"][PORTAL][0]["members"];
        members.as_array_mut().unwrap().push(serde_json::from_str(&ivy).unwrap());
    });
    dataset
        .add_project_member(ACME, PORTAL, &member(IVY, ACME, &["PROJECT_OWNER_VIEWER"]))
        .unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    let ivys: Vec<usize> = (0..records.len()).filter(|&i| records[i]["id"] == IVY).collect();
    assert_eq!(ivys.len(), 1, "printed once");
    assert_eq!(
        records[ivys[0]],
        json!({
            "kind": "resource", "resource_type": "user", "id": IVY, "display_name": "Ivy Ito",
            "status": "UNSPECIFIED", "org_id": GLOBEX, "external": true,
            "user": {
                "account_type": "HUMAN", "login": "ivy@globex.example.com",
                "emails": [{"address": "ivy@globex.example.com", "is_primary": true}],
                "structured_name": {"given_name": "Ivy", "family_name": "Ito"},
            },
        })
    );
    let grants = grant_ids(&records, IVY);
    assert_eq!(
        grants,
        [
            format!("org:{ACME}:ORG_USER_PERMISSION_EDITOR:user:{IVY}"),
            format!("project:{PORTAL}:manager:PROJECT_OWNER_VIEWER:user:{IVY}"),
            format!("project_grant:{PORTAL_GRANT}:PROJECT_GRANT_OWNER_VIEWER:user:{IVY}"),
        ]
    );
    assert_eq!(ivys[0] + 1, position(&records, "grant", &grants[0]), "just before her first grant");
    // Ivy, Peter, Henry, Samir and the instance's Victor.
    assert_eq!(summary(&run.stdout)["counts"]["external_user"], 5);
}

#[test]
fn a_machine_manager_is_a_service_account() {
    let mut dataset = demo();
    dataset.add_org_member(ACME, &member(TPS_BOT, ACME, &["ORG_OWNER_VIEWER"])).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    // A machine has no email or names; its display name is the machine's name.
    assert_eq!(
        *record(&records, "resource:user", TPS_BOT),
        json!({
            "kind": "resource", "resource_type": "user", "id": TPS_BOT,
            "display_name": "TPS Report Bot", "status": "UNSPECIFIED", "org_id": INITECH,
            "external": true,
            "user": {
                "account_type": "SERVICE", "login": "tps-report-bot@initech.example.com",
                "emails": [],
            },
        })
    );
    assert_eq!(
        grant_ids(&records, TPS_BOT),
        [format!("org:{ACME}:ORG_OWNER_VIEWER:user:{TPS_BOT}")]
    );
    // CI Bot, a machine of the organization, manages Customer Portal as any user would.
    let ci_bot = "284912230194381317";
    assert_eq!(record(&records, "resource:user", ci_bot)["user"]["account_type"], "SERVICE");
    assert!(has(
        &records,
        "grant",
        &format!("project:{PORTAL}:manager:PROJECT_OWNER_VIEWER:user:{ci_bot}")
    ));
}

#[test]
fn managers_from_a_server_without_user_resource_owner() {
    // Servers before zitadel#9168 do not say whose user a manager is: one not printed is
    // external, with no organization. Everything else is as on a newer server.
    let fake =
        serve(demo(), Options { omit_member_user_resource_owner: true, ..Options::default() });
    let run = sync_ok(&fake, &[], &[]);
    let mut expected = all_records(&demo_golden());
    let unowned = |r: &Value| r["id"] == IVY || r["id"] == PETER || r["id"] == VICTOR;
    for record in expected.iter_mut().filter(|r| unowned(r)) {
        assert!(record.as_object_mut().unwrap().remove("org_id").is_some());
    }
    let expected: Vec<String> = expected.iter().map(Value::to_string).collect();
    assert_same_records(
        &run.stdout,
        expected,
        "golden but Ivy's, Peter's and Victor's organization",
    );
}

#[test]
fn a_manager_of_this_organization_not_printed_is_skipped_and_counted() {
    // A user created, and made a manager, after the users were read.
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
            d.add_org_member(ACME, &member(LATE, ACME, &["ORG_OWNER"])).unwrap();
        })))
        .on_path("/orgs/me/members/_search")
        .once(),
    );
    let run = sync_ok(&fake, &[], &[]);
    assert!(!run.stdout.contains(LATE), "no record names the user");
    assert_eq!(summary(&run.stdout)["counts"]["grant_without_principal"], 1);
    assert!(
        run.stderr.contains(&format!(
            "org {ACME} has manager {LATE}, who is not among the users printed but belongs to \
             this organization"
        )),
        "{}",
        run.stderr
    );
    assert_same_records(
        &run.stdout,
        records_and_requests(&demo_golden()).0.lines().map(String::from),
        "the demo's records",
    );
}

#[test]
fn project_managers_are_entitlements_and_grants_of_the_project() {
    let fake = serve_demo();
    let run = sync_ok(&fake, &[], &[]);
    let records = stream_records(&run.stdout);
    // After the project's roles, every role ListProjectMemberRoles names, as `manager:ROLE`.
    let roles = position(&records, "entitlement", &format!("project:{PORTAL}:support"));
    let slugs: Vec<&Value> = records[roles + 1..roles + 5].iter().map(|r| &r["slug"]).collect();
    assert_eq!(
        slugs,
        [
            "manager:PROJECT_OWNER",
            "manager:PROJECT_OWNER_VIEWER",
            "manager:PROJECT_OWNER_GLOBAL",
            "manager:PROJECT_OWNER_VIEWER_GLOBAL"
        ]
    );
    assert_eq!(
        records[roles + 1],
        json!({
            "kind": "entitlement", "id": format!("project:{PORTAL}:manager:PROJECT_OWNER"),
            "resource_type": "project", "resource_id": PORTAL, "slug": "manager:PROJECT_OWNER",
            "display_name": "Project Owner", "purpose": "PERMISSION", "grantable_to": ["user"],
        })
    );
    assert_eq!(
        records[roles + 5],
        json!({
            "kind": "grant", "id": format!("project:{PORTAL}:manager:PROJECT_OWNER:user:{BOB}"),
            "entitlement_id": format!("project:{PORTAL}:manager:PROJECT_OWNER"),
            "resource_type": "project", "resource_id": PORTAL, "slug": "manager:PROJECT_OWNER",
            "principal_type": "user", "principal_id": BOB,
            "created_at": "2024-11-05T09:31:02.330918Z", "updated_at": "2024-11-05T09:31:02.330918Z",
        })
    );
    // Dave holds two roles on Legacy Billing: two grants.
    let daves: Vec<String> =
        grant_ids(&records, DAVE).into_iter().filter(|id| id.contains(":manager:")).collect();
    assert_eq!(
        daves,
        [
            format!("project:{BILLING}:manager:PROJECT_OWNER:user:{DAVE}"),
            format!("project:{BILLING}:manager:PROJECT_OWNER_VIEWER:user:{DAVE}"),
        ]
    );
    // One role list for the three projects.
    let roles_read = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/projects/members/roles/_search"))
        .count();
    assert_eq!(roles_read, 1);
}
