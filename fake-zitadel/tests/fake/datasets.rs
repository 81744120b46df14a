//! Datasets: those ZITADEL would refuse do not load, and a generated organization serves
//! exactly what its ground truth counts.

use super::*;

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
    // The organization's human managers, whose authentication methods a sync reads once each.
    let mut described: Vec<String> = Vec::new();

    let me = format!(
        "GET /management/v1/orgs/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {pat}\r\n\
         Connection: close\r\n\r\n"
    );
    assert_eq!(exchange(&fake, &me).json()["org"]["id"], ACME);
    // The token's own user, as the sync asks for it for its summary.
    let user = format!(
        "GET /auth/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {pat}\r\n\
         Connection: close\r\n\r\n"
    );
    assert!(exchange(&fake, &user).json()["user"]["id"].is_string());
    let user_rows = walk(&fake, pat, "users/_search", "");
    let users: HashSet<String> =
        user_rows.iter().map(|user| user["id"].as_str().unwrap().to_string()).collect();
    count("user", users.len());
    let secrets = user_rows.iter().filter(|user| user["machine"]["hasSecret"] == true).count();
    count("client_secret", secrets);
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
                let human = row["userType"] == "TYPE_HUMAN";
                if users.contains(user) && human && !described.iter().any(|d| d == user) {
                    described.push(user.to_string());
                }
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
    // The organization's token may not read the instance: a sync asks once and goes on.
    assert_eq!(call(&fake, pat, "POST", "/admin/v1/members/roles/_search", "").status, 403);
    // The organization's tokens and keys, each of one of its service users, from the
    // organization-wide lists sorted by id, 1000 rows a page.
    for (list, kind) in [("/v2/users/pats/search", "pat"), ("/v2/users/keys/search", "machine_key")]
    {
        let mut rows: Vec<Value> = Vec::new();
        loop {
            let body = format!(
                r#"{{"pagination":{{"offset":"{}","limit":1000,"asc":true}},"sortingColumn":"KEY_FIELD_NAME_ID","filters":[{{"organizationIdFilter":{{"id":"{GENERATED_ORG}"}}}}]}}"#,
                rows.len()
            );
            let page = call(&fake, pat, "POST", list, &body).json();
            let page_rows = page["result"].as_array().cloned().unwrap_or_default();
            let total: usize =
                page["pagination"]["totalResult"].as_str().unwrap_or("0").parse().unwrap();
            let done = page_rows.is_empty();
            rows.extend(page_rows);
            if done || rows.len() >= total {
                break;
            }
        }
        for row in &rows {
            let user = row["userId"].as_str().unwrap();
            let of = user_rows.iter().find(|u| u["id"] == user).expect("a user of the org");
            assert!(of["machine"].is_object(), "{kind} of a human: {row}");
        }
        count(kind, rows.len());
    }

    let mut grant_users: Vec<(String, bool)> = Vec::new();
    // The organization's project grants, in one list.
    let all_grants = walk(&fake, pat, "projectgrants/_search", "");
    for project in walk(&fake, pat, "projects/_search", "") {
        let id = project["id"].as_str().unwrap();
        count("project", 1);
        let keys: Vec<String> = walk(&fake, pat, &format!("projects/{id}/roles/_search"), "")
            .iter()
            .map(|role| role["key"].as_str().unwrap().to_string())
            .collect();
        count("entitlement", keys.len());
        managers(&project_roles, &walk(&fake, pat, &project_members(id), ""), &mut count);
        for grant in all_grants.iter().filter(|grant| grant["projectId"] == id) {
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
    let policy = call(&fake, pat, "GET", "/management/v1/policies/login", "");
    assert_eq!(policy.json()["isDefault"], true, "the instance's default");
    for user in &described {
        let path = format!("/v2/users/{user}/authentication_methods");
        let methods = call(&fake, pat, "GET", &path, "");
        assert_eq!(methods.status, 200);
        assert!(methods.json()["details"].is_object());
        count("user_auth", 1);
    }
    count("external_user", external_users.len());
    count("external_org", external_orgs.len());

    counts.retain(|_, n| *n > 0);
    let expected: BTreeMap<&str, u64> =
        truth.access.counts.named().into_iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(counts, expected);
    assert_eq!(expected.len(), 19, "every kind occurs but the instance");
    let lines = 1
        + 8
        + ["user", "external_user", "pat", "machine_key", "client_secret", "user_auth", "org"]
            .iter()
            .chain(&["external_org", "project", "project_grant", "entitlement", "grant"])
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
