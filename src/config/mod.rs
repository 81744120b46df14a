//! The configuration: what the command line and the `BATON_*` environment variables ask for,
//! as plain, checked data. The parsing is in `parse`, the help in `help`, the file reads in
//! `files`; the settings themselves are listed in `crate::settings`.
//!
//! Precedence is flag, then environment, then default; an empty environment variable counts
//! as unset. Every error names the flag and its variable, and never echoes a secret.

mod files;
mod help;
mod parse;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::log::{Format, Level};
use crate::retry::RetryPolicy;
use crate::zitadel::{InstanceUrl, ProxyEnv};

pub use help::text as help_text;
pub use parse::parse;

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Sync(Config),
    /// Probe every permission a sync needs, print a report and write no records.
    Check(Config),
    Help,
    Version,
    /// Print a man page or a completion script, made from the table of settings.
    Generate(crate::generate::Kind),
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
    /// The most memory the sync may take, in MiB (`crate::budget`).
    pub memory_limit_mib: u64,
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
    /// Whether to draw the progress line: `Some` as `--progress` or `--no-progress` say,
    /// `None` to draw it only when stderr is a terminal and stdout is not a pipe.
    pub progress: Option<bool>,
    /// What reading the configuration found worth a warning (variables that no setting
    /// reads, a PAT file others can read), logged once logging is set up.
    pub warnings: Vec<String>,
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
    /// Whose authentication methods are read (and whether the login policy is).
    pub auth_methods: AuthMethods,
}

/// Whose authentication methods a sync reads (`--auth-methods`): the human users of the
/// organization who hold a manager role, every human user, or nobody. Unless nobody's, the
/// organization's login policy is read too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthMethods {
    None,
    #[default]
    Managers,
    All,
}

impl AuthMethods {
    /// The value of `--auth-methods` that names it.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethods::None => "none",
            AuthMethods::Managers => "managers",
            AuthMethods::All => "all",
        }
    }
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

    /// Whether the instance, its manager roles and managers are synced: everything about it
    /// is managers, so `--skip-managers` leaves it out too.
    pub fn instance_managers(&self) -> bool {
        let named = self.resource_types.as_ref().is_none_or(|types| types.contains(&"instance"));
        named && !self.skip_managers
    }

    /// Whether credentials of resource type `kind` (`pat`, `machine_key`, `client_secret`)
    /// are synced.
    pub fn credentials(&self, kind: &str) -> bool {
        self.resource_types.as_ref().is_none_or(|types| types.contains(&kind))
    }

    /// Whose authentication methods are read: nobody's without user records, which they
    /// describe.
    pub fn auth_methods(&self) -> AuthMethods {
        if self.users() { self.auth_methods } else { AuthMethods::None }
    }

    /// Whether the organization's login policy is read, for its record.
    pub fn login_policy(&self) -> bool {
        self.orgs() && self.auth_methods != AuthMethods::None
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
