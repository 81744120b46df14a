//! The access lists under filters and missing permissions, and while they change between
//! pages or come in another order on every request.

use super::*;

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
        // Ivy and Peter are named only as managers; the instance has nothing but managers.
        let expected = golden_where(|r| {
            !of_managers(r) && !of_instance(r) && r["id"] != IVY && r["id"] != PETER
        });
        assert_eq!(stream_records(&run.stdout), expected);
        let counts = &summary(&run.stdout)["counts"];
        assert_eq!(counts["manager_grant"], 0);
        assert_eq!(counts["org_grant"], 2, "grants to organizations are no managers");
        assert_eq!(summary(&run.stdout)["filters"], json!({"skip_managers": true}));
    }
    assert!(
        !fake.requests().iter().any(|r| r.path.contains("/members/") || r.path.contains("/admin/")),
        "no member list is read, nor the instance"
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
        user_id: String::new(),
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
            && r["id"] != VICTOR
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
            // The list's path, projectgrants, shares too much with this PAT to be shown.
            "POST /management/v1/[redacted]/_search at offset 0",
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
    // Partner 1's grant, the fourth of the organization's seven, is removed after its page
    // was read, and the rows after it move one place back.
    let path = "/management/v1/projectgrants/_search";
    for page_size in ["1", "2"] {
        let (baseline, run) = changed_between_pages(page_size, path, 4, |d| {
            assert!(d.remove_project_grant(ACME, "300000000000000301"));
        });
        assert_eq!(run.status, 0, "page size {page_size}: {}", run.stderr);
        let expected = records_and_requests(&baseline.stdout).0;
        // The grant was read before its removal, but its managers after it: they went with
        // it, and its one manager, of a partner, is no external user of the organization.
        let gone = |line: &&str| {
            let record: Value = serde_json::from_str(line).unwrap();
            record["id"]
                == "project_grant:300000000000000301:PROJECT_GRANT_OWNER:user:300000000000000201"
                || record["kind"] == "resource" && record["id"] == "300000000000000201"
        };
        let expected = expected.lines().filter(|line| !gone(line)).map(String::from);
        let what = format!("page size {page_size}");
        assert_same_records(&run.stdout, expected, &what);
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
    for seed in 1..=16 {
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
            line.contains("/members/_search") || line.contains("/projectgrants/_search")
        });
    }
    assert!(exact >= 8, "only {exact} of 16 shuffled syncs completed");
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

/// The instance's token syncs the same generated organization and the instance with it:
/// its record, manager roles and managers (of the organization, of the second one and of a
/// partner), and the tokens and keys of the service users, exactly as the ground truth
/// counts them, in its minimum of requests, and nothing omitted.
#[test]
fn a_generated_organization_with_the_instance_token_holds_the_instance_and_the_credentials() {
    let spec =
        GenerateSpec { project_grants: 12, granted_orgs: 3, ..GenerateSpec::LARGE.divided(100) };
    let (dataset, truth) = Dataset::generate(spec);
    let fake = serve(dataset, Options::default());
    let run = sync_ok(&fake, &[], &[("BATON_PAT", GENERATED_IAM_PAT)]);
    let access = &truth.instance_access;
    let summary = summary(&run.stdout);
    for (name, count) in access.counts.named() {
        assert_eq!(summary["counts"][name], count, "{name}");
    }
    assert_eq!(summary["counts"]["instance"], 1);
    assert!(access.counts.pat > 0 && access.counts.machine_key > 0, "{:?}", access.counts);
    assert!(summary.get("omitted").is_none(), "{summary}");
    assert_eq!(run.stdout.lines().count() as u64, access.records);
    let mut requests = std::collections::BTreeMap::new();
    for request in fake.requests() {
        *requests.entry(endpoint_of(&request.path).expect("a known endpoint")).or_default() += 1;
    }
    assert_eq!(requests, access.requests, "requests per endpoint");
    assert_eq!(summary["requests"], access.min_requests);
    // The organization's token reads the same credentials, and not the instance.
    assert_eq!(truth.access.counts.pat, access.counts.pat);
    assert_eq!(truth.access.counts.instance, 0);
    // The instance and its managers cost two requests, and each human of the organization
    // who manages only the instance one more, for how it signs in.
    let new_managers = access.counts.user_auth - truth.access.counts.user_auth;
    assert!(new_managers > 0, "an instance manager of this organization signs in");
    assert_eq!(access.min_requests, truth.access.min_requests + 2 + new_managers);
}
