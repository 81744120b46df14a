//! The one I/O part of the HTTP layer: an agent for one ZITADEL instance that sends
//! authenticated, paced requests, reads their answers, and waits between retries.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::deadline::Deadline;
use super::error::{self, Answer, Attempt, other};
use super::net::{self, Lookup, ProxyEnv, ProxyInUse};
use super::{ApiError, Body, Endpoint, InstanceUrl, MAX_BODY_BYTES};
use crate::log::{self, Level};
use crate::retry::{Attempts, Pace, RetryPolicy};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the client needs to know: the instance, the credentials and how to reach it.
pub struct Settings<'a> {
    pub url: &'a InstanceUrl,
    pub pat: &'a str,
    /// The organization to read; `None` for the service user's own.
    pub org_id: Option<&'a str>,
    /// The longest one attempt may take, connecting and reading the whole body included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// The most requests per second; `None` for no limit.
    pub max_rps: Option<f64>,
    /// DER certificates that replace the bundled root certificates.
    pub ca_certs: Option<&'a [Vec<u8>]>,
    pub proxy: &'a ProxyEnv,
}

/// An authenticated client of one ZITADEL instance.
pub struct Client {
    agent: ureq::Agent,
    url: InstanceUrl,
    authorization: String,
    org_id: Option<String>,
    /// The proxy the requests go through, if any, as messages name it.
    proxy: Option<ProxyInUse>,
    timeout: Duration,
    /// The end of the attempt under way, which every connection obeys.
    deadline: Deadline,
    policy: RetryPolicy,
    pace: Pace,
    last_request: Option<Instant>,
    requests: u64,
    retries: u64,
    jitter: RandomState,
}

impl Client {
    pub fn new(settings: &Settings) -> Client {
        let route = settings.proxy.route(settings.url);
        if log::enabled(Level::Debug) {
            log::log(Level::Debug, &format!("connecting to {} {}", settings.url, route.why), &[]);
        }
        let proxy = route.proxy;
        let deadline = Deadline::default();
        Client {
            agent: agent(settings, proxy.as_ref(), deadline.clone()),
            url: settings.url.clone(),
            authorization: format!("Bearer {}", settings.pat),
            org_id: settings.org_id.map(String::from),
            proxy,
            timeout: settings.timeout,
            deadline,
            policy: settings.retry,
            pace: Pace::new(settings.max_rps),
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
        if !failure.retryable {
            return Err(failure.given_up(made, None));
        }
        let jitter = (self.jitter.hash_one(self.requests) % 1000) as f64 / 999.0;
        match attempts.next_wait(failure.retry_after, jitter) {
            Ok(wait) => {
                log::warn(&format!(
                    "{what}: attempt {made} failed ({}); retrying in {:.1}s",
                    failure.message,
                    wait.as_secs_f64()
                ));
                self.retries += 1;
                thread::sleep(wait);
                Ok(())
            }
            Err(why) => Err(failure.given_up(made, Some(why))),
        }
    }

    /// Makes one attempt at `endpoint` with `body` (ignored for GET), reads the response
    /// body into `response`, replacing the body before (left empty when no answer comes),
    /// and returns the HTTP status.
    pub fn send(
        &mut self,
        endpoint: Endpoint,
        body: &[u8],
        response: &mut Body,
    ) -> Result<u16, ApiError> {
        self.keep_pace();
        self.requests += 1;
        let request = self.request(endpoint, body)?;
        let attempt = Attempt {
            endpoint,
            url: &self.url,
            proxy: self.proxy.as_ref(),
            org_id: self.org_id.as_deref(),
            timeout: self.timeout,
        };
        self.deadline.start(self.timeout);
        response.clear();
        let mut reply =
            self.agent.run(request).map_err(|err| error::transport_failure(&attempt, &err))?;
        let read =
            response.read_from(reply.body_mut().with_config().limit(MAX_BODY_BYTES).reader());
        let status = reply.status().as_u16();
        if let Err(err) = read {
            return Err(error::body_failure(&attempt, status, &err));
        }
        let header = |name| reply.headers().get(name).and_then(|value| value.to_str().ok());
        let answer = Answer {
            status,
            location: header("location"),
            retry_after: header("retry-after"),
            content_type: header("content-type"),
            body: response.bytes(),
        };
        error::judge_answer(&attempt, &answer, SystemTime::now()).map(|()| status)
    }

    /// The request for one attempt at `endpoint`: authenticated, for the pinned
    /// organization, with `body` as JSON for a POST.
    fn request<'b>(
        &self,
        endpoint: Endpoint,
        body: &'b [u8],
    ) -> Result<ureq::http::Request<&'b [u8]>, ApiError> {
        let mut request = ureq::http::Request::builder()
            .method(endpoint.method())
            .uri(self.url.request_url(&endpoint))
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json");
        if let Some(org_id) = &self.org_id {
            request = request.header("x-zitadel-orgid", org_id);
        }
        if endpoint.method() == "POST" {
            request = request.header("Content-Type", "application/json");
        }
        request.body(body).map_err(|err| other(format!("cannot build the request: {err}")))
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
}

/// The one agent: a whole-attempt timeout, the user agent, the trusted roots, the proxy, no
/// redirects, and answers of any status returned rather than turned into errors.
fn agent(settings: &Settings, proxy: Option<&ProxyInUse>, deadline: Deadline) -> ureq::Agent {
    let roots = match settings.ca_certs {
        Some(certs) => ureq::tls::RootCerts::new_with_certs(
            &certs
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
                .collect::<Vec<_>>(),
        ),
        None => ureq::tls::RootCerts::WebPki,
    };
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("baton-zitadel/", env!("CARGO_PKG_VERSION")))
        // The timeout bounds each attempt as a whole, from the name lookup to the last
        // byte of the body, so that a server that answers slowly in every phase cannot
        // hold one attempt for several timeouts. `Lookup` keeps the cost of that low. ureq
        // leaves one phase out, a proxy's answer to CONNECT: the connector's deadline holds
        // that one too.
        .timeout_global(Some(settings.timeout))
        .timeout_connect(Some(CONNECT_TIMEOUT.min(settings.timeout)))
        // A redirect would carry the request elsewhere; ZITADEL's API never redirects,
        // so one means the instance URL points at something else.
        .max_redirects(0)
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .proxy(proxy.map(|in_use| in_use.proxy.clone()))
        .build();
    ureq::Agent::with_parts(config, net::connector(deadline), Lookup)
}
