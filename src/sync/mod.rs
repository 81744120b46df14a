//! Drives one sync: resolves the organization, walks every list page by page (retrying
//! transient failures, reading a list again when it changed underneath) and streams each
//! record as soon as its page is in hand.
//!
//! Output order keeps every reference pointing backwards: resource types, users, the
//! organization with its manager roles and managers, then per project the project, its
//! roles, its manager roles and managers, its project grants (each with its organization,
//! the roles it delegates and its managers) and its user grants; each external user and
//! organization just before its first grant, and the summary last. One file per family of
//! lists: `users.rs`, `managers.rs`, `projects.rs`, `project_grants.rs`; this one holds
//! the driver (the walk, the one retry loop, the principals printed so far).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};
use std::rc::Rc;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde::de::DeserializeSeed;

use crate::config::Config;
use crate::log::{self, Level};
use crate::output::Output;
use crate::paging::{Shape, UsedIds, Verdict, Walk, WalkError};
use crate::record::{Counts, RESOURCE_TYPES, Summary, SummaryFilters, UserResource};
use crate::wire::{self, ListQuery, Page};
use crate::zitadel::{ApiError, Client, Endpoint, ErrorClass};

mod managers;
mod project_grants;
mod projects;
mod users;

/// The organization changed faster than the sync could read it consistently.
#[derive(Debug)]
pub struct OrgChanged;

impl fmt::Display for OrgChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("organization changed during sync")
    }
}

impl std::error::Error for OrgChanged {}

/// A `--project-id` that names no project of the organization: a configuration error.
#[derive(Debug)]
pub struct UnknownProject(pub String);

impl fmt::Display for UnknownProject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--project-id (BATON_PROJECT_IDS) {:?} is not a project of the organization",
            self.0
        )
    }
}

impl std::error::Error for UnknownProject {}

/// Syncs the configured organization to `out`, ending with the summary record.
pub fn run<W: Write>(config: &Config, client: &mut Client, out: &mut Output<W>) -> Result<()> {
    let mut sync = Sync::new(config, client, out);
    let org_name = sync.resolve_org()?;
    log::log(
        Level::Info,
        &format!("syncing organization {org_name:?} ({})", sync.org_id()),
        &[("org_id", sync.org_id().into()), ("org_name", org_name.clone().into())],
    );
    let filters = &config.filters;
    for project_id in &filters.project_ids {
        sync.require_project(project_id)?;
    }

    for resource_type in &RESOURCE_TYPES {
        let included = match resource_type.id {
            "user" => filters.users(),
            "project" => filters.projects(),
            "org" => filters.orgs(),
            _ => filters.project_grants(),
        };
        if included {
            sync.out.write(resource_type)?;
        }
    }
    if filters.users() {
        sync.users()?;
    }
    if filters.orgs() {
        sync.org()?;
    }
    if filters.projects() {
        sync.projects()?;
    }
    log::clear_progress();
    let summary = Summary {
        kind: "summary",
        org_id: &sync.org.id,
        org_name: &org_name,
        counts: sync.counts.clone(),
        requests: sync.client.requests(),
        filters: (!filters.is_empty()).then_some(SummaryFilters {
            resource_types: filters.resource_types.as_deref(),
            project_ids: &filters.project_ids,
            skip_grants: filters.skip_grants,
            skip_managers: filters.skip_managers,
        }),
    };
    sync.out.write(&summary)?;
    sync.out.flush()?;
    let counts = &sync.counts;
    let (requests, retries) = (sync.client.requests(), sync.client.retries());
    let seconds = log::elapsed().as_secs_f64();
    log::log(
        Level::Info,
        &format!(
            "sync complete in {seconds:.1}s: {}; {}, {}",
            in_words(counts),
            counted(requests, "request"),
            counted(retries, "retry")
        ),
        &[
            ("duration_s", ((seconds * 1000.0).round() / 1000.0).into()),
            ("requests", requests.into()),
            ("retries", retries.into()),
            ("counts", serde_json::to_value(counts).unwrap_or_default()),
        ],
    );
    Ok(())
}

/// The state of one sync (or check): the client, the output and what was printed so far.
pub struct Sync<'s, W: Write> {
    pub client: &'s mut Client,
    out: &'s mut Output<W>,
    config: &'s Config,
    /// The organization, as `orgs/me` described it.
    org: wire::Org<'static>,
    counts: Counts,
    /// The external users printed so far, so each is printed once.
    external_users: UsedIds,
    /// The other organizations printed so far (granted a project), each printed once.
    external_orgs: UsedIds,
    /// The organization's users printed by this sync (none when users are not synced).
    printed_users: Option<UsedIds>,
    /// The manager roles of projects and of project grants, read once, when first needed.
    project_manager_roles: Option<Rc<[String]>>,
    project_grant_manager_roles: Option<Rc<[String]>>,
    /// Page buffers of finished walks, reused so that a walk per project costs no new one.
    buffers: Vec<Vec<u8>>,
}

/// Why a response body could not be used.
pub enum Rejected {
    /// The body is not what ZITADEL sends: worth another attempt if it looks cut short.
    Malformed(ApiError),
    /// The body is well-formed, but no ZITADEL would send it.
    Invalid(anyhow::Error),
    /// Anything else, such as a failed write or a failure of a nested list, which says
    /// where it happened itself.
    Fatal(anyhow::Error),
}

impl From<anyhow::Error> for Rejected {
    fn from(err: anyhow::Error) -> Rejected {
        Rejected::Fatal(err)
    }
}

impl From<io::Error> for Rejected {
    fn from(err: io::Error) -> Rejected {
        Rejected::Fatal(err.into())
    }
}

impl<'s, W: Write> Sync<'s, W> {
    pub fn new(config: &'s Config, client: &'s mut Client, out: &'s mut Output<W>) -> Sync<'s, W> {
        Sync {
            client,
            out,
            config,
            org: wire::Org::default(),
            counts: Counts::default(),
            external_users: UsedIds::default(),
            external_orgs: UsedIds::default(),
            printed_users: None,
            project_manager_roles: None,
            project_grant_manager_roles: None,
            buffers: Vec::new(),
        }
    }

    /// The configuration this sync runs with.
    pub fn config(&self) -> &Config {
        self.config
    }

    /// The id of the organization being synced (empty before `resolve_org`).
    pub fn org_id(&self) -> &str {
        &self.org.id
    }

    /// Finds the organization to sync, pins every later request to it, and returns its name.
    pub fn resolve_org(&mut self) -> Result<String> {
        let org = self.fetch_org()?;
        // Every later request names the organization explicitly, so the whole sync reads
        // the organization just announced, whatever the token's default.
        self.client.pin_org(&org.id);
        let name = org.name.to_string();
        self.org = org;
        Ok(name)
    }

    /// Fails with `UnknownProject` unless the organization has the project.
    pub fn require_project(&mut self, project_id: &str) -> Result<()> {
        let endpoint = Endpoint::Project { project_id };
        let mut body = Vec::new();
        // GetProjectByID finds a project by id in the whole instance, with no filter on its
        // organization: another organization's project is found too, and told apart only
        // by its resource owner.
        let found = self.request(endpoint, None, None, &[], &mut body, |this, bytes| {
            let project = parse::<wire::ProjectResponse>(bytes)?.project;
            Ok(project.id == project_id && project.details.resource_owner == this.org.id)
        });
        match found {
            Ok(true) => Ok(()),
            Ok(false) => Err(UnknownProject(project_id.to_string()).into()),
            Err(err) => {
                let api = err.chain().find_map(|cause| cause.downcast_ref::<ApiError>());
                match api {
                    Some(api) if api.status == Some(404) && api.class == ErrorClass::Other => {
                        Err(UnknownProject(project_id.to_string()).into())
                    }
                    _ => Err(err),
                }
            }
        }
    }

    /// Resolves the organization to sync: its id and name.
    fn fetch_org(&mut self) -> Result<wire::Org<'static>> {
        let mut body = Vec::new();
        let org = self.request(Endpoint::OrgsMe, None, None, &[], &mut body, |_, bytes| {
            Ok(parse::<wire::OrgResponse>(bytes)?.org.into_owned())
        })?;
        let at = Endpoint::OrgsMe;
        if org.id.is_empty() {
            anyhow::bail!("{at}: malformed response: no organization id");
        }
        if let Some(wanted) = &self.config.org_id
            && *wanted != org.id
        {
            anyhow::bail!(
                "{at}: asked for organization {wanted}, ZITADEL answered with {}",
                org.id
            );
        }
        Ok(org)
    }

    /// What the user a grant (or membership) names is to this sync. A user that was printed
    /// is ours whatever the record says; one that was not is external unless the record
    /// says it belongs to this organization (then it was created after the users were read,
    /// or removed while its grants linger). Without user records, principals are named by
    /// id only, unchecked.
    fn principal(&self, user_id: &str, user_org: UserOrg) -> Principal {
        let Some(printed_users) = &self.printed_users else { return Principal::Printed };
        if printed_users.contains(user_id) {
            return Principal::Printed;
        }
        let ours = match user_org {
            UserOrg::Granted(org) => org.is_empty() || org == self.org.id,
            UserOrg::Member(org) => org == self.org.id,
        };
        if ours { Principal::NotPrinted } else { Principal::External }
    }

    /// Prints an external user (made by `record`) unless it was printed before.
    fn external_user<'r>(
        &mut self,
        user_id: &str,
        record: impl FnOnce() -> UserResource<'r>,
    ) -> Result<()> {
        if self.external_users.insert(user_id) {
            self.out.write(&record())?;
            self.counts.external_user += 1;
        }
        Ok(())
    }

    /// Walks a list page by page, handing each page's body to `page` together with the walk,
    /// which decides which of its rows to use; returns the finished walk.
    fn walk(
        &mut self,
        endpoint: Endpoint,
        shape: Shape,
        request: impl Fn(ListQuery) -> Vec<u8>,
        mut page: impl FnMut(&mut Self, &[u8], &mut Walk) -> Result<(), Rejected>,
    ) -> Result<Walk> {
        let mut walk = Walk::new(self.config.page_size, shape);
        let mut body = self.buffers.pop().unwrap_or_default();
        while let Some(query) = walk.next_query() {
            let reads = walk.reads();
            let (offset, limit) = (Some(query.offset), Some(query.limit));
            self.request(endpoint, offset, limit, &request(query), &mut body, |this, bytes| {
                page(this, bytes, &mut walk)
            })?;
            if walk.reads() == reads {
                continue;
            }
            let offset = query.offset;
            if walk.confirming() {
                // A busy instance: expected, and no sign of trouble.
                log::info(&format!(
                    "{endpoint}: ZITADEL's sequence moved while the list was read (offset {offset}); reading it again to confirm that the list did not change"
                ));
            } else {
                log::warn(&format!(
                    "{endpoint}: the list changed while it was read (offset {offset}); reading it again, without repeating records"
                ));
            }
        }
        self.buffers.push(body);
        Ok(walk)
    }

    /// Sends one request, retrying transient failures, until `accept` takes the body.
    /// `offset` and `limit` are the page's, for messages and logs.
    pub fn request<R>(
        &mut self,
        endpoint: Endpoint,
        offset: Option<u64>,
        limit: Option<u32>,
        request: &[u8],
        body: &mut Vec<u8>,
        mut accept: impl FnMut(&mut Self, &[u8]) -> Result<R, Rejected>,
    ) -> Result<R> {
        let at = At { endpoint, offset };
        let mut attempts = self.client.attempts();
        loop {
            let started = std::time::Instant::now();
            let sent = self.client.send(endpoint, request, body);
            if log::enabled(Level::Debug) {
                let status = match &sent {
                    Ok(status) => Some(*status),
                    Err(failure) => failure.status,
                };
                log::log(
                    Level::Debug,
                    "request",
                    &[
                        ("method", endpoint.method().into()),
                        ("path", endpoint.path().into()),
                        ("offset", offset.into()),
                        ("limit", limit.into()),
                        ("status", status.into()),
                        ("bytes", body.len().into()),
                        ("duration_ms", (started.elapsed().as_secs_f64() * 1000.0).round().into()),
                        ("attempt", attempts.made().into()),
                    ],
                );
            }
            let failure = match sent {
                Ok(_) => match accept(self, body) {
                    Ok(accepted) => return Ok(accepted),
                    Err(Rejected::Malformed(failure)) => failure,
                    Err(Rejected::Invalid(err)) => return Err(err.context(at.to_string())),
                    Err(Rejected::Fatal(err)) => return Err(err),
                },
                Err(failure) => failure,
            };
            self.client
                .retry_or_give_up(&mut attempts, failure, &at)
                .with_context(|| at.to_string())?;
        }
    }
}

impl<W: Write> Sync<'_, W> {
    /// Updates the progress line (shown only on a terminal). External users are counted
    /// apart, as in the summary; the numbers say what a narrow terminal keeps.
    fn show_progress(&self) {
        let counts = &self.counts;
        log::progress(|| {
            vec![
                (counted(counts.user, "user"), 4),
                (counted(counts.external_user, "external_user"), 1),
                (counted(counts.project, "project"), 3),
                (counted(counts.entitlement, "entitlement"), 2),
                (counted(counts.grant, "grant"), 5),
                (counted(self.client.requests(), "request"), 0),
            ]
        });
    }
}

/// The distinct items of a list a server sent, in order: an item listed twice would print
/// the same record id twice. A list holds a few items, so the ones before are scanned; a
/// hostile list of thousands is hashed instead.
fn distinct<'k>(items: &'k [Cow<'k, str>]) -> impl Iterator<Item = &'k str> {
    let mut many = HashSet::new();
    items.iter().enumerate().filter_map(move |(i, item)| {
        let repeated = match items.len() {
            ..=16 => items[..i].contains(item),
            _ => !many.insert(&**item),
        };
        (!repeated).then_some(&**item)
    })
}

/// What a grant's user is to this sync (`Sync::principal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Principal {
    /// Printed, or not checked because users are not synced.
    Printed,
    /// A user of another organization, printed as an external user before its first grant.
    External,
    /// A user of this organization that this sync did not print: its grants are skipped.
    NotPrinted,
}

/// What a record says of its user's organization.
#[derive(Debug, Clone, Copy)]
enum UserOrg<'a> {
    /// A user grant's `grantedOrgId`; some v4 builds leave it empty for a user of the
    /// grant's own organization (zitadel#10723), so empty counts as this organization.
    Granted(&'a str),
    /// A member's `userResourceOwner`; servers before zitadel#9168 do not send it, and then
    /// a user not printed is external.
    Member(&'a str),
}

/// The counts of records printed, in output order (the last three are kinds of grant);
/// every other count of `Counts` is of something skipped. Those in `ALWAYS_SAID` are said
/// even when zero, the others only when there are any.
const PRINTED: [&str; 11] = [
    "user",
    "external_user",
    "org",
    "external_org",
    "project",
    "project_grant",
    "entitlement",
    "grant",
    "manager_grant",
    "org_grant",
    "delegated_grant",
];
const ALWAYS_SAID: [&str; 5] = ["user", "external_user", "project", "entitlement", "grant"];

/// `9 users, 1 external user, ...; skipped 1 inactive user grant, ...`: every count of
/// records printed, then every count of something skipped that is not zero.
fn in_words(counts: &Counts) -> String {
    let serde_json::Value::Object(counts) = serde_json::to_value(counts).unwrap_or_default() else {
        return String::new();
    };
    let number = |name: &str| counts.get(name).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let printed: Vec<String> = PRINTED
        .iter()
        .filter(|name| ALWAYS_SAID.contains(name) || number(name) > 0)
        .map(|name| counted(number(name), name))
        .collect();
    let skipped: Vec<String> = counts
        .keys()
        .filter(|name| !PRINTED.contains(&name.as_str()) && number(name) > 0)
        .map(|name| counted(number(name), name))
        .collect();
    match skipped.is_empty() {
        true => printed.join(", "),
        false => format!("{}; skipped {}", printed.join(", "), skipped.join(", ")),
    }
}

/// A count in words, from a count's name in `Counts`: `1 external user`, `2 user grants
/// without roles`. The noun before `with` or `without` (else the last) takes the plural.
fn counted(n: u64, name: &str) -> String {
    format!("{n} {}", noun_phrase(name, n != 1))
}

fn noun_phrase(name: &str, plural: bool) -> String {
    let mut words: Vec<String> = name.split('_').map(String::from).collect();
    let noun = words.iter().position(|word| word == "with" || word == "without");
    let noun = noun.unwrap_or(words.len()).saturating_sub(1);
    if plural && let Some(word) = words.get_mut(noun) {
        match word.strip_suffix('y') {
            Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => *word = format!("{stem}ies"),
            _ => word.push('s'),
        }
    }
    words.join(" ")
}

/// Warnings listed for each kind of skipped grant; the rest are only counted (and logged at
/// debug level), so that an organization with many leaves stderr readable.
const LISTED_WARNINGS: u64 = 10;

/// Warns about the `nth` (1-based) skipped grant of one kind, named as its count in `Counts`
/// (`unknown_role_key`).
fn warn_skipped(nth: u64, kind: &str, message: impl FnOnce() -> String) {
    match nth {
        ..=LISTED_WARNINGS => log::warn(&message()),
        _ if log::enabled(Level::Debug) => log::log(Level::Debug, &message(), &[]),
        _ => {}
    }
    if nth == LISTED_WARNINGS + 1 {
        log::warn(&format!(
            "more {} are not listed; the summary counts them all (all are listed at --log-level debug)",
            noun_phrase(kind, true)
        ));
    }
}

/// Where a request went, for messages: `POST /management/v1/users/_search at offset 2000`.
struct At<'e> {
    endpoint: Endpoint<'e>,
    offset: Option<u64>,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{} at offset {offset}", self.endpoint),
            None => write!(f, "{}", self.endpoint),
        }
    }
}

/// The `details` of a list answer. ZITADEL always sends them, with at least the
/// projection's state; an answer without them (`{}`) is no list, so it is not taken for an
/// empty one. A proxy or a restarting server might send it, so it is worth another attempt.
pub fn list_details(details: &Option<wire::ListDetails>) -> Result<&wire::ListDetails, Rejected> {
    details.as_ref().ok_or_else(|| {
        let message = "malformed response: a list answer without details".to_string();
        Rejected::Malformed(ApiError::retryable(message))
    })
}

/// Parses a response body that is one object, such as `orgs/me`'s.
pub fn parse<'b, T: Deserialize<'b>>(bytes: &'b [u8]) -> Result<T, Rejected> {
    parse_with(bytes, std::marker::PhantomData::<T>)
}

/// Parses a list page of at most `limit` rows, the page size asked for: a longer page fails
/// as soon as its extra row starts, before it costs any memory.
pub fn parse_page<'b, T: Deserialize<'b> + wire::Row>(
    bytes: &'b [u8],
    limit: u32,
) -> Result<Page<T>, Rejected> {
    parse_with(bytes, Page::reader(limit))
}

fn parse_with<'b, S: DeserializeSeed<'b>>(bytes: &'b [u8], seed: S) -> Result<S::Value, Rejected> {
    // serde reads a struct from a JSON array too, and an empty array would pass as an
    // empty page: every ZITADEL answer is an object.
    if bytes.trim_ascii_start().starts_with(b"[") {
        let message = "malformed response: a JSON array where ZITADEL sends an object";
        return Err(Rejected::Invalid(anyhow::anyhow!(message)));
    }
    // Checking UTF-8 once for the whole body is cheaper than serde_json checking each
    // string as it goes (`from_slice`); a body cut inside a character fails here.
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let message = format!("malformed response: not UTF-8 ({err})");
        Rejected::Malformed(ApiError::retryable(message))
    })?;
    let mut json = serde_json::Deserializer::from_str(text);
    seed.deserialize(&mut json)
        .and_then(|value| json.end().map(|()| value))
        .map_err(|err| Rejected::Malformed(ApiError::malformed(&err)))
}

/// Asks the walk which rows of a page to use; an empty list when the page is to be ignored.
fn judge<'k>(
    walk: &mut Walk,
    details: &Option<wire::ListDetails>,
    keys: impl ExactSizeIterator<Item = &'k str>,
) -> Result<Vec<bool>, Rejected> {
    let details = list_details(details)?;
    match walk.judge(details.total_result, details.processed_sequence, keys) {
        Ok(Verdict::Use(flags)) => Ok(flags),
        Ok(Verdict::Ignore) => Ok(Vec::new()),
        Err(err @ WalkError::ChangedTooOften { .. }) => {
            Err(Rejected::Invalid(anyhow::Error::new(OrgChanged).context(err.to_string())))
        }
        Err(err) => Err(Rejected::Invalid(err.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_words() {
        assert_eq!(counted(1, "external_user"), "1 external user");
        assert_eq!(counted(2, "user_grant_without_roles"), "2 user grants without roles");
        assert_eq!(counted(1, "user_grant_without_roles"), "1 user grant without roles");
        assert_eq!(counted(0, "grant_without_principal"), "0 grants without principal");
        assert_eq!(counted(3, "retry"), "3 retries");
        assert_eq!(counted(1, "retry"), "1 retry");
        assert_eq!(counted(7, "unknown_role_key"), "7 unknown role keys");
        let counts =
            Counts { user: 1, project: 1, grant: 2, unknown_role_key: 1, ..Counts::default() };
        assert_eq!(
            in_words(&counts),
            "1 user, 0 external users, 1 project, 0 entitlements, 2 grants; skipped 1 unknown role key"
        );
        let counts = Counts { org: 1, manager_grant: 2, ..counts };
        assert_eq!(
            in_words(&counts),
            "1 user, 0 external users, 1 org, 1 project, 0 entitlements, 2 grants, 2 manager grants; skipped 1 unknown role key"
        );
        let counts = Counts { inactive_user_grant: 3, user_grant_without_roles: 1, ..counts };
        assert!(in_words(&counts).ends_with(
            "; skipped 3 inactive user grants, 1 unknown role key, 1 user grant without roles"
        ));
    }
}
