//! Project grants: a project of the organization delegated to another organization with
//! some of its role keys. Each is a resource; each delegated key it still has is a grant of
//! the project's role to the organization (printed once, as an external organization,
//! before its first grant); its managers follow (`managers.rs`).

use std::io::Write;

use anyhow::Result;

use super::projects::Roles;
use super::{Rejected, Sync, distinct, judge, parse_page, warn_skipped};
use crate::mapping;
use crate::paging;
use crate::wire;
use crate::zitadel::Endpoint;

impl<W: Write> Sync<'_, W> {
    /// Walks the project's grants to other organizations; `roles` are the project's roles,
    /// which the delegated keys are checked against.
    pub(super) fn project_grants(
        &mut self,
        project_id: &str,
        project_name: &str,
        roles: &Roles,
    ) -> Result<()> {
        let endpoint = Endpoint::ProjectGrants { project_id };
        self.walk(endpoint, paging::UNSORTED, wire::list_request, |this, bytes, walk| {
            let page = parse_page::<wire::ProjectGrant>(bytes, this.config.page_size)?;
            let stray = page.result.iter().find(|grant| grant.project_id != project_id);
            if let Some(stray) = stray {
                let message = format!(
                    "project grant {} is of project {:?}, not of the project {project_id} asked for",
                    stray.grant_id, stray.project_id
                );
                return Err(Rejected::Invalid(anyhow::anyhow!(message)));
            }
            let keys = page.result.iter().map(|grant| &*grant.grant_id);
            for (grant, new) in page.result.iter().zip(judge(walk, &page.details, keys)?) {
                if grant.granted_org_id.is_empty() {
                    let message = format!(
                        "malformed response: project grant {} has no grantedOrgId",
                        grant.grant_id
                    );
                    return Err(Rejected::Invalid(anyhow::anyhow!(message)));
                }
                if new {
                    this.project_grant(project_id, project_name, roles, grant)?;
                }
            }
            Ok(())
        })
        .map(drop)
    }

    /// Prints one project grant: its organization (before its first grant), the grant, a
    /// grant to the organization per delegated key the project has, and its managers.
    fn project_grant(
        &mut self,
        project_id: &str,
        project_name: &str,
        roles: &Roles,
        grant: &wire::ProjectGrant,
    ) -> Result<()> {
        let config = self.config;
        let mut delegated: Vec<(&str, &str)> = Vec::new();
        if !config.filters.skip_grants {
            if mapping::is_inactive_project_grant(grant) && !config.include_inactive_grants {
                self.counts.inactive_project_grant += 1;
            } else {
                self.delegated_keys(project_id, roles, grant, &mut delegated);
            }
        }
        let org_id = &*grant.granted_org_id;
        if !delegated.is_empty() && config.filters.orgs() && self.external_orgs.insert(org_id) {
            self.out.write(&mapping::external_org(org_id, &grant.granted_org_name))?;
            self.counts.external_org += 1;
        }
        self.out.write(&mapping::project_grant(grant, project_name))?;
        self.counts.project_grant += 1;
        for (key, entitlement_id) in delegated {
            self.out.write(&mapping::org_grant(project_id, key, entitlement_id, grant))?;
            self.counts.org_grant += 1;
            self.counts.grant += 1;
        }
        if !config.filters.skip_managers {
            self.project_grant_managers(project_id, &grant.grant_id)?;
        }
        Ok(())
    }

    /// Collects the distinct delegated keys the project has, each with its role's
    /// entitlement id; keys it no longer has are counted and warned about.
    fn delegated_keys<'g>(
        &mut self,
        project_id: &str,
        roles: &'g Roles,
        grant: &'g wire::ProjectGrant,
        delegated: &mut Vec<(&'g str, &'g str)>,
    ) {
        for key in distinct(&grant.granted_role_keys) {
            match roles.get(key) {
                Some(entitlement_id) => delegated.push((key, entitlement_id)),
                None => {
                    self.counts.unknown_role_key += 1;
                    warn_skipped(self.counts.unknown_role_key, "unknown_role_key", || {
                        format!(
                            "project grant {} delegates role {key:?} to organization {}, which project {project_id} does not have; no grant record for it",
                            grant.grant_id, grant.granted_org_id
                        )
                    });
                }
            }
        }
    }
}
