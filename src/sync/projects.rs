//! The projects walk: per project its resource, its roles (entitlements), its managers
//! (`managers.rs`), its project grants (`project_grants.rs`) and its user grants, those that
//! other organizations made through project grants included (one grant record per
//! distinct known role key), each external user just before its first grant.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;

use super::{Principal, Rejected, Sync, UserOrg, distinct, judge, parse_page, warn_skipped};
use crate::mapping;
use crate::paging;
use crate::wire;
use crate::zitadel::Endpoint;

/// A project's roles: each role key with its entitlement id.
pub(super) type Roles = HashMap<String, String>;

impl<W: Write> Sync<'_, W> {
    pub(super) fn projects(&mut self) -> Result<()> {
        self.walk(Endpoint::Projects, paging::UNSORTED, wire::list_request, |this, bytes, walk| {
            let page = parse_page::<wire::Project>(bytes, this.config.page_size)?;
            let keys = page.result.iter().map(|project| &*project.id);
            for (project, new) in page.result.iter().zip(judge(walk, &page.details, keys)?) {
                if new && this.config.filters.project(&project.id) {
                    this.out.write(&mapping::project(project, &this.org.id))?;
                    this.counts.project += 1;
                    let roles = this.roles(&project.id)?;
                    let filters = &this.config.filters;
                    if !filters.skip_managers {
                        this.project_managers(&project.id, &roles)?;
                    }
                    if filters.project_grants() {
                        this.project_grants(&project.id, &project.name, &roles)?;
                    }
                    if !filters.skip_grants {
                        this.user_grants(&project.id, &roles)?;
                    }
                    this.show_progress();
                }
            }
            Ok(())
        })
        .map(drop)
    }

    /// Prints the project's roles and returns them, for its grants to be checked against.
    fn roles(&mut self, project_id: &str) -> Result<Roles> {
        let endpoint = Endpoint::ProjectRoles { project_id };
        let mut roles = Roles::new();
        self.walk(endpoint, paging::UNSORTED, wire::list_request, |this, bytes, walk| {
            let page = parse_page::<wire::Role>(bytes, this.config.page_size)?;
            let row_keys = page.result.iter().map(|role| &*role.key);
            for (role, new) in page.result.iter().zip(judge(walk, &page.details, row_keys)?) {
                if new {
                    let entitlement = mapping::entitlement(project_id, role);
                    this.out.write(&entitlement)?;
                    roles.insert(role.key.to_string(), entitlement.id);
                    this.counts.entitlement += 1;
                }
            }
            Ok(())
        })?;
        Ok(roles)
    }

    fn user_grants(&mut self, project_id: &str, roles: &Roles) -> Result<()> {
        let request = |query| wire::user_grants_request(query, project_id);
        self.walk(Endpoint::UserGrants, paging::UNSORTED, request, |this, bytes, walk| {
            let page = parse_page::<wire::UserGrant>(bytes, this.config.page_size)?;
            if let Some(other) = page.result.iter().find(|g| !g.project_id.is_empty() && g.project_id != project_id) {
                let message = format!(
                    "user grant {} belongs to project {}, not to the project {project_id} asked for",
                    other.id, other.project_id
                );
                return Err(Rejected::Invalid(anyhow::anyhow!(message)));
            }
            let keys = page.result.iter().map(|grant| &*grant.id);
            for (user_grant, new) in page.result.iter().zip(judge(walk, &page.details, keys)?) {
                if user_grant.user_id.is_empty() {
                    let message = format!("malformed response: user grant {} has no userId", user_grant.id);
                    return Err(Rejected::Invalid(anyhow::anyhow!(message)));
                }
                if new {
                    this.user_grant(project_id, roles, user_grant)?;
                }
            }
            Ok(())
        })
        .map(drop)
    }

    /// Prints one grant record per known role key of an active (or included) user grant.
    fn user_grant(
        &mut self,
        project_id: &str,
        roles: &Roles,
        user_grant: &wire::UserGrant,
    ) -> Result<()> {
        if mapping::is_inactive(user_grant) && !self.config.include_inactive_grants {
            self.counts.inactive_user_grant += 1;
            return Ok(());
        }
        if user_grant.role_keys.is_empty() {
            self.counts.user_grant_without_roles += 1;
            warn_skipped(self.counts.user_grant_without_roles, "user_grant_without_roles", || {
                format!(
                    "user grant {} of user {} on project {project_id} has no role keys; no grant record",
                    user_grant.id, user_grant.user_id
                )
            });
            return Ok(());
        }
        let principal =
            self.principal(&user_grant.user_id, UserOrg::Granted(&user_grant.granted_org_id));
        if principal == Principal::NotPrinted {
            self.counts.grant_without_principal += 1;
            warn_skipped(self.counts.grant_without_principal, "grant_without_principal", || {
                format!(
                    "user grant {} on project {project_id} names user {}, who is not among the users printed, and no other organization; no grant record",
                    user_grant.id, user_grant.user_id
                )
            });
            return Ok(());
        }
        let delegated = !user_grant.project_grant_id.is_empty();
        for role_key in distinct(&user_grant.role_keys) {
            let Some(entitlement_id) = roles.get(role_key) else {
                self.counts.unknown_role_key += 1;
                warn_skipped(self.counts.unknown_role_key, "unknown_role_key", || {
                    format!(
                        "user grant {} of user {} names role {role_key:?}, which project {project_id} does not have; no grant record for it",
                        user_grant.id, user_grant.user_id
                    )
                });
                continue;
            };
            if principal == Principal::External {
                self.external_user(&user_grant.user_id, || mapping::external_user(user_grant))?;
            }
            let grant = mapping::grant(project_id, role_key, entitlement_id, user_grant);
            self.out.write_with(|line| {
                grant.write_json(line);
                Ok(())
            })?;
            self.counts.grant += 1;
            self.counts.delegated_grant += u64::from(delegated);
        }
        Ok(())
    }
}
