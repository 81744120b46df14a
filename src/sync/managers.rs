//! Managers: the organization's own record, and the manager roles and managers of the
//! organization, of each project and of each project grant, which share one member-list
//! shape. Every manager role is an entitlement of its resource (printed before any grant
//! of it), every (manager, role) one grant.

use std::borrow::Cow;
use std::io::Write;

use anyhow::Result;

use super::auth;
use super::distinct;
use super::fetcher::{Fetcher, List};
use super::ledger::{Ledger, Principal, Skipped, UserOrg};
use super::parse::{Rejected, parse};
use super::projects::Project;
use crate::budget::Charge;
use crate::config::Config;
use crate::keyed::KeptMap;
use crate::mapping;
use crate::wire;
use crate::zitadel::Endpoint;

/// The manager roles of projects and of project grants, each list read once, when first
/// needed (a sync with no project reads neither).
#[derive(Default)]
pub struct ManagerRoles {
    project: Option<RoleList>,
    project_grant: Option<RoleList>,
}

/// The manager roles a member-role list names, once each, in its order; charged to the
/// memory budget (one body may list tens of thousands).
pub(super) struct RoleList {
    pub(super) roles: Vec<String>,
    _charge: Charge,
}

impl RoleList {
    /// The distinct roles of a member-role list; an empty role is no answer of ZITADEL's.
    pub(super) fn of(listed: &[Cow<str>]) -> Result<RoleList, Rejected> {
        if listed.iter().any(|role| role.is_empty()) {
            let message = "malformed response: an empty manager role";
            return Err(Rejected::invalid(message.to_string()));
        }
        let roles: Vec<String> = distinct(listed).map(String::from).collect();
        // Each role's heap block with its header, and its slot in the vector.
        let bytes = roles.iter().map(|role| role.len() + 16 + 24).sum();
        let mut charge = Charge::default();
        charge
            .add(bytes, || format!("the {} manager roles listed", roles.len()))
            .map_err(|err| Rejected::Invalid(err.into()))?;
        Ok(RoleList { roles, _charge: charge })
    }
}

/// A resource whose managers are printed: the organization, a project, a project grant or
/// the instance.
pub(super) struct Resource<'r> {
    /// Its resource type, as records name it: `org`, `project`, `project_grant` or `instance`.
    pub(super) kind: &'static str,
    pub(super) id: &'r str,
}

/// The manager roles of one resource whose entitlements were printed: role to entitlement
/// id (member rows may name roles without end).
type Printed = KeptMap;

/// A member list (`ListOrgMembers`, `ListProjectMembers`, `ListProjectGrantMembers`).
struct Members<'e> {
    endpoint: Endpoint<'e>,
}

impl List for Members<'_> {
    type Row<'b> = wire::Member<'b>;

    fn endpoint(&self) -> Endpoint<'_> {
        self.endpoint
    }

    fn key<'r>(member: &'r wire::Member<'_>) -> &'r str {
        &member.user_id
    }
}

/// Prints the organization, its manager roles and its managers.
pub fn org<W: Write>(fetcher: &mut Fetcher, ledger: &mut Ledger<W>, config: &Config) -> Result<()> {
    let org = ledger.org();
    let policy = config.filters.login_policy().then(|| auth::login_policy(fetcher)).transpose()?;
    let mut record = mapping::org(org);
    if let Some(answer) = &policy
        && let Some(policy) = &answer.policy
    {
        record.login_policy = Some(mapping::login_policy(answer, policy));
    }
    ledger.print(&record)?;
    ledger.counts.org += 1;
    if config.filters.skip_managers {
        return Ok(());
    }
    let roles = member_roles(fetcher, Endpoint::OrgMemberRoles)?;
    let org = Resource { kind: "org", id: &org.id };
    let list = Members { endpoint: Endpoint::OrgMembers };
    managers(fetcher, ledger, config, &list, &org, &roles.roles)
}

/// Prints a project's manager roles and managers.
pub fn project_managers<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    manager_roles: &mut ManagerRoles,
    project: &Project,
) -> Result<()> {
    let list = &mut manager_roles.project;
    let roles = read_once(fetcher, list, Endpoint::ProjectMemberRoles)?;
    let list = Members { endpoint: Endpoint::ProjectMembers { project_id: project.id } };
    let resource = Resource { kind: "project", id: project.id };
    managers(fetcher, ledger, config, &list, &resource, roles)
}

/// Prints a project grant's manager roles and managers.
pub fn project_grant_managers<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    manager_roles: &mut ManagerRoles,
    (project_id, grant_id): (&str, &str),
) -> Result<()> {
    let list = &mut manager_roles.project_grant;
    let roles = read_once(fetcher, list, Endpoint::ProjectGrantMemberRoles)?;
    let list = Members { endpoint: Endpoint::ProjectGrantMembers { project_id, grant_id } };
    let resource = Resource { kind: "project_grant", id: grant_id };
    managers(fetcher, ledger, config, &list, &resource, roles)
}

/// The manager roles of a member-role list, read when first needed and kept in `list`.
fn read_once<'l>(
    fetcher: &mut Fetcher,
    list: &'l mut Option<RoleList>,
    endpoint: Endpoint,
) -> Result<&'l [String]> {
    if list.is_none() {
        *list = Some(member_roles(fetcher, endpoint)?);
    }
    Ok(list.as_ref().map_or(&[], |list| &list.roles))
}

/// The manager roles a member-role list names.
fn member_roles(fetcher: &mut Fetcher, endpoint: Endpoint) -> Result<RoleList> {
    fetcher.fetch(endpoint, wire::MEMBER_ROLES_REQUEST, |bytes| {
        RoleList::of(&parse::<wire::MemberRoles>(bytes)?.result)
    })
}

/// Prints the manager roles of a resource (the `roles` its role list names) and walks
/// its managers, the member list `list`.
pub(super) fn managers<W: Write, L>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    list: &L,
    resource: &Resource,
    roles: &[String],
) -> Result<()>
where
    L: for<'b> List<Row<'b> = wire::Member<'b>>,
{
    let mut printed = Printed::default();
    for role in roles {
        manager_entitlement(ledger, resource, role, &mut printed)?;
    }
    if config.filters.skip_grants {
        return Ok(());
    }
    let walk = fetcher
        .walk(list, |fetcher, member| manager(fetcher, ledger, resource, member, &mut printed));
    walk.map(drop)
}

/// Prints one grant per distinct role of a manager, its user first if it is external (or
/// the authentication methods of a user of this organization, when read).
fn manager<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    resource: &Resource,
    member: &wire::Member,
    printed: &mut Printed,
) -> Result<()> {
    let user_id = &*member.user_id;
    let roles = &member.roles;
    // ZITADEL refuses a membership without roles; one would grant nothing.
    if roles.iter().all(|role| role.is_empty()) {
        return Ok(());
    }
    let principal = ledger.principal(user_id, UserOrg::Member(&member.user_resource_owner));
    match principal {
        Principal::Printed => {}
        Principal::External => {
            let org = ledger.known_org_name(&member.user_resource_owner).map(str::to_owned);
            ledger.external_user(user_id, || mapping::external_member(member, org.as_deref()))?;
        }
        Principal::NotPrinted => {
            let Resource { kind, id, .. } = resource;
            ledger.skip(Skipped::GrantWithoutPrincipal, || {
                format!(
                    "{kind} {id} has manager {user_id}, who is not among the users printed but belongs to this organization; no grant record"
                )
            });
            return Ok(());
        }
    }
    for role in distinct(roles).filter(|role| !role.is_empty()) {
        let entitlement_id = manager_entitlement(ledger, resource, role, printed)?;
        if principal == Principal::Printed {
            auth::before_manager_grant(fetcher, ledger, user_id)?;
        }
        let grant =
            mapping::manager_grant(resource.kind, resource.id, role, &entitlement_id, member);
        ledger.print(&grant)?;
        ledger.counts.manager_grant += 1;
        ledger.counts.grant += 1;
    }
    Ok(())
}

/// Prints the entitlement of a manager role unless it was printed, and returns its id.
fn manager_entitlement<W: Write>(
    ledger: &mut Ledger<W>,
    resource: &Resource,
    role: &str,
    printed: &mut Printed,
) -> Result<String> {
    if let Some(id) = printed.get(role) {
        return Ok(id.to_string());
    }
    // A project's role key may equal a manager role's slug (`manager:PROJECT_OWNER`): ids
    // escape the key's `:`, so the two entitlements have two ids.
    let entitlement = mapping::manager_entitlement(resource.kind, resource.id, role);
    let Resource { kind, id } = resource;
    let what = |count| format!("the {count} manager roles of {kind} {id}");
    printed.insert(role, entitlement.id.clone(), what)?;
    ledger.print_json(&entitlement)?;
    ledger.counts.entitlement += 1;
    Ok(entitlement.id)
}
