//! The fake ZITADEL itself, spoken to with plain HTTP: the access endpoints (managers, member
//! roles, project grants) in ZITADEL's wire format, and ZITADEL's rules for them.
//!
//! This file holds the demo's ids and the plain-HTTP client; `access.rs` tests the access
//! endpoints on the demo's data, `datasets.rs` the datasets the fake loads or generates.

mod access;
mod datasets;

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use serde_json::Value;

use fake_zitadel::{
    Dataset, FakeZitadel, GENERATED_ORG, GENERATED_PAT, GenerateSpec, Limits, Options, Token,
    endpoint_of,
};

const ACME: &str = "284905129371435012";
const GLOBEX: &str = "284905311209451523";
const ACME_PAT: &str = "demo-pat-acme-viewer";

const INITECH: &str = "284905733281462275";
const INITECH_PAT: &str = "demo-pat-initech-owner";
const CUSTOMER_PORTAL: &str = "284906487321587717";
const INTERNAL_TOOLS: &str = "284906512837640197";
const GLOBEX_ANALYTICS: &str = "284905577239117827";
/// Customer Portal granted to Initech with `viewer`, `support` and the gone `legacy-export`.
const PORTAL_GRANT: &str = "284917204655128581";
/// Internal Tools granted to Globex, inactive.
const TOOLS_GRANT: &str = "284917391238803461";
/// Legacy Billing granted to Initech without role keys.
const BILLING_GRANT: &str = "284917482019721221";
/// Samir's grant on Customer Portal, made by Initech through `PORTAL_GRANT`.
const SAMIRS_GRANT: &str = "284918003374563333";
const ERIN: &str = "284910045582151685";
const ALICE: &str = "284906014215673861";
const BATON_SYNC: &str = "284913718839001605";
const IVY: &str = "284905488891224067";
/// The `details` of a list answer without rows: no `totalResult`, and no `result` after it.
const EMPTY: &str =
    r#"{"details":{"processedSequence":"5427","viewTimestamp":"2025-10-02T09:30:00.512309Z"}}"#;
const NO_PERMISSION: &str = r#"{"code":7,"message":"No matching permissions found (AUTH-5mWD2)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-5mWD2","message":"No matching permissions found"}]}"#;

/// The repository's root, where the demo's dataset lives.
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn demo() -> Dataset {
    Dataset::load(root().join("testdata/demo.json")).expect("testdata/demo.json loads")
}

fn serve(dataset: Dataset, options: Options) -> FakeZitadel {
    FakeZitadel::start(dataset, options).expect("the fake ZITADEL starts")
}

fn serve_demo() -> FakeZitadel {
    serve(demo(), Options::default())
}

/// An answer of the fake: status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        serde_json::from_str(&self.body).expect("the body is JSON")
    }

    /// The ids of the rows, by the field that identifies them in this list.
    fn ids(&self, field: &str) -> Vec<String> {
        let json = self.json();
        let rows = json["result"].as_array().cloned().unwrap_or_default();
        rows.iter().map(|row| row[field].as_str().unwrap().to_string()).collect()
    }

    fn total(&self) -> Option<String> {
        self.json()["details"]["totalResult"].as_str().map(str::to_string)
    }
}

/// Sends one POST as `token` (in its own org, or `org` in `x-zitadel-orgid`) and returns the
/// answer, decoding a chunked body.
fn request(fake: &FakeZitadel, token: &str, org: Option<&str>, path: &str, body: &str) -> Answer {
    let org_header = org.map(|org| format!("x-zitadel-orgid: {org}\r\n")).unwrap_or_default();
    let head = format!(
        "POST /management/v1/{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         {org_header}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        fake.addr(),
        body.len()
    );
    exchange(fake, &(head + body))
}

fn post(fake: &FakeZitadel, token: &str, path: &str, body: &str) -> Answer {
    request(fake, token, None, path, body)
}

/// Sends a request to a path of any API (`/admin/v1/...`), with a body for a POST.
fn call(fake: &FakeZitadel, token: &str, method: &str, path: &str, body: &str) -> Answer {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        fake.addr(),
        body.len()
    );
    exchange(fake, &(head + body))
}

/// Sends raw request bytes on a new connection and reads the answer until the fake closes it.
fn exchange(fake: &FakeZitadel, raw: &str) -> Answer {
    let mut stream = TcpStream::connect(fake.addr()).expect("the fake accepts connections");
    stream.write_all(raw.as_bytes()).expect("the request is sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer");
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a head and a body");
    let head = std::str::from_utf8(&answer[..end]).expect("an ASCII head");
    let status = head[9..12].parse().expect("a status code");
    let body = &answer[end + 4..];
    // Chunks split the body anywhere, even inside a UTF-8 character.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunk(body)
    } else {
        body.to_vec()
    };
    Answer { status, body: String::from_utf8(body).expect("a UTF-8 body") }
}

fn unchunk(mut chunked: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = chunked.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = std::str::from_utf8(&chunked[..line_end]).expect("an ASCII chunk size");
        let size = usize::from_str_radix(size, 16).expect("a hex chunk size");
        if size == 0 {
            return body;
        }
        let rest = &chunked[line_end + 2..];
        body.extend_from_slice(&rest[..size]);
        chunked = &rest[size + 2..];
    }
}

fn project_members(project: &str) -> String {
    format!("projects/{project}/members/_search")
}

fn project_grants(project: &str) -> String {
    format!("projects/{project}/grants/_search")
}

fn grant_members(project: &str, grant: &str) -> String {
    format!("projects/{project}/grants/{grant}/members/_search")
}
