//! No `id` repeats within a kind, whatever a server names its rows: ids escape the `:` and
//! `%` of their components, a grant and a project grant are printed once, and a project
//! role key equal to a manager role's slug is a role as any other; what JSON escapes in
//! a grant's ids, keys and state is written escaped, its value kept. With them the guards of
//! the member, project-grant and user-grant rows, each held by a hostile page that the fake
//! serves as an injected answer (its dataset refuses such rows, as ZITADEL does).
//!
//! Every successful run passes `check_stream`, which fails on any id printed twice within
//! a kind and on any external user or organization that no grant names.

use fake_zitadel::{Dataset, FakeZitadel, Fault, FaultAction, Mutation, Options, RequestLog};
use serde_json::{Value, json};

use crate::harness::*;

const INITECH: &str = "284905733281462275";
const PORTAL: &str = "284906487321587717";
const BILLING: &str = "284906598411882501";
/// Customer Portal granted to Initech.
const PORTAL_GRANT: &str = "284917204655128581";
const BOB: &str = "284906201935945733";
/// Globex's Ivy: an org manager of ACME, and nothing else.
const IVY: &str = "284905488891224067";

/// The `details` of a row that ACME owns.
fn details() -> Value {
    json!({"sequence": "1", "creationDate": "2025-06-01T00:00:00Z", "resourceOwner": ACME})
}

/// A user of ACME, a machine.
fn user(id: &str, name: &str) -> String {
    json!({
        "id": id, "details": details(), "state": "USER_STATE_ACTIVE", "userName": name,
        "loginNames": [name], "preferredLoginName": name, "machine": {"name": name},
    })
    .to_string()
}

/// One page holding every row of a list.
fn page(rows: &[Value]) -> String {
    let total = rows.len().to_string();
    json!({"details": {"totalResult": total, "processedSequence": "7"}, "result": rows}).to_string()
}

/// Makes the fake answer every request whose path contains `path` with `body`, as a server
/// that sends what ZITADEL would refuse to store.
fn serve_page(fake: &FakeZitadel, path: &str, body: String) {
    if path.starts_with("/management/v1/projects/") && path.ends_with("/grants/_search") {
        // A project's own list of project grants is read when the organization's is empty.
        let empty = FaultAction::Status { status: 200, body: page(&[]), headers: Vec::new() };
        fake.inject(Fault::new(empty).on_path("/management/v1/projectgrants/_search"));
    }
    let action = FaultAction::Status { status: 200, body, headers: Vec::new() };
    fake.inject(Fault::new(action).on_path(path));
}

/// A project grant of Legacy Billing (as `ListProjectGrants` sends it), with `changes` made.
fn billing_grant(id: &str, granted_org: &str, changes: impl FnOnce(&mut Value)) -> Value {
    let mut grant = json!({
        "grantId": id, "details": details(), "projectId": BILLING, "projectName": "Legacy Billing",
        "grantedOrgId": granted_org, "grantedOrgName": "Initech",
        "grantedRoleKeys": ["billing.read"], "state": "PROJECT_GRANT_STATE_ACTIVE",
    });
    changes(&mut grant);
    grant
}

fn billing_grants_path() -> String {
    format!("/management/v1/projects/{BILLING}/grants/_search")
}

/// An org member row of Ivy, of Globex, holding `roles`.
fn ivy_member(roles: &[&str]) -> Value {
    json!({
        "userId": IVY, "details": details(), "roles": roles, "displayName": "Ivy Ito",
        "preferredLoginName": "ivy@globex.example.com", "userType": "TYPE_HUMAN",
        "userResourceOwner": GLOBEX,
    })
}

fn records(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn ids_of(records: &[Value], kind: &str) -> Vec<String> {
    let ids = records.iter().filter(|r| r["kind"] == kind);
    ids.map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

fn sync_ok(fake: &FakeZitadel, args: &[&str]) -> Run {
    let run = sync(fake, args, &[("BATON_MAX_RETRIES", "0")]);
    assert_eq!(run.status, 0, "{args:?}: {}", run.stderr);
    run
}

#[test]
fn colons_in_role_keys_and_user_ids_give_each_grant_its_own_id() {
    // Joined with bare `:`, project manager role PROJECT_OWNER of user `a:user:b` and role
    // `manager:PROJECT_OWNER:user:a` of user `b` were one id.
    let mut dataset = demo();
    dataset.add_user(ACME, &user("a:user:b", "colon")).unwrap();
    dataset.add_user(ACME, &user("b", "bee")).unwrap();
    let key = "manager:PROJECT_OWNER:user:a";
    let role = json!({"key": key, "details": details(), "displayName": "Tricky"});
    dataset.add_role(ACME, PORTAL, &role.to_string()).unwrap();
    let membership =
        json!({"userId": "a:user:b", "details": details(), "roles": ["PROJECT_OWNER"]});
    dataset.add_project_member(ACME, PORTAL, &membership.to_string()).unwrap();
    let grant = json!({
        "id": "390000000000000001", "details": details(), "roleKeys": [key],
        "state": "USER_GRANT_STATE_ACTIVE", "userId": "b", "projectId": PORTAL, "orgId": ACME,
        "grantedOrgId": ACME,
    });
    dataset.add_user_grant(ACME, &grant.to_string()).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[]);
    let grants = ids_of(&records(&run.stdout), "grant");
    let manager = format!("project:{PORTAL}:manager:PROJECT_OWNER:user:a%3Auser%3Ab");
    let role = format!("project:{PORTAL}:manager%3APROJECT_OWNER%3Auser%3Aa:user:b");
    assert!(grants.contains(&manager), "{grants:?}");
    assert!(grants.contains(&role), "{grants:?}");
    let entitlements = ids_of(&records(&run.stdout), "entitlement");
    assert!(entitlements.contains(&format!("project:{PORTAL}:manager%3APROJECT_OWNER%3Auser%3Aa")));
    // The structured fields carry the names as they are.
    let by_id = records_by_id(&run.stdout);
    let record = &by_id[&("grant".to_string(), manager)];
    assert_eq!(
        (&record["principal_id"], &record["slug"]),
        (&json!("a:user:b"), &json!("manager:PROJECT_OWNER"))
    );
    // Ordinary ids are baton's, byte for byte: the demo's golden records are all there.
    let golden = records_and_requests(&demo_golden()).0;
    for line in golden.lines() {
        let (key, _) = keyed(serde_json::from_str(line).unwrap());
        assert!(by_id.contains_key(&key), "{key:?}");
    }
}

#[test]
fn what_json_escapes_in_a_grant_is_escaped_and_its_value_kept() {
    // A grant's record copies the strings its row borrowed from the page (and its
    // project's, when no role key of it needs escaping) without a look: those the page held
    // with escapes, and every string of a project with such a role key, must be escaped.
    let mut dataset = demo();
    let odd_user = "q\"u\\o\u{1}te";
    dataset.add_user(ACME, &user(odd_user, "odd")).unwrap();
    let (odd_id, odd_state) = ("39\"0\\1", "USER_GRANT_STATE_\u{7}");
    let grant = json!({
        "id": odd_id, "details": details(), "roleKeys": ["billing.read"], "state": odd_state,
        "userId": odd_user, "projectId": BILLING, "orgId": ACME, "grantedOrgId": ACME,
    });
    dataset.add_user_grant(ACME, &grant.to_string()).unwrap();
    let odd_key = "view\"er\\";
    let role = json!({"key": odd_key, "details": details(), "displayName": "Odd"});
    dataset.add_role(ACME, PORTAL, &role.to_string()).unwrap();
    let grant = json!({
        "id": "390000000000000003", "details": details(), "roleKeys": [odd_key],
        "state": "USER_GRANT_STATE_ACTIVE", "userId": BOB, "projectId": PORTAL, "orgId": ACME,
        "grantedOrgId": ACME,
    });
    dataset.add_user_grant(ACME, &grant.to_string()).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[]);
    let records = records(&run.stdout);
    let grant_of = |user: &str, slug: &str| {
        let of =
            |r: &&Value| r["kind"] == "grant" && r["principal_id"] == user && r["slug"] == slug;
        records.iter().find(of).unwrap_or_else(|| panic!("{user:?} {slug:?}:\n{}", run.stdout))
    };
    let odd = grant_of(odd_user, "billing.read");
    assert_eq!((&odd["user_grant_id"], &odd["state"]), (&json!(odd_id), &json!(odd_state)));
    let id = format!("project:{BILLING}:billing.read:user:{odd_user}");
    assert_eq!(odd["id"], id);
    let bob = grant_of(BOB, odd_key);
    assert_eq!(bob["entitlement_id"], format!("project:{PORTAL}:{odd_key}"));
    assert_eq!(bob["id"], format!("project:{PORTAL}:{odd_key}:user:{BOB}"));
}

#[test]
fn what_json_escapes_in_a_user_is_escaped_and_its_value_kept() {
    // A user's record copies the strings its row borrowed from the page without a look:
    // one string the page held with escapes, whichever it is, makes the whole record
    // checked. Each user here has such a string in one field only.
    let mut dataset = demo();
    let human = json!({
        "details": details(), "state": "USER_STATE_ACTIVE", "userName": "name",
        "loginNames": ["name"], "preferredLoginName": "name",
        "human": {
            "profile": {"firstName": "First", "lastName": "Last", "displayName": "Shown"},
            "email": {"email": "e@x", "isEmailVerified": true},
        },
    });
    let machine = json!({
        "details": details(), "state": "USER_STATE_ACTIVE", "userName": "bot",
        "loginNames": ["bot"], "preferredLoginName": "bot",
        "machine": {"name": "Bot", "description": "plain"},
    });
    // The field of the row, the field of the record that shows it, and the value in both.
    let fields = [
        ("/id", "/id", json!("39\"1\\0\u{1}")),
        ("/state", "/status_details", json!("USER_STATE_\u{7}")),
        ("/userName", "/user/username", json!("na\"me")),
        ("/preferredLoginName", "/user/login", json!("lo\\gin")),
        ("/human/profile/firstName", "/user/structured_name/given_name", json!("Fi\nrst")),
        ("/human/profile/lastName", "/user/structured_name/family_name", json!("La\"st")),
        ("/human/profile/displayName", "/display_name", json!("Sh\town")),
        ("/human/email/email", "/user/emails/0/address", json!("e\"@x")),
        ("/loginNames", "/user/login_aliases", json!(["ali\"as"])),
        ("/machine/name", "/display_name", json!("B\\ot")),
        ("/machine/description", "/user/description", json!("de\u{1b}sc")),
    ];
    let mut ids = Vec::new();
    for (n, (field, _, value)) in fields.iter().enumerate() {
        let mut row = if field.starts_with("/machine/") { machine.clone() } else { human.clone() };
        row["id"] = json!(format!("39{n}"));
        *row.pointer_mut(field).unwrap() = value.clone();
        dataset.add_user(ACME, &row.to_string()).unwrap();
        ids.push(row["id"].as_str().unwrap().to_string());
    }
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[]);
    let by_id = records_by_id(&run.stdout);
    for (id, (_, field, value)) in ids.into_iter().zip(fields) {
        let user = &by_id[&("resource:user".to_string(), id)];
        assert_eq!(user.pointer(field), Some(&value), "{field}: {user}");
    }
}

#[test]
fn a_role_key_equal_to_a_manager_slug_is_a_role_beside_the_managers() {
    // Any project owner can create this key: it used to stop the whole export with exit 1.
    let mut dataset = demo();
    let role =
        json!({"key": "manager:PROJECT_OWNER", "details": details(), "displayName": "Manager"});
    dataset.add_role(ACME, PORTAL, &role.to_string()).unwrap();
    let grant = json!({
        "id": "390000000000000002", "details": details(), "roleKeys": ["manager:PROJECT_OWNER"],
        "state": "USER_GRANT_STATE_ACTIVE", "userId": BOB, "projectId": PORTAL, "orgId": ACME,
        "grantedOrgId": ACME,
    });
    dataset.add_user_grant(ACME, &grant.to_string()).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[]);
    let by_id = records_by_id(&run.stdout);
    let entitlement = |id: String| by_id[&("entitlement".to_string(), id)].clone();
    let role = entitlement(format!("project:{PORTAL}:manager%3APROJECT_OWNER"));
    assert_eq!(
        role,
        json!({
            "kind": "entitlement", "id": format!("project:{PORTAL}:manager%3APROJECT_OWNER"),
            "resource_type": "project", "resource_id": PORTAL, "slug": "manager:PROJECT_OWNER",
            "display_name": "Manager", "purpose": "ASSIGNMENT", "grantable_to": ["user"],
        })
    );
    let manager_role = entitlement(format!("project:{PORTAL}:manager:PROJECT_OWNER"));
    assert_eq!(
        (&manager_role["purpose"], &manager_role["slug"]),
        (&json!("PERMISSION"), &json!("manager:PROJECT_OWNER"))
    );
    // Bob holds both: the role through his user grant, the manager role as a member.
    let grant = |id: String| by_id.contains_key(&("grant".to_string(), id));
    assert!(grant(format!("project:{PORTAL}:manager%3APROJECT_OWNER:user:{BOB}")));
    assert!(grant(format!("project:{PORTAL}:manager:PROJECT_OWNER:user:{BOB}")));
    // Without managers, the role is the same record.
    let run = sync_ok(&fake, &["--skip-managers"]);
    let without = records_by_id(&run.stdout);
    assert_eq!(
        without[&("entitlement".to_string(), role["id"].as_str().unwrap().to_string())],
        role
    );
}

#[test]
fn a_user_grant_made_again_while_its_list_is_read_is_printed_once() {
    // Read at one grant a page, Customer Portal's first user grant is removed after its page
    // and made again with a new id, at the list's end: the same user, project and roles.
    let fake = serve_demo();
    let args = ["--page-size", "1"];
    let baseline = sync_ok(&fake, &args);
    let is_portals =
        |r: &RequestLog| r.path.ends_with("/users/grants/_search") && r.body.contains(PORTAL);
    let requests = fake.requests();
    let position = requests.iter().position(|r| is_portals(r) && r.offset == Some(1)).unwrap();
    // Request numbers go on across runs.
    let target = (requests.len() + position + 1) as u64;
    let first_grant = records(&baseline.stdout)
        .into_iter()
        .find(|r| {
            r["kind"] == "grant" && r["resource_id"] == PORTAL && r.get("user_grant_id").is_some()
        })
        .unwrap();
    let grant_id = first_grant["user_grant_id"].as_str().unwrap().to_string();
    let remade = grant_id.clone();
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(move |d: &mut Dataset| {
            let org = d.org(ACME).unwrap();
            let row = org.user_grants.iter().find(|g| g.id == remade).unwrap();
            let again = row.json.replace(&remade, "399999999999999999");
            assert!(d.remove_user_grant(ACME, &remade));
            d.add_user_grant(ACME, &again).unwrap();
        })))
        .on_request(target),
    );
    let run = sync(&fake, &args, &[("BATON_MAX_RETRIES", "0")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("399999999999999999"), "the second is not printed");
    let expected = records_and_requests(&baseline.stdout).0;
    assert_same_records(&run.stdout, expected.lines().map(String::from), "the demo's records");
    let roles =
        records(&baseline.stdout).iter().filter(|r| r["user_grant_id"] == *grant_id).count();
    assert!(roles > 0);
    assert_eq!(summary(&run.stdout)["counts"]["repeated_grant"], roles, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "warning: user grant 399999999999999999 of user {} gives role",
            first_grant["principal_id"].as_str().unwrap()
        )),
        "{}",
        run.stderr
    );
    let said = format!("{roles} repeated grant");
    assert!(run.stderr.contains(&said), "the summary line says {said}: {}", run.stderr);
}

#[test]
fn a_project_grant_to_the_organization_itself_prints_no_second_org() {
    let fake = serve_demo();
    serve_page(
        &fake,
        &billing_grants_path(),
        page(&[billing_grant("390000000000000003", ACME, |_| {})]),
    );
    let run = sync_ok(&fake, &["--skip-managers"]);
    let records = records(&run.stdout);
    let orgs: Vec<&Value> =
        records.iter().filter(|r| r["resource_type"] == "org" && r["kind"] == "resource").collect();
    assert_eq!(orgs.len(), 2, "ACME and Initech: {orgs:?}");
    assert_eq!(orgs[0]["external"], false);
    // The grant names the organization's own record.
    let grant = format!("project:{BILLING}:billing.read:org:{ACME}");
    assert!(ids_of(&records, "grant").contains(&grant));
    assert_eq!(summary(&run.stdout)["counts"]["external_org"], 1);
}

#[test]
fn one_project_grant_id_under_two_projects_is_printed_once() {
    // Legacy Billing's list names Customer Portal's grant to Initech once more: two
    // resources (and two sets of manager roles) with one id, which nothing tells apart.
    let fake = serve_demo();
    serve_page(
        &fake,
        &billing_grants_path(),
        page(&[billing_grant(PORTAL_GRANT, INITECH, |_| {})]),
    );
    let run = sync_ok(&fake, &[]);
    let records = records(&run.stdout);
    let project_grants: Vec<&Value> = records.iter().filter(|r| r["id"] == PORTAL_GRANT).collect();
    assert_eq!(project_grants.len(), 1);
    assert_eq!(project_grants[0]["project_id"], PORTAL);
    assert!(
        !ids_of(&records, "grant")
            .iter()
            .any(|id| id.starts_with(&format!("project:{BILLING}:billing.read:org")))
    );
    assert_eq!(summary(&run.stdout)["counts"]["repeated_project_grant"], 1);
    assert!(
        run.stderr.contains(&format!("warning: project grant {PORTAL_GRANT} of project {BILLING} has the id of a project grant of another project printed before")),
        "{}",
        run.stderr
    );
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.path.contains(&format!("{BILLING}/grants/{PORTAL_GRANT}"))),
        "its managers are not read"
    );
}

#[test]
fn two_project_grants_delegating_one_role_to_one_organization_give_one_grant() {
    // ZITADEL grants a project to an organization once; a server that sends two grants of
    // Legacy Billing to Initech, both with billing.read, gives one grant id twice.
    let fake = serve_demo();
    let grants = [
        billing_grant("390000000000000004", INITECH, |_| {}),
        billing_grant("390000000000000005", INITECH, |_| {}),
    ];
    serve_page(&fake, &billing_grants_path(), page(&grants));
    let run = sync_ok(&fake, &["--skip-managers"]);
    let grant = format!("project:{BILLING}:billing.read:org:{INITECH}");
    let by_id = records_by_id(&run.stdout);
    assert_eq!(by_id[&("grant".to_string(), grant)]["project_grant_id"], "390000000000000004");
    let counts = &summary(&run.stdout)["counts"];
    assert_eq!(
        (counts["project_grant"].as_u64(), counts["repeated_grant"].as_u64()),
        (Some(4), Some(1))
    );
    assert!(
        run.stderr
            .contains("warning: project grant 390000000000000005 delegates role \"billing.read\""),
        "{}",
        run.stderr
    );
}

// ----- Guards of member rows -----

#[test]
fn a_member_whose_roles_are_all_empty_is_no_external_user() {
    // Such a membership grants nothing, so Ivy would be an external user no grant names.
    let fake = serve_demo();
    serve_page(&fake, "/orgs/me/members/_search", page(&[ivy_member(&["", ""])]));
    let run = sync_ok(&fake, &[]);
    assert!(!run.stdout.contains(IVY), "no record names Ivy");
}

#[test]
fn a_role_listed_twice_in_a_member_row_is_one_grant() {
    let fake = serve_demo();
    serve_page(&fake, "/orgs/me/members/_search", page(&[ivy_member(&["ORG_OWNER", "ORG_OWNER"])]));
    let run = sync_ok(&fake, &[]);
    let grants = ids_of(&records(&run.stdout), "grant");
    let ivys: Vec<&String> = grants.iter().filter(|id| id.ends_with(IVY)).collect();
    assert_eq!(ivys, [&format!("org:{ACME}:ORG_OWNER:user:{IVY}")]);
    assert!(summary(&run.stdout)["counts"].get("repeated_grant").is_none());
}

#[test]
fn an_empty_role_in_a_member_role_list_is_refused() {
    // An entitlement with an empty slug would follow; ZITADEL names no such role.
    let fake = serve_demo();
    let roles = json!({"details": {}, "result": ["ORG_OWNER", ""]}).to_string();
    serve_page(&fake, "/orgs/members/roles/_search", roles);
    let run = sync(&fake, &[], &[("BATON_MAX_RETRIES", "0")]);
    assert_failure(
        &run,
        1,
        &["/management/v1/orgs/members/roles/_search", "malformed response: an empty manager role"],
    );
}

// ----- Guards of project grant rows -----

#[test]
fn a_project_grant_of_another_project_is_refused() {
    let fake = serve_demo();
    let stray = billing_grant("390000000000000006", INITECH, |g| g["projectId"] = PORTAL.into());
    serve_page(&fake, &billing_grants_path(), page(&[stray]));
    let run = sync(&fake, &[], &[("BATON_MAX_RETRIES", "0")]);
    assert_failure(
        &run,
        1,
        &[&format!(
            "project grant 390000000000000006 is of project \"{PORTAL}\", not of the project {BILLING} asked for"
        )],
    );
}

#[test]
fn a_project_grant_without_granted_org_id_is_refused() {
    // Its organization would be an external org with an empty id.
    let fake = serve_demo();
    let nameless = billing_grant("390000000000000007", INITECH, |g| {
        g.as_object_mut().unwrap().remove("grantedOrgId");
    });
    serve_page(&fake, &billing_grants_path(), page(&[nameless]));
    let run = sync(&fake, &[], &[("BATON_MAX_RETRIES", "0")]);
    assert_failure(
        &run,
        1,
        &["malformed response: project grant 390000000000000007 has no grantedOrgId"],
    );
}

#[test]
fn a_delegated_key_listed_twice_is_one_grant() {
    let fake = serve_demo();
    let twice = billing_grant("390000000000000008", INITECH, |g| {
        g["grantedRoleKeys"] = json!(["billing.read", "billing.read"]);
    });
    serve_page(&fake, &billing_grants_path(), page(&[twice]));
    let run = sync_ok(&fake, &["--skip-managers"]);
    let grants = ids_of(&records(&run.stdout), "grant");
    let to_initech: Vec<&String> = grants
        .iter()
        .filter(|id| id.starts_with(&format!("project:{BILLING}:")))
        .filter(|id| id.contains(":org:"))
        .collect();
    assert_eq!(to_initech, [&format!("project:{BILLING}:billing.read:org:{INITECH}")]);
    assert!(summary(&run.stdout)["counts"].get("repeated_grant").is_none(), "not even a repeat");
    assert!(!run.stderr.contains("390000000000000008"), "no warning: {}", run.stderr);
}

#[test]
fn a_project_grant_without_a_state_delegates_its_roles() {
    // A missing state is no proof of inactivity: dropping its roles would hide access.
    let fake = serve_demo();
    let stateless = billing_grant("390000000000000009", INITECH, |g| {
        g.as_object_mut().unwrap().remove("state");
    });
    serve_page(&fake, &billing_grants_path(), page(&[stateless]));
    let run = sync_ok(&fake, &["--skip-managers"]);
    let by_id = records_by_id(&run.stdout);
    let grant =
        &by_id[&("grant".to_string(), format!("project:{BILLING}:billing.read:org:{INITECH}"))];
    assert_eq!(grant["state"], "PROJECT_GRANT_STATE_UNSPECIFIED");
    let resource =
        &by_id[&("resource:project_grant".to_string(), "390000000000000009".to_string())];
    assert_eq!(resource["status"], "UNSPECIFIED");
    // The demo's one inactive project grant, Internal Tools' to Globex.
    assert_eq!(summary(&run.stdout)["counts"]["inactive_project_grant"], 1);
}

// ----- Guards of user grant rows -----

#[test]
fn an_external_user_whose_every_role_key_is_unknown_is_not_printed() {
    // A Globex user holding only a key Customer Portal does not have: no grant, so no user.
    let mut dataset = demo();
    let grant = json!({
        "id": "390000000000000010", "details": details(), "roleKeys": ["no-such-role", "nor-this"],
        "state": "USER_GRANT_STATE_ACTIVE", "userId": IVY, "projectId": PORTAL, "orgId": ACME,
        "grantedOrgId": GLOBEX,
    });
    dataset.add_user_grant(ACME, &grant.to_string()).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &["--skip-managers"]);
    assert!(!run.stdout.contains(IVY), "no record names Ivy");
    assert_eq!(summary(&run.stdout)["counts"]["unknown_role_key"], 4, "the demo's two, and these");
}
