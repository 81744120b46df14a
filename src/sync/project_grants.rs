//! Project grants: a project of the organization delegated to another organization with
//! some of its role keys. Each is a resource; each delegated key it still has is a grant of
//! the project's role to the organization (printed once, as an external organization,
//! before its first grant); its managers follow (`managers.rs`).
//!
//! They are read with one list of the whole organization when the first project is
//! printed, and each project's are held until it is printed (`Source::Held`); with
//! `--project-id`, or when the one list cannot serve, with one list per project
//! (`Source::PerProject`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Write;

use anyhow::Result;

use super::distinct;
use super::fetcher::{Fetcher, List};
use super::ledger::{Ledger, Skipped};
use super::managers::{self, ManagerRoles};
use super::projects::Project;
use crate::config::Config;
use crate::keyed::Keyed;
use crate::mapping;
use crate::wire;
use crate::zitadel::Endpoint;

/// `ListProjectGrants` of one project.
struct ProjectGrants<'p> {
    project_id: &'p str,
}

impl List for ProjectGrants<'_> {
    type Row<'b> = wire::ProjectGrant<'b>;

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint::ProjectGrants { project_id: self.project_id }
    }

    fn key<'r>(grant: &'r wire::ProjectGrant<'_>) -> &'r str {
        &grant.grant_id
    }

    fn check_page(&self, grants: &[wire::ProjectGrant<'_>]) -> Result<(), String> {
        let project_id = self.project_id;
        match grants.iter().find(|grant| grant.project_id != project_id) {
            Some(stray) => Err(format!(
                "project grant {} is of project {:?}, not of the project {project_id} asked for",
                stray.grant_id, stray.project_id
            )),
            None => Ok(()),
        }
    }

    fn check_row(&self, grant: &wire::ProjectGrant<'_>) -> Result<(), String> {
        match grant.granted_org_id.is_empty() {
            true => Err(format!(
                "malformed response: project grant {} has no grantedOrgId",
                grant.grant_id
            )),
            false => Ok(()),
        }
    }
}

/// `ListAllProjectGrants`: the project grants of every project of the organization.
struct AllProjectGrants;

impl List for AllProjectGrants {
    type Row<'b> = wire::ProjectGrant<'b>;

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint::AllProjectGrants
    }

    fn key<'r>(grant: &'r wire::ProjectGrant<'_>) -> &'r str {
        &grant.grant_id
    }

    fn check_row(&self, grant: &wire::ProjectGrant<'_>) -> Result<(), String> {
        match grant.project_id.is_empty() {
            true => Err(format!(
                "malformed response: project grant {} has no projectId",
                grant.grant_id
            )),
            false => ProjectGrants { project_id: &grant.project_id }.check_row(grant),
        }
    }
}

/// The most bytes of project grants held for their projects, as much as one response body:
/// about 8,000 grants of a few role keys each (the benchmark's 200 take 100 KiB), part of
/// the memory `budget::FIXED_MIB` sets aside, whatever a server sends. Past it, each
/// project's grants are read with its own list instead.
const MAX_HELD_BYTES: usize = 4 << 20;

/// Where each project's grants come from.
pub enum Source {
    /// Not known yet: the organization's list is read when the first project needs it, so
    /// that an organization without projects costs no request for it.
    Unread,
    /// `ListProjectGrants`, one list per project.
    PerProject,
    /// The organization's grants from one `ListAllProjectGrants`, by project id; a project
    /// takes its own when it is printed.
    Held(HashMap<String, Vec<wire::ProjectGrant<'static>>, Keyed>),
}

/// Ends the walk of the one list when it holds more than `MAX_HELD_BYTES`.
#[derive(Debug)]
struct TooManyToHold;

impl fmt::Display for TooManyToHold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "more than {MAX_HELD_BYTES} bytes of project grants")
    }
}

impl std::error::Error for TooManyToHold {}

impl Source {
    /// Where the grants of the first project will come from: `--project-id` names a few
    /// projects, whose own lists are cheaper than the organization's.
    pub fn new(config: &Config) -> Source {
        match config.filters.project_ids.is_empty() {
            true => Source::Unread,
            false => Source::PerProject,
        }
    }
}

/// Reads the organization's project grants with one list, once. An empty answer may come
/// from a token whose `project.grant.read` is scoped to projects (a Project Owner's): ZITADEL
/// narrows that list to the ids of the project grants such a token manages, so it sees none,
/// while each of its projects' own lists shows them all; so then the per-project lists serve.
fn read_all(fetcher: &mut Fetcher) -> Result<Source> {
    let mut held: HashMap<String, Vec<wire::ProjectGrant<'static>>, Keyed> = HashMap::default();
    let mut bytes = 0;
    let walked = fetcher.walk(&AllProjectGrants, |_, grant| {
        bytes += held_bytes(grant);
        if bytes > MAX_HELD_BYTES {
            return Err(TooManyToHold.into());
        }
        held.entry(grant.project_id.to_string()).or_default().push(owned(grant));
        Ok(())
    });
    match walked {
        Err(err) if err.is::<TooManyToHold>() => {
            crate::log::info(&format!(
                "{}: {err}; reading each project's project grants with its own list instead",
                Endpoint::AllProjectGrants
            ));
            Ok(Source::PerProject)
        }
        Err(err) => Err(err),
        Ok(_) if held.is_empty() => Ok(Source::PerProject),
        Ok(_) => Ok(Source::Held(held)),
    }
}

/// Prints the project's grants to other organizations, from `source`; the delegated keys
/// are checked against the project's roles.
pub fn project_grants<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    manager_roles: &mut ManagerRoles,
    (project, source): (&Project, &mut Source),
) -> Result<()> {
    if let Source::Unread = source {
        *source = read_all(fetcher)?;
    }
    if let Source::Held(by_project) = source {
        // Taken, not borrowed: what is printed is no longer held.
        let held = by_project.remove(project.id).unwrap_or_default();
        for grant in &held {
            one(fetcher, ledger, config, manager_roles, project, grant)?;
        }
        return Ok(());
    }
    let list = ProjectGrants { project_id: project.id };
    fetcher
        .walk(&list, |fetcher, grant| one(fetcher, ledger, config, manager_roles, project, grant))
        .map(drop)
}

/// Prints one project grant of the project, unless its id was printed before, and its
/// managers.
fn one<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    manager_roles: &mut ManagerRoles,
    project: &Project,
    grant: &wire::ProjectGrant,
) -> Result<()> {
    if !ledger.new_project_grant(&grant.grant_id)? {
        ledger.skip(Skipped::RepeatedProjectGrant, || {
            format!(
                "project grant {} of project {} has the id of a project grant of another project printed before; it, the roles it delegates and its managers are not printed",
                grant.grant_id, project.id
            )
        });
        return Ok(());
    }
    project_grant(ledger, config, project, grant)?;
    if config.filters.skip_managers {
        return Ok(());
    }
    let ids = (project.id, &*grant.grant_id);
    managers::project_grant_managers(fetcher, ledger, config, manager_roles, ids)
}

/// What holding a grant costs: its strings and the slots that point at them.
fn held_bytes(grant: &wire::ProjectGrant) -> usize {
    let keys: usize = grant.granted_role_keys.iter().map(|key| key.len()).sum();
    let strings = grant.grant_id.len()
        + grant.granted_org_id.len()
        + grant.granted_org_name.len()
        + grant.state.len()
        + grant.project_id.len()
        + grant.project_name.len()
        + grant.details.creation_date.len()
        + grant.details.change_date.len();
    let slot = std::mem::size_of::<Cow<str>>();
    std::mem::size_of::<wire::ProjectGrant>()
        + strings
        + keys
        + slot * grant.granted_role_keys.len()
}

/// A copy of the grant that outlives its page, with what its records need.
fn owned(grant: &wire::ProjectGrant) -> wire::ProjectGrant<'static> {
    let own = |text: &Cow<str>| Cow::Owned(text.to_string());
    wire::ProjectGrant {
        grant_id: own(&grant.grant_id),
        granted_org_id: own(&grant.granted_org_id),
        granted_org_name: own(&grant.granted_org_name),
        granted_role_keys: grant.granted_role_keys.iter().map(own).collect(),
        state: own(&grant.state),
        project_id: own(&grant.project_id),
        project_name: own(&grant.project_name),
        details: wire::GrantDetails {
            creation_date: own(&grant.details.creation_date),
            change_date: own(&grant.details.change_date),
            // No record names it.
            resource_owner: Cow::Borrowed(""),
        },
    }
}

/// Prints one project grant: its organization (before its first grant), the grant, and a
/// grant to the organization per delegated key the project has.
fn project_grant<W: Write>(
    ledger: &mut Ledger<W>,
    config: &Config,
    project: &Project,
    grant: &wire::ProjectGrant,
) -> Result<()> {
    let mut delegated: Vec<(&str, &str)> = Vec::new();
    if !config.filters.skip_grants {
        if mapping::is_inactive_project_grant(grant) && !config.include_inactive_grants {
            ledger.counts.inactive_project_grant += 1;
        } else {
            delegated = delegated_keys(ledger, project, grant);
        }
    }
    let org_id = &*grant.granted_org_id;
    if !delegated.is_empty() && config.filters.orgs() {
        ledger.external_org(org_id, || mapping::external_org(org_id, &grant.granted_org_name))?;
    }
    ledger.learn_org_name(org_id, &grant.granted_org_name)?;
    ledger.print_json(&mapping::project_grant(grant, project.name))?;
    ledger.counts.project_grant += 1;
    for (key, entitlement_id) in delegated {
        let org_grant = mapping::org_grant(project.id, key, entitlement_id, grant);
        if !ledger.new_grant(&*org_grant.id)? {
            ledger.skip(Skipped::RepeatedGrant, || {
                format!(
                    "project grant {} delegates role {key:?} of project {} to organization {org_id}, as a project grant read before did; one grant record",
                    grant.grant_id, project.id
                )
            });
            continue;
        }
        ledger.print(&org_grant)?;
        ledger.counts.org_grant += 1;
        ledger.counts.grant += 1;
    }
    Ok(())
}

/// The distinct delegated keys the project has, each with its role's entitlement id; keys
/// it no longer has are counted and warned about.
fn delegated_keys<'g, W: Write>(
    ledger: &mut Ledger<W>,
    project: &'g Project,
    grant: &'g wire::ProjectGrant,
) -> Vec<(&'g str, &'g str)> {
    let mut delegated = Vec::new();
    for key in distinct(&grant.granted_role_keys) {
        match project.roles.get(key) {
            Some(entitlement_id) => delegated.push((key, entitlement_id)),
            None => ledger.skip(Skipped::UnknownRoleKey, || {
                format!(
                    "project grant {} delegates role {key:?} to organization {}, which project {} does not have; no grant record for it",
                    grant.grant_id, grant.granted_org_id, project.id
                )
            }),
        }
    }
    delegated
}
