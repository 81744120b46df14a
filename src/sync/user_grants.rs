//! A project's user grants, those that other organizations made through project grants
//! included (asked for with `withGrantedQuery`): one grant record per distinct role key the
//! project has, each external user printed just before its first grant.

use std::io::Write;

use anyhow::Result;

use super::distinct;
use super::fetcher::{Fetcher, List};
use super::ledger::{Ledger, Principal, Skipped, UserOrg};
use super::projects::Project;
use crate::config::Config;
use crate::mapping;
use crate::wire::{self, ListQuery};
use crate::zitadel::Endpoint;

/// `ListUserGrants` of one project.
struct UserGrants<'p> {
    project_id: &'p str,
}

impl List for UserGrants<'_> {
    type Row<'b> = wire::UserGrant<'b>;

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint::UserGrants
    }

    fn request(&self, query: ListQuery) -> Vec<u8> {
        wire::user_grants_request(query, self.project_id)
    }

    fn key<'r>(grant: &'r wire::UserGrant<'_>) -> &'r str {
        &grant.id
    }

    fn check_page(&self, grants: &[wire::UserGrant<'_>]) -> Result<(), String> {
        let project_id = self.project_id;
        let stray = grants.iter().find(|g| !g.project_id.is_empty() && g.project_id != project_id);
        match stray {
            Some(other) => Err(format!(
                "user grant {} belongs to project {}, not to the project {project_id} asked for",
                other.id, other.project_id
            )),
            None => Ok(()),
        }
    }

    fn check_row(&self, grant: &wire::UserGrant<'_>) -> Result<(), String> {
        match grant.user_id.is_empty() {
            true => Err(format!("malformed response: user grant {} has no userId", grant.id)),
            false => Ok(()),
        }
    }
}

/// Prints the grants of every user grant of the project.
pub fn user_grants<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    project: &Project,
) -> Result<()> {
    let list = UserGrants { project_id: project.id };
    let each = |_: &mut Fetcher, grant: &wire::UserGrant, ahead: Option<&wire::UserGrant>| {
        if let Some(ahead) = ahead {
            ledger.prefetch_user(&ahead.user_id);
        }
        user_grant(ledger, config, project, grant)
    };
    fetcher.walk_ahead(&list, each).map(drop)
}

/// Prints one grant record per known role key of an active (or included) user grant.
fn user_grant<W: Write>(
    ledger: &mut Ledger<W>,
    config: &Config,
    project: &Project,
    user_grant: &wire::UserGrant,
) -> Result<()> {
    let project_id = project.id;
    if mapping::is_inactive(user_grant) && !config.include_inactive_grants {
        ledger.counts.inactive_user_grant += 1;
        return Ok(());
    }
    if user_grant.role_keys.is_empty() {
        ledger.skip(Skipped::UserGrantWithoutRoles, || {
            format!(
                "user grant {} of user {} on project {project_id} has no role keys; no grant record",
                user_grant.id, user_grant.user_id
            )
        });
        return Ok(());
    }
    let principal =
        ledger.principal(&user_grant.user_id, UserOrg::Granted(&user_grant.granted_org_id));
    if principal == Principal::NotPrinted {
        ledger.skip(Skipped::GrantWithoutPrincipal, || {
            format!(
                "user grant {} on project {project_id} names user {}, who is not among the users printed, and no other organization; no grant record",
                user_grant.id, user_grant.user_id
            )
        });
        return Ok(());
    }
    let delegated = !user_grant.project_grant_id.is_empty();
    for role_key in distinct(&user_grant.role_keys) {
        let Some(entitlement_id) = project.roles.get(role_key) else {
            ledger.skip(Skipped::UnknownRoleKey, || {
                format!(
                    "user grant {} of user {} names role {role_key:?}, which project {project_id} does not have; no grant record for it",
                    user_grant.id, user_grant.user_id
                )
            });
            continue;
        };
        let grant = mapping::grant(project_id, role_key, entitlement_id, project.plain, user_grant);
        if !ledger.new_grant(&grant.id)? {
            ledger.skip(Skipped::RepeatedGrant, || {
                format!(
                    "user grant {} of user {} gives role {role_key:?} of project {project_id} again, as a user grant read before did (perhaps removed and made again while the list was read); one grant record",
                    user_grant.id, user_grant.user_id
                )
            });
            continue;
        }
        if principal == Principal::External {
            let org = ledger.known_org_name(&user_grant.granted_org_id).map(str::to_owned);
            let record = || mapping::external_user(user_grant, org.as_deref());
            ledger.external_user(&user_grant.user_id, record)?;
        }
        ledger.print_with(|line| grant.write_json(line))?;
        ledger.counts.grant += 1;
        ledger.counts.delegated_grant += u64::from(delegated);
    }
    Ok(())
}
