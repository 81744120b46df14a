//! Project grants: a project of the organization delegated to another organization with
//! some of its role keys. Each is a resource; each delegated key it still has is a grant of
//! the project's role to the organization (printed once, as an external organization,
//! before its first grant); its managers follow (`managers.rs`).

use std::io::Write;

use anyhow::Result;

use super::distinct;
use super::fetcher::{Fetcher, List};
use super::ledger::{Ledger, Skipped};
use super::managers::{self, ManagerRoles};
use super::projects::Project;
use crate::config::Config;
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

/// Walks the project's grants to other organizations; the delegated keys are checked
/// against the project's roles.
pub fn project_grants<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    manager_roles: &mut ManagerRoles,
    project: &Project,
) -> Result<()> {
    let list = ProjectGrants { project_id: project.id };
    fetcher
        .walk(&list, |fetcher, grant| {
            if !ledger.new_project_grant(&grant.grant_id) {
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
        })
        .map(drop)
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
    ledger.learn_org_name(org_id, &grant.granted_org_name);
    ledger.print(&mapping::project_grant(grant, project.name))?;
    ledger.counts.project_grant += 1;
    for (key, entitlement_id) in delegated {
        let org_grant = mapping::org_grant(project.id, key, entitlement_id, grant);
        if !ledger.new_grant(&*org_grant.id) {
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
            Some(entitlement_id) => delegated.push((key, entitlement_id.as_str())),
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
