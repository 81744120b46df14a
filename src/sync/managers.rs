//! Managers: the organization's own record, and the manager roles and managers of the
//! organization, of each project and of each project grant, which share one member-list
//! shape. Every manager role is an entitlement of its resource (printed before any grant
//! of it), every (manager, role) one grant.

use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

use anyhow::{Result, bail};

use super::projects::Roles;
use super::{Principal, Rejected, Sync, UserOrg, distinct, judge, parse, parse_page, warn_skipped};
use crate::mapping;
use crate::paging;
use crate::wire;
use crate::zitadel::Endpoint;

/// The manager roles of one resource whose entitlements were printed: role to entitlement id.
type Printed = HashMap<String, String>;

impl<W: Write> Sync<'_, W> {
    /// Prints the organization, its manager roles and its managers.
    pub(super) fn org(&mut self) -> Result<()> {
        self.out.write(&mapping::org(&self.org))?;
        self.counts.org += 1;
        if self.config.filters.skip_managers {
            return Ok(());
        }
        let roles = self.member_roles(Endpoint::OrgMemberRoles)?;
        let org_id = self.org.id.clone();
        self.managers(Endpoint::OrgMembers, "org", &org_id, &roles, None)
    }

    /// Prints a project's manager roles and managers. `roles` are its own role keys, which
    /// a manager role's slug (`manager:<ROLE>`) must not equal.
    pub(super) fn project_managers(&mut self, project_id: &str, roles: &Roles) -> Result<()> {
        let manager_roles = self.member_roles_once(Endpoint::ProjectMemberRoles, |sync| {
            &mut sync.project_manager_roles
        })?;
        let endpoint = Endpoint::ProjectMembers { project_id };
        self.managers(endpoint, "project", project_id, &manager_roles, Some(roles))
    }

    /// Prints a project grant's manager roles and managers.
    pub(super) fn project_grant_managers(
        &mut self,
        project_id: &str,
        grant_id: &str,
    ) -> Result<()> {
        let manager_roles = self.member_roles_once(Endpoint::ProjectGrantMemberRoles, |sync| {
            &mut sync.project_grant_manager_roles
        })?;
        let endpoint = Endpoint::ProjectGrantMembers { project_id, grant_id };
        self.managers(endpoint, "project_grant", grant_id, &manager_roles, None)
    }

    /// The manager roles of a member-role list, read when first needed and kept in `cache`.
    fn member_roles_once(
        &mut self,
        endpoint: Endpoint,
        cache: fn(&mut Self) -> &mut Option<Rc<[String]>>,
    ) -> Result<Rc<[String]>> {
        if let Some(known) = cache(self) {
            return Ok(Rc::clone(known));
        }
        let read = self.member_roles(endpoint)?;
        Ok(Rc::clone(cache(self).insert(read)))
    }

    /// The manager roles a member-role list names, once each, in its order.
    fn member_roles(&mut self, endpoint: Endpoint) -> Result<Rc<[String]>> {
        let mut body = Vec::new();
        let roles = self.request(
            endpoint,
            None,
            None,
            wire::MEMBER_ROLES_REQUEST,
            &mut body,
            |_, bytes| {
                let answer = parse::<wire::MemberRoles>(bytes)?;
                if answer.result.iter().any(|role| role.is_empty()) {
                    let message = "malformed response: an empty manager role";
                    return Err(Rejected::Invalid(anyhow::anyhow!(message)));
                }
                Ok(distinct(&answer.result).map(String::from).collect::<Vec<_>>())
            },
        )?;
        Ok(roles.into())
    }

    /// Prints the manager roles of a resource (the `roles` its role list names) and walks
    /// its managers. `reserved` are a project's role keys, which a manager slug must not
    /// equal: the two entitlements would have one id.
    fn managers(
        &mut self,
        endpoint: Endpoint,
        resource_type: &'static str,
        resource_id: &str,
        roles: &[String],
        reserved: Option<&Roles>,
    ) -> Result<()> {
        let mut printed = Printed::new();
        for role in roles {
            self.manager_entitlement(resource_type, resource_id, role, reserved, &mut printed)?;
        }
        if self.config.filters.skip_grants {
            return Ok(());
        }
        self.walk(endpoint, paging::UNSORTED, wire::list_request, |this, bytes, walk| {
            let page = parse_page::<wire::Member>(bytes, this.config.page_size)?;
            let keys = page.result.iter().map(|member| &*member.user_id);
            for (member, new) in page.result.iter().zip(judge(walk, &page.details, keys)?) {
                if new {
                    this.manager(resource_type, resource_id, member, reserved, &mut printed)?;
                }
            }
            Ok(())
        })
        .map(drop)
    }

    /// Prints one grant per distinct role of a manager, its user first if it is external.
    fn manager(
        &mut self,
        resource_type: &'static str,
        resource_id: &str,
        member: &wire::Member,
        reserved: Option<&Roles>,
        printed: &mut Printed,
    ) -> Result<()> {
        let user_id = &*member.user_id;
        let roles = &member.roles;
        // ZITADEL refuses a membership without roles; one would grant nothing.
        if roles.iter().all(|role| role.is_empty()) {
            return Ok(());
        }
        match self.principal(user_id, UserOrg::Member(&member.user_resource_owner)) {
            Principal::Printed => {}
            Principal::External => {
                self.external_user(user_id, || mapping::external_member(member))?;
            }
            Principal::NotPrinted => {
                self.counts.grant_without_principal += 1;
                warn_skipped(
                    self.counts.grant_without_principal,
                    "grant_without_principal",
                    || {
                        format!(
                            "{resource_type} {resource_id} has manager {user_id}, who is not among the users printed but belongs to this organization; no grant record"
                        )
                    },
                );
                return Ok(());
            }
        }
        for role in distinct(roles).filter(|role| !role.is_empty()) {
            let entitlement_id =
                self.manager_entitlement(resource_type, resource_id, role, reserved, printed)?;
            let grant =
                mapping::manager_grant(resource_type, resource_id, role, &entitlement_id, user_id);
            self.out.write(&grant)?;
            self.counts.manager_grant += 1;
            self.counts.grant += 1;
        }
        Ok(())
    }

    /// Prints the entitlement of a manager role unless it was printed, and returns its id.
    fn manager_entitlement(
        &mut self,
        resource_type: &'static str,
        resource_id: &str,
        role: &str,
        reserved: Option<&Roles>,
        printed: &mut Printed,
    ) -> Result<String> {
        if let Some(id) = printed.get(role) {
            return Ok(id.clone());
        }
        let entitlement = mapping::manager_entitlement(resource_type, resource_id, role);
        if let Some(reserved) = reserved
            && reserved.contains_key(&*entitlement.slug)
        {
            bail!(
                "project {resource_id} has a role key {:?} that equals the slug of its manager role {role}, so both entitlements would have the id {}: rename the role key, or sync with --skip-managers",
                entitlement.slug,
                entitlement.id
            );
        }
        self.out.write(&entitlement)?;
        self.counts.entitlement += 1;
        printed.insert(role.to_string(), entitlement.id.clone());
        Ok(entitlement.id)
    }
}
