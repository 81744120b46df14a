//! Secrets: the PAT appears in no output on any path, whether a server echoes it or a value
//! that may be one is misplaced, and no core dump holds it. Every run also passes `run`'s
//! check that no 8-character piece of its PAT appears in any output.
//!
//! `echoes.rs` holds a server echoing the PAT in ways meant to slip past the defences.

mod echoes;

use std::process::Command;
use std::time::Duration;

use fake_zitadel::{FakeZitadel, Fault, FaultAction, Options, Token};

use crate::harness::*;

#[test]
fn values_that_may_be_a_pat_are_never_echoed() {
    // `run` fails the test if any output holds "demo-pat-".
    let fake = serve_demo();
    for args in [
        &["demo-pat-acme-viewer"][..],
        &["--check=demo-pat-acme-viewer"],
        &["--skip-grants=demo-pat-acme-viewer"],
        &["--token=demo-pat-acme-viewer"],
    ] {
        let run = sync(&fake, args, &[]);
        assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    let run = sync(&fake, &["demo-pat-acme-viewer"], &[]);
    assert!(run.stderr.contains("unexpected argument"), "{}", run.stderr);
    let run = sync(&fake, &["--check=demo-pat-acme-viewer"], &[]);
    assert!(run.stderr.contains("--check takes no value"), "{}", run.stderr);
    assert_eq!(fake.request_count(), 0);
}

/// A PAT given where a path is expected is never printed: the message names the setting.
/// Once the PAT is known, a message that quotes a value hides it, as every log line does,
/// configuration errors included. (`run` fails the test on any output holding "demo-pat-".)
#[test]
fn a_pat_given_where_a_path_is_expected_is_never_printed() {
    let fake = serve_demo();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (
            &[],
            &[("BATON_PAT_FILE", ACME_PAT)],
            "--pat-file (BATON_PAT_FILE) names no readable file",
        ),
        (&["--pat-file", ACME_PAT], &[], "--pat-file (BATON_PAT_FILE) names no readable file"),
        (&["--ca-cert", ACME_PAT], &[], "--ca-cert (BATON_CA_CERT) names no readable file"),
        (&["--page-size", ACME_PAT], &[], "--page-size (BATON_PAGE_SIZE) must be"),
        (&[], &[("BATON_PAT", ACME_PAT), ("BATON_LOG_LEVEL", ACME_PAT)], "got \"[redacted]\""),
    ];
    for (args, env, needle) in cases {
        let run = sync(&fake, args, env);
        assert_failure(&run, 2, &[needle]);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn a_pat_that_is_not_ascii_exits_2_before_any_request() {
    let fake = serve_demo();
    // A PAT file saved by an editor that starts it with a UTF-8 byte-order mark.
    let with_bom = temp_file("pat-bom", &format!("\u{feff}{ACME_PAT}\r\n"));
    let run = sync(&fake, &[], &[("BATON_PAT_FILE", with_bom.to_str().unwrap())]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "baton-zitadel: the PAT from --pat-file (BATON_PAT_FILE) starts with a byte-order mark (U+FEFF), as some Windows editors write: save it without one\n"
    );
    let accented = temp_file("pat-accented", &format!("{ACME_PAT}é\n"));
    let run = sync(&fake, &["--pat-file", accented.to_str().unwrap()], &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "the PAT from --pat-file (BATON_PAT_FILE) contains a character that is not ASCII"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(fake.request_count(), 0, "no request with a PAT that cannot be sent");
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
        user_id: String::new(),
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
    // The one trailing newline of a variable is removed, as of a PAT file: that PAT is read.
    assert_eq!(runs.map(|run| run.status), [2, 2, 3, 4, 4, 4, 1, 1]);
    fake.inject(Fault::new(status(500, &echo, None)).on_path("/orgs/me"));
    let run = sync(&fake, &[], &env);
    assert_failure(&run, 1, &["internal error for Bearer [redacted]"]);
}

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
fn no_core_dump_holds_the_pat() {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("core");
    let unlimited = |command: &mut Command| {
        command.current_dir(&dir);
        // SAFETY: setrlimit is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(command, || {
                os::default_actions()?;
                os::limit(os::RLIMIT_CORE, u64::MAX)
            })
        };
    };
    // First, that this machine writes core dumps at all (`/proc/sys/kernel/core_pattern`).
    let mut control = Command::new("sleep");
    control.arg("30");
    unlimited(&mut control);
    let mut child = control.spawn().unwrap();
    os::send(&child, os::SIGQUIT);
    let status = child.wait().unwrap();
    assert!(status.core_dumped(), "this machine writes no core dumps, so this test cannot tell");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();

    let fake = slow_demo(Duration::from_secs(30));
    let mut command = binary(&fake, &[]);
    unlimited(&mut command);
    let mut child = command.spawn().unwrap();
    assert!(fake.wait_for_requests(1, Duration::from_secs(20)), "the sync started");
    os::send(&child, os::SIGQUIT);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(os::SIGQUIT));
    assert!(!status.core_dumped(), "a core dump would hold the PAT");
    assert_eq!(files_in(&dir), Vec::<String>::new());
}
