//! Hostile servers: a page far longer than asked for, the PAT echoed back wherever a server
//! can put text, and control characters meant to forge or hide console lines. Every run
//! also passes `run`'s check that no 8-character piece of its PAT appears in any output.

use std::path::PathBuf;

use super::*;
use fake_zitadel::{Fault, FaultAction};

/// An answer with this status and body, as ZITADEL's gateway would send it.
fn answer(status: u16, body: &str) -> Fault {
    Fault::new(FaultAction::Status { status, body: body.into(), headers: Vec::new() })
}

/// The bench's `--measure` mode: a freshly started, small process that runs the binary and
/// reports the binary's own peak RSS (see `measure` in examples/bench/main.rs). Measuring
/// from this test process instead would charge the binary with this process's own peak,
/// which Linux folds into a child's `ru_maxrss` when it starts. `cargo test` builds it.
fn bench() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let debug = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let bench = debug.join("examples").join("bench");
    assert!(bench.is_file(), "{} is missing: run `cargo test`, which builds it", bench.display());
    bench
}

/// Runs the binary against `fake` with only `env` (plus the URL, the ACME token and console
/// logs), and returns the run with the binary's peak RSS in KiB.
fn sync_measured(fake: &FakeZitadel, env: &[(&str, &str)]) -> (Run, u64) {
    let mut command = Command::new(bench());
    command
        .arg("--measure")
        .arg(env!("CARGO_BIN_EXE_baton-zitadel"))
        .env_clear()
        .env("BATON_INSTANCE_URL", fake.url())
        .env("BATON_PAT", ACME_PAT)
        .env("BATON_LOG_FORMAT", "console")
        .envs(env.iter().copied());
    let mut run = run(command);
    assert_eq!(run.status, 0, "the bench measured the run: {}", run.stderr);
    let (stderr, report) = run.stderr.trim_end().rsplit_once('\n').unwrap_or(("", &run.stderr));
    let report: Vec<u64> = report
        .strip_prefix("bench: measured: ")
        .expect("the bench's report ends stderr")
        .split(' ')
        .map(|field| field.parse().unwrap_or(u64::MAX))
        .collect();
    let [status, _wall_us, _cpu_us, peak_kib] = report[..] else {
        panic!("the bench's report has four fields: {report:?}");
    };
    run.status = i32::try_from(status).expect("an exit code, not a signal");
    run.stderr = format!("{stderr}\n");
    (run, peak_kib)
}

#[test]
fn a_page_of_a_million_rows_fails_in_little_memory() {
    // 3 MB of `{}` rows where 1000 were asked for: every row used to be read before the
    // page was found too long, 312 MiB of them.
    let body =
        format!(r#"{{"details":{{"totalResult":"1"}},"result":[{}{{}}]}}"#, "{},".repeat(999_999));
    let fake = serve_demo();
    fake.inject(answer(200, &body).on_path("/users/_search"));
    let (run, peak_kib) = sync_measured(&fake, &[("BATON_MAX_RETRIES", "0")]);
    assert!(peak_kib > 0, "the peak RSS was measured");
    assert!(peak_kib < 16 * 1024, "peak RSS {peak_kib} KiB, more than 16 MiB");
    assert_failure(
        &run,
        1,
        &["POST /management/v1/users/_search at offset 0", "more rows than the 1000 asked for"],
    );
}

#[test]
fn a_body_just_under_the_cap_with_a_huge_string_fails_in_little_memory() {
    // A body of almost 4 MiB whose one user's name is all of it, with an escape at the end,
    // so that it cannot be borrowed from the page: it would be copied, and copied again into
    // the record, three times the body in all. The string is refused before either copy.
    let name = format!("{}\\n", "x".repeat(4 * 1024 * 1024 - 300));
    let body = format!(
        r#"{{"details":{{"totalResult":"1"}},"result":[{{"id":"1","userName":"{name}"}}]}}"#
    );
    assert!(body.len() < 4 * 1024 * 1024, "under the cap: {}", body.len());
    let fake = serve_demo();
    fake.inject(answer(200, &body).on_path("/users/_search"));
    let (run, peak_kib) = sync_measured(&fake, &[("BATON_MAX_RETRIES", "0")]);
    assert!(peak_kib > 0 && peak_kib < 16 * 1024, "peak RSS {peak_kib} KiB, more than 16 MiB");
    assert_failure(
        &run,
        1,
        &["POST /management/v1/users/_search at offset 0", "longer than any ZITADEL field"],
    );
}

#[test]
fn a_body_over_the_cap_is_refused_with_a_way_out() {
    let body = format!(r#"{{"details":{{}},"padding":"{}"}}"#, " ".repeat(4 * 1024 * 1024));
    let fake = serve_demo();
    fake.inject(answer(200, &body).on_path("/users/_search"));
    let (run, peak_kib) = sync_measured(&fake, &[("BATON_MAX_RETRIES", "0")]);
    assert!(peak_kib > 0 && peak_kib < 16 * 1024, "peak RSS {peak_kib} KiB, more than 16 MiB");
    assert_failure(
        &run,
        1,
        &["the response body is larger than 4 MiB", "use a smaller --page-size (BATON_PAGE_SIZE)"],
    );
}

/// A PAT the fake accepts, random as real ones are, for the runs that echo it back.
const PAT: &str = "Xk2mP9qL7vR4tW8nZ3bY6cJ1";

fn serve_with_pat() -> FakeZitadel {
    let mut dataset = demo();
    dataset.add_token(Token::org_viewer(PAT, ACME));
    serve(dataset, Options::default())
}

#[test]
fn a_record_that_holds_the_pat_is_not_written() {
    // A hostile server puts the PAT into a user's name: the record would carry it to every
    // system the export feeds. It is not written, and the stream has no summary.
    let row = format!(
        r#"{{"id":"1","details":{{"resourceOwner":"{ACME}"}},"state":"USER_STATE_ACTIVE","userName":"eve","human":{{"profile":{{"displayName":"Eve {PAT} Hacker"}}}}}}"#
    );
    let fake = serve_with_pat();
    fake.inject(
        answer(200, &format!(r#"{{"details":{{"totalResult":"1"}},"result":[{row}]}}"#))
            .on_path("/users/_search"),
    );
    let run = sync(&fake, &[], &[("BATON_PAT", PAT), ("BATON_MAX_RETRIES", "0")]);
    assert_failure(
        &run,
        1,
        &["the server sent the PAT back inside a record, which is not written"],
    );
    assert!(!run.stdout.contains("summary"), "no summary: {}", run.stdout);
    assert!(!run.stdout.contains("Hacker"), "the record is not written: {}", run.stdout);
}

/// A user grant of the demo's first project and user, without role keys, so that it is
/// only warned about, with this id.
fn grant_without_roles(id_json: &str) -> String {
    format!(
        r#"{{"id":{id_json},"details":{{"resourceOwner":"{ACME}"}},"state":"USER_GRANT_STATE_ACTIVE","userId":"284906014215673861","projectId":"284906487321587717","grantedOrgId":"{ACME}"}}"#
    )
}

#[test]
fn no_piece_of_the_pat_is_printed_wherever_a_server_echoes_it() {
    let env = [("BATON_PAT", PAT), ("BATON_MAX_RETRIES", "0")];
    let middle = &PAT[5..17];
    let users = "/users/_search";
    let cases: Vec<(Fault, &str)> = vec![
        // serde's complaint quotes the value.
        (answer(200, &format!(r#"{{"details":{{"totalResult":"{PAT}"}}}}"#)).on_path(users), "got \"[redacted]\""),
        (
            answer(200, &format!(r#"{{"details":{{"totalResult":"1"}},"result":[{{"id":"1","human":{{"email":{{"isEmailVerified":"{PAT}"}}}}}}]}}"#))
                .on_path(users),
            "invalid type: string \"[redacted]\"",
        ),
        // Cut at 120 and 300 characters: the cut used to leave the PAT's first characters.
        (answer(500, &format!("{}{PAT}", "x".repeat(110))).on_path(users), "x[redacted]"),
        (
            answer(500, &format!(r#"{{"code":13,"message":"{}{PAT} (QUERY-2j00f)"}}"#, "x".repeat(290)))
                .on_path(users),
            "x[redacted]",
        ),
        // A piece of the PAT, not the whole.
        (answer(503, &format!(r#"{{"code":14,"message":"upstream saw {middle}"}}"#)), "saw [redacted]"),
        (
            Fault::new(FaultAction::Status {
                status: 302,
                body: String::new(),
                headers: vec![(
                    "Location".into(),
                    format!("https://evil.example.com/{}?t={PAT}", "a".repeat(162)),
                )],
            }),
            "?t=[redacted]",
        ),
    ];
    for (fault, needle) in cases {
        let fake = serve_with_pat();
        fake.inject(fault);
        let run = sync(&fake, &[], &env);
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", run.stderr);
    }

    // A server-chosen id in a warning, in both log formats, and a whole sync otherwise.
    let fake = serve_with_pat();
    fake.with_dataset(|d| d.add_user_grant(ACME, &grant_without_roles(&format!("\"{PAT}\""))))
        .unwrap();
    for format in ["console", "json"] {
        let run = sync(&fake, &[], &[env[0], ("BATON_LOG_FORMAT", format)]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert!(run.stderr.contains("user grant [redacted] of user"), "{}", run.stderr);
    }
}

#[test]
fn server_text_cannot_forge_or_hide_console_lines() {
    let forged = r#"\r\u001b[2Kbaton-zitadel: sync complete in 9.9s: 0 users\nbaton-zitadel: all good\u001b[2J\u202e"#;
    let fake = serve_demo();
    fake.with_dataset(|d| d.add_user_grant(ACME, &grant_without_roles(&format!("\"1{forged}\""))))
        .unwrap();
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(r"user grant 1\r\u{1b}[2Kbaton-zitadel: sync complete in 9.9s: 0 users\nbaton-zitadel: all good\u{1b}[2J\u{202e} of user"),
        "the id is shown with visible escapes:\n{}",
        run.stderr
    );
    assert_console_lines(&run.stderr);

    // The same in the error that ends a sync, and in every debug line.
    let message = format!(r#"{{"code":13,"message":"boom{forged}"}}"#);
    fake.inject(answer(500, &message).on_path("/projects/_search"));
    let run = sync(&fake, &[], &[("BATON_MAX_RETRIES", "0"), ("BATON_LOG_LEVEL", "debug")]);
    assert_failure(&run, 1, &[r"HTTP 500: boom\r\u{1b}[2Kbaton-zitadel: sync complete"]);
    assert_console_lines(&run.stderr);
}

/// Every line is one of ours, the forged lines start none, and no line holds a character
/// that could rewrite or reorder what the terminal shows.
fn assert_console_lines(stderr: &str) {
    assert!(stderr.ends_with('\n'));
    for line in stderr.lines() {
        assert!(line.starts_with("baton-zitadel: "), "a line not of ours: {line:?}");
        assert!(!line.starts_with("baton-zitadel: all good"), "a forged line: {stderr}");
        assert!(
            !line.starts_with("baton-zitadel: sync complete in 9.9s"),
            "a forged line: {stderr}"
        );
        assert!(
            !line.chars().any(|c| c.is_control() || ('\u{2028}'..='\u{202e}').contains(&c)),
            "a control character in {line:?}"
        );
    }
}
