//! Retries and the network: transient faults retried without changing the output, the
//! retry budget, rate limits and timeouts, TLS with a private CA, proxies and name lookups.

use std::time::{Duration, Instant};

use fake_zitadel::{Fault, FaultAction, Options};

use crate::harness::*;
use crate::relays::{ConnectProxy, tls_front};

const UNAVAILABLE: &str =
    r#"{"code":14,"message":"connection error: desc = \"transport: error while dialing\""}"#;

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
    fake.inject(Fault::new(status(502, "<html>Bad Gateway</html>", Some("0"))).on_request(3));
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
    let dir = temp_dir("far-retry");
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
