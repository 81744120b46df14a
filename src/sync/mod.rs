//! Drives one sync: resolves the organization, walks every list page by page (retrying
//! transient failures, reading a list again when it changed underneath) and streams each
//! record as soon as its page is in hand.
//!
//! Output order keeps every reference pointing backwards: resource types, users, the
//! credentials of the service users, the organization with its manager roles and
//! managers, the instance with its manager roles
//! and managers, then per project the project, its
//! roles, its manager roles and managers, its project grants (each with its organization,
//! the roles it delegates and its managers) and its user grants; each external user and
//! organization just before its first grant, and the summary last.
//!
//! Two pieces of state, apart: the `Fetcher` (`fetcher.rs`) makes every request, with the
//! one retry loop, and walks every list; the `Ledger` (`ledger.rs`) holds the output and
//! what went into it. Each family of lists is a file with the `List` it walks and free
//! functions taking both, its per-row code only: `users.rs`, `managers.rs`, `projects.rs`,
//! `project_grants.rs`, `user_grants.rs`, `instance.rs`, `credentials.rs`, `auth.rs`. A new family is one more such file, called at its
//! place in the output order. `org.rs` finds the organization, `me.rs` the token's own
//! user, `parse.rs` reads answers, `summary.rs` ends the sync.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io::Write;

use anyhow::Result;

use crate::config::Config;
use crate::keyed::Keyed;
use crate::log::{self, Level};
use crate::output::Output;
use crate::record::RESOURCE_TYPES;
use crate::zitadel::Client;

mod auth;
mod credentials;
mod fetcher;
mod instance;
mod ledger;
mod managers;
mod me;
mod org;
mod parse;
mod project_grants;
mod projects;
mod summary;
mod user_grants;
mod users;

pub use credentials::{no_such_list, org_list};
pub use fetcher::Fetcher;
pub use org::{require_project, resolve as resolve_org};
// `--check` reads answers as the fetcher does, and refuses one as it does; the fuzz test
// sees why one is refused.
#[cfg(test)]
pub use parse::parse_page_with_serde;
pub use parse::{Rejected, list_details, parse, parse_page};

use ledger::Ledger;

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
        let setting = &crate::settings::PROJECT_IDS;
        write!(f, "{setting} {:?} is not a project of the organization", self.0)
    }
}

impl std::error::Error for UnknownProject {}

/// Syncs the configured organization to `out`, ending with the summary record.
pub fn run<W: Write>(config: &Config, client: &mut Client, out: &mut Output<W>) -> Result<()> {
    let started_at = log::now();
    let mut fetcher = Fetcher::new(client, config.page_size);
    let org = resolve_org(&mut fetcher, config.org_id.as_deref())?;
    log::log(
        Level::Info,
        &format!("syncing organization {:?} ({})", org.name, org.id),
        &[("org_id", (&*org.id).into()), ("org_name", (&*org.name).into())],
    );
    let filters = &config.filters;
    for project_id in &filters.project_ids {
        require_project(&mut fetcher, &org.id, project_id)?;
    }

    let mut ledger = Ledger::new(out, &org);
    ledger.sign_in = auth::SignIn::new(filters.auth_methods());
    for resource_type in &RESOURCE_TYPES {
        let included = match resource_type.id {
            "user" => filters.users(),
            "project" => filters.projects(),
            "org" => filters.orgs(),
            "instance" => filters.instance_managers(),
            kind @ ("pat" | "machine_key" | "client_secret") => filters.credentials(kind),
            _ => filters.project_grants(),
        };
        if included {
            ledger.print_json(resource_type)?;
        }
    }
    if filters.users() {
        let credentials = ["pat", "machine_key", "client_secret"];
        let wanted = credentials.iter().any(|kind| filters.credentials(kind));
        let mut machines = wanted.then(users::Machines::default);
        users::users(&mut fetcher, &mut ledger, machines.as_mut())?;
        if let Some(machines) = machines {
            credentials::credentials(&mut fetcher, &mut ledger, config, &machines.users)?;
        }
    }
    if filters.orgs() {
        managers::org(&mut fetcher, &mut ledger, config)?;
    }
    if filters.instance_managers() {
        instance::instance(&mut fetcher, &mut ledger, config)?;
    }
    if filters.projects() {
        projects::projects(&mut fetcher, &mut ledger, config)?;
    }
    // Last: the records never wait on it, and a refusal changes only the summary.
    let synced_by = me::synced_by(&mut fetcher, &mut ledger.omitted)?;
    log::clear_progress();
    summary::finish(&fetcher, &mut ledger, config, &summary::RunFacts { started_at, synced_by })
}

/// The distinct items of a list a server sent, in order: an item listed twice would print
/// the same record id twice. A list holds a few items, so the ones before are scanned; a
/// hostile list of thousands is hashed instead.
fn distinct<'k>(items: &'k [Cow<'k, str>]) -> impl Iterator<Item = &'k str> {
    let mut many = None;
    items.iter().enumerate().filter_map(move |(i, item)| {
        let repeated = match items.len() {
            ..=16 => items[..i].contains(item),
            _ => {
                !many.get_or_insert_with(|| HashSet::with_hasher(Keyed::default())).insert(&**item)
            }
        };
        (!repeated).then_some(&**item)
    })
}
