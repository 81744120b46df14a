//! Every setting of the command line, listed once: its flag, its `BATON_*` variable, the name
//! of its value, its lines in `--help` and the section they sit in.
//!
//! The parser, the help's option rows and "did you mean" read this table, and any message
//! that names a setting prints it through `Display` (`--page-size (BATON_PAGE_SIZE)`), so a
//! flag is spelled in one place. The module depends on nothing, so that every other module
//! (the HTTP client, the sync) can name a setting without knowing the command line.

use std::fmt;

/// One row of the table.
#[derive(Debug, PartialEq, Eq)]
pub struct Setting {
    /// The long flag, dashes included: `--page-size`.
    pub flag: &'static str,
    /// The one-letter flag, for `-h` and `-V` only.
    pub short: Option<char>,
    /// Another name the flag answers to, such as baton's own.
    pub alias: Option<&'static str>,
    /// The environment variable; `None` for a flag that has none, such as `--check`.
    pub var: Option<&'static str>,
    /// Another name the variable answers to, the singular or shorter one people guess.
    pub var_alias: Option<&'static str>,
    /// The value the flag takes, as `--help` names it; `None` for a switch, which takes none.
    pub value_name: Option<&'static str>,
    /// The values the flag accepts, for a flag that takes one of a few words (or a
    /// comma-separated list of them, when its value is a `LIST`); empty for any other.
    pub values: &'static [&'static str],
    /// The help's description, as it is printed: lines of at most 50 characters, where
    /// `{var}` stands for the variable.
    pub help: &'static str,
    pub section: Section,
}

/// The sections of `--help` that list settings, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Options,
    Filters,
    Logs,
    Network,
    /// Help and version, which ask about the program rather than set anything.
    Program,
}

impl fmt::Display for Setting {
    /// The flag and its variable, as every message names a setting: `--org-id (BATON_ORG_ID)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.var {
            Some(var) => write!(f, "{} ({var})", self.flag),
            None => f.write_str(self.flag),
        }
    }
}

/// The setting a long flag names (without its leading `--`), by its name or its alias.
pub fn named(name: &str) -> Option<&'static Setting> {
    let is = |flag: &str| flag.strip_prefix("--") == Some(name);
    ALL.iter().copied().find(|setting| is(setting.flag) || setting.alias.is_some_and(is))
}

/// The setting a variable names, by its name or its alias.
pub fn variable(name: &str) -> Option<&'static Setting> {
    let is = |var: Option<&str>| var == Some(name);
    ALL.iter().copied().find(|setting| is(setting.var) || is(setting.var_alias))
}

/// Every setting, in the order of `--help`. The parser knows only the settings listed here,
/// and a unit test holds this list to `--help` and to the README's configuration table.
pub const ALL: &[&Setting] = &[
    &INSTANCE_URL,
    &PAT,
    &PAT_FILE,
    &ORG_ID,
    &PAGE_SIZE,
    &MEMORY_LIMIT,
    &INCLUDE_INACTIVE_GRANTS,
    &OUTPUT,
    &CHECK,
    &RESOURCE_TYPES,
    &PROJECT_IDS,
    &SKIP_GRANTS,
    &SKIP_MANAGERS,
    &AUTH_METHODS,
    &LOG_LEVEL,
    &LOG_FORMAT,
    &PROGRESS,
    &NO_PROGRESS,
    &TIMEOUT,
    &MAX_RETRIES,
    &RETRY_MAX_WAIT,
    &MAX_RPS,
    &CA_CERT,
    &ALLOW_INSECURE_HTTP,
    &HELP,
    &VERSION,
    &GENERATE,
];

/// The fields most rows leave empty.
const ROW: Setting = Setting {
    flag: "",
    short: None,
    alias: None,
    var: None,
    var_alias: None,
    value_name: None,
    values: &[],
    help: "",
    section: Section::Options,
};

pub const INSTANCE_URL: Setting = Setting {
    flag: "--instance-url",
    var: Some("BATON_INSTANCE_URL"),
    value_name: Some("URL"),
    help: "the ZITADEL instance, scheme and host only,\n\
           e.g. https://acme.zitadel.cloud\n\
           [env: {var}]",
    ..ROW
};

pub const PAT: Setting = Setting {
    flag: "--pat",
    var: Some("BATON_PAT"),
    value_name: Some("TOKEN"),
    help: "the service user's Personal Access Token\n\
           [env: {var}], one trailing newline removed.\n\
           Prefer BATON_PAT or --pat-file: a flag is\n\
           visible to other local users in `ps`.",
    ..ROW
};

pub const PAT_FILE: Setting = Setting {
    flag: "--pat-file",
    var: Some("BATON_PAT_FILE"),
    value_name: Some("PATH"),
    help: "read the PAT from a file, trailing whitespace\n\
           trimmed [env: {var}]",
    ..ROW
};

pub const ORG_ID: Setting = Setting {
    flag: "--org-id",
    var: Some("BATON_ORG_ID"),
    value_name: Some("ID"),
    help: "organization to sync [env: {var}]\n\
           [default: the service user's own organization]",
    ..ROW
};

pub const PAGE_SIZE: Setting = Setting {
    flag: "--page-size",
    var: Some("BATON_PAGE_SIZE"),
    value_name: Some("N"),
    help: "rows per request, 1 to 1000\n\
           [env: {var}] [default: 1000]",
    ..ROW
};

pub const MEMORY_LIMIT: Setting = Setting {
    flag: "--memory-limit",
    var: Some("BATON_MEMORY_LIMIT"),
    value_name: Some("MIB"),
    help: "the most memory the sync may take, in MiB, 25 or\n\
           more; past it the sync fails (exit 1)\n\
           [env: {var}] [default: 128]",
    ..ROW
};

pub const INCLUDE_INACTIVE_GRANTS: Setting = Setting {
    flag: "--include-inactive-grants",
    var: Some("BATON_INCLUDE_INACTIVE_GRANTS"),
    help: "also emit grants of inactive user grants and the\n\
           delegations of inactive project grants\n\
           [env: {var}=1|0]",
    ..ROW
};

pub const OUTPUT: Setting = Setting {
    flag: "--output",
    var: Some("BATON_OUTPUT"),
    value_name: Some("PATH"),
    help: "write the records to PATH instead of stdout,\n\
           replacing it only when the sync completed; `-`\n\
           is stdout [env: {var}]",
    ..ROW
};

pub const CHECK: Setting = Setting {
    flag: "--check",
    help: "probe every permission the sync needs, report on\n\
           stderr and write no records; a host that does\n\
           not answer is tried twice, within 15 seconds",
    ..ROW
};

pub const RESOURCE_TYPES: Setting = Setting {
    flag: "--resource-types",
    alias: Some("--sync-resource-types"),
    var: Some("BATON_SYNC_RESOURCE_TYPES"),
    var_alias: Some("BATON_RESOURCE_TYPES"),
    value_name: Some("LIST"),
    values: &[
        "user",
        "project",
        "org",
        "project_grant",
        "instance",
        "pat",
        "machine_key",
        "client_secret",
    ],
    help: "sync only these resource types: user, project,\n\
           org, project_grant (which needs project),\n\
           instance, pat, machine_key, client_secret\n\
           (which need user)\n\
           [env: {var}]\n\
           [default: all, the instance when readable];\n\
           baton's --sync-resource-types and\n\
           BATON_RESOURCE_TYPES work too",
    section: Section::Filters,
    ..ROW
};

pub const PROJECT_IDS: Setting = Setting {
    flag: "--project-id",
    var: Some("BATON_PROJECT_IDS"),
    var_alias: Some("BATON_PROJECT_ID"),
    value_name: Some("ID"),
    help: "sync only this project, its roles and grants;\n\
           repeatable [env: {var}=ID,ID];\n\
           BATON_PROJECT_ID works too",
    section: Section::Filters,
    ..ROW
};

pub const SKIP_GRANTS: Setting = Setting {
    flag: "--skip-grants",
    var: Some("BATON_SKIP_GRANTS"),
    help: "resources and entitlements only\n\
           [env: {var}=1|0]",
    section: Section::Filters,
    ..ROW
};

pub const SKIP_MANAGERS: Setting = Setting {
    flag: "--skip-managers",
    var: Some("BATON_SKIP_MANAGERS"),
    help: "no manager roles (org, project, project grant and\n\
           instance managers) nor their grants\n\
           [env: {var}=1|0]",
    section: Section::Filters,
    ..ROW
};

pub const AUTH_METHODS: Setting = Setting {
    flag: "--auth-methods",
    var: Some("BATON_AUTH_METHODS"),
    value_name: Some("WHOSE"),
    values: &["none", "managers", "all"],
    help: "whose sign-in methods to read: managers (human\n\
           users of the organization with a manager\n\
           role), all human users, or none; unless none,\n\
           also the login policy [env: {var}]\n\
           [default: managers]",
    section: Section::Filters,
    ..ROW
};

pub const LOG_LEVEL: Setting = Setting {
    flag: "--log-level",
    var: Some("BATON_LOG_LEVEL"),
    value_name: Some("LEVEL"),
    values: &["error", "warn", "info", "debug"],
    help: "error, warn, info or debug (each request attempt)\n\
           [env: {var}] [default: info]",
    section: Section::Logs,
    ..ROW
};

pub const LOG_FORMAT: Setting = Setting {
    flag: "--log-format",
    var: Some("BATON_LOG_FORMAT"),
    value_name: Some("FORMAT"),
    values: &["console", "json"],
    help: "console or json (one object per line)\n\
           [env: {var}] [default: console on a\n\
           terminal, json otherwise]",
    section: Section::Logs,
    ..ROW
};

pub const PROGRESS: Setting = Setting {
    flag: "--progress",
    var: Some("BATON_PROGRESS"),
    help: "draw the progress line even if stdout is a pipe\n\
           or stderr no terminal (by default it is drawn\n\
           only on a terminal, and not when stdout is a\n\
           pipe; console logs at info level only)\n\
           [env: {var}=1|0]",
    section: Section::Logs,
    ..ROW
};

pub const NO_PROGRESS: Setting = Setting {
    flag: "--no-progress",
    var: Some("BATON_NO_PROGRESS"),
    help: "no progress line, even on a terminal\n\
           [env: {var}=1|0]",
    section: Section::Logs,
    ..ROW
};

pub const TIMEOUT: Setting = Setting {
    flag: "--timeout",
    var: Some("BATON_TIMEOUT"),
    value_name: Some("SECONDS"),
    help: "the longest one request may take\n\
           [env: {var}] [default: 120]",
    section: Section::Network,
    ..ROW
};

pub const MAX_RETRIES: Setting = Setting {
    flag: "--max-retries",
    var: Some("BATON_MAX_RETRIES"),
    value_name: Some("N"),
    help: "retries of a request after a transient failure\n\
           (connection, timeout, 408, 429, 5xx, cut-short\n\
           body) [env: {var}] [default: 8]",
    section: Section::Network,
    ..ROW
};

pub const RETRY_MAX_WAIT: Setting = Setting {
    flag: "--retry-max-wait",
    var: Some("BATON_RETRY_MAX_WAIT"),
    value_name: Some("SECONDS"),
    help: "the most time one request spends waiting\n\
           between retries [env: {var}]\n\
           [default: 300]",
    section: Section::Network,
    ..ROW
};

pub const MAX_RPS: Setting = Setting {
    flag: "--max-rps",
    var: Some("BATON_MAX_RPS"),
    value_name: Some("N"),
    help: "at most N requests per second\n\
           [env: {var}]\n\
           [default: no limit; halved after a 429]",
    section: Section::Network,
    ..ROW
};

pub const CA_CERT: Setting = Setting {
    flag: "--ca-cert",
    var: Some("BATON_CA_CERT"),
    value_name: Some("PATH"),
    help: "trust these PEM certificates instead of the\n\
           bundled roots, for a private CA\n\
           [env: {var}]",
    section: Section::Network,
    ..ROW
};

pub const ALLOW_INSECURE_HTTP: Setting = Setting {
    flag: "--allow-insecure-http",
    var: Some("BATON_ALLOW_INSECURE_HTTP"),
    help: "allow http:// to a host other than loopback,\n\
           sending the PAT in clear text\n\
           [env: {var}]",
    section: Section::Network,
    ..ROW
};

pub const HELP: Setting = Setting {
    flag: "--help",
    short: Some('h'),
    help: "print this help",
    section: Section::Program,
    ..ROW
};

pub const VERSION: Setting = Setting {
    flag: "--version",
    short: Some('V'),
    help: "print the version, target, bundled root\n\
           certificates and git commit",
    section: Section::Program,
    ..ROW
};

pub const GENERATE: Setting = Setting {
    flag: "--generate",
    value_name: Some("WHAT"),
    values: &["man", "complete-bash", "complete-zsh", "complete-fish"],
    help: "print the man page (man) or a completion script\n\
           (complete-bash, complete-zsh or complete-fish)",
    section: Section::Program,
    ..ROW
};
