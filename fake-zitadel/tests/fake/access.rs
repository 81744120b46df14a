//! The access endpoints on the demo's data: managers, member roles and project grants as
//! ZITADEL serves them, the permissions that guard them and the queries they take; and how
//! users sign in: the login policy and one user's authentication methods.

use super::*;

#[test]
fn org_managers_are_zitadel_members_joined_with_their_users() {
    let fake = serve_demo();
    let answer = post(&fake, ACME_PAT, "orgs/me/members/_search", "");
    assert_eq!(answer.total().as_deref(), Some("4"));
    // A machine has no email or names; its display name is the machine's name.
    let machine = r#"{"userId":"284913718839001605","details":{"sequence":"2","creationDate":"2025-02-03T07:48:10.904Z","changeDate":"2025-02-03T07:48:10.904Z","resourceOwner":"284905129371435012"},"roles":["ORG_OWNER_VIEWER"],"preferredLoginName":"baton-sync@acme.example.com","displayName":"Baton Sync","userType":"TYPE_MACHINE","userResourceOwner":"284905129371435012"}"#;
    // A manager from another org: its own org in userResourceOwner.
    let external = r#"{"userId":"284905488891224067","details":{"sequence":"2","creationDate":"2025-03-18T10:41:05Z","changeDate":"2025-03-18T10:41:05Z","resourceOwner":"284905129371435012"},"roles":["ORG_USER_PERMISSION_EDITOR"],"preferredLoginName":"ivy@globex.example.com","email":"ivy@globex.example.com","firstName":"Ivy","lastName":"Ito","displayName":"Ivy Ito","userType":"TYPE_HUMAN","userResourceOwner":"284905311209451523"}"#;
    // Two roles, a human without an avatar.
    let two_roles = r#""roles":["ORG_USER_MANAGER","ORG_PROJECT_PERMISSION_EDITOR"],"preferredLoginName":"erin@acme.example.com","email":"erin@acme.example.com","firstName":"Erin","lastName":"Evans","displayName":"Erin Evans","userType":"TYPE_HUMAN","userResourceOwner":"284905129371435012"}"#;
    for row in [machine, external, two_roles] {
        assert!(answer.body.contains(row), "{row}\nnot in\n{}", answer.body);
    }

    let fake =
        serve(demo(), Options { omit_member_user_resource_owner: true, ..Options::default() });
    let old = post(&fake, ACME_PAT, "orgs/me/members/_search", "");
    assert_eq!(old.ids("userId"), answer.ids("userId"));
    assert!(!old.body.contains("userResourceOwner"), "servers before zitadel#9168: {}", old.body);
    assert!(old.body.contains(r#""displayName":"Baton Sync","userType":"TYPE_MACHINE"}"#));
}

#[test]
fn project_and_grant_managers_with_their_membership_org() {
    let fake = serve_demo();
    let portal = post(&fake, ACME_PAT, &project_members(CUSTOMER_PORTAL), "");
    let ci_bot = r#"{"userId":"284912230194381317","details":{"sequence":"2","creationDate":"2025-01-20T14:10:44.71Z","changeDate":"2025-01-20T14:10:44.71Z","resourceOwner":"284905129371435012"},"roles":["PROJECT_OWNER_VIEWER"],"preferredLoginName":"ci-bot@acme.example.com","displayName":"CI Bot","userType":"TYPE_MACHINE","userResourceOwner":"284905129371435012"}"#;
    assert!(portal.body.contains(ci_bot), "{}", portal.body);
    assert_eq!(portal.ids("userId"), ["284906201935945733", "284912230194381317"]);

    // A grant's managers are the granted org's users, but the row belongs to the project's
    // org, and so does the avatar URL ZITADEL builds from it.
    let peter = r#"{"userId":"284905802156290051","details":{"sequence":"1","creationDate":"2025-03-10T15:25:13.5Z","changeDate":"2025-03-10T15:25:13.5Z","resourceOwner":"284905129371435012"},"roles":["PROJECT_GRANT_OWNER"],"preferredLoginName":"peter@initech.example.com","email":"peter@initech.example.com","firstName":"Peter","lastName":"Gibbons","displayName":"Peter Gibbons","avatarUrl":"https://initech.zitadel.cloud/assets/v1/284905129371435012/users/284905802156290051/avatar?v=2","userType":"TYPE_HUMAN","userResourceOwner":"284905733281462275"}"#;
    let path = grant_members(CUSTOMER_PORTAL, PORTAL_GRANT);
    let from_owner = post(&fake, ACME_PAT, &path, "");
    assert!(from_owner.body.contains(peter), "{}", from_owner.body);
    // Both sides of the grant see its managers; nobody else does.
    let from_granted = post(&fake, INITECH_PAT, &path, "");
    assert_eq!(from_granted.body, from_owner.body);
    assert_eq!(post(&fake, "demo-pat-globex-owner", &path, "").body, EMPTY);
    let inactive = post(&fake, ACME_PAT, &grant_members(INTERNAL_TOOLS, TOOLS_GRANT), "");
    assert_eq!(inactive.ids("userId"), ["284905402271985667"]);

    // Unknown ids, another org's project, or a grant under the wrong project: empty, no 404.
    for path in [
        project_members("284900000000000000"),
        project_members(GLOBEX_ANALYTICS),
        grant_members(INTERNAL_TOOLS, PORTAL_GRANT),
        grant_members(CUSTOMER_PORTAL, "284900000000000000"),
        grant_members(CUSTOMER_PORTAL, BILLING_GRANT),
    ] {
        assert_eq!(post(&fake, ACME_PAT, &path, "").body, EMPTY, "{path}");
    }
}

#[test]
fn member_role_lists_ignore_any_body_and_follow_the_default_org() {
    let org_roles = r#"{"result":["ORG_OWNER","ORG_USER_MANAGER","ORG_OWNER_VIEWER","ORG_SETTINGS_MANAGER","ORG_USER_PERMISSION_EDITOR","ORG_PROJECT_PERMISSION_EDITOR","ORG_PROJECT_CREATOR","ORG_ADMIN_IMPERSONATOR","ORG_END_USER_IMPERSONATOR","ORG_USER_SELF_MANAGER"]}"#;
    let project_roles = r#"{"result":["PROJECT_OWNER","PROJECT_OWNER_VIEWER","PROJECT_OWNER_GLOBAL","PROJECT_OWNER_VIEWER_GLOBAL"]}"#;
    let grant_roles = r#"{"details":{"totalResult":"2","viewTimestamp":"2025-10-02T09:30:00.512309Z"},"result":["PROJECT_GRANT_OWNER","PROJECT_GRANT_OWNER_VIEWER"]}"#;
    let lists = [
        "orgs/members/roles/_search",
        "projects/members/roles/_search",
        "projects/grants/members/roles/_search",
    ];
    let fake = serve_demo();
    // The HTTP rules have no body: grpc-gateway never reads it, so not even garbage is a 400.
    for body in ["", "{}", "not json", r#"{"query":{"limit":1}}"#] {
        let answers = lists.map(|path| post(&fake, ACME_PAT, path, body));
        let answers = answers.map(|a| (a.status, a.body));
        assert_eq!(
            answers,
            [(200, org_roles), (200, project_roles), (200, grant_roles)]
                .map(|(status, body)| (status, body.to_string()))
        );
    }

    let mut dataset = demo();
    dataset.default_org = Some(ACME.into());
    let fake = serve(dataset, Options::default());
    let answers = lists.map(|path| post(&fake, ACME_PAT, path, "").body);
    let default_org_roles =
        org_roles.replace(r#"MANAGER"]}"#, r#"MANAGER","SELF_MANAGEMENT_GLOBAL"]}"#);
    let global_roles = r#"{"result":["PROJECT_OWNER_GLOBAL","PROJECT_OWNER_VIEWER_GLOBAL"]}"#;
    assert_eq!(answers, [default_org_roles.as_str(), global_roles, grant_roles]);
    // Another org of the same instance is not the default org.
    let globex = post(&fake, "demo-pat-globex-owner", lists[0], "");
    assert_eq!(globex.body, org_roles);
}

#[test]
fn project_grants_are_granted_projects_of_the_owner_org() {
    let fake = serve_demo();
    let portal = post(&fake, ACME_PAT, &project_grants(CUSTOMER_PORTAL), "");
    let expected = r#"{"details":{"totalResult":"1","processedSequence":"5427","viewTimestamp":"2025-10-02T09:30:00.512309Z"},"result":[{"grantId":"284917204655128581","grantedOrgId":"284905733281462275","grantedOrgName":"Initech","grantedRoleKeys":["viewer","support","legacy-export"],"state":"PROJECT_GRANT_STATE_ACTIVE","projectId":"284906487321587717","projectName":"Customer Portal","projectOwnerId":"284905129371435012","projectOwnerName":"ACME Corporation","details":{"sequence":"3","creationDate":"2025-03-10T15:20:44.612378Z","changeDate":"2025-04-02T08:15:00.25Z","resourceOwner":"284905129371435012"}}]}"#;
    assert_eq!(portal.body, expected);

    let all = post(&fake, ACME_PAT, "projectgrants/_search", "");
    assert_eq!(all.ids("grantId"), [PORTAL_GRANT, TOOLS_GRANT, BILLING_GRANT]);
    let rows = all.json()["result"].as_array().unwrap().clone();
    assert_eq!(rows[1]["state"], "PROJECT_GRANT_STATE_INACTIVE");
    // A grant without role keys has no `grantedRoleKeys` at all.
    assert!(rows[2].get("grantedRoleKeys").is_none(), "{}", rows[2]);
    let filtered = |queries: &str| {
        post(&fake, ACME_PAT, "projectgrants/_search", &format!(r#"{{"queries":[{queries}]}}"#))
            .ids("grantId")
    };
    assert_eq!(
        filtered(r#"{"grantedOrgIdQuery":{"grantedOrgId":"284905733281462275"}}"#),
        [PORTAL_GRANT, BILLING_GRANT]
    );
    assert_eq!(filtered(r#"{"projectIdQuery":{"projectId":"284906512837640197"}}"#), [TOOLS_GRANT]);
    assert_eq!(filtered(r#"{"roleKeyQuery":{"roleKey":"support"}}"#), [PORTAL_GRANT]);
    let none: [&str; 0] = [];
    assert_eq!(filtered(r#"{"roleKeyQuery":{"roleKey":"supp","method":4}}"#), none);

    // The granted side sees the same grant only through its granted projects, not here.
    assert_eq!(post(&fake, INITECH_PAT, &project_grants(CUSTOMER_PORTAL), "").body, EMPTY);
    assert_eq!(post(&fake, INITECH_PAT, "projectgrants/_search", "").body, EMPTY);
    assert_eq!(post(&fake, ACME_PAT, &project_grants(GLOBEX_ANALYTICS), "").body, EMPTY);
}

#[test]
fn grants_made_through_a_project_grant_need_with_granted_query() {
    let fake = serve_demo();
    let grants = |token: &str, queries: &str| {
        let body = format!(r#"{{"query":{{"limit":1000}},"queries":[{queries}]}}"#);
        post(&fake, token, "users/grants/_search", &body).ids("id")
    };
    let portal = r#"{"projectIdQuery":{"projectId":"284906487321587717"}}"#;
    let through = r#"{"projectGrantIdQuery":{"projectGrantId":"284917204655128581"}}"#;
    let own = grants(ACME_PAT, "");
    assert_eq!(own.len(), 13);
    assert!(!own.contains(&SAMIRS_GRANT.to_string()));
    assert_eq!(grants(ACME_PAT, portal).len(), 6);
    assert!(grants(ACME_PAT, through).is_empty(), "without withGrantedQuery only ACME's own");

    // Any withGrantedQuery, whatever its value, adds the grants other orgs made on ACME's projects.
    for with_granted in [r#"{"withGranted":true}"#, "{}", r#"{"withGranted":false}"#] {
        let query = format!(r#"{{"withGrantedQuery":{with_granted}}}"#);
        let all = grants(ACME_PAT, &query);
        assert_eq!(all.len(), 14, "{with_granted}");
        assert_eq!(all.last().map(String::as_str), Some(SAMIRS_GRANT));
        let mut portal_grants = grants(ACME_PAT, &format!("{query},{portal}"));
        assert_eq!(portal_grants.len(), 7);
        assert_eq!(portal_grants.pop().as_deref(), Some(SAMIRS_GRANT));
        assert_eq!(grants(ACME_PAT, &format!("{through},{query}")), [SAMIRS_GRANT]);
        let not_through = r#"{"projectGrantIdQuery":{"projectGrantId":""}}"#;
        assert_eq!(grants(ACME_PAT, &format!("{query},{not_through}")), own);
    }
    let body = r#"{"queries":[{"withGrantedQuery":{"withGranted":"yes"}}]}"#;
    let bad = post(&fake, ACME_PAT, "users/grants/_search", body);
    assert_eq!(bad.status, 400, "{}", bad.body);

    // The granting org owns the grant: it lists it without the filter, as ZITADEL's row says.
    let initech = post(&fake, INITECH_PAT, "users/grants/_search", "");
    assert_eq!(initech.ids("id"), [SAMIRS_GRANT]);
    let row = &initech.json()["result"][0];
    assert_eq!(row["details"]["resourceOwner"], INITECH);
    assert_eq!(row["projectGrantId"], PORTAL_GRANT);
    assert_eq!(row["projectId"], CUSTOMER_PORTAL);
    // Globex made no grants through its (inactive) grant: only its own, with or without.
    let globex = grants("demo-pat-globex-owner", r#"{"withGrantedQuery":{}}"#);
    assert_eq!(globex, grants("demo-pat-globex-owner", ""));
}

#[test]
fn each_new_permission_guards_its_lists() {
    let fake = serve_demo();
    let cases = [
        ("demo-pat-acme-no-members", ["orgs/me/members/_search", "orgs/members/roles/_search"]),
        (
            "demo-pat-acme-no-project-members",
            [&project_members(CUSTOMER_PORTAL), "projects/members/roles/_search"],
        ),
        (
            "demo-pat-acme-no-project-grants",
            [&project_grants(CUSTOMER_PORTAL), "projectgrants/_search"],
        ),
        (
            "demo-pat-acme-no-grant-members",
            [
                &grant_members(CUSTOMER_PORTAL, PORTAL_GRANT),
                "projects/grants/members/roles/_search",
            ],
        ),
    ];
    let every_list: Vec<&str> = cases.iter().flat_map(|(_, paths)| *paths).collect();
    for (token, denied) in &cases {
        for path in &every_list {
            let answer = post(&fake, token, path, "");
            if denied.contains(path) {
                assert_eq!(
                    (answer.status, answer.body.as_str()),
                    (403, NO_PERMISSION),
                    "{token} {path}"
                );
            } else {
                assert_eq!(answer.status, 200, "{token} {path}: {}", answer.body);
            }
        }
    }
    // Without any membership in the org asked for, ZITADEL answers 404 before permissions.
    let answer = request(&fake, ACME_PAT, Some(GLOBEX), "orgs/me/members/_search", "");
    assert_eq!(answer.status, 404);
    assert!(answer.body.contains("membership not found (AUTHZ-cdgFk)"), "{}", answer.body);
    // The Org Owner Viewer and an instance-level token read every list of any org.
    for (token, org) in [(ACME_PAT, None), ("demo-pat-iam-viewer", Some(GLOBEX))] {
        for path in &every_list {
            assert_eq!(request(&fake, token, org, path, "").status, 200, "{token} {path}");
        }
    }
}

#[test]
fn access_lists_are_unordered_and_page_like_every_v1_list() {
    let fake = serve_demo();
    let members = |body: &str| post(&fake, ACME_PAT, "orgs/me/members/_search", body);
    // Served in the dataset's order, which is not the id order, whatever `asc` says.
    let order = [ERIN, ALICE, BATON_SYNC, IVY];
    assert_eq!(members("").ids("userId"), order);
    assert_eq!(members(r#"{"query":{"asc":true}}"#).ids("userId"), order);
    let mut sorted = order;
    sorted.sort();
    assert_ne!(sorted, order, "the demo's managers are listed out of id order");

    let page = |offset: u64| members(&format!(r#"{{"query":{{"offset":"{offset}","limit":2}}}}"#));
    assert_eq!(page(0).ids("userId"), &order[..2]);
    assert_eq!(page(2).ids("userId"), &order[2..]);
    assert_eq!(page(2).total().as_deref(), Some("4"));
    assert_eq!(page(4).body, EMPTY, "past the end: no totalResult, no result");
    let too_large = members(r#"{"query":{"limit":1001}}"#);
    assert_eq!(too_large.status, 400);
    assert!(too_large.body.contains("Limit exceeded (QUERY-4M0fs)"), "{}", too_large.body);
    let grants =
        post(&fake, ACME_PAT, "projectgrants/_search", r#"{"query":{"offset":1,"limit":1}}"#);
    assert_eq!(grants.ids("grantId"), [TOOLS_GRANT]);
    assert_eq!(grants.total().as_deref(), Some("3"));

    // v4.20's default limit applies when none is sent; older servers send every row.
    let capped =
        Options { limits: Limits::Enforced { default: 3, max: 1000 }, ..Options::default() };
    let fake = serve(demo(), capped);
    assert_eq!(post(&fake, ACME_PAT, "orgs/me/members/_search", "").ids("userId"), &order[..3]);
    let fake = serve(demo(), Options { limits: Limits::Unlimited, ..Options::default() });
    let all = post(&fake, ACME_PAT, "orgs/me/members/_search", r#"{"query":{"limit":5000}}"#);
    assert_eq!(all.ids("userId"), order);
}

#[test]
fn member_queries_filter_and_are_validated() {
    let fake = serve_demo();
    let body = r#"{"queries":[{"userIdQuery":{"userId":"284906014215673861"}}]}"#;
    assert_eq!(post(&fake, ACME_PAT, "orgs/me/members/_search", body).ids("userId"), [ALICE]);
    // Filters the fake does not apply match every row rather than none.
    let body =
        r#"{"queries":[{"emailQuery":{"email":"x","method":"TEXT_QUERY_METHOD_CONTAINS"}}]}"#;
    assert_eq!(post(&fake, ACME_PAT, "orgs/me/members/_search", body).ids("userId").len(), 4);

    let cases = [
        ("orgs/me/members/_search".to_string(), "ListOrgMembersRequest", "SearchQuery"),
        (project_members(CUSTOMER_PORTAL), "ListProjectMembersRequest", "SearchQuery"),
        (
            grant_members(CUSTOMER_PORTAL, PORTAL_GRANT),
            "ListProjectGrantMembersRequest",
            "SearchQuery",
        ),
        (project_grants(CUSTOMER_PORTAL), "ListProjectGrantsRequest", "ProjectGrantQuery"),
        (
            "projectgrants/_search".to_string(),
            "ListAllProjectGrantsRequest",
            "AllProjectGrantQuery",
        ),
    ];
    for (path, request, query) in cases {
        // A key of another list's queries is unknown here, so the element is empty.
        let body = r#"{"queries":[{"userIdQuery":{}},{"withGrantedQuery":{}}]}"#;
        let answer = post(&fake, ACME_PAT, &path, body);
        let index = if query == "SearchQuery" { 1 } else { 0 };
        let expected = format!(
            r#"{{"code":3,"message":"invalid {request}.Queries[{index}]: embedded message failed validation | caused by: invalid {query}.Query: value is required"}}"#
        );
        assert_eq!((answer.status, answer.body), (400, expected), "{path}");
    }
    let two = r#"{"queries":[{"userIdQuery":{},"emailQuery":{}}]}"#;
    let answer = post(&fake, ACME_PAT, "orgs/me/members/_search", two);
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("zitadel.member.v1.SearchQuery.query is already set"));
}

#[test]
fn routing_of_the_access_endpoints() {
    let fake = serve_demo();
    // This path also fits `projects/{id}/roles/_search`; ZITADEL routes it to the member-role
    // list, and so does the fake (the roles of a project "members" would be an empty list).
    assert_eq!(
        endpoint_of("/management/v1/projects/members/roles/_search"),
        Some("POST /management/v1/projects/members/roles/_search")
    );
    assert_eq!(
        endpoint_of("/management/v1/projects/1/grants/2/members/_search"),
        Some("POST /management/v1/projects/{project_id}/grants/{grant_id}/members/_search")
    );
    assert_eq!(endpoint_of("/management/v1/projects/1/grants/2/members"), None);
    let get = "GET /management/v1/orgs/me/members/_search HTTP/1.1\r\n\
               Host: x\r\nConnection: close\r\n\r\n";
    assert_eq!(exchange(&fake, get).status, 405);
    assert_eq!(post(&fake, ACME_PAT, "projects/1/grants/2/members", "").status, 404);
}

#[test]
fn removed_users_and_grants_leave_the_lists_as_in_zitadel() {
    let fake = serve_demo();
    fake.with_dataset(|dataset| assert!(dataset.remove_user(ACME, ALICE)));
    // ZITADEL's member projections delete a removed user's memberships.
    let members = post(&fake, ACME_PAT, "orgs/me/members/_search", "");
    assert_eq!(members.ids("userId"), [ERIN, BATON_SYNC, IVY]);
    assert_eq!(members.json()["details"]["processedSequence"], "5428");

    // Removing a project grant removes the user grants made through it.
    fake.with_dataset(|dataset| assert!(dataset.remove_project_grant(ACME, PORTAL_GRANT)));
    assert!(post(&fake, ACME_PAT, &project_grants(CUSTOMER_PORTAL), "").ids("grantId").is_empty());
    let body = r#"{"queries":[{"withGrantedQuery":{}}]}"#;
    let grants = post(&fake, ACME_PAT, "users/grants/_search", body).ids("id");
    assert!(!grants.contains(&SAMIRS_GRANT.to_string()));
    assert_eq!(post(&fake, INITECH_PAT, "users/grants/_search", "").ids("id").len(), 0);
}

#[test]
fn a_permission_held_for_some_projects_narrows_the_lists_and_fails_other_projects() {
    // A Project Owner Viewer of Customer Portal who also manages Legacy Billing's grant,
    // beside an org role that reads the org: ZITADEL's `perm:<ctxId>` permissions.
    let mut dataset = demo();
    let permissions = [
        "org.read".to_string(),
        format!("project.read:{CUSTOMER_PORTAL}"),
        format!("project.member.read:{CUSTOMER_PORTAL}"),
        format!("project.grant.read:{CUSTOMER_PORTAL}"),
        format!("project.grant.read:{BILLING_GRANT}"),
    ];
    let token = Token { permissions: permissions.to_vec(), ..Token::org_viewer("scoped", ACME) };
    dataset.add_token(token);
    let fake = serve(dataset, Options::default());
    // The lists without a check field hold only the rows of the ids: for projects the
    // project's, for project grants the grant's, so the Project Owner's grants are not there.
    assert_eq!(post(&fake, "scoped", "projects/_search", "").ids("id"), [CUSTOMER_PORTAL]);
    assert_eq!(post(&fake, "scoped", "projectgrants/_search", "").ids("grantId"), [BILLING_GRANT]);
    // A project's own list checks its id: Customer Portal's shows all of its grants.
    let portal = post(&fake, "scoped", &project_grants(CUSTOMER_PORTAL), "");
    assert_eq!(portal.ids("grantId"), [PORTAL_GRANT]);
    let other = post(&fake, "scoped", &project_grants(INTERNAL_TOOLS), "");
    assert_eq!(other.status, 403);
    assert!(other.body.contains("No matching permissions found (AUTH-3jknH)"), "{}", other.body);
    let members = post(&fake, "scoped", &project_members(INTERNAL_TOOLS), "");
    assert_eq!(members.status, 403);
    // Without the permission at all: the usual 403.
    let users = post(&fake, "scoped", "users/_search", "");
    assert_eq!((users.status, users.body.as_str()), (403, NO_PERMISSION));
}

#[test]
fn the_instance_and_its_managers_are_read_only_with_instance_permissions() {
    let fake = serve_demo();
    let instance = call(&fake, ACME_PAT, "GET", "/admin/v1/instances/me", "").json();
    assert_eq!(instance["instance"]["id"], "284904986052325380");
    assert_eq!(instance["instance"]["state"], "STATE_RUNNING");
    // The roles are under `roles`, not `result`, in the order of ZITADEL's configuration.
    let roles = call(&fake, ACME_PAT, "POST", "/admin/v1/members/roles/_search", "").json();
    assert!(roles.get("result").is_none(), "{roles}");
    assert_eq!(roles["roles"][0], "IAM_OWNER");
    assert_eq!(roles["roles"].as_array().map(Vec::len), Some(7));
    assert_eq!(roles["details"]["totalResult"], "7");

    // Sorted by user id as asked; each row owned by the instance, with no avatar; a member
    // of another org names it.
    let sorted = r#"{"query":{"offset":"0","limit":10,"asc":true},"sortingColumn":"MEMBER_FIELD_NAME_USER_ID"}"#;
    let members = call(&fake, ACME_PAT, "POST", "/admin/v1/members/_search", sorted);
    assert_eq!(
        members.ids("userId"),
        ["284905395517947907", "284908102417326085", "284913718839001605"]
    );
    assert!(!members.body.contains("avatarUrl"), "{}", members.body);
    assert_eq!(members.body.matches(r#""resourceOwner":"284904986052325380""#).count(), 3);
    assert!(members.body.contains(r#""userResourceOwner":"284905311209451523""#));

    // The default sort is by a column the same on every row: each page comes in an order of
    // its own, so a walk of one-row pages repeats one manager and misses another.
    let mut walk: Vec<String> = (0..3)
        .flat_map(|offset| {
            let page = format!(r#"{{"query":{{"offset":"{offset}","limit":1}}}}"#);
            call(&fake, ACME_PAT, "POST", "/admin/v1/members/_search", &page).ids("userId")
        })
        .collect();
    walk.sort();
    walk.dedup();
    assert!(walk.len() < 3, "{walk:?}");

    // An organization's roles give no instance permission.
    for (method, path) in [
        ("GET", "/admin/v1/instances/me"),
        ("POST", "/admin/v1/members/roles/_search"),
        ("POST", "/admin/v1/members/_search"),
    ] {
        let denied = call(&fake, INITECH_PAT, method, path, "");
        assert_eq!(denied.status, 403, "{path}");
        assert!(denied.body.contains("AUTH-5mWD2"), "{}", denied.body);
    }
}

#[test]
fn authentication_methods_are_read_per_user_as_zitadel_answers_them() {
    let mut dataset = demo();
    let mut token = Token::org_viewer("no-user-read", ACME);
    token.permissions.retain(|permission| permission != "user.read");
    dataset.add_token(token);
    let fake = serve(dataset, Options::default());
    let methods = |token: &str, user: &str| {
        call(&fake, token, "GET", &format!("/v2/users/{user}/authentication_methods"), "")
    };
    // Bob's three kinds: the password after the others, as ZITADEL appends it.
    let bob = methods(ACME_PAT, "284906201935945733").json();
    assert_eq!(
        bob,
        serde_json::json!({"details": {"totalResult": "3", "timestamp": "2025-10-02T09:30:00.512309Z"},
            "authMethodTypes": ["AUTHENTICATION_METHOD_TYPE_TOTP", "AUTHENTICATION_METHOD_TYPE_PASSKEY",
                                "AUTHENTICATION_METHOD_TYPE_PASSWORD"]})
    );
    // A service user, a user of another organization and an id no user has: no methods, and
    // no error (the user row is joined, and the permission is the context organization's).
    for user in [BATON_SYNC, IVY, "1"] {
        let answer = methods(ACME_PAT, user).json();
        assert!(answer.get("authMethodTypes").is_none(), "{user}: {answer}");
        assert!(answer["details"]["totalResult"].is_null());
    }
    let refused = methods("no-user-read", ALICE);
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("AUTH-AWfge"), "{}", refused.body);
    // A GET route: a POST is refused as by grpc-gateway.
    let post =
        call(&fake, ACME_PAT, "POST", &format!("/v2/users/{ALICE}/authentication_methods"), "{}");
    assert_eq!(post.status, 405);
    assert_eq!(
        endpoint_of(&format!("/v2/users/{ALICE}/authentication_methods")),
        Some("GET /v2/users/{user_id}/authentication_methods")
    );
}

#[test]
fn the_login_policy_is_the_organizations_own_or_the_instance_default() {
    let fake = serve_demo();
    let own = call(&fake, ACME_PAT, "GET", "/management/v1/policies/login", "").json();
    assert!(own.get("isDefault").is_none(), "{own}");
    assert_eq!(own["policy"]["forceMfa"], Value::Null, "false is omitted");
    assert_eq!(own["policy"]["secondFactors"][0], "SECOND_FACTOR_TYPE_OTP");
    let default = call(&fake, "demo-pat-globex-owner", "GET", "/management/v1/policies/login", "");
    let default = default.json();
    assert_eq!(
        (&default["isDefault"], &default["policy"]["isDefault"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    let mut dataset = demo();
    let mut token = Token::org_viewer("no-policy", ACME);
    token.permissions.retain(|permission| permission != "policy.read");
    dataset.add_token(token);
    let fake = serve(dataset, Options::default());
    let refused = call(&fake, "no-policy", "GET", "/management/v1/policies/login", "");
    assert_eq!((refused.status, refused.body.as_str()), (403, NO_PERMISSION));
}
