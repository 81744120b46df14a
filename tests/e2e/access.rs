//! The whole access picture: the organization itself, its managers, the managers of its
//! projects, its projects' grants to other organizations with their managers, and the user
//! grants those organizations make through them; the filters and permissions that concern
//! them, and their lists changing while they are read.

use fake_zitadel::{
    Dataset, FakeZitadel, Fault, FaultAction, GENERATED_PAT, GenerateSpec, Mutation, Options,
    Token, endpoint_of,
};
use serde_json::{Value, json};

use crate::harness::*;

const INITECH: &str = "284905733281462275";
const PORTAL: &str = "284906487321587717";
const TOOLS: &str = "284906512837640197";
const BILLING: &str = "284906598411882501";
/// Customer Portal granted to Initech with `viewer`, `support` and the gone `legacy-export`.
const PORTAL_GRANT: &str = "284917204655128581";
/// Internal Tools granted to Globex with `auditor`, inactive.
const TOOLS_GRANT: &str = "284917391238803461";
/// Legacy Billing granted to Initech without role keys.
const BILLING_GRANT: &str = "284917482019721221";
/// Samir's grant on Customer Portal, made by Initech through `PORTAL_GRANT`.
const SAMIRS_GRANT: &str = "284918003374563333";
const ALICE: &str = "284906014215673861";
const BOB: &str = "284906201935945733";
const CAROL: &str = "284908102417326085";
const DAVE: &str = "284909377230946309";
const ERIN: &str = "284910045582151685";
/// Globex's Henry: holds user grants of ACME and manages the Internal Tools grant.
const HENRY: &str = "284905402271985667";
/// Globex's Ivy: an org manager of ACME, and nothing else.
const IVY: &str = "284905488891224067";
/// Initech's Peter: manages the Customer Portal grant, and nothing else.
const PETER: &str = "284905802156290051";
/// Initech's Samir: holds a grant Initech made through the Customer Portal grant.
const SAMIR: &str = "284905819327361027";
/// Initech's machine user.
const TPS_BOT: &str = "284905836498432003";

/// The records of a complete stream, the summary left out.
fn stream_records(stdout: &str) -> Vec<Value> {
    let (records, _) = records_and_requests(stdout);
    records.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// The position of the record of this kind (`resource:org`, `entitlement`, `grant`) and id.
fn position(records: &[Value], kind: &str, id: &str) -> usize {
    let key = (kind.to_string(), id.to_string());
    records
        .iter()
        .position(|record| keyed(record.clone()).0 == key)
        .unwrap_or_else(|| panic!("no {kind} {id} in the stream"))
}

fn record<'r>(records: &'r [Value], kind: &str, id: &str) -> &'r Value {
    &records[position(records, kind, id)]
}

fn has(records: &[Value], kind: &str, id: &str) -> bool {
    let key = (kind.to_string(), id.to_string());
    records.iter().any(|record| keyed(record.clone()).0 == key)
}

/// The golden records (summary left out) that `keep` selects, in their order.
fn golden_where(keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    stream_records(&demo_golden()).into_iter().filter(|record| keep(record)).collect()
}

/// A membership's own fields, as `Dataset::add_org_member` takes them; `owner` is the org of
/// the membership row (the project's org for project and project grant managers).
fn member(user: &str, owner: &str, roles: &[&str]) -> String {
    json!({"userId": user, "details": details(owner), "roles": roles}).to_string()
}

/// The `details` of a row that `owner` owns.
fn details(owner: &str) -> Value {
    json!({
        "sequence": "1",
        "creationDate": "2025-06-01T00:00:00Z",
        "changeDate": "2025-06-01T00:00:00Z",
        "resourceOwner": owner,
    })
}

/// A user grant owned by `owner` on one of ACME's projects, for a user of `user_org`, made
/// through `project_grant` unless it is empty.
fn user_grant(
    id: &str,
    owner: &str,
    user: &str,
    user_org: &str,
    project: &str,
    keys: &[&str],
    project_grant: &str,
) -> String {
    let mut grant = json!({
        "id": id,
        "details": details(owner),
        "roleKeys": keys,
        "state": "USER_GRANT_STATE_ACTIVE",
        "userId": user,
        "projectId": project,
        "orgId": owner,
        "grantedOrgId": user_org,
    });
    if !project_grant.is_empty() {
        grant["projectGrantId"] = project_grant.into();
    }
    grant.to_string()
}

/// The ids of the grant records that name this principal, in their order.
fn grant_ids(records: &[Value], principal: &str) -> Vec<String> {
    records
        .iter()
        .filter(|record| record["kind"] == "grant" && record["principal_id"] == principal)
        .map(|record| record["id"].as_str().unwrap().to_string())
        .collect()
}

fn sync_ok(fake: &FakeZitadel, args: &[&str], env: &[(&str, &str)]) -> Run {
    let run = sync(fake, args, env);
    assert_eq!(run.status, 0, "{args:?} {env:?}: {}", run.stderr);
    run
}

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
        })
    );
    let last_user =
        records.iter().rposition(|r| r["resource_type"] == "user" && r["external"] == false);
    assert_eq!(last_user, Some(org - 1), "right after the organization's own users");
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
    assert_eq!(summary(&run.stdout)["counts"]["external_user"], 4);
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
    let mut expected = golden_where(|_| true);
    for record in expected.iter_mut().filter(|r| r["id"] == IVY || r["id"] == PETER) {
        assert!(record.as_object_mut().unwrap().remove("org_id").is_some());
    }
    let expected: Vec<String> = expected.iter().map(Value::to_string).collect();
    assert_same_records(&run.stdout, expected, "golden but Ivy's and Peter's organization");
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

#[test]
fn a_project_role_key_equal_to_a_manager_slug_exits_1() {
    // Role keys are free text: this one would give two entitlements one id.
    let mut dataset = demo();
    let role = format!(
        r#"{{"key":"manager:PROJECT_OWNER","details":{{"resourceOwner":"{ACME}"}},"displayName":"Manager"}}"#
    );
    dataset.add_role(ACME, PORTAL, &role).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync(&fake, &[], &[]);
    assert_failure(
        &run,
        1,
        &[&format!("project {PORTAL}"), "\"manager:PROJECT_OWNER\"", "--skip-managers"],
    );
    // Without managers, there is no such slug: the role is one as any other.
    let run = sync_ok(&fake, &["--skip-managers"], &[]);
    let records = stream_records(&run.stdout);
    let role = record(&records, "entitlement", &format!("project:{PORTAL}:manager:PROJECT_OWNER"));
    assert_eq!(
        (&role["purpose"], &role["display_name"]),
        (&json!("ASSIGNMENT"), &json!("Manager"))
    );
}

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
    let expected =
        golden_where(|r| r["resource_type"] != "org" && r["id"] != "org" && r["id"] != IVY);
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

/// Whether a golden record is a manager role or a grant of one.
fn of_managers(record: &Value) -> bool {
    let slug = record["slug"].as_str().unwrap_or_default();
    record["purpose"] == "PERMISSION"
        || record["kind"] == "grant"
            && (record["resource_type"] != "project" || slug.starts_with("manager:"))
}

#[test]
fn skip_managers_prints_no_manager_at_any_level() {
    let fake = serve_demo();
    for (args, env) in
        [(&["--skip-managers"][..], &[][..]), (&[][..], &[("BATON_SKIP_MANAGERS", "1")][..])]
    {
        let run = sync_ok(&fake, args, env);
        // Ivy and Peter are named only as managers.
        let expected = golden_where(|r| !of_managers(r) && r["id"] != IVY && r["id"] != PETER);
        assert_eq!(stream_records(&run.stdout), expected);
        let counts = &summary(&run.stdout)["counts"];
        assert_eq!(counts["manager_grant"], 0);
        assert_eq!(counts["org_grant"], 2, "grants to organizations are no managers");
        assert_eq!(summary(&run.stdout)["filters"], json!({"skip_managers": true}));
    }
    assert!(
        !fake.requests().iter().any(|r| r.path.contains("/members/")),
        "no member list is read"
    );
}

#[test]
fn skip_managers_with_users_and_projects_needs_only_a_minimal_role() {
    let mut dataset = demo();
    let permissions =
        ["org.read", "user.read", "project.read", "project.role.read", "user.grant.read"];
    dataset.add_token(Token {
        token: "demo-pat-acme-minimal".into(),
        user_org: ACME.into(),
        instance_level: false,
        permissions: permissions.map(String::from).to_vec(),
    });
    let fake = serve(dataset, Options::default());
    let env = [("BATON_PAT", "demo-pat-acme-minimal")];
    let run = sync_ok(&fake, &["--skip-managers", "--resource-types", "user,project"], &env);
    let expected = golden_where(|r| {
        let of_types = match r["kind"].as_str() {
            Some("resource_type") => r["id"] == "user" || r["id"] == "project",
            _ => r["resource_type"] == "user" || r["resource_type"] == "project",
        };
        of_types
            && !of_managers(r)
            && r["principal_type"] != "org"
            && r["id"] != IVY
            && r["id"] != PETER
    });
    assert_eq!(stream_records(&run.stdout), expected);
    // Without the flags, the first list it may not read ends the sync.
    let run = sync(&fake, &["--resource-types", "user,project"], &env);
    assert_failure(&run, 4, &["project.member.read"]);
}

#[test]
fn each_missing_access_permission_exits_4_and_names_it() {
    let fake = serve_demo();
    let cases = [
        (
            "demo-pat-acme-no-members",
            "POST /management/v1/orgs/members/roles/_search",
            "org.member.read",
            &["--skip-managers"][..],
        ),
        (
            "demo-pat-acme-no-project-members",
            "POST /management/v1/projects/members/roles/_search",
            "project.member.read",
            &["--skip-managers"][..],
        ),
        (
            "demo-pat-acme-no-project-grants",
            "POST /management/v1/projects/284906487321587717/grants/_search at offset 0",
            "project.grant.read",
            &["--resource-types", "user,project,org"][..],
        ),
        (
            "demo-pat-acme-no-grant-members",
            "POST /management/v1/projects/grants/members/roles/_search",
            "project.grant.member.read",
            &["--skip-managers"][..],
        ),
    ];
    for (token, endpoint, permission, without) in cases {
        let run = sync(&fake, &[], &[("BATON_PAT", token)]);
        assert_failure(&run, 4, &[endpoint, permission, "AUTH-5mWD2"]);
        // The sync that leaves out what needs the permission succeeds.
        let run = sync(&fake, without, &[("BATON_PAT", token)]);
        assert_eq!(run.status, 0, "{token} {without:?}: {}", run.stderr);
    }
}

/// The demo with more rows in the lists of this issue, so that they span pages of one and
/// two: four more organizations, each granted Customer Portal and managing its grant with
/// a user of its own, and more managers of the organization and of Customer Portal.
fn larger_demo() -> Dataset {
    let mut dataset = demo();
    for n in 1..=4 {
        let org = format!("3000000000000001{n:02}");
        let domain = format!("partner{n}.example.com");
        let org_json = json!({
            "id": org, "details": details(&org), "state": "ORG_STATE_ACTIVE",
            "name": format!("Partner {n}"), "primaryDomain": domain,
        });
        dataset.add_org(&org_json.to_string()).unwrap();
        let user = format!("3000000000000002{n:02}");
        let login = format!("admin@{domain}");
        let user_json = json!({
            "id": user, "details": details(&org), "state": "USER_STATE_ACTIVE",
            "userName": "admin", "loginNames": [login], "preferredLoginName": login,
            "machine": {"name": format!("Partner {n} Admin")},
        });
        dataset.add_user(&org, &user_json.to_string()).unwrap();
        let manager: Value =
            serde_json::from_str(&member(&user, ACME, &["PROJECT_GRANT_OWNER"])).unwrap();
        let grant = json!({
            "grantId": format!("3000000000000003{n:02}"), "grantedOrgId": org,
            "grantedRoleKeys": ["viewer", "support"], "state": "PROJECT_GRANT_STATE_ACTIVE",
            "details": details(ACME), "members": [manager],
        });
        dataset.add_project_grant(ACME, PORTAL, &grant.to_string()).unwrap();
    }
    for (user, roles) in [
        (BOB, ["ORG_OWNER_VIEWER"]),
        (CAROL, ["ORG_PROJECT_CREATOR"]),
        (TPS_BOT, ["ORG_OWNER_VIEWER"]),
        (HENRY, ["ORG_USER_MANAGER"]),
    ] {
        dataset.add_org_member(ACME, &member(user, ACME, &roles)).unwrap();
    }
    for (user, roles) in [
        (ALICE, ["PROJECT_OWNER"]),
        (IVY, ["PROJECT_OWNER_VIEWER"]),
        (DAVE, ["PROJECT_OWNER_VIEWER"]),
    ] {
        dataset.add_project_member(ACME, PORTAL, &member(user, ACME, &roles)).unwrap();
    }
    dataset
}

/// Syncs the larger demo with `--page-size page_size` twice: once as it is, and once with
/// `change` made just before the page at `offset` of the list at `path` is read, and returns
/// both runs.
fn changed_between_pages(
    page_size: &str,
    path: &str,
    offset: u64,
    change: impl Fn(&mut Dataset) + Send + Sync + 'static,
) -> (Run, Run) {
    let fake = serve(larger_demo(), Options::default());
    let args = ["--page-size", page_size];
    let baseline = sync_ok(&fake, &args, &[]);
    // Request numbers go on across runs: the page's request in the next run is its
    // position in this one plus the requests made so far.
    let position =
        fake.requests()
            .iter()
            .position(|r| r.path == path && r.offset == Some(offset))
            .unwrap_or_else(|| panic!("{path} has a page at offset {offset}")) as u64;
    let target = fake.request_count() as u64 + position + 1;
    fake.inject(Fault::new(FaultAction::Mutate(Mutation::new(change))).on_request(target));
    let run = sync(&fake, &args, &[]);
    (baseline, run)
}

#[test]
fn a_manager_removed_between_pages_costs_no_other_manager() {
    // Erin, the first org manager, is removed after her page was read: every later row
    // moves one place back, so without reading the list again the next would be lost. Her
    // grants were printed; every other record is printed once, perhaps later.
    for (page_size, offset) in [("1", 1), ("2", 2)] {
        let (baseline, run) = changed_between_pages(
            page_size,
            "/management/v1/orgs/me/members/_search",
            offset,
            |d| {
                assert!(d.remove_org_member(ACME, ERIN));
            },
        );
        assert_eq!(run.status, 0, "page size {page_size}: {}", run.stderr);
        let expected = records_and_requests(&baseline.stdout).0;
        let what = format!("page size {page_size}");
        assert_same_records(&run.stdout, expected.lines().map(String::from), &what);
        assert!(
            run.stderr.contains("orgs/me/members/_search: the list changed while it was read"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_project_grant_removed_between_pages_costs_no_other_project_grant() {
    // Partner 1's grant, the second of Customer Portal's five, is removed after its page was
    // read, and the rows after it move one place back.
    let path = format!("/management/v1/projects/{PORTAL}/grants/_search");
    for page_size in ["1", "2"] {
        let (baseline, run) = changed_between_pages(page_size, &path, 2, |d| {
            assert!(d.remove_project_grant(ACME, "300000000000000301"));
        });
        assert_eq!(run.status, 0, "page size {page_size}: {}", run.stderr);
        let expected = records_and_requests(&baseline.stdout).0;
        let what = format!("page size {page_size}");
        assert_same_records(&run.stdout, expected.lines().map(String::from), &what);
        assert!(
            run.stderr.contains(&format!("{path}: the list changed while it was read")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn busy_and_shuffled_instances_give_the_same_access_picture() {
    let quiet = serve(larger_demo(), Options::default());
    let expected = sync_ok(&quiet, &["--page-size", "2"], &[]);
    let (expected, _) = records_and_requests(&expected.stdout);
    // The sequence moves on every request while the data holds still: each list of several
    // pages is read once more to confirm it, and nothing changes.
    for page_size in ["1", "2"] {
        let busy = serve(larger_demo(), Options { busy_instance: true, ..Options::default() });
        let run = sync_ok(&busy, &["--page-size", page_size], &[]);
        assert!(records_and_requests(&run.stdout).0 == expected, "busy, page size {page_size}");
        assert!(
            run.stderr.contains("/members/_search: ZITADEL's sequence moved"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("the list changed"), "{}", run.stderr);
    }
    // Unordered lists served in a new order on every request: every row exactly once, or
    // the sync says the organization would not hold still.
    let mut exact = 0;
    let mut reread = false;
    for seed in 1..=8 {
        let shuffled =
            serve(larger_demo(), Options { shuffle_seed: Some(seed), ..Options::default() });
        let run = sync(&shuffled, &["--page-size", "3"], &[]);
        if run.status == 0 {
            let what = format!("seed {seed}");
            assert_same_records(&run.stdout, expected.lines().map(String::from), &what);
            exact += 1;
        } else {
            assert_failure(&run, 5, &["organization changed during sync"]);
        }
        // A page at a later offset held rows already read, in a list of this issue.
        let rereads = run.stderr.lines().filter(|line| line.contains("reading it again"));
        reread |= rereads.into_iter().any(|line| {
            line.contains("/members/_search") || line.contains(&format!("{PORTAL}/grants/_search"))
        });
    }
    assert!(exact >= 6, "only {exact} of 8 shuffled syncs completed");
    assert!(reread, "the shuffles reordered a list of managers or project grants across pages");
}

#[test]
fn a_generated_organization_is_synced_exactly_in_the_minimum_of_requests() {
    // Enough project grants for every kind: inactive, without keys, with a key the project
    // lacks, with and without managers and user grants made through them.
    let small = GenerateSpec::LARGE.divided(100);
    let spec = GenerateSpec { project_grants: 12, granted_orgs: 3, delegated_grants: 400, ..small };
    let (dataset, truth) = Dataset::generate(spec);
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[("BATON_PAT", GENERATED_PAT)]);
    let counts = &summary(&run.stdout)["counts"];
    for (name, count) in truth.access.counts.named() {
        assert_eq!(counts[name], count, "{name}");
    }
    assert_eq!(counts["grant_without_principal"], 0);
    assert_eq!(run.stdout.lines().count() as u64, truth.access.records);
    let mut requests = std::collections::BTreeMap::new();
    for request in fake.requests() {
        *requests.entry(endpoint_of(&request.path).expect("a known endpoint")).or_default() += 1;
    }
    assert_eq!(requests, truth.access.requests, "requests per endpoint");
    assert_eq!(summary(&run.stdout)["requests"], truth.access.min_requests);
}
