//! Transient faults, data that changes during the walk, hostile servers, TLS, proxies and
//! secret hygiene: each run either prints exactly the fault-free output or fails loudly with
//! the documented status.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::relays::{ConnectProxy, tls_front};
use super::*;
use fake_zitadel::{Answer, Dataset, Fault, FaultAction, Mutation, Options};

/// A retryable status answer; `Retry-After: 0` keeps the test from waiting out a backoff.
fn status(status: u16, body: &str, retry_after: Option<&str>) -> FaultAction {
    let headers = retry_after.map(|value| ("Retry-After".to_string(), value.to_string()));
    FaultAction::Status { status, body: body.into(), headers: headers.into_iter().collect() }
}

const UNAVAILABLE: &str =
    r#"{"code":14,"message":"connection error: desc = \"transport: error while dialing\""}"#;

/// Asserts that `run` printed the fault-free demo records, with `extra` more requests.
fn assert_fault_free(run: &Run, extra: u64) {
    assert_eq!(run.status, 0, "{}", run.stderr);
    let (records, requests) = records_and_requests(&run.stdout);
    let (expected, expected_requests) = records_and_requests(&demo_golden());
    assert!(records == expected, "the records differ from the fault-free run");
    assert_eq!(requests, expected_requests + extra);
}

#[test]
fn each_transient_fault_alone_is_retried_without_changing_the_output() {
    let faults = [
        status(503, UNAVAILABLE, Some("0")),
        status(
            500,
            r#"{"code":13,"message":"An internal error occurred (QUERY-AG4gs)"}"#,
            Some("0"),
        ),
        status(502, "<html>Bad Gateway</html>", Some("0")),
        status(504, "upstream timed out", Some("0")),
        status(408, "", Some("0")),
        // ZITADEL Cloud's edge answers 429 without a ZITADEL body.
        status(429, "Too Many Requests", Some("0")),
        FaultAction::DropConnection,
        FaultAction::CutBody,
        FaultAction::Garbage,
    ];
    for action in faults {
        let fake = serve_demo();
        fake.inject(Fault::new(action.clone()).on_path("/users/grants/_search").once());
        let run = sync(&fake, &[], &[]);
        assert_fault_free(&run, 1);
        assert!(
            run.stderr
                .contains("POST /management/v1/users/grants/_search at offset 0: attempt 1 failed"),
            "{action:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn mixed_faults_on_a_multi_page_walk_leave_the_output_unchanged() {
    let fake = serve_demo();
    // Faults on requests 2 to 6 hit users pages, then project and role pages; the retries
    // take request numbers too, so each fault hits a different page or retry.
    fake.inject(Fault::new(status(503, UNAVAILABLE, Some("0"))).on_request(2));
    fake.inject(Fault::new(FaultAction::Garbage).on_request(3));
    fake.inject(Fault::new(status(429, "slow down", Some("0"))).on_request(6));
    fake.inject(Fault::new(FaultAction::DropConnection).on_request(9));
    fake.inject(Fault::new(FaultAction::CutBody).on_request(14));
    let run = sync(&fake, &["--page-size", "2"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let (records, _) = records_and_requests(&run.stdout);
    assert!(records == records_and_requests(&demo_golden()).0);
    assert_eq!(run.stderr.matches("failed (").count(), 5, "one line per retry: {}", run.stderr);
    assert!(
        run.stderr.contains("rate limited by the server: at most 20 requests/s"),
        "{}",
        run.stderr
    );
}

#[test]
fn retry_after_is_honoured() {
    let fake = serve_demo();
    fake.inject(
        Fault::new(status(503, UNAVAILABLE, Some("1"))).on_path("/projects/_search").once(),
    );
    let started = Instant::now();
    let run = sync(&fake, &[], &[]);
    assert!(started.elapsed() >= Duration::from_secs(1), "waited as asked");
    assert_fault_free(&run, 1);
    assert!(run.stderr.contains("retrying in 1.0s"), "{}", run.stderr);
}

#[test]
fn after_a_429_the_sync_slows_down_for_good() {
    let fake = serve_demo();
    fake.inject(
        Fault::new(status(
            429,
            r#"{"code":8,"message":"Quota.Access.Exhausted (QUOTA-vjAy8)"}"#,
            Some("0"),
        ))
        .on_request(2),
    );
    let started = Instant::now();
    let run = sync(&fake, &[], &[]);
    assert_fault_free(&run, 1);
    // After the 429, at most 20 requests per second: the 9 requests after it take at
    // least 8 intervals of 50 ms.
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
}

#[test]
fn max_rps_caps_the_request_rate() {
    let fake = serve_demo();
    let started = Instant::now();
    let run = sync(&fake, &["--max-rps", "40"], &[]);
    assert_fault_free(&run, 0);
    let requests = summary(&run.stdout)["requests"].as_u64().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(25 * (requests - 1)));
}

#[test]
fn exhausted_retries_name_endpoint_offset_attempts_and_cause() {
    let fake = serve_demo();
    fake.inject(Fault::new(status(503, UNAVAILABLE, Some("0"))).on_path("/projects/_search"));
    let run = sync(&fake, &[], &[("BATON_MAX_RETRIES", "2")]);
    assert_failure(
        &run,
        1,
        &[
            "POST /management/v1/projects/_search at offset 0",
            "gave up after 3 attempts",
            "HTTP 503",
            "transport: error while dialing",
        ],
    );
    let attempts = fake.requests().iter().filter(|r| r.path.ends_with("/projects/_search")).count();
    assert_eq!(attempts, 3);
}

#[test]
fn the_retry_budget_bounds_the_total_wait() {
    let fake = serve_demo();
    fake.inject(Fault::new(status(503, UNAVAILABLE, Some("5"))).on_path("/users/_search"));
    let started = Instant::now();
    let run = sync(&fake, &["--retry-max-wait", "1"], &[]);
    assert!(started.elapsed() < Duration::from_secs(5), "a 5 s wait exceeds the 1 s budget");
    assert_failure(&run, 1, &["POST /management/v1/users/_search at offset 0", "HTTP 503"]);
}

#[test]
fn a_retry_after_beyond_the_budget_gives_up_at_once_without_a_crash() {
    let dir = std::env::temp_dir().join(format!("baton-zitadel-{}-far-retry", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join("export.ndjson");
    // A date beyond any clock, seconds beyond any integer, and one second over the budget.
    for retry_after in ["Sun, 06 Nov 300000000000 08:49:37 GMT", "99999999999999999999999", "301"] {
        let fake = serve_demo();
        fake.inject(
            Fault::new(status(503, UNAVAILABLE, Some(retry_after))).on_path("/users/_search"),
        );
        let started = Instant::now();
        let run = sync(&fake, &["--output", export.to_str().unwrap()], &[]);
        assert!(started.elapsed() < Duration::from_secs(10), "no wait: {retry_after}");
        assert_failure(
            &run,
            1,
            &[
                "POST /management/v1/users/_search at offset 0: gave up at once: HTTP 503",
                "the server asks to wait",
                "(Retry-After), more than the 300s left of --retry-max-wait",
            ],
        );
        let attempts =
            fake.requests().iter().filter(|r| r.path.ends_with("/users/_search")).count();
        assert_eq!(attempts, 1, "{retry_after}");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert!(left.is_empty(), "no file left behind: {left:?}");
    }
}

#[test]
fn client_errors_are_not_retried() {
    // `Retry-After: 0` would make a wrongly retried answer cheap, so only counting the
    // requests shows that none was retried.
    for (code, body, exit) in [
        (400, r#"{"code":3,"message":"invalid ListUsersRequest"}"#, 1),
        (401, r#"{"code":16,"message":"Errors.Token.Invalid (AUTH-7fs1e)"}"#, 3),
        (403, r#"{"code":7,"message":"No matching permissions found (AUTH-5mWD2)"}"#, 4),
        (404, r#"{"code":5,"message":"Not Found"}"#, 1),
    ] {
        let fake = serve_demo();
        fake.inject(Fault::new(status(code, body, Some("0"))).on_path("/users/_search"));
        let run = sync(&fake, &[], &[]);
        assert_failure(&run, exit, &[&format!("HTTP {code}")]);
        assert_eq!(fake.request_count(), 2, "orgs/me and one users request");
        assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
    }
}

#[test]
fn a_slow_server_times_out() {
    let fake =
        serve(demo(), Options { latency: Duration::from_millis(1500), ..Options::default() });
    let run = sync(&fake, &["--timeout", "0.2", "--max-retries", "1"], &[]);
    assert_failure(
        &run,
        1,
        &["GET /management/v1/orgs/me", "gave up after 2 attempts", "within 0.2s (--timeout)"],
    );
}

#[test]
fn the_timeout_bounds_a_whole_attempt() {
    // Each phase of the answer takes 0.7 s, within a 1 s timeout; the whole takes 1.4 s.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || slow_answer(stream, Duration::from_millis(700)));
        }
    });
    let url = format!("http://{addr}");
    let run =
        sync(&serve_demo(), &["--instance-url", &url, "--timeout", "1", "--max-retries", "0"], &[]);
    assert_failure(
        &run,
        1,
        &["GET /management/v1/orgs/me", "no complete answer", "within 1s (--timeout)"],
    );
}

/// Answers one request with ACME's `orgs/me`: the head after `pause`, the body after another.
fn slow_answer(stream: std::net::TcpStream, pause: Duration) {
    use std::io::{BufRead, BufReader, Write};
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
        line.clear();
    }
    let body = format!(r#"{{"org":{{"id":"{ACME}","name":"ACME Corporation"}}}}"#);
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut writer = &stream;
    std::thread::sleep(pause);
    let _ = writer.write_all(head.as_bytes()).and_then(|()| writer.flush());
    std::thread::sleep(pause);
    let _ = writer.write_all(body.as_bytes());
}

/// A user row in ACME's wire format with the given id.
fn user_row(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","details":{{"sequence":"1","creationDate":"2025-06-01T00:00:00Z","changeDate":"2025-06-01T00:00:00Z","resourceOwner":"{ACME}"}},"state":"USER_STATE_ACTIVE","userName":"u{id}","loginNames":["u{id}"],"preferredLoginName":"u{id}","machine":{{"name":"Robot {id}"}}}}"#
    )
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

/// A users page body with these ids as rows and the given `totalResult`.
fn users_page(ids: &[&str], total: u64) -> String {
    let rows: Vec<String> = ids.iter().map(|id| user_row(id)).collect();
    format!(
        r#"{{"details":{{"totalResult":"{total}","processedSequence":"1"}},"result":[{}]}}"#,
        rows.join(",")
    )
}

#[test]
fn hostile_or_broken_servers_fail_with_a_clear_error() {
    let huge = format!(r#"{{"details":{{}},"result":["{}"]}}"#, "x".repeat(33 << 20));
    let cases: Vec<(FaultAction, Vec<&str>)> = vec![
        (
            status(200, &users_page(&["1", "2", "3"], 9), None),
            vec!["malformed response: more rows than the 2 asked for"],
        ),
        (
            status(200, &users_page(&["1", "2"], 9), None),
            vec!["at offset 2", "it ignores the offset"],
        ),
        (
            status(200, r#"{"details":{"totalResult":"1"},"result":[{"userName":"no-id"}]}"#, None),
            vec!["a row has no id"],
        ),
        (
            status(200, r#"{"details":{"totalResult":"1"},"result":{"id":"1"}}"#, None),
            vec!["malformed response", "invalid type: map, expected a sequence"],
        ),
        (
            status(200, r#"{"details":{"totalResult":"many"}}"#, None),
            vec!["malformed response", "expected a uint64 string"],
        ),
        (status(200, &huge, None), vec!["larger than 4 MiB"]),
        (status(200, "[]", None), vec!["malformed response: a JSON array"]),
    ];
    for (action, needles) in cases {
        let fake = serve_demo();
        fake.inject(Fault::new(action).on_path("/users/_search"));
        let mut needles = needles;
        needles.push("POST /management/v1/users/_search");
        let run = sync(&fake, &["--page-size", "2"], &[("BATON_MAX_RETRIES", "0")]);
        assert_failure(&run, 1, &needles);
    }
}

#[test]
fn user_grants_no_zitadel_sends_are_refused() {
    let cases = [
        (
            r#"{"id":"1","roleKeys":["viewer"],"state":"USER_GRANT_STATE_ACTIVE","userId":"2","projectId":"999"}"#,
            "belongs to project 999",
        ),
        (
            r#"{"id":"1","roleKeys":["viewer"],"state":"USER_GRANT_STATE_ACTIVE","projectId":"284906487321587717"}"#,
            "user grant 1 has no userId",
        ),
    ];
    for (grant, needle) in cases {
        let fake = serve_demo();
        let body = format!(r#"{{"details":{{"totalResult":"1"}},"result":[{grant}]}}"#);
        fake.inject(Fault::new(status(200, &body, None)).on_path("/users/grants/_search").once());
        let run = sync(&fake, &[], &[]);
        assert_failure(&run, 1, &["POST /management/v1/users/grants/_search at offset 0", needle]);
    }
}

#[test]
fn a_list_answer_without_details_is_retried_then_refused() {
    // `{}` is no list answer of ZITADEL's (it always sends the projection's state), so it
    // is not taken for an empty organization.
    let fake = serve_demo();
    fake.inject(Fault::new(status(200, "{}", None)).on_path("/users/_search").once());
    assert_fault_free(&sync(&fake, &[], &[]), 1);

    let fake = serve_demo();
    fake.inject(Fault::new(status(200, "{}", None)).on_path("/users/_search"));
    let run = sync(&fake, &[], &[("BATON_MAX_RETRIES", "1")]);
    assert_failure(
        &run,
        1,
        &[
            "POST /management/v1/users/_search at offset 0",
            "gave up after 2 attempts",
            "a list answer without details",
        ],
    );
}

/// Answers every users page with rows never sent before and this `totalResult`, up to
/// offset 200, then with an empty page, so that a client that would page on forever ends.
fn fresh_users(total: &'static str) -> FaultAction {
    FaultAction::Answer(Answer::new(move |request| {
        let offset = request.offset.unwrap_or_default();
        if offset >= 200 {
            return r#"{"details":{"processedSequence":"1"}}"#.to_string();
        }
        let limit = request.limit.unwrap_or(1);
        let rows: Vec<String> = (offset..offset + limit)
            .map(|i| user_row(&(400_000_000_000_000_000 + i).to_string()))
            .collect();
        format!(
            r#"{{"details":{{"totalResult":"{total}","processedSequence":"1"}},"result":[{}]}}"#,
            rows.join(",")
        )
    }))
}

#[test]
fn a_server_that_keeps_sending_fresh_rows_is_stopped() {
    for (total, needle) in [
        ("0", "a list whose totalResult is 0"),
        ("9223372036854775808", "more than any organization has"),
    ] {
        let fake = serve_demo();
        fake.inject(Fault::new(fresh_users(total)).on_path("/users/_search"));
        let run = sync(&fake, &["--page-size", "2"], &[]);
        assert_failure(&run, 1, &["POST /management/v1/users/_search at offset", needle]);
        let pages = fake.requests().iter().filter(|r| r.path.ends_with("/users/_search")).count();
        assert!(pages <= 2, "total {total}: {pages} pages read");
    }
}

/// The demo with these changes to its dataset file.
pub(super) fn demo_changed(change: impl FnOnce(&mut Value)) -> Dataset {
    let text = std::fs::read_to_string(root().join("testdata/demo.json")).unwrap();
    let mut demo: Value = serde_json::from_str(&text).unwrap();
    change(&mut demo);
    Dataset::parse(&demo.to_string()).unwrap()
}

/// The grant records of a stream naming this principal.
fn grants_of(stdout: &str, user: &str) -> usize {
    stdout.lines().filter(|l| l.contains(r#""kind":"grant""#) && l.contains(user)).count()
}

#[test]
fn a_grant_of_a_user_not_printed_is_skipped_and_counted() {
    // A user removed while its two user grants linger in the grants projection.
    const REMOVED: &str = "284906201935945733";
    let mut dataset = demo();
    assert!(dataset.remove_user(ACME, REMOVED));
    let fake = serve(dataset, Options::default());
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(grants_of(&run.stdout, REMOVED), 0, "no grant names a user never printed");
    assert_eq!(summary(&run.stdout)["counts"]["grant_without_principal"], 2);
    assert!(
        run.stderr.contains(&format!("names user {REMOVED}, who is not among the users printed")),
        "{}",
        run.stderr
    );
    // Without user records, grants name their principals by id only, unchecked.
    let run = sync(&fake, &["--resource-types", "project"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(grants_of(&run.stdout, REMOVED), 2);
    assert_eq!(summary(&run.stdout)["counts"]["grant_without_principal"], 0);

    // A user created, with a grant, after the users were read.
    let fake = serve_demo();
    fake.inject(
        Fault::new(FaultAction::Mutate(Mutation::new(|d: &mut Dataset| {
            d.add_user(ACME, &user_row("300000000000000001")).unwrap();
            let grant = format!(
                r#"{{"id":"300000000000000002","details":{{"resourceOwner":"{ACME}"}},"roleKeys":["viewer"],"state":"USER_GRANT_STATE_ACTIVE","userId":"300000000000000001","projectId":"284906487321587717","orgId":"{ACME}","grantedOrgId":"{ACME}"}}"#
            );
            d.add_user_grant(ACME, &grant).unwrap();
        })))
        .on_path("/users/grants/_search")
        .once(),
    );
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(grants_of(&run.stdout, "300000000000000001"), 0);
    assert_eq!(summary(&run.stdout)["counts"]["grant_without_principal"], 1);
}

#[test]
fn grants_without_granted_org_id_are_checked_against_the_users_printed() {
    // Some v4 builds leave `grantedOrgId` empty on every grant (zitadel#10723): the grants
    // of the organization's own users are printed as always, and the grants of another
    // organization's user, who cannot be told apart from a user never printed, are not.
    let dataset = demo_changed(|demo| {
        for org in demo["orgs"].as_array_mut().unwrap() {
            for grant in org["userGrants"].as_array_mut().unwrap() {
                grant.as_object_mut().unwrap().remove("grantedOrgId");
            }
        }
    });
    let fake = serve(dataset, Options::default());
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    // Globex's Henry holds two user grants and manages a project grant, whose member row
    // says whose user he is: he is still printed, from that row, but his user grants are
    // not. Initech's Samir holds one grant made through a project grant, and nothing else.
    let (henry, samir) = ("284905402271985667", "284905819327361027");
    let expected = records_and_requests(&demo_golden()).0;
    let expected = expected.lines().filter(|record| {
        let henrys_user_grant = record.contains("\"user_grant_id\"") && record.contains(henry);
        !(record.contains(samir) || henrys_user_grant)
    });
    assert_same_records(
        &run.stdout,
        expected.map(String::from),
        "Henry's and Samir's user grants left out",
    );
    let henry = &records_by_id(&run.stdout)[&("resource:user".to_string(), henry.to_string())];
    assert!(henry.get("org_name").is_none(), "built from the member row: {henry}");
    let counts = &summary(&run.stdout)["counts"];
    assert_eq!(
        (counts["external_user"].as_u64(), counts["grant_without_principal"].as_u64()),
        (Some(3), Some(3))
    );
}

#[test]
fn a_role_key_listed_twice_is_one_grant() {
    let mut dataset = demo();
    let grant = format!(
        r#"{{"id":"300000000000000003","details":{{"resourceOwner":"{ACME}"}},"roleKeys":["operator","auditor","operator"],"state":"USER_GRANT_STATE_ACTIVE","userId":"284909377230946309","projectId":"284906512837640197","orgId":"{ACME}","grantedOrgId":"{ACME}"}}"#
    );
    dataset.add_user_grant(ACME, &grant).unwrap();
    // And a long list, as only a server gone wrong would send.
    let keys = vec![r#""viewer","editor""#; 20].join(",");
    let grant = format!(
        r#"{{"id":"300000000000000004","details":{{"resourceOwner":"{ACME}"}},"roleKeys":[{keys}],"state":"USER_GRANT_STATE_ACTIVE","userId":"284908102417326085","projectId":"284906487321587717","orgId":"{ACME}","grantedOrgId":"{ACME}"}}"#
    );
    dataset.add_user_grant(ACME, &grant).unwrap();
    let fake = serve(dataset, Options::default());
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(grants_of(&run.stdout, "300000000000000003"), 2, "operator and auditor, once each");
    assert_eq!(grants_of(&run.stdout, "300000000000000004"), 2, "viewer and editor, once each");
    let golden = summary(&demo_golden())["counts"]["grant"].as_u64().unwrap();
    assert_eq!(summary(&run.stdout)["counts"]["grant"], golden + 4);
}

#[test]
fn a_project_id_the_server_answers_with_another_project_is_unknown() {
    // GetProjectByID answering with another id is no answer for the id asked.
    let fake = serve_demo();
    let project = format!(r#"{{"project":{{"id":"1","details":{{"resourceOwner":"{ACME}"}}}}}}"#);
    // The first request to that path is GetProjectByID; its roles come later.
    fake.inject(
        Fault::new(status(200, &project, None)).on_path("/projects/284906487321587717").once(),
    );
    let run = sync(&fake, &["--project-id", "284906487321587717"], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("\"284906487321587717\" is not a project of the organization"));
}

#[test]
fn https_with_a_private_ca() {
    let fake = serve_demo();
    let tls = root().join("testdata/tls");
    let front = tls_front(fake.addr(), &tls);
    let url = format!("https://127.0.0.1:{}", front.port());
    let ca = tls.join("ca.pem");
    let run = sync(&fake, &["--instance-url", &url, "--ca-cert", ca.to_str().unwrap()], &[]);
    assert!(run.stdout == demo_golden(), "{}", run.stderr);

    // Without the CA the bundled roots do not trust the server: a configuration problem,
    // said once and not retried.
    fake.clear_requests();
    let run = sync(&fake, &["--instance-url", &url], &[]);
    assert_failure(&run, 1, &["TLS with https://127.0.0.1", "--ca-cert (BATON_CA_CERT)"]);
    assert_eq!(fake.request_count(), 0);
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);

    // https:// to a port that speaks plain HTTP: no certificate would help, so say what is.
    let plain = format!("https://127.0.0.1:{}", fake.addr().port());
    let run = sync(&fake, &["--instance-url", &plain, "--max-retries", "2"], &[]);
    assert_failure(&run, 1, &[&format!("{plain} does not speak TLS on that port")]);
    assert!(!run.stderr.contains("--ca-cert"), "{}", run.stderr);
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);

    let run = sync(&fake, &["--ca-cert", "Cargo.toml"], &[]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("holds no PEM certificate"), "{}", run.stderr);
}

#[test]
fn proxies_from_the_environment_are_used_and_no_proxy_is_honoured() {
    let fake = serve_demo();
    let proxy = ConnectProxy::start();
    let proxy_url = format!("http://{}", proxy.addr);
    // A name only the proxy resolves: the sync can only succeed through the proxy.
    let remote = format!("http://zitadel.invalid:{}", fake.addr().port());
    let through_proxy = ["--instance-url", &remote, "--allow-insecure-http"];
    let run = sync(&fake, &through_proxy, &[("HTTP_PROXY", &proxy_url)]);
    assert!(run.stdout == demo_golden(), "{}", run.stderr);
    let target = format!("zitadel.invalid:{}", fake.addr().port());
    assert_eq!(proxy.targets().first(), Some(&target));

    let before = proxy.targets().len();
    let run = sync(&fake, &through_proxy, &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", ".invalid")]);
    assert_failure(&run, 1, &["cannot resolve the host of http://zitadel.invalid"]);
    assert_eq!(proxy.targets().len(), before, "NO_PROXY bypasses the proxy");

    // A proxy that is not there, or whose name does not resolve: the error names the proxy
    // and its variable, not the instance.
    let env = [("HTTP_PROXY", "http://127.0.0.1:9"), ("BATON_MAX_RETRIES", "0")];
    let run = sync(&fake, &through_proxy, &env);
    assert_failure(
        &run,
        1,
        &["GET /management/v1/orgs/me: the proxy 127.0.0.1:9 (HTTP_PROXY) refused the connection"],
    );
    let run = sync(&fake, &through_proxy, &[("ALL_PROXY", "http://proxy.invalid:3128")]);
    assert_failure(
        &run,
        1,
        &[
            "cannot resolve the host of the proxy proxy.invalid:3128 (ALL_PROXY): the name does not exist",
        ],
    );
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);

    let run = sync(&fake, &[], &[("HTTPS_PROXY", "http://user:pw@proxy example")]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("HTTPS_PROXY is not a valid proxy URL") && !run.stderr.contains("pw@")
    );
}

#[test]
fn a_loopback_instance_never_goes_through_a_proxy() {
    // Through a proxy, a loopback address would name the proxy's machine, and an http://
    // request would carry the PAT there in clear text.
    let fake = serve_demo();
    let tls = root().join("testdata/tls");
    let front = tls_front(fake.addr(), &tls);
    let proxy = ConnectProxy::start();
    let proxy_url = format!("http://{}", proxy.addr);
    let https = format!("https://localhost:{}", front.port());
    let ca = tls.join("ca.pem");
    for (args, variable) in [
        (vec![], "HTTP_PROXY"),
        (vec![], "ALL_PROXY"),
        (vec!["--instance-url", &https, "--ca-cert", ca.to_str().unwrap()], "HTTPS_PROXY"),
    ] {
        let run = sync(&fake, &args, &[(variable, &proxy_url)]);
        assert!(run.stdout == demo_golden(), "{variable}: {}", run.stderr);
    }
    assert_eq!(proxy.targets(), Vec::<String>::new(), "no request went through the proxy");
}

#[test]
fn a_name_that_does_not_resolve_is_not_retried() {
    // `.invalid` never resolves (RFC 6761); the resolver says so at once.
    let fake = serve_demo();
    let started = Instant::now();
    let run =
        sync(&fake, &["--instance-url", "https://zitadel.invalid", "--max-retries", "3"], &[]);
    assert_failure(
        &run,
        1,
        &[
            "GET /management/v1/orgs/me: cannot resolve the host of https://zitadel.invalid: the name does not exist",
            "check --instance-url (BATON_INSTANCE_URL)",
        ],
    );
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn plain_http_is_for_loopback_only() {
    let fake = serve_demo();
    for url in ["http://zitadel.example.com", "http://192.0.2.10:8080"] {
        let run = sync(&fake, &["--instance-url", url], &[]);
        assert_eq!(run.status, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("would send the PAT in clear text")
                && run.stderr.contains("--allow-insecure-http")
        );
    }
    let localhost = format!("http://localhost:{}", fake.addr().port());
    assert_eq!(sync(&fake, &["--instance-url", &localhost], &[]).status, 0);
}

#[test]
fn the_pat_appears_in_no_output_on_any_path() {
    // `run` checks every stream of every run for the PAT; this walks the error paths with
    // a PAT the fake accepts, including a server that echoes it back.
    const PAT: &str = "not-a-real-pat-1234";
    let mut dataset = demo();
    dataset.add_token(Token {
        token: PAT.into(),
        user_org: ACME.into(),
        instance_level: false,
        permissions: vec!["org.read".into()],
    });
    let fake = serve(dataset, Options::default());
    let echo = format!(r#"{{"code":13,"message":"internal error for Bearer {PAT}"}}"#);
    let env = [("BATON_PAT", PAT), ("BATON_MAX_RETRIES", "0")];
    let runs = [
        sync(&fake, &["--page-size", "0"], &env),
        sync(&fake, &["--instance-url", "https://admin:x@example.com"], &env),
        sync(&fake, &[], &[("BATON_PAT", "not-a-real-pat-12345")]),
        sync(&fake, &[], &env),
        sync(&fake, &["--org-id", GLOBEX], &env),
        sync(&fake, &[], &[("BATON_PAT", "not-a-real-pat-1234\n")]),
        sync(
            &fake,
            &["--instance-url", "http://zitadel.invalid", "--allow-insecure-http"],
            &[env[0], env[1], ("HTTP_PROXY", "http://127.0.0.1:9")],
        ),
        sync(
            &fake,
            &["--instance-url", &format!("https://127.0.0.1:{}", fake.addr().port())],
            &env,
        ),
    ];
    assert_eq!(runs.map(|run| run.status), [2, 2, 3, 4, 4, 2, 1, 1]);
    fake.inject(Fault::new(status(500, &echo, None)).on_path("/orgs/me"));
    let run = sync(&fake, &[], &env);
    assert_failure(&run, 1, &["internal error for Bearer [redacted]"]);
}
