//! Turns command-line flags and `BATON_*` environment variables into a checked `Config`.
//!
//! Precedence is flag, then environment, then default; an empty environment variable counts
//! as unset. Every error names the flag and its variable, and never echoes a secret.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use lexopt::prelude::*;

use crate::log::{Format, Level};
use crate::retry::RetryPolicy;
use crate::zitadel::{BadProxyVariable, InstanceUrl, ProxyEnv};

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Sync(Config),
    /// Probe every permission a sync needs, print a report and write no records.
    Check(Config),
    Help,
    Version,
}

/// Everything a sync needs to know, checked.
#[derive(Debug)]
pub struct Config {
    /// Scheme, host and port, without a trailing slash: `https://acme.zitadel.cloud`.
    pub instance_url: InstanceUrl,
    pub pat: Secret,
    /// The organization to sync; `None` means the service user's own organization.
    pub org_id: Option<String>,
    pub page_size: u32,
    pub include_inactive_grants: bool,
    /// How persistently each request is retried.
    pub retry: RetryPolicy,
    /// The most requests per second; `None` for no limit.
    pub max_rps: Option<f64>,
    /// The longest one request may take, connecting and reading the whole body included.
    pub timeout: Duration,
    /// DER certificates that replace the bundled root certificates.
    pub ca_certs: Option<Vec<Vec<u8>>>,
    /// The proxy variables, read with the rest of the environment.
    pub proxy: ProxyEnv,
    pub filters: Filters,
    pub log_level: Level,
    /// `None`: console on a terminal, JSON otherwise (as baton does).
    pub log_format: Option<Format>,
    /// Where the records go: `None` for stdout, else a file replaced atomically.
    pub output: Option<PathBuf>,
    /// Whether a progress line may be drawn on a terminal (off with `--no-progress`).
    pub progress: bool,
}

/// What part of the organization to sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// The resource types to sync, in output order; `None` for all.
    pub resource_types: Option<Vec<&'static str>>,
    /// The projects to sync; empty for all.
    pub project_ids: Vec<String>,
    /// Resources and entitlements only.
    pub skip_grants: bool,
    /// No manager roles (entitlements) or their grants, at any level.
    pub skip_managers: bool,
}

impl Filters {
    pub fn users(&self) -> bool {
        self.resource_types.as_ref().is_none_or(|types| types.contains(&"user"))
    }

    pub fn projects(&self) -> bool {
        self.resource_types.as_ref().is_none_or(|types| types.contains(&"project"))
    }

    pub fn orgs(&self) -> bool {
        self.resource_types.as_ref().is_none_or(|types| types.contains(&"org"))
    }

    pub fn project_grants(&self) -> bool {
        self.resource_types.as_ref().is_none_or(|types| types.contains(&"project_grant"))
    }

    pub fn project(&self, id: &str) -> bool {
        self.project_ids.is_empty() || self.project_ids.iter().any(|wanted| wanted == id)
    }

    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}
/// A Personal Access Token. Its `Debug` output is redacted so that it cannot leak through
/// a debug print of `Config`.
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

pub const DEFAULT_PAGE_SIZE: u32 = 1000;
/// ZITADEL v4.20+ rejects larger pages with a 400.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Enough retries, at the default backoff, to outlast a one-minute ZITADEL Cloud ban.
pub const DEFAULT_MAX_RETRIES: u32 = 8;
pub const DEFAULT_RETRY_MAX_WAIT: Duration = Duration::from_secs(300);
/// A 1000-row page of a large organization can take ZITADEL many seconds to compute.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

pub const HELP: &str = "\
baton-zitadel: sync who has access to what in one ZITADEL organization (users, projects,
roles, managers, project grants to other organizations, and every user grant, those made
through project grants included) to stdout as newline-delimited JSON in ConductorOne's
baton model. Read-only.

USAGE:
    baton-zitadel --instance-url URL [OPTIONS]

OPTIONS:
    --instance-url URL          ZITADEL instance, scheme and host only, e.g.
                                https://acme.zitadel.cloud [env: BATON_INSTANCE_URL]
    --pat TOKEN                 the service user's Personal Access Token
                                [env: BATON_PAT]. Prefer BATON_PAT or --pat-file:
                                a flag is visible to other local users in `ps`.
    --pat-file PATH             read the PAT from a file, trailing whitespace trimmed
                                [env: BATON_PAT_FILE]
    --org-id ID                 organization to sync [env: BATON_ORG_ID]
                                [default: the service user's own organization]
    --page-size N               rows per request, 1 to 1000 [env: BATON_PAGE_SIZE]
                                [default: 1000]
    --include-inactive-grants   also emit grants of inactive user grants and the
                                delegations of inactive project grants
                                [env: BATON_INCLUDE_INACTIVE_GRANTS=1|0]
    --output PATH               write the records to PATH instead of stdout, replacing
                                it only when the sync completed; `-` is stdout
                                [env: BATON_OUTPUT]
    --check                     probe every permission the sync needs, report on
                                stderr and write no records

FILTERS (named in the summary record, so a filtered stream is never taken for a whole one):
    --resource-types LIST       sync only these resource types: user, project, org,
                                project_grant (which needs project); baton's name
                                --sync-resource-types works too
                                [env: BATON_SYNC_RESOURCE_TYPES] [default: all]
    --project-id ID             sync only this project, its roles and grants;
                                repeatable [env: BATON_PROJECT_IDS=ID,ID]
    --skip-grants               resources and entitlements only
                                [env: BATON_SKIP_GRANTS=1|0]
    --skip-managers             no manager roles (org, project and project grant
                                managers) nor their grants
                                [env: BATON_SKIP_MANAGERS=1|0]

LOGS (stderr):
    --log-level LEVEL           error, warn, info or debug (every request attempt)
                                [env: BATON_LOG_LEVEL] [default: info]
    --log-format FORMAT         console or json (one object per line)
                                [env: BATON_LOG_FORMAT] [default: console on a
                                terminal, json otherwise]
    --no-progress               no progress line, even on a terminal (there is none
                                at --log-level warn or error, nor in json)
                                [env: BATON_NO_PROGRESS=1|0]

NETWORK:
    --timeout SECONDS           the longest one request may take [env: BATON_TIMEOUT]
                                [default: 120]
    --max-retries N             retries of a request after a transient failure
                                (connection, timeout, 408, 429, 5xx, cut-short body)
                                [env: BATON_MAX_RETRIES] [default: 8]
    --retry-max-wait SECONDS    the most time one request spends waiting between
                                retries [env: BATON_RETRY_MAX_WAIT] [default: 300]
    --max-rps N                 at most N requests per second [env: BATON_MAX_RPS]
                                [default: no limit; after a 429, the rate is halved]
    --ca-cert PATH              trust these PEM certificates instead of the bundled
                                roots, for a private CA [env: BATON_CA_CERT]
    --allow-insecure-http       allow http:// to a host other than loopback, sending
                                the PAT in clear text [env: BATON_ALLOW_INSECURE_HTTP]
    HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY are honoured.

    -h, --help                  print this help
    -V, --version               print the version, target, bundled root certificates
                                and git commit

OUTPUT:
    One JSON object per line on stdout, `kind` first: resource_type, resource (users,
    projects, the organization and others granted a project, project grants),
    entitlement (project roles, manager roles), grant (role keys of user grants, manager
    roles held, roles delegated to organizations), and last a summary. The summary is written only when the sync completed: a stream without it
    is incomplete. Progress and warnings go to stderr.

EXIT STATUS:
    0  the sync completed (or stdout was closed early, as by `| head`)
    1  network, server or response error (after retries)
    2  bad flag, environment variable, PAT file or CA file
    3  ZITADEL rejected the PAT (401)
    4  the PAT lacks a permission, or cannot access the organization (403, 404)
    5  the organization changed during the sync faster than it could recover: run again
    6  the records could not be written to stdout or --output (disk full, file size
       limit, I/O error); the message names which

EXAMPLES:
    BATON_PAT_FILE=/run/secrets/zitadel-pat \\
        baton-zitadel --instance-url https://acme.zitadel.cloud --output acme.ndjson

    # Can this token see everything a sync needs?
    baton-zitadel --instance-url https://acme.zitadel.cloud --check

    # Who holds role `admin` in project 123?
    jq -r 'select(.kind == \"grant\" and .resource_id == \"123\" and .slug == \"admin\")
           | .principal_id' acme.ndjson
";

/// Parses `args` (without the program name) and the environment, as looked up by `env`.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Command> {
    let mut instance_url = None;
    let mut pat = None;
    let mut pat_file = None;
    let mut org_id = None;
    let mut page_size = None;
    let mut include_inactive_grants = false;
    let mut timeout = None;
    let mut max_retries = None;
    let mut retry_max_wait = None;
    let mut max_rps = None;
    let mut ca_cert = None;
    let mut allow_insecure_http = false;
    let mut check = false;
    let mut output = None;
    let mut resource_types = None;
    let mut project_ids = Vec::new();
    let mut skip_grants = false;
    let mut skip_managers = false;
    let mut log_level = None;
    let mut log_format = None;
    let mut no_progress = false;

    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(argument_error)? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("instance-url") => instance_url = Some(string(parser.value()?, INSTANCE_URL)?),
            Long("pat") => pat = Some(string(parser.value()?, PAT)?),
            Long("pat-file") => pat_file = Some(PathBuf::from(parser.value()?)),
            Long("org-id") => org_id = Some(string(parser.value()?, ORG_ID)?),
            Long("page-size") => page_size = Some(string(parser.value()?, PAGE_SIZE)?),
            Long("include-inactive-grants") => include_inactive_grants = true,
            Long("timeout") => timeout = Some(string(parser.value()?, TIMEOUT)?),
            Long("max-retries") => max_retries = Some(string(parser.value()?, MAX_RETRIES)?),
            Long("retry-max-wait") => {
                retry_max_wait = Some(string(parser.value()?, RETRY_MAX_WAIT)?)
            }
            Long("max-rps") => max_rps = Some(string(parser.value()?, MAX_RPS)?),
            Long("ca-cert") => ca_cert = Some(PathBuf::from(parser.value()?)),
            Long("allow-insecure-http") => allow_insecure_http = true,
            Long("check") => check = true,
            Long("output") => output = Some(PathBuf::from(parser.value()?)),
            // baton's own name for it, as in BATON_SYNC_RESOURCE_TYPES.
            Long("resource-types" | "sync-resource-types") => {
                resource_types = Some(string(parser.value()?, RESOURCE_TYPES)?)
            }
            Long("project-id") => project_ids.push(string(parser.value()?, PROJECT_IDS)?),
            Long("skip-grants") => skip_grants = true,
            Long("skip-managers") => skip_managers = true,
            Long("log-level") => log_level = Some(string(parser.value()?, LOG_LEVEL)?),
            Long("log-format") => log_format = Some(string(parser.value()?, LOG_FORMAT)?),
            Long("no-progress") => no_progress = true,
            _ => return Err(argument_error(arg.unexpected())),
        }
    }

    // Read here, while `env` is the whole environment; judged below, in the order of checks.
    let proxy = ProxyEnv::read(&env);
    let env = |setting: Setting| -> Result<Option<String>> {
        match env(setting.var) {
            Some(value) if value.is_empty() => Ok(None),
            Some(value) => string(value, setting).map(Some),
            None => Ok(None),
        }
    };
    let instance_url = instance_url.or(env(INSTANCE_URL)?).ok_or_else(|| {
        anyhow!("missing {INSTANCE_URL}: set it to your ZITADEL instance, e.g. https://acme.zitadel.cloud")
    })?;
    let pat = match (pat, pat_file) {
        (Some(_), Some(_)) => bail!("{PAT} and {PAT_FILE} both given: use only one"),
        (Some(pat), None) => (pat, PAT),
        (None, Some(path)) => (read_pat_file(&path)?, PAT_FILE),
        (None, None) => match (env(PAT)?, env(PAT_FILE)?) {
            (Some(_), Some(_)) => bail!("{PAT} and {PAT_FILE} both set: use only one"),
            (Some(pat), None) => (pat, PAT),
            (None, Some(path)) => (read_pat_file(path.as_ref())?, PAT_FILE),
            (None, None) => bail!(
                "missing PAT: set BATON_PAT or BATON_PAT_FILE (or --pat-file) to the service user's Personal Access Token"
            ),
        },
    };
    let org_id = match org_id {
        Some(id) if id.is_empty() => None,
        Some(id) => Some(id),
        None => env(ORG_ID)?,
    };
    let page_size = match page_size.or(env(PAGE_SIZE)?) {
        Some(text) => parse_page_size(&text)?,
        None => DEFAULT_PAGE_SIZE,
    };
    // A boolean flag given is true; otherwise its variable decides.
    let switch = |given: bool, setting: Setting| -> Result<bool> {
        match env(setting)? {
            Some(text) if !given => parse_bool(&text, setting),
            _ => Ok(given),
        }
    };
    let include_inactive_grants = switch(include_inactive_grants, INCLUDE_INACTIVE_GRANTS)?;
    let allow_insecure_http = switch(allow_insecure_http, ALLOW_INSECURE_HTTP)?;
    let skip_grants = switch(skip_grants, SKIP_GRANTS)?;
    let skip_managers = switch(skip_managers, SKIP_MANAGERS)?;
    let no_progress = switch(no_progress, NO_PROGRESS)?;
    let timeout = match timeout.or(env(TIMEOUT)?) {
        Some(text) => parse_seconds(&text, TIMEOUT, false)?,
        None => DEFAULT_TIMEOUT,
    };
    let max_retries = match max_retries.or(env(MAX_RETRIES)?) {
        Some(text) => parse_max_retries(&text)?,
        None => DEFAULT_MAX_RETRIES,
    };
    let retry_max_wait = match retry_max_wait.or(env(RETRY_MAX_WAIT)?) {
        Some(text) => parse_seconds(&text, RETRY_MAX_WAIT, true)?,
        None => DEFAULT_RETRY_MAX_WAIT,
    };
    let max_rps = max_rps.or(env(MAX_RPS)?).map(|text| parse_rps(&text)).transpose()?;
    let ca_certs = match ca_cert {
        Some(path) => Some(read_ca_certs(&path)?),
        None => env(CA_CERT)?.map(|path| read_ca_certs(path.as_ref())).transpose()?,
    };
    let proxy = proxy.map_err(|bad| match bad {
        BadProxyVariable::NotUtf8(var) => {
            anyhow!("{} is not valid UTF-8", Setting { flag: var, var })
        }
        BadProxyVariable::NotAProxyUrl(var) => {
            anyhow!("{var} is not a valid proxy URL such as http://proxy.example.com:3128")
        }
    })?;
    let resource_types = resource_types
        .or(env(RESOURCE_TYPES)?)
        .map(|text| parse_resource_types(&text))
        .transpose()?;
    if project_ids.is_empty()
        && let Some(text) = env(PROJECT_IDS)?
    {
        project_ids =
            text.split(',').map(str::trim).filter(|id| !id.is_empty()).map(String::from).collect();
    }
    for id in &project_ids {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_graphic()) {
            bail!("{PROJECT_IDS} must be project ids such as 284906487321587717, got {id:?}");
        }
    }
    let log_level = match log_level.or(env(LOG_LEVEL)?) {
        Some(text) => Level::parse(&text).ok_or_else(|| {
            anyhow!("{LOG_LEVEL} must be error, warn, info or debug, got {text:?}")
        })?,
        None => Level::Info,
    };
    let log_format = log_format
        .or(env(LOG_FORMAT)?)
        .map(|text| {
            Format::parse(&text)
                .ok_or_else(|| anyhow!("{LOG_FORMAT} must be console or json, got {text:?}"))
        })
        .transpose()?;
    let output = output.or(env(OUTPUT)?.map(PathBuf::from)).filter(|path| path.as_os_str() != "-");
    // Never echo the value: a URL with credentials in it would print them.
    let instance_url =
        InstanceUrl::parse(&instance_url).map_err(|invalid| anyhow!("{INSTANCE_URL} {invalid}"))?;
    if !allow_insecure_http && !instance_url.is_https() && !instance_url.is_loopback() {
        bail!(
            "{INSTANCE_URL} uses http:// to a host that is not loopback, which would send the PAT in clear text: use https://, or pass {ALLOW_INSECURE_HTTP} if you must"
        );
    }

    let config = Config {
        instance_url,
        pat: check_pat(pat.0, pat.1)?,
        org_id: org_id.map(check_org_id).transpose()?,
        page_size,
        include_inactive_grants,
        retry: RetryPolicy { max_retries, max_total_wait: retry_max_wait },
        max_rps,
        timeout,
        ca_certs,
        proxy,
        filters: Filters { resource_types, project_ids, skip_grants, skip_managers },
        log_level,
        log_format,
        output,
        progress: !no_progress,
    };
    Ok(if check { Command::Check(config) } else { Command::Sync(config) })
}

/// A setting's flag and environment variable, which every message names together.
#[derive(Clone, Copy)]
struct Setting {
    flag: &'static str,
    var: &'static str,
}

const INSTANCE_URL: Setting = Setting { flag: "--instance-url", var: "BATON_INSTANCE_URL" };
const PAT: Setting = Setting { flag: "--pat", var: "BATON_PAT" };
const PAT_FILE: Setting = Setting { flag: "--pat-file", var: "BATON_PAT_FILE" };
const ORG_ID: Setting = Setting { flag: "--org-id", var: "BATON_ORG_ID" };
const PAGE_SIZE: Setting = Setting { flag: "--page-size", var: "BATON_PAGE_SIZE" };
const INCLUDE_INACTIVE_GRANTS: Setting =
    Setting { flag: "--include-inactive-grants", var: "BATON_INCLUDE_INACTIVE_GRANTS" };
const TIMEOUT: Setting = Setting { flag: "--timeout", var: "BATON_TIMEOUT" };
const MAX_RETRIES: Setting = Setting { flag: "--max-retries", var: "BATON_MAX_RETRIES" };
const RETRY_MAX_WAIT: Setting = Setting { flag: "--retry-max-wait", var: "BATON_RETRY_MAX_WAIT" };
const MAX_RPS: Setting = Setting { flag: "--max-rps", var: "BATON_MAX_RPS" };
const CA_CERT: Setting = Setting { flag: "--ca-cert", var: "BATON_CA_CERT" };
const ALLOW_INSECURE_HTTP: Setting =
    Setting { flag: "--allow-insecure-http", var: "BATON_ALLOW_INSECURE_HTTP" };
const OUTPUT: Setting = Setting { flag: "--output", var: "BATON_OUTPUT" };
const RESOURCE_TYPES: Setting =
    Setting { flag: "--resource-types", var: "BATON_SYNC_RESOURCE_TYPES" };
const PROJECT_IDS: Setting = Setting { flag: "--project-id", var: "BATON_PROJECT_IDS" };
const SKIP_GRANTS: Setting = Setting { flag: "--skip-grants", var: "BATON_SKIP_GRANTS" };
const SKIP_MANAGERS: Setting = Setting { flag: "--skip-managers", var: "BATON_SKIP_MANAGERS" };
const LOG_LEVEL: Setting = Setting { flag: "--log-level", var: "BATON_LOG_LEVEL" };
const LOG_FORMAT: Setting = Setting { flag: "--log-format", var: "BATON_LOG_FORMAT" };
const NO_PROGRESS: Setting = Setting { flag: "--no-progress", var: "BATON_NO_PROGRESS" };

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.flag, self.var)
    }
}

/// Every long flag, for "did you mean" suggestions; a unit test holds it to `HELP`.
const FLAGS: [&str; 24] = [
    "--instance-url",
    "--pat",
    "--pat-file",
    "--org-id",
    "--page-size",
    "--include-inactive-grants",
    "--output",
    "--check",
    "--resource-types",
    "--sync-resource-types",
    "--project-id",
    "--skip-grants",
    "--skip-managers",
    "--log-level",
    "--log-format",
    "--no-progress",
    "--timeout",
    "--max-retries",
    "--retry-max-wait",
    "--max-rps",
    "--ca-cert",
    "--allow-insecure-http",
    "--help",
    "--version",
];

/// Rewrites lexopt's errors so that they never echo a value, which may be a mistyped PAT,
/// and so that an unknown flag comes with a suggestion.
fn argument_error(err: lexopt::Error) -> anyhow::Error {
    match err {
        lexopt::Error::UnexpectedOption(option) => match did_you_mean(&option) {
            Some(flag) => anyhow!("unknown flag {option}: did you mean {flag}?"),
            None => anyhow!("unknown flag {option}: see baton-zitadel --help for every flag"),
        },
        lexopt::Error::UnexpectedArgument(_) => anyhow!(
            "unexpected argument (not shown, as it may be a secret): every setting is a flag, such as --instance-url URL; see baton-zitadel --help"
        ),
        lexopt::Error::UnexpectedValue { option, .. } => {
            anyhow!("{option} takes no value (the value is not shown, as it may be a secret)")
        }
        lexopt::Error::NonUnicodeValue(_) => anyhow!("an argument is not valid UTF-8"),
        other => other.into(),
    }
}

/// The known flag an unknown one was probably meant to be: the only one it begins, as
/// `--org` begins `--org-id`, or else the closest, a few typing mistakes away.
fn did_you_mean(unknown: &str) -> Option<&'static str> {
    let typed = unknown.trim_start_matches('-');
    if typed.len() >= 3 {
        let mut longer = FLAGS.iter().filter(|flag| flag[2..].starts_with(typed));
        if let (Some(flag), None) = (longer.next(), longer.next()) {
            return Some(flag);
        }
    }
    let (distance, flag) = FLAGS
        .iter()
        .map(|flag| (edit_distance(typed, &flag[2..]), *flag))
        .min_by_key(|(distance, _)| *distance)?;
    // About one mistake in three letters, and at least two, is still a typo.
    (distance <= (typed.len() / 3).max(2)).then_some(flag)
}

/// The Levenshtein distance: insertions, deletions and substitutions of characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn string(value: OsString, setting: Setting) -> Result<String> {
    value.into_string().map_err(|_| anyhow!("{setting} is not valid UTF-8"))
}

fn read_ca_certs(path: &std::path::Path) -> Result<Vec<Vec<u8>>> {
    let pem = std::fs::read(path).with_context(|| {
        format!("cannot read the CA certificate file {} given by {CA_CERT}", path.display())
    })?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert.der().to_vec()),
            Ok(_) => {}
            Err(_) => bail!("{CA_CERT}: {} is not a valid PEM file", path.display()),
        }
    }
    if certs.is_empty() {
        bail!(
            "{CA_CERT}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(certs)
}

fn read_pat_file(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read the PAT file {} given by {PAT_FILE}", path.display())
    })?;
    Ok(text.trim_end().to_string())
}

/// Rejects an empty PAT and one that would break or inject into the `Authorization` header.
fn check_pat(pat: String, source: Setting) -> Result<Secret> {
    if pat.is_empty() {
        bail!("the PAT from {source} is empty");
    }
    if pat.starts_with('\u{feff}') {
        bail!(
            "the PAT from {source} starts with a byte-order mark (U+FEFF), as some Windows editors write: save it without one"
        );
    }
    if pat.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!(
            "the PAT from {source} contains whitespace or control characters: check for a stray newline or space"
        );
    }
    // An HTTP header carries ASCII only, and no PAT has anything else: such a PAT would
    // fail every request on this side, slowly, through every retry.
    if !pat.is_ascii() {
        bail!(
            "the PAT from {source} contains a character that is not ASCII, which no PAT has: check the file's encoding"
        );
    }
    Ok(Secret(pat))
}

fn check_org_id(id: String) -> Result<String> {
    if !id.chars().all(|c| c.is_ascii_graphic()) {
        bail!(
            "{ORG_ID} must be an organization id such as 284905129371435012, without spaces or control characters"
        );
    }
    Ok(id)
}

fn parse_page_size(text: &str) -> Result<u32> {
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => bail!("{PAGE_SIZE} must be a whole number from 1 to {MAX_PAGE_SIZE}, got {text:?}"),
    }
}

/// Seconds as a whole or decimal number; zero only where `zero_ok`.
fn parse_seconds(text: &str, setting: Setting, zero_ok: bool) -> Result<Duration> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => {
            Ok(Duration::from_secs_f64(seconds))
        }
        Ok(seconds) if zero_ok && seconds == 0.0 => Ok(Duration::ZERO),
        _ => bail!(
            "{setting} must be a number of seconds from {} to 86400, got {text:?}",
            if zero_ok { "0" } else { "0.001" }
        ),
    }
}

/// A comma-separated list of resource types, returned in output order without repeats.
fn parse_resource_types(text: &str) -> Result<Vec<&'static str>> {
    const KNOWN: [&str; 4] = ["user", "project", "org", "project_grant"];
    let mut wanted = Vec::new();
    for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        match KNOWN.iter().find(|known| **known == name) {
            Some(known) => wanted.push(*known),
            None => bail!(
                "{RESOURCE_TYPES} knows the resource types user, project, org and project_grant, got {name:?}"
            ),
        }
    }
    if wanted.is_empty() {
        bail!(
            "{RESOURCE_TYPES} names no resource type: give some of user, project, org, project_grant"
        );
    }
    if wanted.contains(&"project_grant") && !wanted.contains(&"project") {
        bail!(
            "{RESOURCE_TYPES} names project_grant without project: a project grant's grants are grants of its project's roles, so add project"
        );
    }
    Ok(KNOWN.into_iter().filter(|known| wanted.contains(known)).collect())
}

fn parse_max_retries(text: &str) -> Result<u32> {
    match text.parse::<u32>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => bail!("{MAX_RETRIES} must be a whole number from 0 to 100, got {text:?}"),
    }
}

fn parse_rps(text: &str) -> Result<f64> {
    match text.parse::<f64>() {
        Ok(rps) if (0.01..=100_000.0).contains(&rps) => Ok(rps),
        _ => bail!(
            "{MAX_RPS} must be a number of requests per second from 0.01 to 100000, got {text:?}"
        ),
    }
}

fn parse_bool(text: &str, setting: Setting) -> Result<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => bail!("{setting} must be 1, true, yes, 0, false or no, got {text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `args` with `vars` as the whole environment.
    fn parse_with(args: &[&str], vars: &[(&str, &str)]) -> Result<Command> {
        let args = args.iter().map(OsString::from).collect::<Vec<_>>();
        parse(args, |name| {
            vars.iter().find(|(var, _)| *var == name).map(|(_, value)| OsString::from(value))
        })
    }

    fn sync(args: &[&str], vars: &[(&str, &str)]) -> Result<Config> {
        match parse_with(args, vars)? {
            Command::Sync(config) => Ok(config),
            other => bail!("expected a sync, got {other:?}"),
        }
    }

    fn error(args: &[&str], vars: &[(&str, &str)]) -> String {
        match parse_with(args, vars) {
            Ok(command) => panic!("expected an error, got {command:?}"),
            Err(err) => format!("{err:#}"),
        }
    }

    const BASE: [(&str, &str); 2] =
        [("BATON_INSTANCE_URL", "https://acme.example.com/"), ("BATON_PAT", "pat-123")];

    #[test]
    fn environment_alone_is_enough() -> Result<()> {
        let config = sync(&[], &BASE)?;
        assert_eq!(config.instance_url, "https://acme.example.com");
        assert_eq!(config.pat.expose(), "pat-123");
        assert_eq!(config.org_id, None);
        assert_eq!(config.page_size, 1000);
        assert!(!config.include_inactive_grants);
        Ok(())
    }

    #[test]
    fn flags_beat_environment() -> Result<()> {
        let vars = [BASE[0], BASE[1], ("BATON_ORG_ID", "1"), ("BATON_PAGE_SIZE", "5")];
        let config = sync(
            &["--instance-url=http://127.0.0.1:8080", "--pat", "flag-pat", "--org-id", "2"],
            &vars,
        )?;
        assert_eq!(config.instance_url, "http://127.0.0.1:8080");
        assert_eq!(config.pat.expose(), "flag-pat");
        assert_eq!(config.org_id.as_deref(), Some("2"));
        assert_eq!(config.page_size, 5);
        Ok(())
    }

    #[test]
    fn empty_environment_variables_count_as_unset() -> Result<()> {
        let vars = [
            BASE[0],
            BASE[1],
            ("BATON_ORG_ID", ""),
            ("BATON_PAGE_SIZE", ""),
            ("BATON_PAT_FILE", ""),
        ];
        let config = sync(&[], &vars)?;
        assert_eq!(config.org_id, None);
        assert_eq!(config.page_size, 1000);
        Ok(())
    }

    #[test]
    fn booleans_from_the_environment() -> Result<()> {
        for (text, expected) in
            [("1", true), ("YES", true), ("true", true), ("0", false), ("no", false)]
        {
            let vars = [BASE[0], BASE[1], ("BATON_INCLUDE_INACTIVE_GRANTS", text)];
            assert_eq!(sync(&[], &vars)?.include_inactive_grants, expected, "{text}");
        }
        let vars = [BASE[0], BASE[1], ("BATON_INCLUDE_INACTIVE_GRANTS", "maybe")];
        assert_eq!(
            error(&[], &vars),
            "--include-inactive-grants (BATON_INCLUDE_INACTIVE_GRANTS) must be 1, true, yes, 0, false or no, got \"maybe\""
        );
        assert!(sync(&["--include-inactive-grants"], &BASE)?.include_inactive_grants);
        Ok(())
    }

    #[test]
    fn help_and_version() -> Result<()> {
        assert!(matches!(parse_with(&["--help"], &[])?, Command::Help));
        assert!(matches!(parse_with(&["-V"], &[])?, Command::Version));
        Ok(())
    }

    #[test]
    fn bad_values_name_flag_and_variable() {
        let url = |url: &str| error(&[], &[("BATON_INSTANCE_URL", url), BASE[1]]);
        assert_eq!(
            url("acme.example.com"),
            "--instance-url (BATON_INSTANCE_URL) must start with https:// or http://, e.g. https://acme.zitadel.cloud"
        );
        assert!(
            url("ftp://acme.example.com")
                .starts_with("--instance-url (BATON_INSTANCE_URL) must start")
        );
        assert!(url("https://acme.example.com/ui/console").contains("without a path"));
        assert!(url("https://acme.example.com?x=1").contains("without a path, query"));
        assert!(url("https://").contains("no host"));
        assert!(url("https://acme.example.com:port").contains("invalid port \"port\""));
        assert!(url("https://acme.example.com:70000").contains("invalid port"));
        assert!(url("https://exa mple.com").contains("invalid host or port"));
        assert!(sync(&[], &[("BATON_INSTANCE_URL", "http://[::1]:8080/"), BASE[1]]).is_ok());
        let with_credentials = url("https://admin:hunter2@acme.example.com");
        assert!(with_credentials.contains("must not contain credentials"));
        assert!(!with_credentials.contains("hunter2"));

        let page = |size: &str| error(&["--page-size", size], &BASE);
        for size in ["0", "1001", "-1", "ten"] {
            assert!(
                page(size).starts_with(
                    "--page-size (BATON_PAGE_SIZE) must be a whole number from 1 to 1000"
                ),
                "{size}"
            );
        }
        assert!(
            error(&["--org-id", "12 34"], &BASE).starts_with("--org-id (BATON_ORG_ID) must be")
        );
        assert_eq!(
            error(&["--verbose"], &BASE),
            "unknown flag --verbose: see baton-zitadel --help for every flag"
        );
    }

    #[test]
    fn unknown_flags_get_a_suggestion() {
        for (typed, meant) in [
            ("--instance-urll", "--instance-url"),
            ("--org", "--org-id"),
            ("--page", "--page-size"),
            ("--pat-fiel", "--pat-file"),
            ("--skip-grant", "--skip-grants"),
            ("--includeinactivegrants", "--include-inactive-grants"),
            ("--sync-resource-type", "--sync-resource-types"),
        ] {
            assert_eq!(
                error(&[typed, "x"], &BASE),
                format!("unknown flag {typed}: did you mean {meant}?"),
                "{typed}"
            );
        }
        for unrelated in ["--verbose", "--log", "-x", "--zzzzzzzz"] {
            assert!(!error(&[unrelated], &BASE).contains("did you mean"), "{unrelated}");
        }
    }

    #[test]
    fn baton_name_for_resource_types() -> Result<()> {
        let config = sync(&["--sync-resource-types", "project"], &BASE)?;
        assert_eq!(config.filters.resource_types, Some(vec!["project"]));
        Ok(())
    }

    #[test]
    fn stray_values_are_never_echoed() {
        let positional = error(&["pat-1234-secret"], &BASE);
        assert!(positional.starts_with("unexpected argument (not shown"), "{positional}");
        assert!(!positional.contains("pat-1234-secret"));
        let inline = error(&["--check=pat-1234-secret"], &BASE);
        assert!(inline.starts_with("--check takes no value"), "{inline}");
        assert!(!inline.contains("pat-1234-secret"));
        let unknown = error(&["--token=pat-1234-secret"], &BASE);
        assert!(unknown.starts_with("unknown flag --token"), "{unknown}");
        assert!(!unknown.contains("pat-1234-secret"));
    }

    #[test]
    fn every_flag_is_in_the_help_and_known_to_suggestions() {
        for flag in FLAGS {
            assert!(HELP.contains(&format!("{flag} ")), "--help lacks {flag}");
        }
        let listed = HELP.lines().filter_map(|line| line.trim_start().split(' ').next());
        for flag in listed.filter(|word| word.starts_with("--")) {
            assert!(FLAGS.contains(&flag.trim_end_matches(',')), "{flag} missing from FLAGS");
        }
    }

    #[test]
    fn progress_can_be_turned_off() -> Result<()> {
        assert!(sync(&[], &BASE)?.progress);
        assert!(!sync(&["--no-progress"], &BASE)?.progress);
        assert!(!sync(&[], &[BASE[0], BASE[1], ("BATON_NO_PROGRESS", "1")])?.progress);
        Ok(())
    }

    #[test]
    fn missing_settings_say_what_to_set() {
        assert!(error(&[], &[BASE[1]]).starts_with("missing --instance-url (BATON_INSTANCE_URL)"));
        assert!(error(&[], &[BASE[0]]).starts_with("missing PAT: set BATON_PAT or BATON_PAT_FILE"));
    }

    #[test]
    fn pat_sources_are_exclusive_and_never_echoed() {
        assert_eq!(
            error(&["--pat", "a", "--pat-file", "/nonexistent"], &BASE),
            "--pat (BATON_PAT) and --pat-file (BATON_PAT_FILE) both given: use only one"
        );
        assert_eq!(
            error(&[], &[BASE[0], BASE[1], ("BATON_PAT_FILE", "/x")]),
            "--pat (BATON_PAT) and --pat-file (BATON_PAT_FILE) both set: use only one"
        );
        let bad = error(&["--pat", "secret\r\nX-Injected: 1"], &BASE);
        assert!(bad.contains("whitespace or control characters"));
        assert!(!bad.contains("secret"));
        assert!(error(&["--pat", ""], &BASE).contains("is empty"));
    }

    #[test]
    fn a_pat_that_is_not_ascii_is_named_not_echoed() {
        let bom = error(&["--pat", "\u{feff}pat-123"], &BASE);
        assert_eq!(
            bom,
            "the PAT from --pat (BATON_PAT) starts with a byte-order mark (U+FEFF), as some Windows editors write: save it without one"
        );
        let accented = error(&[], &[BASE[0], ("BATON_PAT", "pat-123-é")]);
        assert!(
            accented.starts_with(
                "the PAT from --pat (BATON_PAT) contains a character that is not ASCII"
            )
        );
        assert!(!accented.contains("pat-123"));
    }

    #[test]
    fn secret_debug_is_redacted() -> Result<()> {
        let config = sync(&[], &BASE)?;
        assert!(!format!("{config:?}").contains("pat-123"));
        Ok(())
    }

    #[test]
    fn network_settings_have_defaults_and_bounds() -> Result<()> {
        let config = sync(&[], &BASE)?;
        assert_eq!(config.timeout, DEFAULT_TIMEOUT);
        assert_eq!(
            config.retry,
            RetryPolicy { max_retries: 8, max_total_wait: DEFAULT_RETRY_MAX_WAIT }
        );
        assert_eq!(config.max_rps, None);
        let vars = [
            BASE[0],
            BASE[1],
            ("BATON_TIMEOUT", "2.5"),
            ("BATON_MAX_RPS", "25"),
            ("BATON_RETRY_MAX_WAIT", "0"),
        ];
        let config = sync(&["--max-retries", "0"], &vars)?;
        assert_eq!(config.timeout, Duration::from_millis(2500));
        assert_eq!(config.max_rps, Some(25.0));
        assert_eq!(config.retry, RetryPolicy { max_retries: 0, max_total_wait: Duration::ZERO });
        assert!(error(&["--timeout", "0"], &BASE).starts_with("--timeout (BATON_TIMEOUT) must be"));
        assert!(
            error(&["--timeout", "NaN"], &BASE).starts_with("--timeout (BATON_TIMEOUT) must be")
        );
        assert!(
            error(&["--max-retries", "101"], &BASE)
                .starts_with("--max-retries (BATON_MAX_RETRIES)")
        );
        assert!(error(&["--max-rps", "0"], &BASE).starts_with("--max-rps (BATON_MAX_RPS)"));
        assert!(
            error(&["--ca-cert", "/nonexistent.pem"], &BASE)
                .starts_with("cannot read the CA certificate file")
        );
        Ok(())
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() -> Result<()> {
        for url in
            ["http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:1", "http://[::1]:80/"]
        {
            assert!(sync(&[], &[("BATON_INSTANCE_URL", url), BASE[1]]).is_ok(), "{url}");
        }
        let remote = [("BATON_INSTANCE_URL", "http://zitadel.internal"), BASE[1]];
        assert!(error(&[], &remote).contains("would send the PAT in clear text"));
        assert!(sync(&["--allow-insecure-http"], &remote).is_ok());
        let allowed = [remote[0], remote[1], ("BATON_ALLOW_INSECURE_HTTP", "1")];
        assert!(sync(&[], &allowed).is_ok());
        Ok(())
    }

    #[test]
    fn proxy_variables_must_be_valid_and_are_not_echoed() {
        let vars = [BASE[0], BASE[1], ("HTTPS_PROXY", "http://user:secret@bad host")];
        let message = error(&[], &vars);
        assert!(message.starts_with("HTTPS_PROXY is not a valid proxy URL"), "{message}");
        assert!(!message.contains("secret"));
    }
}
