//! The network's promises against a hostile or unusual network: a proxy the program cannot
//! speak is refused, `--timeout` bounds an attempt through a proxy that trickles its answer,
//! every address of this machine is reached directly, over IPv6 too, and `NO_PROXY` means
//! what it means to curl. Every address is loopback; names under `.invalid` reach the fake only through the
//! test proxy.

use std::io::ErrorKind;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use fake_zitadel::{FakeZitadel, Options};

use crate::harness::*;
use crate::relays::{ConnectProxy, tls_front};

/// A name only the test proxy resolves, at the fake's port, and the flag that allows
/// plain HTTP to it.
fn remote(fake: &FakeZitadel) -> String {
    format!("http://zitadel.invalid:{}", fake.addr().port())
}

#[test]
fn a_proxy_the_program_cannot_speak_is_a_configuration_error() {
    // SOCKS would be passed over: requests and name lookups would leave directly, around
    // the proxy the user set, even beside a proxy the program speaks.
    let fake = serve_demo();
    let proxy = ConnectProxy::start();
    let http_proxy = format!("http://{}", proxy.addr);
    let remote = remote(&fake);
    let args = ["--instance-url", &remote, "--allow-insecure-http"];
    for (variable, value) in [
        ("ALL_PROXY", "socks5://127.0.0.1:9"),
        ("all_proxy", "socks5h://user:secret@127.0.0.1:9"),
        ("HTTPS_PROXY", "socks4://127.0.0.1:9"),
        ("http_proxy", "socks://127.0.0.1:9"),
    ] {
        let run = sync(&fake, &args, &[(variable, value), ("HTTP_PROXY", &http_proxy)]);
        assert_failure(
            &run,
            2,
            &[
                &format!("{variable} names a socks"),
                "proxy, which baton-zitadel cannot use: the proxy schemes it supports are http:// and https://",
            ],
        );
        assert!(!run.stderr.contains("secret"), "{}", run.stderr);
    }
    assert_eq!(fake.request_count(), 0);
    assert_eq!(proxy.targets(), Vec::<String>::new());
    // The schemes it does speak: http://, the default, and https:// (the test proxy behind
    // a TLS terminator whose certificate the test CA signed).
    for scheme in ["http://", ""] {
        let value = format!("{scheme}{}", proxy.addr);
        let run = sync(&fake, &args, &[("ALL_PROXY", &value)]);
        assert!(run.stdout == demo_golden(), "{}", run.stderr);
    }
    let tls = root().join("testdata/tls");
    let https_proxy = format!("https://localhost:{}", tls_front(proxy.addr, &tls).port());
    let ca = tls.join("ca.pem");
    let with_ca = [&args[..], &["--ca-cert", ca.to_str().expect("a UTF-8 path")]].concat();
    let run = sync(&fake, &with_ca, &[("ALL_PROXY", &https_proxy)]);
    assert!(run.stdout == demo_golden(), "{}", run.stderr);
    assert_eq!(proxy.targets().len(), 3, "every sync went through the proxy");
}

/// A CONNECT proxy that answers one byte every quarter second, a header that never ends.
fn trickling_proxy() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            thread::spawn(move || -> std::io::Result<()> {
                let mut reader = BufReader::new(client.try_clone()?);
                let mut line = String::new();
                while reader.read_line(&mut line)? > 0 && !line.ends_with("\r\n\r\n") {}
                let mut client = client;
                client.write_all(b"HTTP/1.1 200 Connection established\r\nx-wait: ")?;
                // Ends when the client hangs up and a write fails.
                loop {
                    client.write_all(b"a")?;
                    thread::sleep(Duration::from_millis(250));
                }
            });
        }
    });
    addr
}

/// Runs the binary as `sync` does, but kills it and fails the test if it has not ended
/// within `limit`; returns the run and how long it took.
fn sync_within(
    fake: &FakeZitadel,
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> (Run, Duration) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton-zitadel"));
    command.env_clear().env("BATON_INSTANCE_URL", fake.url()).env("BATON_PAT", ACME_PAT);
    command.env("BATON_LOG_FORMAT", "console").envs(env.iter().copied()).args(args);
    let started = Instant::now();
    let child = bounded(&mut command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || sender.send(child.wait_with_output()));
    let Ok(output) = receiver.recv_timeout(limit) else {
        // The child is not reaped yet, so its pid is still its own.
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        panic!("the run did not end within {limit:?}");
    };
    let output = output.expect("the binary's output");
    let raw_stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let run = Run {
        status: output.status.code().expect("the binary exits, not killed by a signal"),
        stdout: masked(&raw_stdout),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        raw_stdout,
    };
    assert!(!run.stderr.contains(ACME_PAT) && !run.stdout.contains(ACME_PAT));
    (run, started.elapsed())
}

#[test]
fn the_timeout_bounds_an_attempt_through_a_proxy_that_trickles_its_answer() {
    // Each byte of the proxy's answer to CONNECT comes well within the timeout; the answer
    // never ends. The attempt as a whole must, by --timeout.
    let fake = serve_demo();
    let proxy = format!("http://{}", trickling_proxy());
    let remote = remote(&fake);
    let args = ["--instance-url", &remote, "--allow-insecure-http", "--timeout", "2"];
    let env = [("HTTP_PROXY", proxy.as_str()), ("BATON_MAX_RETRIES", "0")];
    let (run, took) = sync_within(&fake, &args, &env, Duration::from_secs(30));
    assert_failure(
        &run,
        1,
        &[&format!("GET /management/v1/orgs/me: no complete answer from {remote} within 2s")],
    );
    assert!(took < Duration::from_secs(8), "{took:?}");

    // And each attempt of a retried request is bounded the same way.
    let env = [("HTTP_PROXY", proxy.as_str()), ("BATON_MAX_RETRIES", "1")];
    let (run, took) = sync_within(&fake, &args, &env, Duration::from_secs(30));
    assert_failure(&run, 1, &["within 2s (--timeout)", "gave up after 2 attempts"]);
    assert!(took < Duration::from_secs(14), "{took:?}");
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn every_address_of_this_machine_is_reached_directly() {
    // Through a proxy, an address of this machine would name the proxy's machine, and an
    // http:// request would carry the PAT there in clear text. Plain HTTP is allowed to
    // each, as to 127.0.0.1.
    let fake = serve_demo();
    let proxy = ConnectProxy::start();
    let proxy_url = format!("http://{}", proxy.addr);
    let port = fake.addr().port();
    for host in ["[::ffff:127.0.0.1]", "0.0.0.0", "127.1", "0x7f.1", "localhost.", "LocalHost"] {
        let url = format!("http://{host}:{port}");
        let run = sync(&fake, &["--instance-url", &url], &[("HTTP_PROXY", &proxy_url)]);
        assert!(run.stdout == demo_golden(), "{url}: {}", run.stderr);
    }
    // `[::]` reaches this machine's `::1`, where the fake does not listen: the connection
    // fails (how depends on whether this machine has IPv6), and not at the proxy.
    let url = format!("http://[::]:{port}");
    let env = [("ALL_PROXY", proxy_url.as_str()), ("BATON_MAX_RETRIES", "0")];
    let run = sync(&fake, &["--instance-url", &url], &env);
    assert_failure(&run, 1, &[&url]);
    assert!(!run.stderr.contains("proxy"), "{}", run.stderr);
    assert_eq!(proxy.targets(), Vec::<String>::new(), "no request went through the proxy");
}

#[test]
fn a_zitadel_listening_on_ipv6_alone_is_synced_as_over_ipv4() {
    // The fake listens on `::1` only: the URL's bracketed address is parsed, connected to
    // and named in the Host header, and the name `localhost` reaches it too, whichever of
    // its addresses the resolver lists first.
    let fake = match FakeZitadel::start_on(demo(), Options::default(), Ipv6Addr::LOCALHOST.into()) {
        Ok(fake) => fake,
        Err(err) if matches!(err.kind(), ErrorKind::AddrNotAvailable | ErrorKind::Unsupported) => {
            eprintln!("skipped: this machine has no IPv6 loopback ({err})");
            return;
        }
        Err(err) => panic!("the fake ZITADEL starts on ::1: {err}"),
    };
    let port = fake.addr().port();
    assert_eq!(fake.url(), format!("http://[::1]:{port}"));
    for (url, host) in [
        (fake.url(), format!("[::1]:{port}")),
        (format!("http://localhost:{port}"), format!("localhost:{port}")),
    ] {
        let before = fake.requests().len();
        let run = sync(&fake, &["--instance-url", &url], &[]);
        assert!(run.stdout == demo_golden(), "{url}: {}", run.stderr);
        let requests = &fake.requests()[before..];
        assert!(
            requests.iter().all(|r| r.host.as_deref() == Some(host.as_str())),
            "{url}: {requests:?}"
        );
    }
}

#[test]
fn no_proxy_is_read_as_curl_reads_it() {
    let fake = serve_demo();
    let proxy = ConnectProxy::start();
    let proxy_url = format!("http://{}", proxy.addr);
    let remote = remote(&fake);
    let port = fake.addr().port();
    let args = ["--instance-url", &remote, "--allow-insecure-http", "--log-level", "debug"];
    let direct = |no_proxy: &[(&str, &str)], rule: &str| {
        let before = proxy.targets().len();
        let mut env = vec![("HTTP_PROXY", proxy_url.as_str()), ("BATON_MAX_RETRIES", "0")];
        env.extend_from_slice(no_proxy);
        let run = sync(&fake, &args, &env);
        // Only the proxy knows the name: reached directly, it does not resolve.
        assert_failure(&run, 1, &["cannot resolve the host of http://zitadel.invalid"]);
        assert_eq!(proxy.targets().len(), before, "{no_proxy:?} bypasses the proxy");
        let said = format!("debug: connecting to {remote} directly: {rule}");
        assert!(run.stderr.contains(&said), "{said}\n{}", run.stderr);
    };
    let matched = |variable: &str, entry: &str| {
        format!("{variable} entry \"{entry}\" matches zitadel.invalid:{port}")
    };
    direct(&[("NO_PROXY", "example.com, .invalid")], &matched("NO_PROXY", ".invalid"));
    direct(&[("NO_PROXY", "example.com,\tinvalid ")], &matched("NO_PROXY", "invalid"));
    direct(&[("NO_PROXY", "*.invalid")], &matched("NO_PROXY", "*.invalid"));
    direct(&[("NO_PROXY", "ZITADEL.invalid.")], &matched("NO_PROXY", "ZITADEL.invalid."));
    direct(&[("NO_PROXY", "x, *")], &matched("NO_PROXY", "*"));
    let on_port = format!("zitadel.invalid:{port}");
    direct(&[("NO_PROXY", &on_port)], &matched("NO_PROXY", &on_port));
    // An empty NO_PROXY is unset, and no_proxy counts.
    direct(&[("NO_PROXY", ""), ("no_proxy", ".invalid")], &matched("no_proxy", ".invalid"));

    let through = |no_proxy: &[(&str, &str)], rule: &str| {
        let before = proxy.targets().len();
        let mut env = vec![("HTTP_PROXY", proxy_url.as_str())];
        env.extend_from_slice(no_proxy);
        let run = sync(&fake, &args, &env);
        assert!(run.stdout == demo_golden(), "{no_proxy:?}: {}", run.stderr);
        assert_eq!(proxy.targets().len(), before + 1, "{no_proxy:?} uses the proxy");
        let proxy = format!("through the proxy {} (HTTP_PROXY): {rule}", proxy.addr);
        let said = format!("debug: connecting to {remote} {proxy}");
        assert!(run.stderr.contains(&said), "{said}\n{}", run.stderr);
    };
    let unmatched = |list: &str| format!("no entry of NO_PROXY ({list}) matches zitadel.invalid:");
    through(&[("NO_PROXY", "notzitadel.invalid")], &unmatched("notzitadel.invalid"));
    through(&[("NO_PROXY", "zitadel.invalid:1")], &unmatched("zitadel.invalid:1"));
    through(&[("NO_PROXY", "127.0.0.0/8")], &unmatched("127.0.0.0/8"));
    through(&[], "NO_PROXY is not set");
}
