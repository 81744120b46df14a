//! Speaks HTTP to ZITADEL's Management API v1: one agent, authenticated read requests, and
//! every failure classified by what the user has to do about it.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::time::Duration;

use crate::config::Config;
use crate::wire;

/// The largest response body we read. A 1000-row page is well under 2 MiB; anything far
/// larger is not a page of a sane server.
const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A 1000-row page of a large organization can take ZITADEL many seconds to compute.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The Management API calls a sync makes.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint<'a> {
    OrgsMe,
    Users,
    Projects,
    ProjectRoles { project_id: &'a str },
    UserGrants,
}

impl Endpoint<'_> {
    pub fn method(&self) -> &'static str {
        match self {
            Endpoint::OrgsMe => "GET",
            _ => "POST",
        }
    }

    pub fn path(&self) -> Cow<'static, str> {
        match self {
            Endpoint::OrgsMe => "/management/v1/orgs/me".into(),
            Endpoint::Users => "/management/v1/users/_search".into(),
            Endpoint::Projects => "/management/v1/projects/_search".into(),
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
            Endpoint::Projects => "project.read",
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

/// A failed call, classified by what the user has to do; the exit status follows the class.
#[derive(Debug)]
pub struct ApiError {
    pub class: ErrorClass,
    message: String,
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
    requests: u64,
}

impl Client {
    pub fn new(config: &Config) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("baton-zitadel/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            // A redirect would carry the request elsewhere; ZITADEL's API never redirects,
            // so one means the instance URL points at something else.
            .max_redirects(0)
            .build()
            .new_agent();
        Client {
            agent,
            instance_url: config.instance_url.clone(),
            authorization: format!("Bearer {}", config.pat.expose()),
            org_id: config.org_id.clone(),
            requests: 0,
        }
    }

    /// Sends `x-zitadel-orgid: org_id` on every later request.
    pub fn pin_org(&mut self, org_id: &str) {
        self.org_id = Some(org_id.to_string());
    }

    /// HTTP requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Calls `endpoint` with `body` (ignored for GET) and reads the response body into
    /// `response`, replacing its contents.
    pub fn call(
        &mut self,
        endpoint: Endpoint,
        body: &[u8],
        response: &mut Vec<u8>,
    ) -> Result<(), ApiError> {
        let url = format!("{}{}", self.instance_url, endpoint.path());
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
        let mut reply = result.map_err(|err| self.transport_error(&err))?;
        response.clear();
        let read =
            reply.body_mut().with_config().limit(MAX_BODY_BYTES).reader().read_to_end(response);
        let status = reply.status().as_u16();
        if let Err(err) = read {
            return Err(other(format!(
                "HTTP {status}: reading the response body failed: {}",
                self.redact(&err.to_string())
            )));
        }
        match status {
            200..=299 => Ok(()),
            300..=399 => {
                let location = reply
                    .headers()
                    .get("location")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("nowhere");
                Err(other(format!(
                    "HTTP {status}: the server redirects to {}; not followed: check that --instance-url (BATON_INSTANCE_URL) is the instance's own address",
                    self.redact(&printable(location, 200))
                )))
            }
            _ => Err(self.status_error(endpoint, status, response)),
        }
    }

    fn status_error(&self, endpoint: Endpoint, status: u16, body: &[u8]) -> ApiError {
        let parsed =
            serde_json::from_slice::<wire::Status>(body).ok().filter(|s| !s.message.is_empty());
        let said = match &parsed {
            Some(status) => self.redact(&printable(&status.message, 300)),
            None => format!(
                "not a ZITADEL error body: {:?}",
                self.redact(&printable(&String::from_utf8_lossy(body), 120))
            ),
        };
        let error_id = parsed.as_ref().and_then(|s| s.error_id()).unwrap_or("");
        let permission = endpoint.permission();
        let org = self.org_id.as_deref().unwrap_or("the service user's own organization");
        match status {
            401 => ApiError {
                class: ErrorClass::Unauthenticated,
                message: format!(
                    "ZITADEL rejected the PAT (HTTP 401: {said}): check that it is a current Personal Access Token of a service user of this instance"
                ),
            },
            403 if error_id == "AUTH-Bs7Ds" => ApiError {
                class: ErrorClass::PermissionDenied,
                message: format!(
                    "organization {org} does not exist (HTTP 403: {said}): check --org-id (BATON_ORG_ID)"
                ),
            },
            403 => ApiError {
                class: ErrorClass::PermissionDenied,
                message: format!(
                    "permission denied (HTTP 403: {said}): this call needs {permission}; give the service user the Org Owner Viewer role (ORG_OWNER_VIEWER) on the organization, or a role that includes {permission}"
                ),
            },
            404 if error_id == "AUTHZ-cdgFk" || said.contains("membership not found") => ApiError {
                class: ErrorClass::PermissionDenied,
                message: format!(
                    "the service user has no membership in organization {org} (HTTP 404: {said}): make it an Org Owner Viewer (ORG_OWNER_VIEWER) there, or leave --org-id (BATON_ORG_ID) unset to sync its own organization"
                ),
            },
            404 => other(format!(
                "HTTP 404: {said}: check that --instance-url (BATON_INSTANCE_URL) is the ZITADEL instance's address"
            )),
            _ => other(format!("HTTP {status}: {said}")),
        }
    }

    fn transport_error(&self, err: &ureq::Error) -> ApiError {
        other(format!("request to {} failed: {}", self.instance_url, self.redact(&err.to_string())))
    }

    /// Removes the PAT from text that came from elsewhere (a server, a proxy, an OS error):
    /// a hostile or broken server could echo it back.
    fn redact(&self, text: &str) -> String {
        let pat = &self.authorization["Bearer ".len()..];
        text.replace(pat, "[redacted]")
    }
}

fn other(message: String) -> ApiError {
    ApiError { class: ErrorClass::Other, message }
}

/// Up to `max` characters of `text` on one line, control characters replaced.
fn printable(text: &str, max: usize) -> String {
    let mut line: String =
        text.chars().take(max).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().count() > max {
        line.push('…');
    }
    line
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
    fn printable_keeps_one_short_line() {
        assert_eq!(printable("a\nb", 10), "a b");
        assert_eq!(printable("abcdef", 3), "abc…");
    }
}
