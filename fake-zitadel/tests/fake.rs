//! The fake ZITADEL itself, spoken to with plain HTTP: the access endpoints (managers, member
//! roles, project grants) in ZITADEL's wire format, and ZITADEL's rules for them.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use serde_json::Value;

use fake_zitadel::{
    Dataset, FakeZitadel, GENERATED_PAT, GenerateSpec, Limits, Options, endpoint_of,
};

const ACME: &str = "284905129371435012";
const GLOBEX: &str = "284905311209451523";
const ACME_PAT: &str = "demo-pat-acme-viewer";

const INITECH: &str = "284905733281462275";
const INITECH_PAT: &str = "demo-pat-initech-owner";
const CUSTOMER_PORTAL: &str = "284906487321587717";
const INTERNAL_TOOLS: &str = "284906512837640197";
const GLOBEX_ANALYTICS: &str = "284905577239117827";
/// Customer Portal granted to Initech with `viewer`, `support` and the gone `legacy-export`.
const PORTAL_GRANT: &str = "284917204655128581";
/// Internal Tools granted to Globex, inactive.
const TOOLS_GRANT: &str = "284917391238803461";
/// Legacy Billing granted to Initech without role keys.
const BILLING_GRANT: &str = "284917482019721221";
/// Samir's grant on Customer Portal, made by Initech through `PORTAL_GRANT`.
const SAMIRS_GRANT: &str = "284918003374563333";
const ERIN: &str = "284910045582151685";
const ALICE: &str = "284906014215673861";
const BATON_SYNC: &str = "284913718839001605";
const IVY: &str = "284905488891224067";
/// The `details` of a list answer without rows: no `totalResult`, and no `result` after it.
const EMPTY: &str =
    r#"{"details":{"processedSequence":"5427","viewTimestamp":"2025-10-02T09:30:00.512309Z"}}"#;
const NO_PERMISSION: &str = r#"{"code":7,"message":"No matching permissions found (AUTH-5mWD2)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-5mWD2","message":"No matching permissions found"}]}"#;

/// The repository's root, where the demo's dataset lives.
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn demo() -> Dataset {
    Dataset::load(root().join("testdata/demo.json")).expect("testdata/demo.json loads")
}

fn serve(dataset: Dataset, options: Options) -> FakeZitadel {
    FakeZitadel::start(dataset, options).expect("the fake ZITADEL starts")
}

fn serve_demo() -> FakeZitadel {
    serve(demo(), Options::default())
}

/// An answer of the fake: status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        serde_json::from_str(&self.body).expect("the body is JSON")
    }

    /// The ids of the rows, by the field that identifies them in this list.
    fn ids(&self, field: &str) -> Vec<String> {
        let json = self.json();
        let rows = json["result"].as_array().cloned().unwrap_or_default();
        rows.iter().map(|row| row[field].as_str().unwrap().to_string()).collect()
    }

    fn total(&self) -> Option<String> {
        self.json()["details"]["totalResult"].as_str().map(str::to_string)
    }
}

/// Sends one POST as `token` (in its own org, or `org` in `x-zitadel-orgid`) and returns the
/// answer, decoding a chunked body.
fn request(fake: &FakeZitadel, token: &str, org: Option<&str>, path: &str, body: &str) -> Answer {
    let org_header = org.map(|org| format!("x-zitadel-orgid: {org}\r\n")).unwrap_or_default();
    let head = format!(
        "POST /management/v1/{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         {org_header}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        fake.addr(),
        body.len()
    );
    exchange(fake, &(head + body))
}

fn post(fake: &FakeZitadel, token: &str, path: &str, body: &str) -> Answer {
    request(fake, token, None, path, body)
}

/// Sends raw request bytes on a new connection and reads the answer until the fake closes it.
fn exchange(fake: &FakeZitadel, raw: &str) -> Answer {
    let mut stream = TcpStream::connect(fake.addr()).expect("the fake accepts connections");
    stream.write_all(raw.as_bytes()).expect("the request is sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer");
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a head and a body");
    let head = std::str::from_utf8(&answer[..end]).expect("an ASCII head");
    let status = head[9..12].parse().expect("a status code");
    let body = &answer[end + 4..];
    // Chunks split the body anywhere, even inside a UTF-8 character.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunk(body)
    } else {
        body.to_vec()
    };
    Answer { status, body: String::from_utf8(body).expect("a UTF-8 body") }
}

fn unchunk(mut chunked: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = chunked.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = std::str::from_utf8(&chunked[..line_end]).expect("an ASCII chunk size");
        let size = usize::from_str_radix(size, 16).expect("a hex chunk size");
        if size == 0 {
            return body;
        }
        let rest = &chunked[line_end + 2..];
        body.extend_from_slice(&rest[..size]);
        chunked = &rest[size + 2..];
    }
}

fn project_members(project: &str) -> String {
    format!("projects/{project}/members/_search")
}

fn project_grants(project: &str) -> String {
    format!("projects/{project}/grants/_search")
}

fn grant_members(project: &str, grant: &str) -> String {
    format!("projects/{project}/grants/{grant}/members/_search")
}

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
    for (token, org) in [(ACME_PAT, None), ("demo-pat-instance", Some(GLOBEX))] {
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
fn datasets_zitadel_would_refuse_do_not_load() {
    let text = std::fs::read_to_string(root().join("testdata/demo.json")).unwrap();
    let broken = |from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        match Dataset::parse(&text.replacen(from, to, 1)) {
            Ok(_) => panic!("the demo with {to} loads"),
            Err(error) => error,
        }
    };
    let member_of_nobody = broken(
        r#"{"userId":"284906014215673861","details""#,
        r#"{"userId":"284999999999999999","details""#,
    );
    assert!(member_of_nobody.contains("members[1]: unknown user"), "{member_of_nobody}");
    let wrong_level = broken(r#""roles":["ORG_OWNER"]"#, r#""roles":["PROJECT_OWNER"]"#);
    assert!(wrong_level.contains("Org role \"PROJECT_OWNER\""), "{wrong_level}");
    let no_roles = broken(r#""roles":["ORG_OWNER"]"#, r#""roles":[]"#);
    assert!(no_roles.contains("at least one role"), "{no_roles}");
    let misspelt = broken(r#""roles":["ORG_OWNER"]"#, r#""role":["ORG_OWNER"]"#);
    assert!(misspelt.contains("unexpected \"role\""), "{misspelt}");
    let granted_to_nobody = broken(
        r#""grantId":"284917391238803461","grantedOrgId":"284905311209451523""#,
        r#""grantId":"284917391238803461","grantedOrgId":"284999999999999999""#,
    );
    assert!(granted_to_nobody.contains("unknown org"), "{granted_to_nobody}");
    let granted_to_itself = broken(
        r#""grantId":"284917391238803461","grantedOrgId":"284905311209451523""#,
        r#""grantId":"284917391238803461","grantedOrgId":"284905129371435012""#,
    );
    assert!(granted_to_itself.contains("to itself"), "{granted_to_itself}");
    // One grant per project and granted org: Legacy Billing's grant to Initech moved to
    // Customer Portal, which Initech already holds one of.
    let twice = broken(
        r#""284906598411882501": [
          {"grantId":"284917482019721221""#,
        r#""284906487321587717": [
          {"grantId":"284917482019721221""#,
    );
    assert!(twice.contains("already granted"), "{twice}");
    let unknown_project = broken(
        r#""284906512837640197": [
          {"grantId""#,
        r#""284906512837640198": [
          {"grantId""#,
    );
    assert!(unknown_project.contains("has no project"), "{unknown_project}");
    let key_not_delegated = broken(r#""roleKeys":["viewer","support"]"#, r#""roleKeys":["admin"]"#);
    assert!(key_not_delegated.contains("not delegated"), "{key_not_delegated}");
    let unknown_grant = broken(
        r#""projectGrantId":"284917204655128581""#,
        r#""projectGrantId":"284917204655128582""#,
    );
    assert!(unknown_grant.contains("unknown project grant"), "{unknown_grant}");
    let not_the_granted_org = broken(
        r#""projectGrantId":"284917204655128581""#,
        r#""projectGrantId":"284917391238803461""#,
    );
    assert!(not_the_granted_org.contains("cannot grant through it"), "{not_the_granted_org}");
}

/// Reads every page of a list as a sync would (1000 rows a page, as long as `totalResult`
/// says more rows exist) and returns the rows.
fn walk(fake: &FakeZitadel, token: &str, path: &str, queries: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    loop {
        let body = format!(
            r#"{{"query":{{"offset":"{}","limit":1000}},"queries":[{queries}]}}"#,
            rows.len()
        );
        let page = post(fake, token, path, &body).json();
        let page_rows = page["result"].as_array().cloned().unwrap_or_default();
        let total: usize = page["details"]["totalResult"].as_str().unwrap_or("0").parse().unwrap();
        let done = page_rows.is_empty();
        rows.extend(page_rows);
        if done || rows.len() >= total {
            return rows;
        }
    }
}

fn strings(value: &Value) -> Vec<String> {
    let items = value.as_array().cloned().unwrap_or_default();
    items.iter().map(|item| item.as_str().unwrap().to_string()).collect()
}

#[test]
fn a_generated_organization_serves_what_its_access_ground_truth_counts() {
    // Walks the served lists the way the sync reads the access picture and counts what the
    // stream would hold, independently of the generator's bookkeeping.
    // Small, but with enough project grants for every kind: inactive, without keys, with a
    // key the project lacks, without managers, without user grants made through it.
    let small = GenerateSpec::LARGE.divided(100);
    let spec = GenerateSpec { project_grants: 12, granted_orgs: 3, delegated_grants: 400, ..small };
    let (dataset, truth) = Dataset::generate(spec);
    let fake = serve(dataset, Options::default());
    let pat = GENERATED_PAT;
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut count = |name: &'static str, n: usize| *counts.entry(name).or_default() += n as u64;
    let mut external_users: HashSet<String> = HashSet::new();
    let mut external_orgs: HashSet<String> = HashSet::new();

    let me = format!(
        "GET /management/v1/orgs/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {pat}\r\n\
         Connection: close\r\n\r\n"
    );
    assert_eq!(exchange(&fake, &me).json()["org"]["id"], ACME);
    let users: HashSet<String> = walk(&fake, pat, "users/_search", "")
        .iter()
        .map(|user| user["id"].as_str().unwrap().to_string())
        .collect();
    count("user", users.len());
    count("org", 1);
    // A list of managers: an entitlement per listed or held role, a grant per member and role.
    let mut managers =
        |listed: &[String], rows: &[Value], counts: &mut dyn FnMut(&'static str, usize)| {
            let mut roles: HashSet<String> = listed.iter().cloned().collect();
            for row in rows {
                let held = strings(&row["roles"]);
                counts("manager_grant", held.len());
                counts("grant", held.len());
                roles.extend(held);
                let user = row["userId"].as_str().unwrap();
                if !users.contains(user) {
                    external_users.insert(user.to_string());
                }
            }
            counts("entitlement", roles.len());
        };
    let org_roles = strings(&post(&fake, pat, "orgs/members/roles/_search", "").json()["result"]);
    let project_roles =
        strings(&post(&fake, pat, "projects/members/roles/_search", "").json()["result"]);
    let grant_roles =
        strings(&post(&fake, pat, "projects/grants/members/roles/_search", "").json()["result"]);
    managers(&org_roles, &walk(&fake, pat, "orgs/me/members/_search", ""), &mut count);

    let mut grant_users: Vec<(String, bool)> = Vec::new();
    for project in walk(&fake, pat, "projects/_search", "") {
        let id = project["id"].as_str().unwrap();
        count("project", 1);
        let keys: Vec<String> = walk(&fake, pat, &format!("projects/{id}/roles/_search"), "")
            .iter()
            .map(|role| role["key"].as_str().unwrap().to_string())
            .collect();
        count("entitlement", keys.len());
        managers(&project_roles, &walk(&fake, pat, &project_members(id), ""), &mut count);
        for grant in walk(&fake, pat, &project_grants(id), "") {
            count("project_grant", 1);
            let grant_id = grant["grantId"].as_str().unwrap();
            managers(&grant_roles, &walk(&fake, pat, &grant_members(id, grant_id), ""), &mut count);
            if grant["state"] == "PROJECT_GRANT_STATE_INACTIVE" {
                count("inactive_project_grant", 1);
                continue;
            }
            for key in strings(&grant["grantedRoleKeys"]) {
                if keys.contains(&key) {
                    count("org_grant", 1);
                    count("grant", 1);
                    external_orgs.insert(grant["grantedOrgId"].as_str().unwrap().to_string());
                } else {
                    count("unknown_role_key", 1);
                }
            }
        }
        let queries =
            format!(r#"{{"withGrantedQuery":{{}}}},{{"projectIdQuery":{{"projectId":"{id}"}}}}"#);
        for grant in walk(&fake, pat, "users/grants/_search", &queries) {
            if grant["state"] == "USER_GRANT_STATE_INACTIVE" {
                count("inactive_user_grant", 1);
                continue;
            }
            let held = strings(&grant["roleKeys"]);
            if held.is_empty() {
                count("user_grant_without_roles", 1);
            }
            let delegated = grant.get("projectGrantId").is_some();
            for key in held {
                if !keys.contains(&key) {
                    count("unknown_role_key", 1);
                    continue;
                }
                count("grant", 1);
                if delegated {
                    count("delegated_grant", 1);
                }
                grant_users.push((grant["userId"].as_str().unwrap().to_string(), delegated));
            }
        }
    }
    for (user, _) in grant_users {
        if !users.contains(&user) {
            external_users.insert(user);
        }
    }
    count("external_user", external_users.len());
    count("external_org", external_orgs.len());

    counts.retain(|_, n| *n > 0);
    let expected: BTreeMap<&str, u64> =
        truth.access.counts.named().into_iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(counts, expected);
    assert_eq!(expected.len(), 15, "every kind occurs");
    let lines = 1
        + 4
        + ["user", "external_user", "org", "external_org", "project"]
            .iter()
            .chain(&["project_grant", "entitlement", "grant"])
            .map(|name| counts.get(name).copied().unwrap_or_default())
            .sum::<u64>();
    assert_eq!(lines, truth.access.records);
    let mut requests: BTreeMap<&str, u64> = BTreeMap::new();
    for request in fake.requests() {
        *requests.entry(endpoint_of(&request.path).expect("a known endpoint")).or_default() += 1;
    }
    assert_eq!(requests, truth.access.requests);
    assert_eq!(fake.request_count() as u64, truth.access.min_requests);
}
