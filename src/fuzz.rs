//! Fuzz-style test: thousands of mutated ZITADEL answers through the production parsing
//! (`sync::parse`, `sync::parse_page`), the mapping and the record writers, checking what
//! must hold for any input: a page never holds more rows than asked for, records are single
//! JSON lines that say what the wire said, and errors are one short line without control
//! characters or any piece of the PAT.

mod shaped;

use crate::mapping;
use crate::record_json::WriteJson;
use crate::redact;
use crate::sync::{self, Rejected};
use crate::wire::{self, MAX_LIST_ITEMS};

/// The token the samples echo; the test makes it the process's secret.
pub const PAT: &str = "fuzzPAT-Xk2mP9qL7vR4tW8nZ3bY6cJ1";
/// The page size the samples are parsed with: each sample holds this many rows.
const LIMIT: u32 = 2;
/// The longest error line: "malformed response: " (20 characters), at most 300 characters
/// of quoted server text, and the `…` that says it was cut.
const MAX_ERROR_CHARS: usize = 321;

const USER_ROWS: [&str; 2] = [
    r#"{"id":"100","details":{"creationDate":"2025-03-04T10:11:12.123456Z","resourceOwner":"900"},"state":"USER_STATE_ACTIVE","userName":"zoë","loginNames":["a","b\u001b[2J"],"preferredLoginName":"a","human":{"profile":{"firstName":"Zoë","lastName":"Mü\"ller","displayName":"Z"},"email":{"email":"z@x","isEmailVerified":true},"phone":{}}}"#,
    r#"{"id":"101","state":"USER_STATE_INACTIVE","userName":"bot","machine":{"name":"Bot","description":"d"}}"#,
];
const PROJECTS: &str = r#"{"details":{"totalResult":"2"},"result":[{"id":"300","details":{"resourceOwner":"900"},"name":"Billing","state":"PROJECT_STATE_ACTIVE"},{"id":"301","name":"Legacy\r\nbaton-zitadel: sync complete"}]}"#;
const ROLES: &str = r#"{"details":{"totalResult":"2"},"result":[{"key":"admin","displayName":"Admin","group":"ops"},{"key":"viewer"}]}"#;
const GRANT: &str = r#"{"id":"500","details":{"resourceOwner":"900"},"roleKeys":["viewer","admin"],"state":"USER_GRANT_STATE_ACTIVE",
    "userId":"777","userName":"eve","firstName":"Eve","lastName":"Polastri","email":"eve@globex.example.com","displayName":"Eve P.",
    "orgId":"900","projectId":"300","preferredLoginName":"eve@globex.example.com","userType":"TYPE_HUMAN",
    "grantedOrgId":"800","grantedOrgName":"Globex"}"#;
/// A grant whose strings the record copies hold what JSON escapes, its role keys not: the
/// record's strings must be escaped though its project's are plain (`Grant::plain`).
const ESCAPED_GRANT: &str = r#"{"id":"5\"00","details":{"resourceOwner":"9\\00"},"roleKeys":["viewer"],"state":"USER_GRANT_STATE_\u0007",
    "userId":"7\n77","projectId":"300","projectGrantId":"4\"4","grantedOrgId":"800"}"#;

/// What kind of answer a sample is, which says how production code reads it.
#[derive(Clone, Copy)]
enum Kind {
    Users,
    Projects,
    Roles,
    Grants,
    Org,
    Error,
}

fn samples() -> Vec<(Kind, String)> {
    let users = |details: &str| {
        format!(r#"{{"details":{details},"result":[{},{}]}}"#, USER_ROWS[0], USER_ROWS[1])
    };
    let grants =
        |grant: &str| format!(r#"{{"details":{{"totalResult":"2"}},"result":[{grant},{grant}]}}"#);
    let [clean_grants, clean_users] = shaped::clean_pages();
    vec![
        (Kind::Users, users(r#"{"totalResult":"2","processedSequence":"9"}"#)),
        (Kind::Users, clean_users),
        (Kind::Grants, clean_grants),
        (Kind::Projects, PROJECTS.to_string()),
        (Kind::Roles, ROLES.to_string()),
        (Kind::Grants, grants(GRANT)),
        (Kind::Grants, grants(ESCAPED_GRANT)),
        (Kind::Org, r#"{"org":{"id":"900","name":"ACME","state":"ORG_STATE_ACTIVE"}}"#.to_string()),
        // Hostile answers that quote the token where the parser will complain about it.
        (Kind::Users, users(&format!(r#"{{"totalResult":"{PAT}","processedSequence":"9"}}"#))),
        (Kind::Grants, grants(&GRANT.replace(r#"["viewer","admin"]"#, &format!("\"{PAT}\"")))),
        (
            Kind::Users,
            users(&format!(r#"{{"totalResult":"2","processedSequence":{{"{PAT}":1}}}}"#)),
        ),
        (
            Kind::Error,
            format!(
                r#"{{"code":13,"message":"{}{PAT}\u001b[2J\r\nbaton-zitadel: sync complete","details":[{{"id":"QUERY-2j00f"}}]}}"#,
                "x".repeat(290)
            ),
        ),
    ]
}

#[test]
fn mutated_answers_give_a_clean_error_or_faithful_records() {
    redact::hide(PAT);
    let samples = samples();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut parsed, mut rejected) = (0, 0);
    for (kind, sample) in samples.iter().cycle().take(2000 * samples.len()) {
        let mut bytes = mutate(sample.as_bytes(), &mut rng);
        if rng.below(3) == 0 {
            bytes = mutate(&bytes, &mut rng);
        }
        let outcome = match kind {
            Kind::Users => users(&bytes),
            Kind::Projects => projects(&bytes),
            Kind::Roles => roles(&bytes),
            Kind::Grants => grants(&bytes),
            Kind::Org => org(&bytes),
            Kind::Error => {
                error_body(&bytes);
                continue;
            }
        };
        match outcome {
            Ok(()) => parsed += 1,
            Err(rejection) => {
                assert_clean_error(&rejection);
                rejected += 1;
            }
        }
    }
    // Both outcomes must occur often, or the mutations test nothing.
    assert!(parsed > 1000 && rejected > 1000, "parsed {parsed}, rejected {rejected}");
}

fn users(bytes: &[u8]) -> Result<(), Rejected> {
    shaped::assert_same::<wire::User>(bytes, LIMIT);
    let page = sync::parse_page::<wire::User>(bytes, LIMIT)?;
    assert_page_bounds(&page, |user| user.login_names.len());
    for user in &page.result {
        let record = mapping::user(user, "900");
        let line = assert_record(&record);
        assert_eq!(line["id"], *user.id, "the record is the user's");
        assert_eq!(line["resource_type"], "user");
        assert_eq!(line["external"], false);
        let aliases = line["user"]["login_aliases"].as_array().expect("own users list aliases");
        assert!(aliases.len() <= user.login_names.len());
    }
    Ok(())
}

fn projects(bytes: &[u8]) -> Result<(), Rejected> {
    let page = sync::parse_page::<wire::Project>(bytes, LIMIT)?;
    assert_page_bounds(&page, |_| 0);
    for project in &page.result {
        let line = assert_record(&mapping::project(project, "900"));
        assert_eq!(line["id"], *project.id);
        let name = if project.name.is_empty() { &project.id } else { &project.name };
        assert_eq!(line["display_name"], **name);
    }
    Ok(())
}

fn roles(bytes: &[u8]) -> Result<(), Rejected> {
    let page = sync::parse_page::<wire::Role>(bytes, LIMIT)?;
    assert_page_bounds(&page, |_| 0);
    for role in &page.result {
        let line = assert_record(&mapping::entitlement("300", role));
        // Three components, the last the key with its `%` and `:` encoded.
        let id = line["id"].as_str().expect("an id");
        let Some(("project", rest)) = id.split_once(':') else { panic!("{id}") };
        let Some(("300", key)) = rest.split_once(':') else { panic!("{id}") };
        assert!(!key.contains(':'), "{id}");
        assert_eq!(key.replace("%3A", ":").replace("%25", "%"), *role.key, "{id}");
        assert_eq!(line["slug"], *role.key);
    }
    Ok(())
}

fn grants(bytes: &[u8]) -> Result<(), Rejected> {
    shaped::assert_same::<wire::UserGrant>(bytes, LIMIT);
    let page = sync::parse_page::<wire::UserGrant>(bytes, LIMIT)?;
    assert_page_bounds(&page, |grant| grant.role_keys.len());
    for user_grant in &page.result {
        let external = assert_record(&mapping::external_user(user_grant, None));
        assert_eq!(external["id"], *user_grant.user_id);
        assert_eq!(external["external"], true);
        for key in &user_grant.role_keys {
            let entitlement_id = mapping::entitlement_id("300", key);
            // As a sync's project says it (`Project::plain`), for this one role.
            let plain_project = !crate::words::holds_json_escaped(entitlement_id.as_bytes());
            let record = mapping::grant("300", key, &entitlement_id, plain_project, user_grant);
            let line = assert_record(&record);
            assert_eq!(line["principal_id"], *user_grant.user_id);
            assert_eq!(line["user_grant_id"], *user_grant.id);
            assert_eq!(line["slug"], **key);
            let mut fast = Vec::new();
            record.write_json(&mut fast);
            let derived = serde_json::to_vec(&record).expect("records always serialize");
            assert!(fast == derived, "the hand-written grant differs from the derived one");
        }
    }
    Ok(())
}

fn org(bytes: &[u8]) -> Result<(), Rejected> {
    let org = sync::parse::<wire::OrgResponse>(bytes)?.org;
    assert!(org.id.len() + org.name.len() <= bytes.len(), "nothing is made up");
    Ok(())
}

/// An error body is shown as its message, through the same redaction as every server text.
fn error_body(bytes: &[u8]) {
    let Ok(status) = serde_json::from_slice::<wire::Status>(bytes) else {
        let shown = redact::server_text(&String::from_utf8_lossy(bytes), 120);
        return assert_clean_line(&shown, 121);
    };
    assert_clean_line(&redact::server_text(&status.message, 300), 301);
    if let Some(id) = status.error_id() {
        assert!(!id.is_empty());
    }
}

fn assert_page_bounds<T>(page: &wire::Page<T>, list_items: impl Fn(&T) -> usize) {
    assert!(
        page.result.len() <= LIMIT as usize,
        "{} rows for a page of {LIMIT}",
        page.result.len()
    );
    assert!(page.result.iter().map(list_items).sum::<usize>() <= MAX_LIST_ITEMS);
}

/// Checks that a record is one JSON object on one line, `kind` first, written by hand byte
/// for byte as serde writes it, and returns it.
fn assert_record(record: &(impl serde::Serialize + WriteJson)) -> serde_json::Value {
    let line = serde_json::to_string(record).expect("records always serialize");
    let mut fast = Vec::new();
    record.write_json(&mut fast);
    assert!(
        fast == line.as_bytes(),
        "written by hand: {}\nby serde: {line}",
        String::from_utf8_lossy(&fast)
    );
    assert!(line.starts_with("{\"kind\":") && !line.contains('\n'), "{line}");
    let value: serde_json::Value = serde_json::from_str(&line).expect("a record is JSON");
    assert!(value.is_object());
    value
}

fn assert_clean_error(rejection: &Rejected) {
    let message = match rejection {
        Rejected::Malformed(failure) => failure.to_string(),
        Rejected::Invalid(err) => format!("{err:#}"),
        Rejected::Fatal(err) => panic!("parsing never fails for another reason: {err:#}"),
    };
    assert!(message.starts_with("malformed response: "), "{message}");
    assert_clean_line(&message, MAX_ERROR_CHARS);
}

/// One line of at most `max_chars` characters, no control character, no piece of the PAT.
fn assert_clean_line(line: &str, max_chars: usize) {
    assert!(line.chars().count() <= max_chars, "{} characters: {line}", line.chars().count());
    assert!(!line.chars().any(char::is_control), "a control character in {line:?}");
    for piece in PAT.as_bytes().windows(8) {
        assert!(!line.as_bytes().windows(8).any(|w| w == piece), "a piece of the PAT in {line}");
    }
}

/// A deterministic xorshift generator, so that a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutates `sample`: truncation, a byte changed, a JSON token inserted, a range deleted or
/// repeated (which also makes pages with more rows than asked for).
fn mutate(sample: &[u8], rng: &mut Rng) -> Vec<u8> {
    const TOKENS: [&[u8]; 14] = [
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b",",
        b":",
        b"null",
        b"-1",
        b"1e999",
        b"\"\\ud800\"",
        b"\xff",
        b"\"\\u001b]0;title\\u0007\"",
        PAT.as_bytes(),
    ];
    let mut bytes = sample.to_vec();
    if bytes.is_empty() {
        return bytes;
    }
    let at = rng.below(bytes.len());
    match rng.below(5) {
        0 => bytes.truncate(at),
        1 => bytes[at] = rng.next() as u8,
        2 => {
            let token = TOKENS[rng.below(TOKENS.len())];
            bytes.splice(at..at, token.iter().copied());
        }
        3 => {
            let end = (at + rng.below(40)).min(bytes.len());
            bytes.drain(at..end);
        }
        _ => {
            // Now and then long enough to repeat whole rows.
            let most = if rng.below(4) == 0 { 400 } else { 40 };
            let end = (at + rng.below(most)).min(bytes.len());
            let copy = bytes[at..end].to_vec();
            bytes.splice(at..at, copy);
        }
    }
    bytes
}
