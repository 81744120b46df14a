//! Every way an attempt can fail, classified by what the user has to do about it: the
//! answer's status and body, a failure to get an answer at all, a body that could not be
//! read. Pure functions of what happened, so that a table of tests covers them.

use std::fmt;
use std::io;
use std::time::{Duration, SystemTime};

use super::net::{LookupFailed, ProxyInUse};
use super::{Endpoint, InstanceUrl, MAX_BODY_BYTES};
use crate::redact;
use crate::retry::{self, GiveUp};
use crate::settings::{CA_CERT, INSTANCE_URL, ORG_ID, PAGE_SIZE, RETRY_MAX_WAIT};
use crate::wire;

/// The most characters of one piece of server text (an error message, a parser's
/// complaint) that a message quotes.
const SHOWN_CHARS: usize = 300;

/// A failed attempt, classified by what the user has to do; the exit status follows the
/// class. Transient failures are `retryable`.
#[derive(Debug)]
pub struct ApiError {
    pub class: ErrorClass,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    pub(super) message: String,
    pub(super) retryable: bool,
    /// The server's `Retry-After`, if it sent one.
    pub(super) retry_after: Option<Duration>,
    /// A 429: the server wants fewer requests.
    pub(super) rate_limited: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// ZITADEL rejected the PAT (401).
    Unauthenticated,
    /// The PAT lacks a permission or any membership in the organization (403, 404).
    PermissionDenied,
    /// Network, server and protocol failures.
    Other,
}

impl ApiError {
    /// The failed attempt behind `err`, wherever in its chain of causes it is: `None` when
    /// `err` did not come from an answer or a transport failure (a parse, a write).
    pub fn in_chain(err: &anyhow::Error) -> Option<&ApiError> {
        err.chain().find_map(|cause| cause.downcast_ref::<ApiError>())
    }

    /// A transient failure described by `message`.
    pub fn retryable(message: String) -> ApiError {
        ApiError { retryable: true, ..other(message) }
    }

    /// A 2xx body that is not what ZITADEL sends. Invalid or cut-short JSON is what a proxy
    /// or a dropped connection produces, so it is worth another attempt; a well-formed body
    /// with wrong field types is not. The parser's complaint quotes the body, so it is shown
    /// as server text.
    pub fn malformed(err: &serde_json::Error) -> ApiError {
        let retryable = err.is_syntax() || err.is_eof();
        let complaint = redact::server_text(&err.to_string(), SHOWN_CHARS);
        ApiError { retryable, ..other(format!("malformed response: {complaint}")) }
    }

    /// The final failure of a request after `made` attempts, saying why there is no other
    /// when the retry budget is what ends it.
    pub(super) fn given_up(self, made: u32, why: Option<GiveUp>) -> ApiError {
        let mut message = self.message;
        let over_budget = matches!(why, Some(GiveUp::OverBudget { .. }));
        if let Some(GiveUp::OverBudget { wait, left, asked }) = why {
            let wait = seconds(wait);
            let why = if asked {
                format!("the server asks to wait {wait} before trying again (Retry-After)")
            } else {
                format!("the next wait would be {wait}")
            };
            message = format!(
                "{message}; {why}, more than the {} left of {RETRY_MAX_WAIT}",
                seconds(left)
            );
        }
        let message = match made {
            1 if over_budget => format!("gave up at once: {message}"),
            1 => message,
            _ => format!("gave up after {made} attempts: {message}"),
        };
        ApiError { message, ..self }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// One attempt, as far as its failure's message needs to know it.
pub(super) struct Attempt<'a> {
    pub endpoint: Endpoint<'a>,
    pub url: &'a InstanceUrl,
    pub proxy: Option<&'a ProxyInUse>,
    /// The organization asked for; `None` for the service user's own.
    pub org_id: Option<&'a str>,
    pub timeout: Duration,
}

/// An answer whose body was read whole.
pub(super) struct Answer<'a> {
    pub status: u16,
    /// The `Location` header, if there is one.
    pub location: Option<&'a str>,
    /// The `Retry-After` header, if there is one.
    pub retry_after: Option<&'a str>,
    /// The `Content-Type` header, if there is one.
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// Judges an answer: a 2xx with a body that may be JSON is a success; anything else is a
/// failure, retryable when a later attempt may get another answer (408, 429, 5xx but 501).
/// `now` dates `Retry-After`.
pub(super) fn judge_answer(
    attempt: &Attempt,
    answer: &Answer,
    now: SystemTime,
) -> Result<(), ApiError> {
    let status = answer.status;
    match status {
        200..=299 if !may_be_json(answer.body) => Err(not_json(answer)),
        200..=299 => Ok(()),
        // A redirect would carry the request elsewhere; ZITADEL's API never redirects, so
        // one means the instance URL points at something else.
        300..=399 => Err(other(format!(
            "HTTP {status}: the server redirects to {}; not followed: check that {INSTANCE_URL} is the instance's own address",
            redact::server_text(answer.location.unwrap_or("nowhere"), 200)
        ))),
        _ => Err(ApiError {
            status: Some(status),
            retryable: matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            retry_after: answer.retry_after.and_then(|value| retry::parse_retry_after(value, now)),
            rate_limited: status == 429,
            ..status_error(attempt, status, answer.body)
        }),
    }
}

/// Whether a body starts as ZITADEL's JSON does. An empty one, or one that starts so but is
/// cut short, is left to the parser, which has it retried.
fn may_be_json(body: &[u8]) -> bool {
    let start = body.iter().find(|byte| !byte.is_ascii_whitespace());
    start.is_none_or(|byte| matches!(byte, b'{' | b'['))
}

/// A success that is not JSON: a proxy's login page or a web server answering for a URL
/// that is not the instance. Another attempt gets the same page, so it is final, and the
/// message shows what the answer looked like.
fn not_json(answer: &Answer) -> ApiError {
    let content_type = match answer.content_type {
        Some(content_type) => format!("Content-Type {}", redact::server_text(content_type, 80)),
        None => "no Content-Type".to_string(),
    };
    let head = &answer.body[..answer.body.len().min(4 * SHOWN_CHARS)];
    let head = redact::server_text(&String::from_utf8_lossy(head), 120);
    other(format!(
        "HTTP {} but the answer is not JSON ({content_type}, starting \"{head}\"): check that {INSTANCE_URL} is the ZITADEL instance's own address, not a login page or web server in front of it",
        answer.status
    ))
}

/// What a failure status means, by the status and ZITADEL's error id in the body.
fn status_error(attempt: &Attempt, status: u16, body: &[u8]) -> ApiError {
    let parsed =
        serde_json::from_slice::<wire::Status>(body).ok().filter(|s| !s.message.is_empty());
    let said = match &parsed {
        Some(status) => redact::server_text(&status.message, SHOWN_CHARS),
        None => format!(
            "not a ZITADEL error body: \"{}\"",
            redact::server_text(&String::from_utf8_lossy(body), 120)
        ),
    };
    let error_id = parsed.as_ref().and_then(|s| s.error_id()).unwrap_or("");
    let permission = attempt.endpoint.permission();
    let org = attempt.org_id.unwrap_or("the service user's own organization");
    match status {
        401 => ApiError {
            class: ErrorClass::Unauthenticated,
            ..other(format!(
                "ZITADEL rejected the PAT (HTTP 401: {said}): check that it is a current Personal Access Token of a service user of this instance"
            ))
        },
        403 if error_id == "AUTH-Bs7Ds" => {
            denied(format!("organization {org} does not exist (HTTP 403: {said}): check {ORG_ID}"))
        }
        403 => {
            let instead = attempt
                .endpoint
                .skipped_by()
                .map_or(String::new(), |setting| format!(", or sync without it: {setting}"));
            denied(format!(
                "permission denied (HTTP 403: {said}): this call needs {permission}; give the service user {}, or a role that includes {permission}{instead}",
                attempt.endpoint.role()
            ))
        }
        404 if error_id == "AUTHZ-cdgFk" || said.contains("membership not found") => {
            denied(format!(
                "the service user has no membership in organization {org} (HTTP 404: {said}): make it an Org Owner Viewer (ORG_OWNER_VIEWER) there, or leave {ORG_ID} unset to sync its own organization"
            ))
        }
        404 => other(format!(
            "HTTP 404: {said}: check that {INSTANCE_URL} is the ZITADEL instance's address"
        )),
        _ => other(format!("HTTP {status}: {said}")),
    }
}

/// Judges a failure to read the body of an answer with `status`: one over the cap, one that
/// took too long, one cut short by a broken connection (worth another attempt).
pub(super) fn body_failure(attempt: &Attempt, status: u16, err: &io::Error) -> ApiError {
    let inner = err.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>());
    match inner {
        Some(ureq::Error::BodyExceedsLimit(_)) => other(format!(
            "HTTP {status}: the response body is larger than {} MiB, several times a page of real data; if rows of this organization really are that large, use a smaller {PAGE_SIZE}",
            MAX_BODY_BYTES >> 20
        )),
        Some(ureq::Error::Timeout(_)) => timed_out(attempt),
        _ => {
            let detail = redact::redact(&err.to_string()).into_owned();
            let message = format!("HTTP {status}: the response body was cut short: {detail}");
            ApiError { status: Some(status), retryable: true, ..other(message) }
        }
    }
}

/// Judges a failure to get an answer at all. Refused, reset or dropped connections,
/// timeouts and a resolver that cannot answer for now are transient; TLS failures and a
/// host name that does not exist are configuration problems. A failure of the proxy names
/// the proxy, not the instance.
pub(super) fn transport_failure(attempt: &Attempt, err: &ureq::Error) -> ApiError {
    let url = attempt.url;
    let detail = redact::redact(&err.to_string()).into_owned();
    let tls_hint = format!(
        "if the instance uses a private certificate authority, pass its certificate with {CA_CERT}"
    );
    let proxy = attempt.proxy;
    if let ureq::Error::Io(io) = err
        && let Some(lookup) = io.get_ref().and_then(|inner| inner.downcast_ref::<LookupFailed>())
    {
        return lookup_failure(attempt, lookup);
    }
    match err {
        ureq::Error::HostNotFound => {
            other(format!("cannot resolve the host of {url}: check {INSTANCE_URL} and DNS"))
        }
        // rustls read something that is not a TLS record at all: a plain-HTTP server's
        // answer to the TLS handshake. No certificate would help.
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) | ureq::Error::Io(_)
            if url.is_https() && detail.contains("InvalidContentType") =>
        {
            other(format!(
                "{url} does not speak TLS on that port (it answered in plain text): check the scheme and port of {INSTANCE_URL}"
            ))
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
            other(format!("TLS with {url} failed: {detail}; {tls_hint}"))
        }
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::InvalidData && url.is_https() => {
            other(format!("TLS with {url} failed: {detail}; {tls_hint}"))
        }
        ureq::Error::Timeout(_) => timed_out(attempt),
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
            let message = match proxy {
                Some(proxy) => format!(
                    "the proxy {proxy} refused the connection ({detail}): check that it runs and that {} names it",
                    proxy.variable
                ),
                None => format!("{url} refused the connection: {detail}"),
            };
            ApiError { retryable: true, ..other(message) }
        }
        ureq::Error::ConnectProxyFailed(_) => other(format!(
            "the proxy {} did not open a tunnel to {url}: {detail}",
            proxy.map_or(String::new(), ToString::to_string)
        )),
        ureq::Error::Io(_) | ureq::Error::Protocol(_) | ureq::Error::ConnectionFailed => {
            let through =
                proxy.map_or(String::new(), |proxy| format!(" through the proxy {proxy}"));
            ApiError {
                retryable: true,
                ..other(format!("request to {url}{through} failed: {detail}"))
            }
        }
        _ => other(format!("request to {url} failed: {detail}")),
    }
}

/// An attempt that took longer than `--timeout`, all of it counted.
fn timed_out(attempt: &Attempt) -> ApiError {
    let url = attempt.url;
    let seconds = attempt.timeout.as_secs_f64();
    ApiError {
        retryable: true,
        ..other(format!("no complete answer from {url} within {seconds}s (--timeout)"))
    }
}

/// The failure of a name lookup: the proxy's host or the instance's, for now or for good.
fn lookup_failure(attempt: &Attempt, lookup: &LookupFailed) -> ApiError {
    let detail = redact::redact(&lookup.detail).into_owned();
    let (whose, setting) = match attempt.proxy {
        Some(proxy) if proxy.proxy.host() == lookup.host => {
            (format!("the proxy {proxy}"), proxy.variable.to_string())
        }
        _ => (attempt.url.to_string(), INSTANCE_URL.to_string()),
    };
    if lookup.temporary {
        let message = format!("cannot resolve the host of {whose} for now: {detail}");
        return ApiError { retryable: true, ..other(message) };
    }
    other(format!(
        "cannot resolve the host of {whose}: the name does not exist ({detail}): check {setting}"
    ))
}

pub(super) fn other(message: String) -> ApiError {
    ApiError {
        class: ErrorClass::Other,
        status: None,
        message,
        retryable: false,
        retry_after: None,
        rate_limited: false,
    }
}

fn denied(message: String) -> ApiError {
    ApiError { class: ErrorClass::PermissionDenied, ..other(message) }
}

/// A wait as a person reads it: whole seconds as such, else to a tenth of a second.
fn seconds(wait: Duration) -> String {
    match wait.subsec_nanos() {
        0 => format!("{}s", wait.as_secs()),
        _ => format!("{:.1}s", wait.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error as the table states it: class, status, whether it is retried (and after
    /// how long the server asks, and whether it slows the pace), and the message.
    fn summary(error: &ApiError) -> String {
        let status = error.status.map_or("-".into(), |status| status.to_string());
        let mut how = if error.retryable { "retry" } else { "final" }.to_string();
        if let Some(wait) = error.retry_after {
            how += &format!(" after {}", seconds(wait));
        }
        if error.rate_limited {
            how += ", slower";
        }
        format!("{:?} {status} {how}: {}", error.class, error.message)
    }

    fn url() -> InstanceUrl {
        InstanceUrl::parse("https://acme.example.com").expect("a valid URL")
    }

    fn proxy() -> ProxyInUse {
        let proxy = ureq::Proxy::new("http://user:pw@proxy.example.com:3128").expect("valid");
        ProxyInUse { proxy, variable: "HTTPS_PROXY" }
    }

    fn attempt<'a>(url: &'a InstanceUrl, proxy: Option<&'a ProxyInUse>) -> Attempt<'a> {
        Attempt {
            endpoint: Endpoint::UserGrants,
            url,
            proxy,
            org_id: None,
            timeout: Duration::from_secs(120),
        }
    }

    /// A ZITADEL error body with `message` and, when not empty, the error id `id`.
    fn zitadel_body(code: u8, message: &str, id: &str) -> String {
        match id {
            "" => format!(r#"{{"code":{code},"message":"{message}"}}"#),
            id => format!(
                r#"{{"code":{code},"message":"{message} ({id})","details":[{{"id":"{id}"}}]}}"#
            ),
        }
    }

    /// Holds the judgement of an answer to `attempt` with `status`, the `Location` and
    /// `Retry-After` headers and `body` to `expected` ("ok" for a success).
    fn check_answer(
        attempt: &Attempt,
        status: u16,
        [location, retry_after]: [Option<&str>; 2],
        body: &str,
        expected: &str,
    ) {
        // Sun, 06 Nov 1994 08:49:37 GMT
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let answer =
            Answer { status, location, retry_after, content_type: None, body: body.as_bytes() };
        let judged = judge_answer(attempt, &answer, now).err();
        assert_eq!(judged.as_ref().map_or("ok".into(), summary), expected, "{status} {body}");
    }

    const NO_HEADERS: [Option<&str>; 2] = [None, None];

    #[test]
    fn successes_and_redirects() {
        let url = url();
        let plain = attempt(&url, None);
        check_answer(&plain, 200, NO_HEADERS, "{}", "ok");
        check_answer(&plain, 204, NO_HEADERS, "", "ok");
        check_answer(
            &plain,
            301,
            [Some("https://elsewhere.example.com/ui"), None],
            "",
            "Other - final: HTTP 301: the server redirects to https://elsewhere.example.com/ui; not followed: check that --instance-url (BATON_INSTANCE_URL) is the instance's own address",
        );
        check_answer(
            &plain,
            307,
            NO_HEADERS,
            "",
            "Other - final: HTTP 307: the server redirects to nowhere; not followed: check that --instance-url (BATON_INSTANCE_URL) is the instance's own address",
        );
    }

    #[test]
    fn a_success_that_is_not_json_is_final_and_shown() {
        let url = url();
        let plain = attempt(&url, None);
        let now = SystemTime::UNIX_EPOCH;
        let page = "<!DOCTYPE html>\n<html><title>Sign in\u{1b}[2J</title>";
        let answer = Answer {
            status: 200,
            location: None,
            retry_after: None,
            content_type: Some("text/html; charset=utf-8"),
            body: page.as_bytes(),
        };
        let judged = judge_answer(&plain, &answer, now).expect_err("not JSON");
        assert_eq!(
            summary(&judged),
            "Other - final: HTTP 200 but the answer is not JSON (Content-Type text/html; charset=utf-8, starting \"<!DOCTYPE html>\\n<html><title>Sign in\\u{1b}[2J</title>\"): check that --instance-url (BATON_INSTANCE_URL) is the ZITADEL instance's own address, not a login page or web server in front of it"
        );
        let long = "x".repeat(5000);
        let answer = Answer { content_type: None, body: long.as_bytes(), ..answer };
        let message = judge_answer(&plain, &answer, now).expect_err("not JSON").message;
        assert!(message.contains("(no Content-Type, starting \"xxx"), "{message}");
        assert!(message.len() < 400, "{message}");
        // A body cut short, or empty, is the parser's to judge, and is retried.
        check_answer(&plain, 200, NO_HEADERS, "  {\"result\": [", "ok");
        check_answer(&plain, 200, NO_HEADERS, "", "ok");
    }

    #[test]
    fn a_rejected_pat_and_a_missing_permission() {
        let url = url();
        let plain = attempt(&url, None);
        let acme = Attempt { org_id: Some("284905129371435012"), ..attempt(&url, None) };
        let users = Attempt { endpoint: Endpoint::Users, ..attempt(&url, None) };
        check_answer(
            &plain,
            401,
            NO_HEADERS,
            &zitadel_body(16, "Errors.Token.Invalid", "AUTH-7fs1e"),
            "Unauthenticated 401 final: ZITADEL rejected the PAT (HTTP 401: Errors.Token.Invalid (AUTH-7fs1e)): check that it is a current Personal Access Token of a service user of this instance",
        );
        check_answer(
            &acme,
            403,
            NO_HEADERS,
            &zitadel_body(7, "Organisation doesn't exist", "AUTH-Bs7Ds"),
            "PermissionDenied 403 final: organization 284905129371435012 does not exist (HTTP 403: Organisation doesn't exist (AUTH-Bs7Ds)): check --org-id (BATON_ORG_ID)",
        );
        check_answer(
            &plain,
            403,
            NO_HEADERS,
            &zitadel_body(7, "No matching permissions found", "AUTH-5mWD2"),
            "PermissionDenied 403 final: permission denied (HTTP 403: No matching permissions found (AUTH-5mWD2)): this call needs user.grant.read; give the service user the Org Owner Viewer role (ORG_OWNER_VIEWER) on the organization, or a role that includes user.grant.read, or sync without it: --skip-grants (BATON_SKIP_GRANTS)",
        );
        check_answer(
            &users,
            403,
            NO_HEADERS,
            &zitadel_body(7, "No matching permissions found", ""),
            "PermissionDenied 403 final: permission denied (HTTP 403: No matching permissions found): this call needs user.read; give the service user the Org Owner Viewer role (ORG_OWNER_VIEWER) on the organization, or a role that includes user.read",
        );
    }

    #[test]
    fn a_missing_membership_and_a_missing_api() {
        let url = url();
        let plain = attempt(&url, None);
        let acme = Attempt { org_id: Some("284905129371435012"), ..attempt(&url, None) };
        let no_membership =
            "PermissionDenied 404 final: the service user has no membership in organization";
        let advice = "make it an Org Owner Viewer (ORG_OWNER_VIEWER) there, or leave --org-id (BATON_ORG_ID) unset to sync its own organization";
        check_answer(
            &acme,
            404,
            NO_HEADERS,
            &zitadel_body(5, "membership not found", "AUTHZ-cdgFk"),
            &format!(
                "{no_membership} 284905129371435012 (HTTP 404: membership not found (AUTHZ-cdgFk)): {advice}"
            ),
        );
        check_answer(
            &plain,
            404,
            NO_HEADERS,
            &zitadel_body(5, "Errors.Membership.NotFound", "AUTHZ-cdgFk"),
            &format!(
                "{no_membership} the service user's own organization (HTTP 404: Errors.Membership.NotFound (AUTHZ-cdgFk)): {advice}"
            ),
        );
        check_answer(
            &plain,
            404,
            NO_HEADERS,
            &zitadel_body(5, "membership not found", ""),
            &format!(
                "{no_membership} the service user's own organization (HTTP 404: membership not found): {advice}"
            ),
        );
        check_answer(
            &plain,
            404,
            NO_HEADERS,
            "<html>Not Found</html>",
            "Other 404 final: HTTP 404: not a ZITADEL error body: \"<html>Not Found</html>\": check that --instance-url (BATON_INSTANCE_URL) is the ZITADEL instance's address",
        );
    }

    #[test]
    fn transient_statuses_are_retried_and_retry_after_is_read() {
        let url = url();
        let plain = attempt(&url, None);
        let not_zitadel = "not a ZITADEL error body: \"\"";
        let check = |status, retry_after, body: &str, expected: &str| {
            check_answer(&plain, status, [None, retry_after], body, expected);
        };
        check(
            400,
            None,
            &zitadel_body(3, "invalid limit", ""),
            "Other 400 final: HTTP 400: invalid limit",
        );
        check(408, None, "", &format!("Other 408 retry: HTTP 408: {not_zitadel}"));
        check(429, None, "", &format!("Other 429 retry, slower: HTTP 429: {not_zitadel}"));
        check(
            429,
            Some("7"),
            &zitadel_body(8, "too many requests", ""),
            "Other 429 retry after 7s, slower: HTTP 429: too many requests",
        );
        check(
            503,
            Some("Sun, 06 Nov 1994 08:50:07 GMT"),
            "",
            &format!("Other 503 retry after 30s: HTTP 503: {not_zitadel}"),
        );
        check(503, Some("soon"), "", &format!("Other 503 retry: HTTP 503: {not_zitadel}"));
        for status in [500, 502, 504] {
            let expected = format!("Other {status} retry: HTTP {status}: internal");
            check(status, None, &zitadel_body(13, "internal", ""), &expected);
        }
        check(
            501,
            None,
            &zitadel_body(12, "not implemented", ""),
            "Other 501 final: HTTP 501: not implemented",
        );
        check(
            500,
            None,
            &format!("{{\"message\":\"{}\"}}", "x".repeat(400)),
            &format!("Other 500 retry: HTTP 500: {}…", "x".repeat(300)),
        );
    }

    fn check_transport(attempt: &Attempt, err: ureq::Error, expected: &str) {
        assert_eq!(summary(&transport_failure(attempt, &err)), expected, "{err:?}");
    }

    fn io_error(kind: io::ErrorKind, text: &str) -> ureq::Error {
        ureq::Error::Io(io::Error::new(kind, text))
    }

    #[test]
    fn failed_lookups_name_the_instance_or_the_proxy() {
        let url = url();
        let proxy = proxy();
        let check = check_transport;
        let direct = attempt(&url, None);
        let proxied = attempt(&url, Some(&proxy));
        let lookup = |host: &str, temporary| {
            ureq::Error::Io(io::Error::other(LookupFailed {
                host: host.into(),
                temporary,
                detail: "Name or service not known".into(),
            }))
        };
        check(
            &direct,
            lookup("acme.example.com", false),
            "Other - final: cannot resolve the host of https://acme.example.com: the name does not exist (Name or service not known): check --instance-url (BATON_INSTANCE_URL)",
        );
        check(
            &direct,
            lookup("acme.example.com", true),
            "Other - retry: cannot resolve the host of https://acme.example.com for now: Name or service not known",
        );
        check(
            &proxied,
            lookup("proxy.example.com", false),
            "Other - final: cannot resolve the host of the proxy proxy.example.com:3128 (HTTPS_PROXY): the name does not exist (Name or service not known): check HTTPS_PROXY",
        );
        check(
            &proxied,
            lookup("proxy.example.com", true),
            "Other - retry: cannot resolve the host of the proxy proxy.example.com:3128 (HTTPS_PROXY) for now: Name or service not known",
        );
        check(
            &direct,
            ureq::Error::HostNotFound,
            "Other - final: cannot resolve the host of https://acme.example.com: check --instance-url (BATON_INSTANCE_URL) and DNS",
        );
    }

    #[test]
    fn tls_failures_and_a_server_that_does_not_speak_tls() {
        let url = url();
        let check = check_transport;
        let direct = attempt(&url, None);
        let io = io_error;
        let plain_url = InstanceUrl::parse("http://zitadel.internal").expect("valid");
        let plain = attempt(&plain_url, None);
        let hint = "if the instance uses a private certificate authority, pass its certificate with --ca-cert (BATON_CA_CERT)";
        check(
            &direct,
            ureq::Error::Rustls(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
            &format!(
                "Other - final: TLS with https://acme.example.com failed: rustls: invalid peer certificate: UnknownIssuer; {hint}"
            ),
        );
        check(
            &direct,
            io(io::ErrorKind::InvalidData, "invalid peer certificate: UnknownIssuer"),
            &format!(
                "Other - final: TLS with https://acme.example.com failed: io: invalid peer certificate: UnknownIssuer; {hint}"
            ),
        );
        check(
            &direct,
            ureq::Error::Tls("no root certificates"),
            &format!(
                "Other - final: TLS with https://acme.example.com failed: no root certificates; {hint}"
            ),
        );
        let not_tls = "Other - final: https://acme.example.com does not speak TLS on that port (it answered in plain text): check the scheme and port of --instance-url (BATON_INSTANCE_URL)";
        check(
            &direct,
            ureq::Error::Rustls(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType,
            )),
            not_tls,
        );
        check(
            &direct,
            io(io::ErrorKind::InvalidData, "received corrupt message of type InvalidContentType"),
            not_tls,
        );
        check(
            &plain,
            io(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"),
            "Other - retry: request to http://zitadel.internal failed: io: stream did not contain valid UTF-8",
        );
    }

    #[test]
    fn timeouts_and_broken_connections_are_retried() {
        let url = url();
        let proxy = proxy();
        let check = check_transport;
        let io = io_error;
        let direct = attempt(&url, None);
        let proxied = attempt(&url, Some(&proxy));
        let timed_out = "Other - retry: no complete answer from https://acme.example.com within 120s (--timeout)";
        check(&direct, ureq::Error::Timeout(ureq::Timeout::Global), timed_out);
        check(&proxied, ureq::Error::Timeout(ureq::Timeout::Connect), timed_out);
        check(
            &direct,
            io(io::ErrorKind::ConnectionRefused, "Connection refused"),
            "Other - retry: https://acme.example.com refused the connection: io: Connection refused",
        );
        check(
            &proxied,
            io(io::ErrorKind::ConnectionRefused, "Connection refused"),
            "Other - retry: the proxy proxy.example.com:3128 (HTTPS_PROXY) refused the connection (io: Connection refused): check that it runs and that HTTPS_PROXY names it",
        );
        check(
            &proxied,
            ureq::Error::ConnectProxyFailed("proxy answered 403".into()),
            "Other - final: the proxy proxy.example.com:3128 (HTTPS_PROXY) did not open a tunnel to https://acme.example.com: CONNECT proxy failed: proxy answered 403",
        );
        check(
            &direct,
            io(io::ErrorKind::ConnectionReset, "Connection reset by peer"),
            "Other - retry: request to https://acme.example.com failed: io: Connection reset by peer",
        );
        check(
            &proxied,
            ureq::Error::ConnectionFailed,
            "Other - retry: request to https://acme.example.com through the proxy proxy.example.com:3128 (HTTPS_PROXY) failed: connection failed",
        );
        check(
            &direct,
            ureq::Error::BadUri("x".into()),
            "Other - final: request to https://acme.example.com failed: bad uri: x",
        );
    }

    #[test]
    fn bodies_that_cannot_be_read_whole() {
        let url = url();
        let direct = attempt(&url, None);
        let check = |err: io::Error, expected: &str| {
            assert_eq!(summary(&body_failure(&direct, 200, &err)), expected);
        };
        check(
            io::Error::other(ureq::Error::BodyExceedsLimit(MAX_BODY_BYTES)),
            "Other - final: HTTP 200: the response body is larger than 4 MiB, several times a page of real data; if rows of this organization really are that large, use a smaller --page-size (BATON_PAGE_SIZE)",
        );
        check(
            io::Error::other(ureq::Error::Timeout(ureq::Timeout::Global)),
            "Other - retry: no complete answer from https://acme.example.com within 120s (--timeout)",
        );
        check(
            io::Error::new(io::ErrorKind::UnexpectedEof, "peer closed connection"),
            "Other 200 retry: HTTP 200: the response body was cut short: peer closed connection",
        );
    }

    #[test]
    fn a_final_failure_says_why_it_is_final() {
        let failure = || ApiError::retryable("HTTP 503: busy".into());
        let check = |made, why: Option<GiveUp>, expected: &str| {
            assert_eq!(failure().given_up(made, why).to_string(), expected);
        };
        check(1, None, "HTTP 503: busy");
        check(3, Some(GiveUp::NoRetriesLeft), "gave up after 3 attempts: HTTP 503: busy");
        let over = |wait, left, asked| GiveUp::OverBudget {
            wait: Duration::from_secs_f64(wait),
            left: Duration::from_secs_f64(left),
            asked,
        };
        check(
            1,
            Some(over(60.0, 10.0, true)),
            "gave up at once: HTTP 503: busy; the server asks to wait 60s before trying again (Retry-After), more than the 10s left of --retry-max-wait (BATON_RETRY_MAX_WAIT)",
        );
        check(
            2,
            Some(over(2.25, 1.5, false)),
            "gave up after 2 attempts: HTTP 503: busy; the next wait would be 2.2s, more than the 1.5s left of --retry-max-wait (BATON_RETRY_MAX_WAIT)",
        );
    }

    #[test]
    fn malformed_bodies_are_retried_only_when_cut_or_invalid() {
        let parse = |text: &str| serde_json::from_str::<wire::Status>(text).expect_err("bad");
        assert!(ApiError::malformed(&parse("{\"code\":")).retryable);
        assert!(ApiError::malformed(&parse("<html>")).retryable);
        let typed = ApiError::malformed(&parse("{\"code\":\"x\"}"));
        assert!(!typed.retryable);
        assert!(typed.message.starts_with("malformed response: invalid type"), "{typed}");
    }
}
