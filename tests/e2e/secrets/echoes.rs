//! A hostile server echoing the PAT in ways meant to slip past the defences: any 16 bytes of
//! it inside a record, the PAT cut into short pieces, or its characters split by invisible
//! format characters in an error message; and names that a terminal would act on, which
//! the records carry escaped, with the same value.

use crate::harness::*;
use fake_zitadel::{FakeZitadel, Fault, FaultAction, Options, Token};
use serde_json::Value;

const PAT: &str = "Xk2mP9qL7vR4tW8nZ3bY6cJ1-echo-test";

fn answer(status: u16, body: &str) -> Fault {
    Fault::new(FaultAction::Status { status, body: body.into(), headers: Vec::new() })
}

fn serve_with_pat() -> FakeZitadel {
    let mut dataset = demo();
    dataset.add_token(Token::org_viewer(PAT, ACME));
    serve(dataset, Options::default())
}

/// A page of one user whose display name is `name`.
fn user_named(name: &str) -> Fault {
    let row = format!(
        r#"{{"id":"1","details":{{"resourceOwner":"{ACME}"}},"state":"USER_STATE_ACTIVE","userName":"eve","human":{{"profile":{{"displayName":"{name}"}}}}}}"#
    );
    answer(200, &format!(r#"{{"details":{{"totalResult":"1"}},"result":[{row}]}}"#))
        .on_path("/users/_search")
}

#[test]
fn a_record_holding_any_sixteen_bytes_of_the_pat_is_not_written() {
    for (start, end) in [(0, 16), (9, 25), (PAT.len() - 16, PAT.len())] {
        let fake = serve_with_pat();
        fake.inject(user_named(&format!("Eve {} Hacker", &PAT[start..end])));
        let run = sync(&fake, &[], &[("BATON_PAT", PAT), ("BATON_MAX_RETRIES", "0")]);
        assert_failure(&run, 1, &["the server sent the PAT back inside a record"]);
        assert!(!run.stdout.contains("Hacker"), "bytes {start}..{end} written: {}", run.stdout);
    }
}

#[test]
fn the_pat_in_short_pieces_or_split_by_format_characters_is_not_printed() {
    let env = [("BATON_PAT", PAT), ("BATON_MAX_RETRIES", "0")];
    let chunks = |size: usize| -> Vec<String> {
        PAT.as_bytes().chunks(size).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect()
    };
    for size in [7, 5, 4] {
        let fake = serve_with_pat();
        let message = chunks(size).join(" ");
        fake.inject(answer(503, &format!(r#"{{"code":14,"message":"upstream saw {message}"}}"#)));
        let run = sync(&fake, &[], &env);
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert!(run.stderr.contains("upstream saw [redacted]"), "{}", run.stderr);
        for chunk in chunks(size).iter().filter(|chunk| chunk.len() >= 4) {
            assert!(!run.stderr.contains(chunk.as_str()), "{chunk:?} printed:\n{}", run.stderr);
        }
    }
    for separator in ["\u{2060}", "\u{200b}", "\u{ad}", "\u{feff}"] {
        let fake = serve_with_pat();
        let hidden: String = PAT.chars().map(|c| format!("{c}{separator}")).collect();
        fake.inject(answer(503, &format!(r#"{{"code":14,"message":"upstream saw {hidden}"}}"#)));
        let run = sync(&fake, &[], &env);
        assert_eq!(run.status, 1, "{}", run.stderr);
        // What a reader sees once the invisible characters, or their escapes, are gone.
        let escape = separator.escape_debug().to_string();
        let seen = run.stderr.replace(separator, "").replace(&escape, "");
        for window in PAT.as_bytes().windows(8) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(!seen.contains(window), "{window:?} readable ({separator:?}):\n{seen}");
        }
        assert!(run.stderr.contains("upstream saw [redacted]"), "{}", run.stderr);
    }
}

#[test]
fn records_escape_what_a_terminal_would_act_on_and_keep_its_value() {
    let name = "Mallory\u{9b}2K\u{2028}x\u{2029}\u{202e}gnp.exe\u{2066}\u{200f}\u{85}";
    let fake = serve_demo();
    // As ZITADEL's JSON writer would send it: escaped, or raw, either way the same string.
    fake.inject(user_named(r"Mallory\u009b2K\u2028x\u2029\u202egnp.exe\u2066\u200f\u0085"));
    let run = sync(&fake, &["--resource-types", "user"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let line = run.stdout.lines().find(|line| line.contains("Mallory")).expect("the user");
    for raw in ['\u{9b}', '\u{2028}', '\u{2029}', '\u{202e}', '\u{2066}', '\u{200f}', '\u{85}'] {
        assert!(!line.contains(raw), "{raw:?} raw in {line}");
    }
    for escaped in ["\\u009b", "\\u2028", "\\u2029", "\\u202e", "\\u2066", "\\u200f", "\\u0085"] {
        assert!(line.contains(escaped), "{escaped} missing in {line}");
    }
    let record: Value = serde_json::from_str(line).unwrap();
    assert_eq!(record["display_name"], name, "the same decoded value");
}
