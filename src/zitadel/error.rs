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
use crate::wire;

/// The most characters of one piece of server text (an error message, a parser's
/// complaint) that a message quotes.
const SHOWN_CHARS: usize = 300;

/// The settings messages name, as the command line spells them.
const INSTANCE_URL: &str = "--instance-url (BATON_INSTANCE_URL)";
const CA_CERT: &str = "--ca-cert (BATON_CA_CERT)";
const ORG_ID: &str = "--org-id (BATON_ORG_ID)";
const PAGE_SIZE: &str = "--page-size (BATON_PAGE_SIZE)";
const RETRY_MAX_WAIT: &str = "--retry-max-wait (BATON_RETRY_MAX_WAIT)";

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
    pub body: &'a [u8],
}

/// Judges an answer: a 2xx is a success; anything else is a failure, retryable when a later
/// attempt may get another answer (408, 429, 5xx but 501). `now` dates `Retry-After`.
pub(super) fn judge_answer(
    attempt: &Attempt,
    answer: &Answer,
    now: SystemTime,
) -> Result<(), ApiError> {
    let status = answer.status;
    match status {
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
                "permission denied (HTTP 403: {said}): this call needs {permission}; give the service user the Org Owner Viewer role (ORG_OWNER_VIEWER) on the organization, or a role that includes {permission}{instead}"
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
            (format!("the proxy {proxy}"), proxy.variable)
        }
        _ => (attempt.url.to_string(), INSTANCE_URL),
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

