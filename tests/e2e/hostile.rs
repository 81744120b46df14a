//! Hostile or broken servers: pages far longer than asked for, bodies over the cap, answers
//! no ZITADEL sends, rows that never stop coming, and control characters meant to forge or
//! hide console lines; each fails with a clear error or is skipped and counted.

use fake_zitadel::{Answer, Dataset, FakeZitadel, Fault, FaultAction, Mutation, Options};

use crate::harness::*;

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
    // Built from the member row, which names no organization, with the name the project
    // grant printed before it gave Globex.
    assert_eq!(henry["org_name"], "Globex", "{henry}");
    let counts = &summary(&run.stdout)["counts"];
    assert_eq!(
        (counts["external_user"].as_u64(), counts["grant_without_principal"].as_u64()),
        (Some(4), Some(3)),
        "Henry, Ivy, Peter and the instance's Victor"
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

/// A sync with `--memory-limit 25`, the least, whose peak RSS must stay within it: the
/// promise is that whatever a server sends, the binary stays within its limit. (Measured
/// 11 to 16 MiB: a body of almost 4 MiB is read, and serde_json copies a string with an
/// escape into its own buffer before the program can refuse it.)
fn sync_within_the_least_memory_limit(fake: &FakeZitadel) -> Run {
    let env = [("BATON_MEMORY_LIMIT", "25"), ("BATON_MAX_RETRIES", "0")];
    let (run, peak_kib) = sync_measured(fake, &env);
    assert!(peak_kib > 0 && peak_kib <= 25 * 1024, "peak RSS {peak_kib} KiB, over 25 MiB");
    run
}

#[test]
fn a_page_of_a_million_rows_fails_in_little_memory() {
    // 3 MB of `{}` rows where 1000 were asked for: every row used to be read before the
    // page was found too long, 312 MiB of them.
    let body =
        format!(r#"{{"details":{{"totalResult":"1"}},"result":[{}{{}}]}}"#, "{},".repeat(999_999));
    let fake = serve_demo();
    fake.inject(answer(200, &body).on_path("/users/_search"));
    let run = sync_within_the_least_memory_limit(&fake);
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
    let run = sync_within_the_least_memory_limit(&fake);
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
    let run = sync_within_the_least_memory_limit(&fake);
    assert_failure(
        &run,
        1,
        &["the response body is larger than 4 MiB", "use a smaller --page-size (BATON_PAGE_SIZE)"],
    );
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
