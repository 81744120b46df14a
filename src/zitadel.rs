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

use crate::config::{self, Config};
use crate::log;
use crate::redact;
use crate::retry::{self, Attempts, GiveUp, Pace, RetryPolicy};
use crate::wire;

/// The largest response body we read. A 1000-row page of real data is about 1 MiB (a user
/// with many login names a few KiB); with strings capped too (`wire::MAX_TEXT_BYTES`), a
/// body this large keeps the sync's memory within 16 MiB however hostile it is.
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
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
    OrgMembers,
    OrgMemberRoles,
    ProjectMembers {
        project_id: &'a str,
    },
    ProjectMemberRoles,
    ProjectGrants {
        project_id: &'a str,
    },
    ProjectGrantMembers {
        project_id: &'a str,
        grant_id: &'a str,
    },
    ProjectGrantMemberRoles,
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
            Endpoint::OrgMembers => "/management/v1/orgs/me/members/_search".into(),
            Endpoint::OrgMemberRoles => "/management/v1/orgs/members/roles/_search".into(),
            Endpoint::ProjectMembers { project_id } => {
                format!("/management/v1/projects/{}/members/_search", path_segment(project_id))
                    .into()
            }
            Endpoint::ProjectMemberRoles => "/management/v1/projects/members/roles/_search".into(),
            Endpoint::ProjectGrants { project_id } => {
                format!("/management/v1/projects/{}/grants/_search", path_segment(project_id))
                    .into()
            }
            Endpoint::ProjectGrantMembers { project_id, grant_id } => format!(
                "/management/v1/projects/{}/grants/{}/members/_search",
                path_segment(project_id),
                path_segment(grant_id)
            )
            .into(),
            Endpoint::ProjectGrantMemberRoles => {
                "/management/v1/projects/grants/members/roles/_search".into()
            }
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
            Endpoint::OrgMembers | Endpoint::OrgMemberRoles => "org.member.read",
            Endpoint::ProjectMembers { .. } | Endpoint::ProjectMemberRoles => "project.member.read",
            Endpoint::ProjectGrants { .. } => "project.grant.read",
            Endpoint::ProjectGrantMembers { .. } | Endpoint::ProjectGrantMemberRoles => {
                "project.grant.member.read"
            }
        }
    }
}

impl Endpoint<'_> {
    /// The setting that syncs without this call, when there is one: what a user lacking its
    /// permission can do instead of asking for it.
    pub fn skipped_by(&self) -> Option<&'static str> {
        match self {
            Endpoint::UserGrants => Some("--skip-grants (BATON_SKIP_GRANTS)"),
            Endpoint::OrgMembers
            | Endpoint::OrgMemberRoles
            | Endpoint::ProjectMembers { .. }
            | Endpoint::ProjectMemberRoles
            | Endpoint::ProjectGrantMembers { .. }
            | Endpoint::ProjectGrantMemberRoles => Some("--skip-managers (BATON_SKIP_MANAGERS)"),
            Endpoint::ProjectGrants { .. } => Some(
                "--resource-types user,project,org (BATON_SYNC_RESOURCE_TYPES), without project_grant",
            ),
            _ => None,
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
    /// The proxy the requests go through, if any, as messages name it.
    proxy: Option<ProxyInUse>,
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
        let proxy = proxy_for(&config.instance_url);
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("baton-zitadel/", env!("CARGO_PKG_VERSION")))
            // The timeout bounds each attempt as a whole, from the name lookup to the last
            // byte of the body, so that a server that answers slowly in every phase cannot
            // hold one attempt for several timeouts. `Lookup` keeps the cost of that low.
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(CONNECT_TIMEOUT.min(config.timeout)))
            // A redirect would carry the request elsewhere; ZITADEL's API never redirects,
            // so one means the instance URL points at something else.
            .max_redirects(0)
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            .proxy(proxy.as_ref().map(|in_use| in_use.proxy.clone()))
            .build();
        let connector = ureq::unversioned::transport::DefaultConnector::default();
        let agent = ureq::Agent::with_parts(agent_config, connector, Lookup);
        Client {
            agent,
            instance_url: config.instance_url.clone(),
            authorization: format!("Bearer {}", config.pat.expose()),
            org_id: config.org_id.clone(),
            proxy,
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
    /// or returns the failure when it is final (not transient, or the budget is spent), saying
    /// why when the budget is what ends it.
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
        let give_up = if failure.retryable {
            match attempts.next_wait(failure.retry_after, jitter) {
                Ok(wait) => {
                    log::warn(&format!(
                        "{what}: attempt {made} failed ({}); retrying in {:.1}s",
                        failure.message,
                        wait.as_secs_f64()
                    ));
                    self.retries += 1;
                    thread::sleep(wait);
                    return Ok(());
                }
                Err(why) => Some(why),
            }
        } else {
            None
        };
        let mut message = failure.message;
        let over_budget = matches!(give_up, Some(GiveUp::OverBudget { .. }));
        if let Some(GiveUp::OverBudget { wait, left, asked }) = give_up {
            let wait = seconds(wait);
            let why = if asked {
                format!("the server asks to wait {wait} before trying again (Retry-After)")
            } else {
                format!("the next wait would be {wait}")
            };
            message = format!(
                "{message}; {why}, more than the {} left of --retry-max-wait (BATON_RETRY_MAX_WAIT)",
                seconds(left)
            );
        }
        let message = match made {
            1 if over_budget => format!("gave up at once: {message}"),
            1 => message,
            _ => format!("gave up after {made} attempts: {message}"),
        };
        Err(ApiError { message, ..failure })
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
                    "HTTP {status}: the response body is larger than {} MiB, several times a page of real data; if rows of this organization really are that large, use a smaller --page-size (BATON_PAGE_SIZE)",
                    MAX_BODY_BYTES >> 20
                )));
            }
            if let Some(ureq::Error::Timeout(_)) = inner {
                return Err(self.timed_out());
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
            403 => {
                let instead = endpoint
                    .skipped_by()
                    .map_or(String::new(), |setting| format!(", or sync without it: {setting}"));
                denied(format!(
                    "permission denied (HTTP 403: {said}): this call needs {permission}; give the service user the Org Owner Viewer role (ORG_OWNER_VIEWER) on the organization, or a role that includes {permission}{instead}"
                ))
            }
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

    /// Classifies a failure to get a response at all. Refused, reset or dropped connections,
    /// timeouts and a resolver that cannot answer for now are transient; TLS failures and a
    /// host name that does not exist are configuration problems. A failure of the proxy
    /// names the proxy, not the instance.
    fn transport_error(&self, err: ureq::Error) -> ApiError {
        let url = &self.instance_url;
        let detail = self.redact(&err.to_string());
        let tls_hint = "if the instance uses a private certificate authority, pass its certificate with --ca-cert (BATON_CA_CERT)";
        let proxy = self.proxy.as_ref();
        if let ureq::Error::Io(io) = &err
            && let Some(lookup) =
                io.get_ref().and_then(|inner| inner.downcast_ref::<LookupFailed>())
        {
            return self.lookup_error(lookup);
        }
        match err {
            ureq::Error::HostNotFound => other(format!(
                "cannot resolve the host of {url}: check --instance-url (BATON_INSTANCE_URL) and DNS"
            )),
            ureq::Error::Tls(_)
            | ureq::Error::Rustls(_)
            | ureq::Error::Pem(_)
            | ureq::Error::Io(_)
                if url.starts_with("https:") && detail.contains("InvalidContentType") =>
            {
                // rustls read something that is not a TLS record at all: a plain-HTTP
                // server's answer to the TLS handshake. No certificate would help.
                other(format!(
                    "{url} does not speak TLS on that port (it answered in plain text): check the scheme and port of --instance-url (BATON_INSTANCE_URL)"
                ))
            }
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
                other(format!("TLS with {url} failed: {detail}; {tls_hint}"))
            }
            ureq::Error::Io(io)
                if io.kind() == io::ErrorKind::InvalidData && url.starts_with("https:") =>
            {
                other(format!("TLS with {url} failed: {detail}; {tls_hint}"))
            }
            ureq::Error::Timeout(_) => self.timed_out(),
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
    fn timed_out(&self) -> ApiError {
        let url = &self.instance_url;
        let seconds = self.timeout.as_secs_f64();
        ApiError {
            retryable: true,
            ..other(format!("no complete answer from {url} within {seconds}s (--timeout)"))
        }
    }

    /// The failure of a name lookup: the proxy's host or the instance's, for now or for good.
    fn lookup_error(&self, lookup: &LookupFailed) -> ApiError {
        let detail = self.redact(&lookup.detail);
        let (whose, setting) = match &self.proxy {
            Some(proxy) if proxy.proxy.host() == lookup.host => {
                (format!("the proxy {proxy}"), proxy.variable)
            }
            _ => (self.instance_url.clone(), "--instance-url (BATON_INSTANCE_URL)"),
        };
        if lookup.temporary {
            let message = format!("cannot resolve the host of {whose} for now: {detail}");
            return ApiError { retryable: true, ..other(message) };
        }
        other(format!(
            "cannot resolve the host of {whose}: the name does not exist ({detail}): check {setting}"
        ))
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

/// The proxy requests go through, and the variable that named it.
struct ProxyInUse {
    proxy: ureq::Proxy,
    variable: &'static str,
}

impl fmt::Display for ProxyInUse {
    /// Host and port only: a proxy URL may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} ({})", self.proxy.host(), self.proxy.port(), self.variable)
    }
}

/// The proxy variables ureq reads, in its order of preference.
const PROXY_VARIABLES: [&str; 6] =
    ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

/// The proxy for requests to `instance_url`: ureq's choice from the environment, unless
/// `NO_PROXY` exempts the host or the host is loopback. A loopback address means this
/// machine, and through a proxy it would mean the proxy's machine instead, with the PAT
/// in clear text on the way for `http://`.
fn proxy_for(instance_url: &str) -> Option<ProxyInUse> {
    if config::is_loopback(instance_url) {
        return None;
    }
    let uri: ureq::http::Uri = instance_url.parse().ok()?;
    let proxy = ureq::Proxy::try_from_env()?;
    if proxy.is_no_proxy(&uri) {
        return None;
    }
    let variable = PROXY_VARIABLES.into_iter().find(|variable| {
        std::env::var(variable).is_ok_and(|value| ureq::Proxy::new(&value).is_ok())
    })?;
    Some(ProxyInUse { proxy, variable })
}

/// Resolves host names for the agent. An IP address needs no lookup; a name is looked up by
/// ureq's resolver, which bounds it by what is left of `--timeout` with a thread per lookup
/// (0.7 % more instructions than an IP address on the small benchmark organization). ureq's
/// resolver alone starts that thread for an IP address too, which cost a sixth of the CPU
/// of a large sync, and reports a failed lookup as any I/O error, so that a name that does
/// not exist would be retried like a dropped connection. The resolver interface is outside
/// ureq's semver promise; `Cargo.lock` pins the version it was written against.
#[derive(Debug)]
struct Lookup;

impl ureq::unversioned::resolver::Resolver for Lookup {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<std::net::IpAddr>() {
            let https = uri.scheme_str() == Some("https");
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let mut addrs = self.empty();
            addrs.push(std::net::SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let resolver = ureq::unversioned::resolver::DefaultResolver::default();
        resolver.resolve(uri, config, timeout).map_err(|err| match err {
            ureq::Error::Io(io) => ureq::Error::Io(io::Error::other(LookupFailed {
                host: host.to_string(),
                temporary: is_temporary_lookup_failure(&io),
                detail: io.to_string(),
            })),
            other => other,
        })
    }
}

/// A host name the system resolver could not turn into an address.
#[derive(Debug)]
struct LookupFailed {
    host: String,
    /// Whether another attempt may succeed.
    temporary: bool,
    detail: String,
}

impl fmt::Display for LookupFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot resolve {}: {}", self.host, self.detail)
    }
}

impl std::error::Error for LookupFailed {}

/// Whether a failed lookup may succeed later: the resolver could not be reached or said
/// "try again" (`EAI_AGAIN`), or a system call failed (`EAI_SYSTEM`, which std reports as an
/// OS error). Any other answer, such as "Name or service not known", is final. std keeps
/// only the C library's text for the code, so that text is what is compared.
fn is_temporary_lookup_failure(err: &io::Error) -> bool {
    if err.raw_os_error().is_some() {
        return true;
    }
    unsafe extern "C" {
        fn gai_strerror(code: std::ffi::c_int) -> *const std::ffi::c_char;
    }
    /// `EAI_AGAIN` in glibc and musl.
    const EAI_AGAIN: std::ffi::c_int = -3;
    // SAFETY: gai_strerror returns a pointer to a static C string for any code.
    let again = unsafe { std::ffi::CStr::from_ptr(gai_strerror(EAI_AGAIN)) };
    err.to_string().ends_with(&*again.to_string_lossy())
}

/// A wait as a person reads it: whole seconds as such, else to a tenth of a second.
fn seconds(wait: Duration) -> String {
    match wait.subsec_nanos() {
        0 => format!("{}s", wait.as_secs()),
        _ => format!("{:.1}s", wait.as_secs_f64()),
    }
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

    #[test]
    fn only_lookups_that_may_pass_later_are_temporary() {
        let said =
            |text: &str| io::Error::other(format!("failed to lookup address information: {text}"));
        assert!(is_temporary_lookup_failure(&said("Temporary failure in name resolution")));
        assert!(is_temporary_lookup_failure(&io::Error::from_raw_os_error(24)), "EMFILE");
        assert!(!is_temporary_lookup_failure(&said("Name or service not known")));
        assert!(!is_temporary_lookup_failure(&said("No address associated with hostname")));
    }
}
