//! Credentials of service users: Personal Access Tokens, machine keys and client secrets,
//! printed after the users they sign in as.
//!
//! Tokens and keys come from the organization-wide v2 lists, filtered to the organization
//! and sorted by id; a server older than those lists (404, or 501 unimplemented) is read
//! through the v1 lists of each service user instead, said once at info level. A client
//! secret is only a flag of the user list. No list ZITADEL has sends the token or the key
//! itself, and the sync calls no endpoint that returns one.

use std::io::Write;

use anyhow::Result;

use super::fetcher::{Fetcher, List};
use super::ledger::{Ledger, Principal, Skipped, UserOrg};
use super::users::MachineUser;
use crate::config::Config;
use crate::log;
use crate::mapping::{self, CredentialKind};
use crate::paging::{self, Shape};
use crate::wire::{self, ListQuery};
use crate::zitadel::{ApiError, Endpoint};

/// The v2 list of the organization's tokens or keys (`ListPersonalAccessTokens`,
/// `ListKeys`), sorted by id.
struct OrgCredentials<'o> {
    kind: CredentialKind,
    org_id: &'o str,
}

impl List for OrgCredentials<'_> {
    type Row<'b> = wire::Credential<'b>;
    /// Sorted by id as asked, walked as users are. v2 lists have no `processedSequence`:
    /// the total and the ids alone tell a page that follows the one before.
    const SHAPE: Shape = paging::USERS;

    fn endpoint(&self) -> Endpoint<'_> {
        org_list(self.kind, self.org_id, ListQuery { offset: 0, limit: 0, asc: true }).0
    }

    fn request(&self, query: ListQuery) -> Vec<u8> {
        org_list(self.kind, self.org_id, query).1
    }

    fn key<'r>(row: &'r wire::Credential<'_>) -> &'r str {
        &row.id
    }

    fn check_row(&self, row: &wire::Credential<'_>) -> Result<(), String> {
        let org_id = self.org_id;
        match (&*row.user_id, &*row.organization_id) {
            ("", _) => Err(format!("malformed response: credential {} has no userId", row.id)),
            (_, org) if !org.is_empty() && org != org_id => Err(format!(
                "credential {} is of organization {org:?}, not of the organization {org_id} asked for",
                row.id
            )),
            _ => Ok(()),
        }
    }
}

/// The organization-wide list of tokens or keys of `org_id`, and the body that asks it for
/// the page `query` names, filtered to the organization and sorted by id.
pub fn org_list(
    kind: CredentialKind,
    org_id: &str,
    query: ListQuery,
) -> (Endpoint<'static>, Vec<u8>) {
    let (endpoint, column) = match kind {
        CredentialKind::Pat => (Endpoint::Pats, "PERSONAL_ACCESS_TOKEN_FIELD_NAME_ID"),
        _ => (Endpoint::MachineKeys, "KEY_FIELD_NAME_ID"),
    };
    (endpoint, wire::credentials_request(query, column, org_id))
}

/// Whether an organization-wide list failed because the server has none: 404, or 501
/// unimplemented, from a server older than the lists.
pub fn no_such_list(err: &anyhow::Error) -> bool {
    let api = ApiError::in_chain(err);
    api.is_some_and(|api| matches!(api.status, Some(404 | 501)))
}

/// The v1 list of one service user's tokens or keys.
struct UserCredentials<'u> {
    kind: CredentialKind,
    user_id: &'u str,
}

impl List for UserCredentials<'_> {
    type Row<'b> = wire::Credential<'b>;

    fn endpoint(&self) -> Endpoint<'_> {
        let user_id = self.user_id;
        match self.kind {
            CredentialKind::Pat => Endpoint::UserPats { user_id },
            _ => Endpoint::UserKeys { user_id },
        }
    }

    fn key<'r>(row: &'r wire::Credential<'_>) -> &'r str {
        &row.id
    }
}

/// Prints the credentials of the organization's service users (`machines`, printed
/// before), each kind `--resource-types` includes.
pub fn credentials<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    config: &Config,
    machines: &[MachineUser],
) -> Result<()> {
    let mut per_user = false;
    for kind in [CredentialKind::Pat, CredentialKind::MachineKey] {
        if !config.filters.credentials(kind.resource_type()) {
            continue;
        }
        if !per_user {
            per_user = !org_wide(fetcher, ledger, kind)?;
        }
        if per_user {
            for machine in machines {
                let list = UserCredentials { kind, user_id: &machine.id };
                fetcher.walk(&list, |_, row| credential(ledger, kind, row, &machine.id))?;
            }
        }
    }
    if config.filters.credentials(CredentialKind::ClientSecret.resource_type()) {
        let org_id = &ledger.org().id;
        for machine in machines.iter().filter(|machine| machine.has_secret) {
            ledger.print_json(&mapping::client_secret(&machine.id, org_id))?;
            ledger.counts.client_secret += 1;
        }
    }
    Ok(())
}

/// Walks the organization-wide list of `kind`; false, with nothing printed, when the server
/// has no such list (then it is said once, and the v1 lists per user are read instead).
fn org_wide<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    kind: CredentialKind,
) -> Result<bool> {
    let org_id = ledger.org().id.clone();
    let list = OrgCredentials { kind, org_id: &org_id };
    let mut printed_any = false;
    let walked = fetcher.walk(&list, |_, row| {
        printed_any = true;
        credential(ledger, kind, row, &row.user_id)
    });
    let Err(err) = walked else { return Ok(true) };
    if !no_such_list(&err) || printed_any {
        return Err(err);
    }
    log::info(&format!(
        "{}: this ZITADEL has no organization-wide list of credentials (a server from before June 2025); reading the Personal Access Tokens and machine keys of each service user instead",
        list.endpoint()
    ));
    Ok(false)
}

/// Prints one token or key of `user_id`, unless that user was not printed.
fn credential<W: Write>(
    ledger: &mut Ledger<W>,
    kind: CredentialKind,
    row: &wire::Credential,
    user_id: &str,
) -> Result<()> {
    // Every credential of the list is of this organization's users.
    if ledger.principal(user_id, UserOrg::Granted("")) != Principal::Printed {
        ledger.skip(Skipped::SecretWithoutIdentity, || {
            format!(
                "{} {} of user {user_id}, who is not among the users printed (created after the users were read?); no record",
                kind.resource_type(),
                row.id
            )
        });
        return Ok(());
    }
    let org_id = &ledger.org().id;
    ledger.print_json(&mapping::credential(kind, row, user_id, org_id))?;
    match kind {
        CredentialKind::Pat => ledger.counts.pat += 1,
        _ => ledger.counts.machine_key += 1,
    }
    Ok(())
}
