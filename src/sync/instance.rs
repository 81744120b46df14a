//! The instance: the ZITADEL instance the organization lives in, its manager roles and its
//! managers, who hold their roles in every organization of the instance.
//!
//! Reading them takes instance permissions (`iam.read`, `iam.member.read`) that an
//! organization's own roles do not give. Unless `instance` was named in `--resource-types`,
//! a token without them syncs the rest: the instance is left out, said once at info level
//! and named in the summary's `omitted`, so that the file alone tells it is missing.

use std::io::Write;

use anyhow::Result;

use super::fetcher::{Fetcher, List};
use super::ledger::Ledger;
use super::managers::{self, Resource, RoleList};
use super::parse::{Rejected, parse};
use crate::config::Config;
use crate::log;
use crate::mapping;
use crate::paging::{self, Shape};
use crate::wire::{self, ListQuery};
use crate::zitadel::{ApiError, Endpoint, ErrorClass};

/// `ListIAMMembers`, sorted by user id (`wire::instance_members_request`).
struct InstanceMembers;

impl List for InstanceMembers {
    type Row<'b> = wire::Member<'b>;
    /// Sorted by user id as asked, and walked as users are: in order, each page shown to
    /// follow the one before.
    const SHAPE: Shape = paging::USERS;

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint::InstanceMembers
    }

    fn request(&self, query: ListQuery) -> Vec<u8> {
        wire::instance_members_request(query)
    }

    fn key<'r>(member: &'r wire::Member<'_>) -> &'r str {
        &member.user_id
    }
}

/// Prints the instance, its manager roles and its managers; or, when the token may not
/// read them and they were not asked for by name, says so and records it as omitted.
pub fn instance<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
) -> Result<()> {
    let explicit = config.filters.resource_types.is_some();
    // The role list first: it needs `iam.member.read`, the permission organization tokens
    // lack most visibly, and costs one small request.
    let roles = member_roles(fetcher);
    let roles = match omit_when_denied(ledger, explicit, Endpoint::InstanceMemberRoles, roles)? {
        Some(roles) => roles,
        None => return Ok(()),
    };
    let found = fetcher.fetch(Endpoint::Instance, &[], |bytes| {
        let instance = parse::<wire::InstanceResponse>(bytes)?.instance;
        match instance.id.is_empty() {
            true => Err(Rejected::invalid("malformed response: no instance id".to_string())),
            false => Ok(instance.into_owned()),
        }
    });
    let Some(instance) = omit_when_denied(ledger, explicit, Endpoint::Instance, found)? else {
        return Ok(());
    };
    ledger.print_json(&mapping::instance(&instance))?;
    ledger.counts.instance += 1;
    let resource = Resource { kind: "instance", id: &instance.id };
    managers::managers(fetcher, ledger, config, &InstanceMembers, &resource, &roles.roles)
}

/// The instance's manager roles, once each, in the list's order.
fn member_roles(fetcher: &mut Fetcher) -> Result<RoleList> {
    fetcher.fetch(Endpoint::InstanceMemberRoles, wire::MEMBER_ROLES_REQUEST, |bytes| {
        RoleList::of(&parse::<wire::InstanceMemberRoles>(bytes)?.roles)
    })
}

/// `Some` of what `endpoint` gave; `None` when the token was denied it and the instance was
/// not named in `--resource-types` (`explicit`): then the omission is logged and recorded.
fn omit_when_denied<T, W: Write>(
    ledger: &mut Ledger<W>,
    explicit: bool,
    endpoint: Endpoint,
    read: Result<T>,
) -> Result<Option<T>> {
    let err = match read {
        Ok(value) => return Ok(Some(value)),
        Err(err) => err,
    };
    let api = ApiError::in_chain(&err);
    let denied = api.is_some_and(|api| api.class == ErrorClass::PermissionDenied);
    if explicit || !denied {
        return Err(err);
    }
    let reason = format!("the token lacks {} (IAM_OWNER_VIEWER)", endpoint.permission());
    log::info(&format!(
        "instance managers not synced: {reason}; the summary names them as omitted (give the service user the Iam Owner Viewer role on the instance to sync them)"
    ));
    ledger.omitted.instance = Some(reason);
    Ok(None)
}
