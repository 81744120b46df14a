//! Speaks HTTP to ZITADEL's Management API v1: one agent, authenticated and paced read
//! requests, every failure classified by what the user has to do about it, and the waiting
//! between retries.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::io::{self, Read};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::config::Config;
use crate::log;
use crate::redact;
use crate::retry::{self, Attempts, Pace, RetryPolicy};
use crate::wire;

/// The largest response body we read. A 1000-row page is well under 2 MiB; anything far
/// larger is not a page of a sane server.
pub const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// The most characters of one piece of server text (an error message, a parser's
/// complaint) that a message quotes.
const SHOWN_CHARS: usize = 300;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The Management API calls a sync makes.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint<'a> {
    OrgsMe,
    Users,
    Projects,
    /// One project, by id: how `--project-id` values are checked.
    Project {
        project_id: &'a str,
    },
    ProjectRoles {
        project_id: &'a str,
    },
    UserGrants,
}

impl Endpoint<'_> {
    pub fn method(&self) -> &'static str {
        match self {
            Endpoint::OrgsMe | Endpoint::Project { .. } => "GET",
            _ => "POST",
        }
    }

    pub fn path(&self) -> Cow<'static, str> {
        match self {
            Endpoint::OrgsMe => "/management/v1/orgs/me".into(),
            Endpoint::Users => "/management/v1/users/_search".into(),
            Endpoint::Projects => "/management/v1/projects/_search".into(),
            Endpoint::Project { project_id } => {
                format!("/management/v1/projects/{}", path_segment(project_id)).into()
            }
            Endpoint::ProjectRoles { project_id } => {
                format!("/management/v1/projects/{}/roles/_search", path_segment(project_id)).into()
            }
            Endpoint::UserGrants => "/management/v1/users/grants/_search".into(),
        }
    }

    /// The ZITADEL permission the call needs.
    pub fn permission(&self) -> &'static str {
        match self {
            Endpoint::OrgsMe => "org.read",
            Endpoint::Users => "user.read",
            Endpoint::Projects | Endpoint::Project { .. } => "project.read",
            Endpoint::ProjectRoles { .. } => "project.role.read",
            Endpoint::UserGrants => "user.grant.read",
        }
    }
}

impl fmt::Display for Endpoint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.path())
    }
}

/// A failed attempt, classified by what the user has to do; the exit status follows the
/// class. Transient failures are `retryable`.
#[derive(Debug)]
pub struct ApiError {
    pub class: ErrorClass,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    message: String,
    retryable: bool,
    /// The server's `Retry-After`, if it sent one.
    retry_after: Option<Duration>,
    /// A 429: the server wants fewer requests.
    rate_limited: bool,
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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// An authenticated client of one ZITADEL instance.
pub struct Client {
    agent: ureq::Agent,
    instance_url: String,
    authorization: String,
    org_id: Option<String>,
    timeout: Duration,
    policy: RetryPolicy,
    pace: Pace,
    last_request: Option<Instant>,
    requests: u64,
    retries: u64,
    jitter: RandomState,
}

impl Client {
    pub fn new(config: &Config) -> Client {
        let roots = match &config.ca_certs {
            Some(certs) => ureq::tls::RootCerts::new_with_certs(
                &certs
                    .iter()
                    .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
                    .collect::<Vec<_>>(),
            ),
            None => ureq::tls::RootCerts::WebPki,
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("baton-zitadel/", env!("CARGO_PKG_VERSION")))
            // Each phase of a request is bounded by the timeout. A global timeout would do
            // too, but ureq then resolves the host name on a new thread for every request,
            // which cost a sixth of the CPU of a large sync; name resolution keeps the
            // system resolver's own timeouts.
            .timeout_connect(Some(CONNECT_TIMEOUT.min(config.timeout)))
            .timeout_send_request(Some(config.timeout))
            .timeout_send_body(Some(config.timeout))
            .timeout_recv_response(Some(config.timeout))
            .timeout_recv_body(Some(config.timeout))
            // A redirect would carry the request elsewhere; ZITADEL's API never redirects,
            // so one means the instance URL points at something else.
            .max_redirects(0)
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            // HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY, as checked by config.
            .proxy(ureq::Proxy::try_from_env())
            .build()
            .new_agent();
        Client {
            agent,
            instance_url: config.instance_url.clone(),
            authorization: format!("Bearer {}", config.pat.expose()),
            org_id: config.org_id.clone(),
            timeout: config.timeout,
            policy: config.retry,
            pace: Pace::new(config.max_rps),
            last_request: None,
            requests: 0,
            retries: 0,
            jitter: RandomState::new(),
        }
    }

    /// Sends `x-zitadel-orgid: org_id` on every later request.
    pub fn pin_org(&mut self, org_id: &str) {
        self.org_id = Some(org_id.to_string());
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Retries made so far.
    pub fn retries(&self) -> u64 {
        self.retries
    }

    /// The retry budget of one new request.
    pub fn attempts(&self) -> Attempts {
        Attempts::new(self.policy)
    }

    /// After a failed attempt of `what`: waits and returns `Ok` when another attempt is due,
    /// or returns the failure when it is final (not transient, or the budget is spent).
    pub fn retry_or_give_up(
        &mut self,
        attempts: &mut Attempts,
        failure: ApiError,
        what: &dyn fmt::Display,
    ) -> Result<(), ApiError> {
        if failure.rate_limited {
            let rps = self.pace.slow_down();
            log::warn(&format!("rate limited by the server: at most {rps} requests/s from now on"));
        }
        let made = attempts.made();
        let jitter = (self.jitter.hash_one(self.requests) % 1000) as f64 / 999.0;
        let wait =
            if failure.retryable { attempts.next_wait(failure.retry_after, jitter) } else { None };
        let Some(wait) = wait else {
            if made == 1 {
                return Err(failure);
            }
            let message = format!("gave up after {made} attempts: {}", failure.message);
            return Err(ApiError { message, ..failure });
        };
        log::warn(&format!(
            "{what}: attempt {made} failed ({}); retrying in {:.1}s",
            failure.message,
            wait.as_secs_f64()
        ));
        self.retries += 1;
        thread::sleep(wait);
        Ok(())
    }

    /// Makes one attempt at `endpoint` with `body` (ignored for GET), reads the response
    /// body into `response`, replacing its contents, and returns the HTTP status.
    pub fn send(
        &mut self,
        endpoint: Endpoint,
        body: &[u8],
        response: &mut Vec<u8>,
    ) -> Result<u16, ApiError> {
        let url = format!("{}{}", self.instance_url, endpoint.path());
        self.keep_pace();
        self.requests += 1;
        let mut request = ureq::http::Request::builder()
            .method(endpoint.method())
            .uri(&url)
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json");
        if let Some(org_id) = &self.org_id {
            request = request.header("x-zitadel-orgid", org_id);
        }
        if endpoint.method() == "POST" {
            request = request.header("Content-Type", "application/json");
        }
        let request =
            request.body(body).map_err(|err| other(format!("cannot build the request: {err}")))?;
        let result = self.agent.run(request);
        let mut reply = result.map_err(|err| self.transport_error(err))?;
        response.clear();
        let read =
            reply.body_mut().with_config().limit(MAX_BODY_BYTES).reader().read_to_end(response);
        let status = reply.status().as_u16();
        if let Err(err) = read {
            let inner = err.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>());
            if let Some(ureq::Error::BodyExceedsLimit(_)) = inner {
                return Err(other(format!(
                    "HTTP {status}: the response body is larger than {} MiB, far more than any page",
                    MAX_BODY_BYTES >> 20
                )));
            }
            // The connection broke mid-body: worth another attempt.
            let detail = self.redact(&err.to_string());
            let message = format!("HTTP {status}: the response body was cut short: {detail}");
            return Err(ApiError { status: Some(status), retryable: true, ..other(message) });
        }
        match status {
            200..=299 => Ok(status),
            300..=399 => {
                let location = reply
                    .headers()
                    .get("location")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("nowhere");
                Err(other(format!(
                    "HTTP {status}: the server redirects to {}; not followed: check that --instance-url (BATON_INSTANCE_URL) is the instance's own address",
                    redact::server_text(location, 200)
                )))
            }
            _ => {
                let retry_after = reply
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| retry::parse_retry_after(value, SystemTime::now()));
                let error = self.status_error(endpoint, status, response);
                let retryable = matches!(status, 408 | 429 | 500 | 502 | 503 | 504);
                Err(ApiError {
                    status: Some(status),
                    retryable,
                    retry_after,
                    rate_limited: status == 429,
                    ..error
                })
            }
        }
    }

    /// Sleeps as long as the pace requires since the previous request started.
    fn keep_pace(&mut self) {
        let interval = self.pace.interval();
        if let Some(last) = self.last_request
            && let Some(wait) = interval.checked_sub(last.elapsed())
        {
            thread::sleep(wait);
        }
        self.last_request = Some(Instant::now());
    }

    fn status_error(&self, endpoint: Endpoint, status: u16, body: &[u8]) -> ApiError {
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
        let permission = endpoint.permission();
        let org = self.org_id.as_deref().unwrap_or("the service user's own organization");
        match status {
            401 => ApiError {
                class: ErrorClass::Unauthenticated,
                ..other(format!(
                    "ZITADEL rejected the PAT (HTTP 401: {said}): check that it is a current Personal Access Token of a service user of this instance"
                ))
            },
            403 if error_id == "AUTH-Bs7Ds" => denied(format!(
                "organization {org} does not exist (HTTP 403: {said}): check --org-id (BATON_ORG_ID)"
            )),
            403 => denied(format!(
                "permission denied (HTTP 403: {said}): this call needs {permission}; give the service user the Org Owner Viewer role (ORG_OWNER_VIEWER) on the organization, or a role that includes {permission}"
            )),
            404 if error_id == "AUTHZ-cdgFk" || said.contains("membership not found") => {
                denied(format!(
                    "the service user has no membership in organization {org} (HTTP 404: {said}): make it an Org Owner Viewer (ORG_OWNER_VIEWER) there, or leave --org-id (BATON_ORG_ID) unset to sync its own organization"
                ))
            }
            404 => other(format!(
                "HTTP 404: {said}: check that --instance-url (BATON_INSTANCE_URL) is the ZITADEL instance's address"
            )),
            _ => other(format!("HTTP {status}: {said}")),
        }
    }

    /// Classifies a failure to get a response at all. Refused, reset or dropped connections
    /// and timeouts are transient; TLS and DNS failures are configuration problems.
    fn transport_error(&self, err: ureq::Error) -> ApiError {
        let url = &self.instance_url;
        let detail = self.redact(&err.to_string());
        let tls_hint = "if the instance uses a private certificate authority, pass its certificate with --ca-cert (BATON_CA_CERT)";
        match err {
            ureq::Error::HostNotFound => other(format!(
                "cannot resolve the host of {url}: check --instance-url (BATON_INSTANCE_URL) and DNS"
            )),
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
                other(format!("TLS with {url} failed: {detail}; {tls_hint}"))
            }
            ureq::Error::Io(io)
                if io.kind() == io::ErrorKind::InvalidData && url.starts_with("https:") =>
            {
                other(format!("TLS with {url} failed: {detail}; {tls_hint}"))
            }
            ureq::Error::Timeout(_) => ApiError {
                retryable: true,
                ..other(format!(
                    "no complete answer from {url} within {}s (--timeout)",
                    self.timeout.as_secs_f64()
                ))
            },
            ureq::Error::Io(_) | ureq::Error::Protocol(_) | ureq::Error::ConnectionFailed => {
                ApiError { retryable: true, ..other(format!("request to {url} failed: {detail}")) }
            }
            _ => other(format!("request to {url} failed: {detail}")),
        }
    }

    /// Removes every piece of the PAT from text that came from elsewhere (a server, a proxy,
    /// an OS error): a hostile or broken server could echo it back.
    fn redact(&self, text: &str) -> String {
        redact::redact(text).into_owned()
    }
}

fn other(message: String) -> ApiError {
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

/// Percent-encodes an id for use as one URL path segment.
fn path_segment(text: &str) -> Cow<'_, str> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if text.bytes().all(safe) {
        return Cow::Borrowed(text);
    }
    let mut encoded = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if safe(b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_are_encoded_as_one_path_segment() {
        assert_eq!(
            Endpoint::ProjectRoles { project_id: "284905129371435012" }.path(),
            "/management/v1/projects/284905129371435012/roles/_search"
        );
        assert_eq!(
            Endpoint::ProjectRoles { project_id: "../x?y" }.path(),
            "/management/v1/projects/..%2Fx%3Fy/roles/_search"
        );
    }
}
