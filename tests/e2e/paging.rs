//! Paging and consistency: the same records, byte for byte, whatever the page size, the
//! server's page limits or its order of rows, in the minimum of requests; and data that
//! changes during the walk is read exactly or the sync fails loudly.

use std::collections::{BTreeMap, HashSet};

use fake_zitadel::{Dataset, FakeZitadel, Fault, FaultAction, Limits, Mutation, Options, Token};

use crate::harness::*;

#[test]
fn demo_organization_matches_golden_files() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    golden("demo.ndjson", &run.stdout);
    golden("demo.stderr", &without_durations(&run.stderr));
    assert_eq!(summary(&run.stdout)["requests"], fake.request_count() as u64);
}

#[test]
fn two_runs_print_identical_bytes() {
    let fake = serve_demo();
    let first = sync(&fake, &[], &[]);
    let second = sync(&fake, &[], &[]);
    assert_eq!(first.status, 0);
    assert!(first.stdout == second.stdout);
}

#[test]
fn every_page_size_gives_the_same_records() {
    let (expected, _) = records_and_requests(&demo_golden());
    for page_size in ["1", "2", "3", "1000"] {
        let fake = serve_demo();
        let run = sync(&fake, &["--page-size", page_size], &[]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let (records, requests) = records_and_requests(&run.stdout);
        assert!(records == expected, "page size {page_size} changes the records");
        let log = fake.requests();
        assert_eq!(requests, log.len() as u64, "the summary counts every request");
        let page_size = page_size.parse().unwrap();
        for request in log.iter().filter(|r| r.method == "POST") {
            assert_eq!(
                request.limit,
                page_limit(request, page_size),
                "explicit limit: {request:?}"
            );
        }
    }
}

#[test]
fn page_size_from_the_environment() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[("BATON_PAGE_SIZE", "2")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let posts: Vec<_> = fake.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert!(posts.iter().all(|r| r.limit == page_limit(r, 2)), "{posts:?}");
}

#[test]
fn a_complete_walk_makes_the_minimum_of_requests() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let counts = &summary(&run.stdout)["counts"];
    let projects = counts["project"].as_u64().unwrap();
    let project_grants = counts["project_grant"].as_u64().unwrap();
    // orgs/me, one page of users, one of the organization's tokens and one of its keys, the
    // three member-role lists once each, one page of org managers, the instance with its
    // manager roles and one page of its managers, one of projects, one of the organization's
    // project grants, per project one of roles, of managers and of user grants, per project
    // grant one of managers, the login policy, the authentication methods of each human
    // manager of the organization, and the token's own user: every list of the demo fits in
    // one page of 1000.
    let log = fake.requests();
    let user_auth = counts["user_auth"].as_u64().unwrap();
    assert_eq!(user_auth, 5);
    assert_eq!(
        log.len() as u64,
        1 + 1 + 2 + 3 + 1 + 3 + 1 + 1 + 3 * projects + project_grants + 1 + user_auth + 1
    );
    let mut pages = HashSet::new();
    for request in &log {
        assert!(
            pages.insert((request.path.clone(), request.body.clone())),
            "page fetched twice: {request:?}"
        );
        assert_eq!(request.status, 200);
    }
    assert_eq!(log[0].path, "/management/v1/orgs/me");
    assert_eq!(log[0].org_header, None, "auto-detection asks for the token's own organization");
    for request in &log[1..] {
        assert_eq!(
            request.org_header.as_deref(),
            Some(ACME),
            "pinned to the announced org: {request:?}"
        );
    }
}

#[test]
fn short_pages_from_a_capped_server_do_not_end_the_walk() {
    // A server whose maximum page is 2 answers every request for 1000 with 400: the user
    // lowers --page-size. With a server default below the requested size, rows beyond the
    // default would be lost by a client that stops on a short page.
    let fake = serve(
        demo(),
        Options { limits: Limits::Enforced { default: 100, max: 2 }, ..Options::default() },
    );
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("Limit exceeded (QUERY-4M0fs)"), "{}", run.stderr);
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(records_and_requests(&run.stdout).0 == records_and_requests(&demo_golden()).0);
}

#[test]
fn servers_without_page_limits_give_the_same_output() {
    let fake = serve(demo(), Options { limits: Limits::Unlimited, ..Options::default() });
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout == demo_golden());
}

#[test]
fn an_inflated_user_total_ends_on_the_first_empty_page() {
    let fake = serve(demo(), Options { users_total_inflation: 5, ..Options::default() });
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(records_and_requests(&run.stdout).0 == records_and_requests(&demo_golden()).0);
    let user_pages: Vec<_> =
        fake.requests().into_iter().filter(|r| r.path.ends_with("/users/_search")).collect();
    let users = summary(&run.stdout)["counts"]["user"].as_u64().unwrap();
    assert_eq!(
        user_pages.len() as u64,
        users.div_ceil(2) + 1,
        "one probe of an empty page, then stop"
    );
}

#[test]
fn empty_organization() {
    let mut dataset = Dataset::new();
    dataset
        .add_org(r#"{"id":"111111111111111111","details":{"sequence":"1","creationDate":"2025-01-01T00:00:00Z","changeDate":"2025-01-01T00:00:00Z","resourceOwner":"111111111111111111"},"state":"ORG_STATE_ACTIVE","name":"Empty","primaryDomain":"empty.example.com"}"#)
        .unwrap();
    dataset.add_token(Token::org_viewer("demo-pat-empty", "111111111111111111"));
    let fake = serve(dataset, Options::default());
    let run = sync(&fake, &[], &[("BATON_PAT", "demo-pat-empty")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    golden("empty.ndjson", &run.stdout);
    // Without projects, neither the project nor the project grant manager roles are read.
    assert_eq!(
        fake.request_count(),
        10,
        "orgs/me, users, tokens, keys, the login policy, org manager roles, org managers, the instance's manager roles (403 for this organization's token), projects and the token's own user: one request each"
    );
}

fn record_set(stdout: &str) -> HashSet<String> {
    records_and_requests(stdout).0.lines().map(str::to_string).collect()
}

#[test]
fn a_user_created_mid_walk_is_printed_once_and_nothing_is_missed() {
    let fake = serve_demo();
    // Before the second users page, a user with the smallest id appears at offset 0 and
    // pushes every row one place on.
    let first = "100000000000000000";
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(move |d: &mut Dataset| {
            d.add_user(ACME, &user_row(first)).unwrap();
        })))
        .on_request(3),
    );
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let records = record_set(&run.stdout);
    assert!(
        record_set(&demo_golden()).is_subset(&records),
        "every record of the unchanged organization"
    );
    assert!(run.stdout.contains(first), "the new user is read on the second pass");
    assert!(run.stderr.contains("the list changed while it was read"), "{}", run.stderr);
}

#[test]
fn a_change_that_moves_no_user_costs_one_request() {
    let fake = serve_demo();
    // A write between two users pages moves the sequence but no row (like a profile edit):
    // one request checks that the next page still follows the last user read.
    fake.inject(Fault::new(FaultAction::Mutate(Mutation::new(|_: &mut Dataset| {}))).on_request(3));
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let (records, _) = records_and_requests(&run.stdout);
    assert!(records == records_and_requests(&demo_golden()).0);
    assert!(!run.stderr.contains("reading it again"), "no reread: {}", run.stderr);
    let users: Vec<_> =
        fake.requests().into_iter().filter(|r| r.path.ends_with("/users/_search")).collect();
    let offsets: Vec<_> = users.iter().map(|r| r.offset.unwrap()).collect();
    assert_eq!(offsets, [0, 2, 1, 3, 5, 7], "the page at offset 2 is asked again from offset 1");
}

#[test]
fn a_user_deleted_mid_walk_costs_no_other_user() {
    let fake = serve_demo();
    // Before the third users page, the first user (already printed) is deleted, which
    // pulls every later row one place back: without the reread one user would be skipped.
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(|d: &mut Dataset| {
            assert!(d.remove_user(ACME, "284906014215673861"));
        })))
        .on_request(4),
    );
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        record_set(&demo_golden())
            .iter()
            .filter(|r| r.contains("\"kind\":\"resource\""))
            .all(|r| run.stdout.contains(r.as_str()))
    );
}

/// Removes one of the first five grants of a project with 26 grants just before its second
/// page of five is read, which pulls an unread grant back into the first page's range: only
/// reading the list again finds it.
fn a_grant_removed_mid_walk(options: Options) {
    let mut dataset = demo();
    // Twenty more grants on one project make its grant list span pages of 5.
    let project = "284906512837640197";
    for i in 0..20 {
        // ZITADEL allows one user grant per user and project: each is another user, of
        // Globex, so each is printed as an external user before its grant.
        let grant = format!(
            r#"{{"id":"2849170000000000{i:02}","details":{{"resourceOwner":"{ACME}"}},"roleKeys":["developer"],"state":"USER_GRANT_STATE_ACTIVE","userId":"2849180000000000{i:02}","userName":"guest{i}","projectId":"{project}","orgId":"{ACME}","grantedOrgId":"{GLOBEX}"}}"#
        );
        dataset.add_user_grant(ACME, &grant).unwrap();
    }
    // The project's first grant; the sixth, Globex's user's, slides into the first page.
    let removed = "284915390265261061";
    let shifted = "project:284906512837640197:auditor:user:284905402271985667";
    let fake = serve(dataset, options);
    let baseline = sync(&fake, &["--page-size", "5"], &[]);
    assert_eq!(baseline.status, 0, "{}", baseline.stderr);
    assert!(baseline.stdout.contains(shifted));
    // Request numbers go on across runs, so the request of the second grants page in the
    // next run is its position in this one plus the requests made so far.
    let position = fake
        .requests()
        .iter()
        .position(|r| {
            r.path.ends_with("/users/grants/_search")
                && r.body.contains(project)
                && r.offset == Some(5)
        })
        .expect("the project's grants span pages") as u64;
    let target = fake.request_count() as u64 + position + 1;
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(move |d: &mut Dataset| {
            assert!(d.remove_user_grant(ACME, removed));
        })))
        .on_request(target),
    );
    let run = sync(&fake, &["--page-size", "5"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    // Every record but those of the removed user grant is still there.
    for record in record_set(&baseline.stdout) {
        if !record.contains(removed) {
            assert!(run.stdout.contains(&record), "missing after the change: {record}");
        }
    }
}

#[test]
fn a_grant_removed_mid_walk_costs_no_other_grant() {
    a_grant_removed_mid_walk(Options::default());
}

#[test]
fn a_busy_instance_does_not_hide_a_real_change() {
    a_grant_removed_mid_walk(Options { busy_instance: true, ..Options::default() });
}

#[test]
fn an_empty_page_after_a_deletion_does_not_end_the_walk() {
    // Thirteen users, pages of twelve: after the first page a user already printed is
    // deleted, the last user slides into the first page's range, and the second page is
    // empty. The last user, there all along, must still be printed.
    let mut dataset = demo();
    for i in 1..=4 {
        dataset.add_user(ACME, &user_row(&format!("30000000000000000{i}"))).unwrap();
    }
    let fake = serve(dataset, Options::default());
    // Request 1 is orgs/me, 2 the first users page, 3 the second.
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(|d: &mut Dataset| {
            assert!(d.remove_user(ACME, "284906014215673861"));
        })))
        .on_request(3),
    );
    let run = sync(&fake, &["--page-size", "12"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(summary(&run.stdout)["counts"]["user"], 13);
    assert!(run.stdout.contains(r#""id":"300000000000000004""#), "the last user is printed");
    let users: Vec<_> =
        fake.requests().into_iter().filter(|r| r.path.ends_with("/users/_search")).collect();
    let offsets: Vec<_> = users.iter().map(|r| r.offset.unwrap()).collect();
    assert_eq!(offsets, [0, 12, 11, 0], "the boundary is checked, then the list read again");
}

/// The number of requests for each list: its path, and the project of a grants request.
fn requests_per_list(fake: &FakeZitadel) -> BTreeMap<String, u64> {
    let mut lists = BTreeMap::new();
    for request in fake.requests().iter().filter(|r| r.method == "POST") {
        let project = request.body.split("\"projectId\":\"").nth(1).unwrap_or_default();
        let project = project.split('"').next().unwrap_or_default();
        *lists.entry(format!("{} {project}", request.path)).or_default() += 1;
    }
    lists
}

#[test]
fn a_busy_instance_costs_a_bounded_number_of_requests() {
    // ZITADEL's sequence moves on every request, as other organizations change, while this
    // one does not: the sync completes exactly, with at most one more read of each list.
    for page_size in ["2", "1000"] {
        let quiet = serve_demo();
        let expected = sync(&quiet, &["--page-size", page_size], &[]);
        assert_eq!(expected.status, 0, "{}", expected.stderr);
        let busy = serve(demo(), Options { busy_instance: true, ..Options::default() });
        let run = sync(&busy, &["--page-size", page_size], &[]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert!(
            records_and_requests(&run.stdout).0 == records_and_requests(&expected.stdout).0,
            "page size {page_size}: the records of a quiet instance"
        );
        assert!(!run.stderr.contains("the list changed"), "{}", run.stderr);
        let (quiet, busy) = (requests_per_list(&quiet), requests_per_list(&busy));
        assert_eq!(quiet.keys().collect::<Vec<_>>(), busy.keys().collect::<Vec<_>>());
        for (list, &pages) in &quiet {
            // A list on one page needs no other; one on several is read twice at most.
            let bound = if pages == 1 { 1 } else { 2 * pages };
            assert!(busy[list] <= bound, "{list}: {} requests, {pages} when quiet", busy[list]);
        }
        if page_size == "2" {
            assert!(run.stderr.contains("reading it again to confirm"), "{}", run.stderr);
        }
    }
}

#[test]
fn lists_served_in_a_new_order_on_every_request_are_read_exactly() {
    // Projects, roles and grants have no ORDER BY: a page at a later offset may hold rows
    // already read, in another order. That is no server ignoring the offset: every row is
    // printed exactly once, or the sync says the organization would not hold still. The
    // order of the projects decides whether Globex's Henry is first named by a user grant or
    // by a project grant's managers, which carry different fields of his.
    let expected = records_and_requests(&demo_golden()).0;
    let mut exact = 0;
    for seed in 1..=8 {
        let fake = serve(demo(), Options { shuffle_seed: Some(seed), ..Options::default() });
        let run = sync(&fake, &["--page-size", "2"], &[]);
        if run.status == 0 {
            assert_same_records(
                &run.stdout,
                expected.lines().map(String::from),
                &format!("seed {seed}"),
            );
            exact += 1;
        } else {
            assert_failure(&run, 5, &["organization changed during sync"]);
        }
    }
    assert!(exact >= 6, "only {exact} of 8 shuffled syncs completed");
}

#[test]
fn an_organization_that_never_holds_still_exits_5() {
    let fake = serve_demo();
    let counter = std::sync::atomic::AtomicU64::new(0);
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(move |d: &mut Dataset| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            d.add_user(ACME, &user_row(&format!("9{n:017}"))).unwrap();
        })))
        .on_path("/users/_search"),
    );
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_failure(
        &run,
        5,
        &[
            "POST /management/v1/users/_search",
            "organization changed during sync",
            "run the sync again",
        ],
    );
}

/// Replaces the one varying part of console logs, `sync complete in 0.1s`, with `in Ns`.
fn without_durations(stderr: &str) -> String {
    stderr
        .lines()
        .map(|line| match line.split_once("sync complete in ") {
            Some((head, tail)) => {
                format!("{head}sync complete in Ns{}\n", &tail[tail.find(':').unwrap_or(0)..])
            }
            None => format!("{line}\n"),
        })
        .collect()
}

/// The `limit` a request of a sync with this page size carries: every list is paged with an
/// explicit limit, but the three member-role lists take no body, so they have none.
fn page_limit(request: &fake_zitadel::RequestLog, page_size: u64) -> Option<u64> {
    (!request.path.ends_with("/members/roles/_search")).then_some(page_size)
}

#[test]
fn a_new_order_on_every_request_at_page_size_1_is_no_ignored_offset() {
    // Read a row a page, a list in no order often answers two offsets in a row with the
    // same row, by chance: that is a list that seems to change (read again, exit 5 if it
    // never settles), not a server that ignores the offset (exit 1), which needs proof.
    let expected = records_and_requests(&demo_golden()).0;
    for seed in 1..=12 {
        let fake = serve(demo(), Options { shuffle_seed: Some(seed), ..Options::default() });
        let run = sync(&fake, &["--page-size", "1"], &[]);
        if run.status == 0 {
            assert_same_records(
                &run.stdout,
                expected.lines().map(String::from),
                &format!("seed {seed}"),
            );
        } else {
            assert_failure(&run, 5, &["organization changed during sync"]);
        }
    }
}

#[test]
fn a_list_in_no_order_whose_every_offset_brings_one_page_is_an_ignored_offset() {
    // Proof: the very same page at offset after offset, sixteen requests in a row.
    let body = r#"{"details":{"totalResult":"100","processedSequence":"1"},"result":[{"key":"a"},{"key":"b"}]}"#;
    let roles = "/projects/284906487321587717/roles/_search";
    let fake = serve_demo();
    fake.inject(answer(200, body).on_path(roles));
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_failure(&run, 1, &["roles/_search at offset 30", "it ignores the offset"]);
    let pages = fake.requests().iter().filter(|r| r.path.ends_with(roles)).count();
    assert_eq!(pages, 16, "stopped as soon as proven");
}

#[test]
fn one_user_past_the_announced_total_is_refused() {
    // The boundary itself: three users on a page whose totalResult says two.
    let rows: Vec<String> = ["1", "2", "3"].iter().map(|id| user_row(id)).collect();
    let body = format!(
        r#"{{"details":{{"totalResult":"2","processedSequence":"1"}},"result":[{}]}}"#,
        rows.join(",")
    );
    let fake = serve_demo();
    fake.inject(answer(200, &body).on_path("/users/_search"));
    let run = sync(&fake, &["--page-size", "3"], &[]);
    assert_failure(
        &run,
        1,
        &["users/_search at offset 0", "at least 3 rows of a list whose totalResult is 2"],
    );
}

#[test]
fn a_wide_organization_is_read_whole_at_any_page_size() {
    // A thousand user grants of eighty role keys each: a page of them holds more role keys
    // than one page may (65,536), which no hostile server is needed for. The page ends
    // before the grant that is one too many, and the walk asks for the rest from there.
    // (The grants are inactive, so that the test reads them all but prints none.)
    const PORTAL: &str = "284906487321587717";
    let mut dataset = demo();
    let keys: Vec<String> = (0..80).map(|i| format!("\"role{i:02}\"")).collect();
    for i in 0..1000 {
        let grant = format!(
            r#"{{"id":"3100000000000{i:05}","details":{{"resourceOwner":"{ACME}"}},"roleKeys":[{}],"state":"USER_GRANT_STATE_INACTIVE","userId":"3000000000000{i:05}","projectId":"{PORTAL}","orgId":"{ACME}","grantedOrgId":"{ACME}"}}"#,
            keys.join(",")
        );
        dataset.add_user_grant(ACME, &grant).unwrap();
    }
    let fake = serve(dataset, Options::default());
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let inactive = |stdout: &str| summary(stdout)["counts"]["inactive_user_grant"].as_u64();
    assert_eq!(inactive(&run.stdout), inactive(&demo_golden()).map(|n| n + 1000));
    let offsets: Vec<u64> = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/users/grants/_search") && r.body.contains(PORTAL))
        .map(|r| r.offset.unwrap_or_default())
        .collect();
    assert!(
        matches!(offsets[..], [0, cut] if cut > 800),
        "a page cut short, then the rest: {offsets:?}"
    );
}
