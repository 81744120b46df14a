//! The differential test of the shape-aware reader (`wire::Shaped`): for the fuzz samples,
//! their mutations and rows made hostile on purpose, a page it reads is the page serde_json
//! reads (every row, every string borrowed alike), and `sync::parse_page` gives what
//! serde_json alone gives, rows or error (its classification and its text).

use std::borrow::Cow;

use crate::sync::{self, Rejected};
use crate::wire::{self, MAX_LIST_ITEMS, MAX_TEXT_BYTES, Page, Shaped};

/// Rows as the tests compare them: their `Debug` text, and whether each string was
/// borrowed from the page, in the order of `strings`.
pub trait Compared {
    fn strings(&self) -> Vec<&Cow<'_, str>>;
}

impl Compared for wire::UserGrant<'_> {
    fn strings(&self) -> Vec<&Cow<'_, str>> {
        let d = &self.details;
        let mut strings = vec![&self.id, &d.creation_date, &d.change_date, &d.resource_owner];
        strings.extend(&self.role_keys);
        strings.extend([&self.state, &self.user_id, &self.user_name, &self.first_name]);
        strings.extend([&self.last_name, &self.email, &self.display_name, &self.project_id]);
        strings.extend([&self.project_grant_id, &self.preferred_login_name, &self.user_type]);
        strings.extend([&self.granted_org_id, &self.granted_org_name]);
        strings
    }
}

impl Compared for wire::User<'_> {
    fn strings(&self) -> Vec<&Cow<'_, str>> {
        let d = &self.details;
        let mut strings = vec![&self.id, &d.creation_date, &d.resource_owner, &self.state];
        strings.extend([&self.user_name, &self.preferred_login_name]);
        strings.extend(&self.login_names);
        if let Some(human) = &self.human {
            let p = &human.profile;
            strings.extend([&p.first_name, &p.last_name, &p.display_name, &human.email.email]);
        }
        if let Some(machine) = &self.machine {
            strings.extend([&machine.name, &machine.description]);
        }
        strings
    }
}

/// A page as compared: details, rows, and which strings were borrowed.
fn described<T: std::fmt::Debug + Compared>(page: &Page<T>) -> String {
    let borrowed = page.result.iter().map(|row| {
        let strings = row.strings();
        let flags = strings.iter().map(|s| matches!(s, Cow::Borrowed(_)));
        flags.map(|b| if b { 'b' } else { 'o' }).collect::<String>()
    });
    format!("{:?} {:?} {:?}", page.details, page.result, borrowed.collect::<Vec<_>>())
}

/// A rejection as compared: its class (retryable or not), its text.
fn rejection(rejection: &Rejected) -> String {
    match rejection {
        Rejected::Malformed(failure) => format!("malformed {failure:?}"),
        Rejected::Invalid(err) => format!("invalid {err:#}"),
        Rejected::Fatal(err) => panic!("parsing never fails for another reason: {err:#}"),
    }
}

fn outcome<T: std::fmt::Debug + Compared>(parsed: &Result<Page<T>, Rejected>) -> String {
    match parsed {
        Ok(page) => described(page),
        Err(err) => rejection(err),
    }
}

/// Holds the two readers together on `bytes` read as a page of `limit` rows; says whether
/// the shape-aware reader read it.
pub fn assert_same<'b, T>(bytes: &'b [u8], limit: u32) -> bool
where
    T: serde::Deserialize<'b> + wire::Row + Shaped<'b> + std::fmt::Debug + Compared,
{
    let serde = sync::parse_page_with_serde::<T>(bytes, limit);
    let both = sync::parse_page::<T>(bytes, limit);
    let text = String::from_utf8_lossy(bytes);
    assert_eq!(outcome(&both), outcome(&serde), "for {text}");
    let Some(shaped) = std::str::from_utf8(bytes).ok().and_then(|t| T::shaped_page(t, limit))
    else {
        return false;
    };
    let serde =
        serde.unwrap_or_else(|err| panic!("read, {} by serde_json: {text}", rejection(&err)));
    assert_eq!(described(&shaped), described(&serde), "for {text}");
    assert_eq!(shaped.result.capacity(), serde.result.capacity(), "for {text}");
    true
}

/// A user grant as ZITADEL sends one, field by field (key, JSON value).
const GRANT: [(&str, &str); 19] = [
    ("id", r#""284915000000000000""#),
    (
        "details",
        r#"{"sequence":"3","creationDate":"2024-09-24T19:59:53.810Z","changeDate":"2024-03-03T23:07:51.056851Z","resourceOwner":"284905129371435012"}"#,
    ),
    ("roleKeys", r#"["auditor","admin"]"#),
    ("state", r#""USER_GRANT_STATE_ACTIVE""#),
    ("userId", r#""284906000034743124""#),
    ("userName", r#""angel.hill8476""#),
    ("firstName", r#""Ángel""#),
    ("lastName", r#""Hill""#),
    ("email", r#""angel.hill8476@acme.example.com""#),
    ("displayName", r#""Ángel Hill""#),
    ("orgId", r#""284905129371435012""#),
    ("projectId", r#""284906400000000000""#),
    ("projectGrantId", r#""284906500000000000""#),
    ("projectName", r#""Customer Portal 1""#),
    ("preferredLoginName", r#""angel.hill8476@acme.example.com""#),
    ("userType", r#""TYPE_HUMAN""#),
    ("grantedOrgId", r#""284905129371435012""#),
    ("grantedOrgName", r#""ACME Corporation""#),
    ("grantedOrgDomain", r#""acme.example.com""#),
];

/// A human user and a service user as ZITADEL sends them.
const HUMAN: [(&str, &str); 7] = [
    ("id", r#""284906000000000000""#),
    (
        "details",
        r#"{"sequence":"27","creationDate":"2025-12-16T09:27:57.836850Z","changeDate":"2024-02-26T15:55:41.901Z","resourceOwner":"284905129371435012"}"#,
    ),
    ("state", r#""USER_STATE_ACTIVE""#),
    ("userName", r#""mallory.hill0""#),
    ("loginNames", r#"["mallory.hill0@acme-corp.zitadel.cloud","mallory.hill0@acme.example.com"]"#),
    ("preferredLoginName", r#""mallory.hill0@acme.example.com""#),
    (
        "human",
        r#"{"profile":{"firstName":"Mallory","lastName":"Hill","nickName":"mal","displayName":"Mallory Hill","gender":"GENDER_MALE"},"email":{"email":"m@acme.example.com","isEmailVerified":true},"phone":{},"passwordChanged":"2023-10-23T14:44:40.056Z"}"#,
    ),
];
const MACHINE: [(&str, &str); 3] = [
    ("id", r#""284906000000004099""#),
    ("userName", r#""svc-partner-api-1""#),
    ("machine", r#"{"name":"Service Account 1","description":"Reads users","hasSecret":true}"#),
];

/// JSON values no field of a row expects, or expects only in some places.
fn hostile_values() -> Vec<String> {
    let nested = |depth: usize| format!("{}{}", "[{\"a\":".repeat(depth), "}]".repeat(depth));
    let mut values: Vec<String> = [
        r#""""#,
        r#""plain""#,
        r#""esc\"aped""#,
        r#""\u00e9""#,
        r#""\ud800""#,
        r#""\x""#,
        r#""\u12""#,
        r#""\uzzzz""#,
        r#"{"\u00zz":1}"#,
        "\"raw\u{1}control\"",
        "\"tab\there\"",
        r#""Zoë 日本 😀 ""#,
        "\"\u{2028}\u{202e}\"",
        "1",
        "-1",
        "0",
        "01",
        "-",
        "1.",
        "1.5e3",
        "2E-2",
        "1e",
        "18446744073709551615",
        "18446744073709551616",
        "null",
        "true",
        "false",
        "tru",
        "{}",
        "[]",
        r#"{"a":[1,{"b":null}],"c":"\n"}"#,
        r#"["x"]"#,
        r#"["a","b\"c"]"#,
        "[1]",
        "[null]",
        "[\"a\",]",
        "{\"a\":1,}",
        "{\"a\"}",
        r#""2025-01-20T10:00:01Z""#,
        r#""2025-13-01T00:00:00Z""#,
        r#""+5""#,
        r#""007""#,
        r#"" 5""#,
        "[",
        "{",
        "\"cut",
        " \n\t\r\"spaced\" ",
        "\u{c}\"feed\"",
    ]
    .map(str::to_string)
    .to_vec();
    values.extend([nested(10), nested(63), nested(64), nested(65), nested(200)]);
    values.push(format!("\"{}\"", "x".repeat(MAX_TEXT_BYTES)));
    values.push(format!("\"{}\"", "é".repeat(MAX_TEXT_BYTES / 2 + 1)));
    values
}

fn row(fields: &[(&str, &str)]) -> String {
    let fields = fields.iter().map(|(key, value)| format!("\"{key}\":{value}"));
    format!("{{{}}}", fields.collect::<Vec<_>>().join(","))
}

fn page(details: &str, rows: &[String]) -> String {
    format!(r#"{{"details":{details},"result":[{}]}}"#, rows.join(","))
}

const DETAILS: &str = r#"{"totalResult":"2","processedSequence":"5427","viewTimestamp":"x"}"#;

/// Each field of `clean` given each hostile value, repeated, or joined by an unknown one.
fn hostile_rows(clean: &[(&str, &str)]) -> Vec<String> {
    let mut rows = Vec::new();
    for value in hostile_values() {
        for at in 0..=clean.len() {
            let mut fields = clean.to_vec();
            match clean.get(at) {
                Some((key, _)) => fields[at] = (key, &value),
                None => fields.push(("unknown", &value)),
            }
            rows.push(row(&fields));
        }
    }
    for at in 0..clean.len() {
        let mut fields = clean.to_vec();
        fields.push(clean[at]);
        rows.push(row(&fields));
    }
    rows
}

/// Pages of two rows, the first hostile.
fn pages(rows: &[String], clean: &str) -> Vec<String> {
    rows.iter().map(|hostile| page(DETAILS, &[hostile.clone(), clean.to_string()])).collect()
}

/// Holds the readers together on every page with every limit around two; says how many
/// the shape-aware reader read.
fn hold<'b, T>(pages: &'b [String]) -> usize
where
    T: serde::Deserialize<'b> + wire::Row + Shaped<'b> + std::fmt::Debug + Compared,
{
    let limits = pages.iter().flat_map(|page| [1, 2, 3].map(|limit| (page, limit)));
    limits.filter(|(page, limit)| assert_same::<T>(page.as_bytes(), *limit)).count()
}

#[test]
fn hostile_rows_are_read_as_serde_json_reads_them() {
    let grants = pages(&hostile_rows(&GRANT), &row(&GRANT));
    let shaped = hold::<wire::UserGrant>(&grants);
    let all = 3 * grants.len();
    assert!(shaped > all / 10 && all - shaped > all / 10, "{shaped} of {all}");
    let mut rows = hostile_rows(&HUMAN);
    rows.extend(hostile_rows(&MACHINE));
    let users = pages(&rows, &row(&HUMAN));
    let shaped = hold::<wire::User>(&users);
    let all = 3 * users.len();
    assert!(shaped > all / 10 && all - shaped > all / 10, "{shaped} of {all}");
    // The clean pages are read without serde_json wherever they fit the limit.
    let clean = [page(DETAILS, &[row(&HUMAN), row(&MACHINE)])];
    assert_eq!(hold::<wire::User>(&clean), 2);
    assert_eq!(hold::<wire::UserGrant>(&[page(DETAILS, &[row(&GRANT), row(&GRANT)])]), 2);
}

/// The clean pages of the samples: two user grants, a human and a service user.
pub fn clean_pages() -> [String; 2] {
    [page(DETAILS, &[row(&GRANT), row(&GRANT)]), page(DETAILS, &[row(&HUMAN), row(&MACHINE)])]
}

/// Holds the readers together on `text` as a page of user grants and as one of users.
fn both(text: &str, limit: u32) {
    assert_same::<wire::UserGrant>(text.as_bytes(), limit);
    assert_same::<wire::User>(text.as_bytes(), limit);
}

#[test]
fn pages_cut_short_or_odd_around_their_rows_are_read_as_serde_json_reads_them() {
    for clean in clean_pages() {
        for end in 0..=clean.len() {
            both(&String::from_utf8_lossy(&clean.as_bytes()[..end]), 2);
        }
        // Whitespace wherever JSON allows it (and in strings, where it is text).
        let spaced = clean.replace(',', " ,\n").replace(':', "\t: ").replace('{', "\r{ ");
        both(&format!(" {spaced} \n"), 2);
    }
    let grant = row(&GRANT);
    for value in hostile_values() {
        for details in [
            format!(r#"{{"totalResult":{value},"processedSequence":"1"}}"#),
            format!(r#"{{"processedSequence":{value},"totalResult":"1"}}"#),
            value.clone(),
        ] {
            both(&page(&details, std::slice::from_ref(&grant)), 2);
        }
        both(&format!(r#"{{"x":{value},"details":{DETAILS},"result":[{grant}]}}"#), 2);
        both(&format!(r#"{{"details":{DETAILS},"result":{value}}}"#), 2);
        both(&format!(r#"{{"details":{DETAILS},"result":[{grant}]}}{value}"#), 2);
    }
    for text in [
        format!(r#"{{"result":[{grant}],"details":{DETAILS}}}"#),
        format!(r#"{{"pagination":{DETAILS},"result":[{grant}]}}"#),
        format!(r#"{{"details":{DETAILS},"pagination":{DETAILS},"result":[]}}"#),
        format!(r#"{{"details":{DETAILS},"result":[],"result":[]}}"#),
        format!(r#"{{"details":{DETAILS},"details":{DETAILS}}}"#),
        r#"{"details":{"totalResult":"1","totalResult":"1"},"result":[]}"#.to_string(),
        format!(r#"{{"details":{{"totalResult":"18446744073709551615"}},"result":[{grant}]}}"#),
        format!(r#"{{"result":[{grant}]}}"#),
        format!(r#"{{"d\u0065tails":{DETAILS},"result":[{grant}]}}"#),
        format!(r#"{{"details":{DETAILS},"result":[{grant}],}}"#),
        format!(r#"{{"details":{DETAILS},"result":[{grant},]}}"#),
        "{}".to_string(),
        "[]".to_string(),
        String::new(),
    ] {
        for limit in [0, 1, 2, 1000] {
            both(&text, limit);
        }
    }
}

#[test]
fn lists_of_rows_are_bounded_as_serde_json_bounds_them() {
    let keys = |n: usize| format!("[{}\"k\"]", "\"k\",".repeat(n - 1));
    let grant = |n| row(&[("id", "\"1\""), ("roleKeys", &keys(n))]);
    let user = |n| row(&[("id", "\"1\""), ("loginNames", &keys(n))]);
    let half = MAX_LIST_ITEMS / 2;
    for (first, second) in
        [(MAX_LIST_ITEMS, 1), (MAX_LIST_ITEMS + 1, 1), (half, half), (half + 1, half)]
    {
        for limit in [1, 2, 3] {
            let grants = page(DETAILS, &[grant(first), grant(second), grant(1)]);
            assert_same::<wire::UserGrant>(grants.as_bytes(), limit);
            let users = page(DETAILS, &[user(first), user(second), user(1)]);
            assert_same::<wire::User>(users.as_bytes(), limit);
        }
    }
}
