//! When, and by whom: the dates of every grant, and what the summary says of the run itself
//! (its times, the instance, the program's version, the filters, the token's own user), with
//! every other byte of two runs on unchanged data the same.

use std::process::Command;

use fake_zitadel::{Fault, FaultAction};
use serde_json::Value;

use crate::harness::*;

/// The demo's service user, whose PAT the demo's sync uses (`userId` of its token).
const BATON_SYNC: &str = "284913718839001605";

/// `stdout` with its summary's times masked, and nothing else.
fn without_times(stdout: &str) -> String {
    let url = summary(stdout)["instance_url"].as_str().unwrap().to_string();
    masked(stdout).replace("\"instance_url\":\"*\"", &format!("\"instance_url\":\"{url}\""))
}

#[test]
fn two_runs_differ_only_in_their_times() {
    let fake = serve_demo();
    let first = sync(&fake, &[], &[]);
    let second = sync(&fake, &[], &[]);
    assert_eq!((first.status, second.status), (0, 0), "{}", first.stderr);
    let (one, other) = (&first.raw_stdout, &second.raw_stdout);
    // Every line but the summary is byte for byte the same, and so is the summary but for
    // `started_at` and `finished_at`, which are the run's own.
    let (records, last) = one.trim_end().rsplit_once('\n').unwrap();
    assert!(other.starts_with(records), "the records differ between two runs");
    let strip = |line: &str| {
        let mut line: Value = serde_json::from_str(line).unwrap();
        let fields = line.as_object_mut().unwrap();
        (fields.remove("started_at"), fields.remove("finished_at"), line)
    };
    let (_, other_last) = other.trim_end().rsplit_once('\n').unwrap();
    let (started, finished, rest) = strip(last);
    let (_, _, other_rest) = strip(other_last);
    assert_eq!(rest, other_rest);
    assert_eq!(rest["instance_url"], fake.url(), "the same settings, the same URL");
    // The times are RFC 3339 in UTC with milliseconds, in order.
    let (started, finished) = (started.unwrap(), finished.unwrap());
    let (started, finished) = (started.as_str().unwrap(), finished.as_str().unwrap());
    for time in [started, finished] {
        assert_eq!(time.len(), "2025-01-20T10:00:01.123Z".len(), "{time}");
        assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
    }
    assert!(started <= finished, "{started} {finished}");
    assert_eq!(without_times(one), without_times(other));
}

#[test]
fn the_summary_says_which_instance_which_program_and_which_user() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let summary = summary(&run.raw_stdout);
    assert_eq!(summary["instance_url"], fake.url());
    assert_eq!(summary["synced_by"], BATON_SYNC);
    let version = Command::new(env!("CARGO_BIN_EXE_baton-zitadel")).arg("--version").output();
    let version = String::from_utf8(version.unwrap().stdout).unwrap();
    let first_line = version.lines().next().unwrap();
    assert_eq!(first_line, format!("baton-zitadel {}", summary["version"].as_str().unwrap()));
    // The whole organization: no filters, nothing omitted.
    assert!(summary.get("filters").is_none() && summary.get("omitted").is_none(), "{summary}");
    // The token's own user is asked for once, and counted among the requests.
    let log = fake.requests();
    let asked = log.iter().filter(|request| request.path == "/auth/v1/users/me").count();
    assert_eq!(asked, 1);
    assert_eq!(summary["requests"], log.len() as u64);
}

#[test]
fn the_filters_in_effect_are_named_even_the_inactive_grants() {
    let fake = serve_demo();
    let run = sync(&fake, &["--include-inactive-grants", "--skip-managers"], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let summary = summary(&run.stdout);
    assert_eq!(
        summary["filters"],
        serde_json::json!({"skip_managers": true, "include_inactive_grants": true})
    );
}

/// A ZITADEL, or a proxy before it, that refuses `users/me` costs the summary its
/// `synced_by`, and says so in `omitted`; the records are those of any other run.
#[test]
fn a_refused_users_me_leaves_synced_by_out_and_says_why() {
    for (status, code) in [(403, 7), (404, 5), (501, 12)] {
        let fake = serve_demo();
        let fault = FaultAction::error(status, code, "refused here");
        fake.inject(Fault::new(fault).on_path("/auth/v1/users/me"));
        let run = sync(&fake, &[], &[]);
        assert_fault_free(&run, 0);
        let summary = summary(&run.stdout);
        assert!(summary.get("synced_by").is_none(), "{summary}");
        let why = format!("GET /auth/v1/users/me was refused ({status})");
        assert_eq!(summary["omitted"], serde_json::json!({ "synced_by": why }));
        assert!(run.stderr.contains("the token's own user is not known"), "{}", run.stderr);
    }
}

/// A server failing on `users/me` fails the sync, as on every other call: it is not a
/// refusal, and the rest of the sync would meet the same server.
#[test]
fn a_failing_users_me_fails_the_sync_as_any_call() {
    let fake = serve_demo();
    let fault = FaultAction::error(503, 14, "unavailable");
    fake.inject(Fault::new(fault).on_path("/auth/v1/users/me"));
    let run = sync(&fake, &[], &[("BATON_MAX_RETRIES", "0")]);
    assert_failure(&run, 1, &["GET /auth/v1/users/me", "503"]);
}

#[test]
fn every_grant_says_when_it_was_made_and_last_changed() {
    let fake = serve_demo();
    let run = sync(&fake, &[], &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let grants: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|record| record["kind"] == "grant")
        .collect();
    assert_eq!(grants.len(), 33);
    for grant in &grants {
        for field in ["created_at", "updated_at"] {
            assert!(grant[field].is_string(), "{field} missing: {grant}");
        }
    }
    // As ZITADEL sent them: a membership's, a user grant's and a project grant's details.
    let dated = |id: &str| {
        let grant = grants.iter().find(|grant| grant["id"] == id).unwrap();
        (grant["created_at"].as_str().unwrap(), grant["updated_at"].as_str().unwrap())
    };
    assert_eq!(
        dated("org:284905129371435012:ORG_USER_MANAGER:user:284910045582151685"),
        ("2024-12-09T13:20:00.118204Z", "2025-05-15T09:02:31.5Z")
    );
    assert_eq!(
        dated("project:284906487321587717:viewer:org:284905733281462275"),
        ("2025-03-10T15:20:44.612378Z", "2025-04-02T08:15:00.25Z")
    );
}

/// A date that is no timestamp is no answer of ZITADEL's: the sync refuses it, naming what
/// it expected, rather than print a record whose date nobody can read.
#[test]
fn a_date_that_is_no_timestamp_fails_the_sync() {
    let dataset = demo_changed(|demo| {
        let member = &mut demo["orgs"][0]["members"][0]["details"];
        member["changeDate"] = Value::from("2025-05-15T09:02:31.5Z\u{1b}[2J");
    });
    let fake = serve(dataset, Default::default());
    let run = sync(&fake, &[], &[]);
    assert_failure(&run, 1, &["/orgs/me/members/_search", "expected a timestamp"]);
    assert!(!run.stderr.contains('\u{1b}'), "the escape is shown, not obeyed");
}
