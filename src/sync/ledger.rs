//! The ledger of one sync: the output and everything known of what went into it — the
//! counts, the users, external users and organizations, project grants and grants printed,
//! warnings about the rows skipped, and the progress line. It makes no request.

use std::hash::Hash;
use std::io::{self, Write};

use anyhow::Result;
use serde::Serialize;

use super::auth::SignIn;
use super::summary::{counted, noun_phrase};
use crate::keyed::{IdSet, KeptMap};
use crate::log::{self, Level};
use crate::output::Output;
use crate::record::{Counts, Omitted};
use crate::record_json::WriteJson;
use crate::wire;

/// What was printed and counted so far for one organization.
pub struct Ledger<'o, W: Write> {
    out: &'o mut Output<W>,
    /// The organization being synced, as `orgs/me` described it.
    org: &'o wire::Org<'static>,
    pub counts: Counts,
    /// The parts the token could not read, left out and said so in the summary.
    pub omitted: Omitted,
    /// Whose authentication methods are read, and whose were (`auth.rs`).
    pub sign_in: SignIn,
    /// The organization's users printed by this sync (none when users are not synced).
    printed_users: Option<IdSet>,
    /// The external users printed so far, so each is printed once.
    external_users: IdSet,
    /// The other organizations printed so far (granted a project), each printed once.
    external_orgs: IdSet,
    /// The ids of the project grants printed, each printed once: one id under two projects
    /// would be two resources with one id.
    project_grants: IdSet,
    /// The ids of the grants printed for the current project (`forget_grants`).
    grants: IdSet,
    /// The names that records printed so far give other organizations (a project grant
    /// names its granted organization), for the external users of those printed later.
    org_names: KeptMap,
}

/// What the ledger's sets hold, for the message when one would outgrow the memory budget.
const EXTERNAL_USERS: &str = "the hashes of the external users printed";
const EXTERNAL_ORGS: &str = "the hashes of the external organizations printed";
const PROJECT_GRANTS: &str = "the hashes of the project grants printed";
const GRANTS: &str = "the hashes of the grants printed for this project";

/// What a grant's user is to this sync (`Ledger::principal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// Printed, or not checked because users are not synced.
    Printed,
    /// A user of another organization, printed as an external user before its first grant.
    External,
    /// A user of this organization that this sync did not print: its grants are skipped.
    NotPrinted,
}

/// What a record says of its user's organization.
#[derive(Debug, Clone, Copy)]
pub enum UserOrg<'a> {
    /// A user grant's `grantedOrgId`; some v4 builds leave it empty for a user of the
    /// grant's own organization (zitadel#10723), so empty counts as this organization.
    Granted(&'a str),
    /// A member's `userResourceOwner`; servers before zitadel#9168 do not send it, and then
    /// a user not printed is external.
    Member(&'a str),
}

/// The kinds of grant skipped with a warning, each counted in `Counts` under its name.
#[derive(Debug, Clone, Copy)]
pub enum Skipped {
    GrantWithoutPrincipal,
    UserGrantWithoutRoles,
    UnknownRoleKey,
    RepeatedGrant,
    RepeatedProjectGrant,
    SecretWithoutIdentity,
    AuthMethodsUnknown,
}

impl Skipped {
    fn count(self, counts: &mut Counts) -> &mut u64 {
        match self {
            Skipped::GrantWithoutPrincipal => &mut counts.grant_without_principal,
            Skipped::UserGrantWithoutRoles => &mut counts.user_grant_without_roles,
            Skipped::UnknownRoleKey => &mut counts.unknown_role_key,
            Skipped::RepeatedGrant => &mut counts.repeated_grant,
            Skipped::RepeatedProjectGrant => &mut counts.repeated_project_grant,
            Skipped::SecretWithoutIdentity => &mut counts.secret_without_identity,
            Skipped::AuthMethodsUnknown => &mut counts.auth_methods_unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Skipped::GrantWithoutPrincipal => "grant_without_principal",
            Skipped::UserGrantWithoutRoles => "user_grant_without_roles",
            Skipped::UnknownRoleKey => "unknown_role_key",
            Skipped::RepeatedGrant => "repeated_grant",
            Skipped::RepeatedProjectGrant => "repeated_project_grant",
            Skipped::SecretWithoutIdentity => "secret_without_identity",
            Skipped::AuthMethodsUnknown => "auth_methods_unknown",
        }
    }
}

/// Warnings listed for each kind of skipped grant; the rest are only counted (and logged at
/// debug level), so that an organization with many leaves stderr readable.
const LISTED_WARNINGS: u64 = 10;

impl<'o, W: Write> Ledger<'o, W> {
    pub fn new(out: &'o mut Output<W>, org: &'o wire::Org<'static>) -> Ledger<'o, W> {
        // The organization itself is never an external one: a project grant to it, which
        // ZITADEL refuses but a server may send, names the `org` record printed already.
        let mut external_orgs = IdSet::new(EXTERNAL_ORGS);
        // A few bytes, so within any budget: an error here cannot happen.
        let _ = external_orgs.insert(&*org.id);
        Ledger {
            out,
            org,
            counts: Counts::default(),
            omitted: Omitted::default(),
            sign_in: SignIn::default(),
            printed_users: None,
            external_users: IdSet::new(EXTERNAL_USERS),
            external_orgs,
            project_grants: IdSet::new(PROJECT_GRANTS),
            grants: IdSet::new(GRANTS),
            org_names: Default::default(),
        }
    }

    /// The organization being synced.
    pub fn org(&self) -> &'o wire::Org<'static> {
        self.org
    }

    /// Writes one record; the caller counts it.
    pub fn print(&mut self, record: &impl Serialize) -> io::Result<()> {
        self.out.write(record)
    }

    /// Writes one record that writes its own JSON (`record_json`); the caller counts it.
    pub fn print_json(&mut self, record: &impl WriteJson) -> io::Result<()> {
        self.print_with(|line| record.write_json(line))
    }

    /// Writes one record whose JSON `write` appends by hand (grants, the hot path).
    pub fn print_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        self.out.write_with(|line| {
            write(line);
            Ok(())
        })
    }

    /// Flushes the output, so that a failed write is seen.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Remembers the users the users walk printed: every principal is checked against them.
    pub fn users_printed(&mut self, users: IdSet) {
        self.printed_users = Some(users);
    }

    /// Brings where `principal` will look `user_id` up into the cache, a few rows before
    /// it does: the users printed are too many to stay there while pages stream through.
    pub fn prefetch_user(&self, user_id: &str) {
        if let Some(printed_users) = &self.printed_users {
            printed_users.prefetch(user_id);
        }
    }

    /// What the user a grant (or membership) names is to this sync. A user that was printed
    /// is ours whatever the record says; one that was not is external unless the record
    /// says it belongs to this organization (then it was created after the users were read,
    /// or removed while its grants linger). Without user records, principals are named by
    /// id only, unchecked.
    pub fn principal(&self, user_id: &str, user_org: UserOrg) -> Principal {
        let Some(printed_users) = &self.printed_users else { return Principal::Printed };
        if printed_users.contains(user_id) {
            return Principal::Printed;
        }
        let ours = match user_org {
            UserOrg::Granted(org) => org.is_empty() || org == self.org.id,
            UserOrg::Member(org) => org == self.org.id,
        };
        if ours { Principal::NotPrinted } else { Principal::External }
    }

    /// Remembers the name a printed record gives another organization.
    pub fn learn_org_name(&mut self, org_id: &str, name: &str) -> Result<()> {
        if !name.is_empty() {
            let what = |count| format!("the names of the {count} organizations granted a project");
            self.org_names.insert(org_id, name.to_string(), what)?;
        }
        Ok(())
    }

    /// The name the records printed so far give the organization `org_id`, if any.
    pub fn known_org_name(&self, org_id: &str) -> Option<&str> {
        self.org_names.get(org_id)
    }

    /// Prints an external user (made by `record`) unless it was printed before.
    pub fn external_user<R: WriteJson>(
        &mut self,
        user_id: &str,
        record: impl FnOnce() -> R,
    ) -> Result<()> {
        if self.external_users.insert(user_id)? {
            self.print_json(&record())?;
            self.counts.external_user += 1;
        }
        Ok(())
    }

    /// Prints an external organization (made by `record`) unless it was printed before.
    pub fn external_org<R: Serialize>(
        &mut self,
        org_id: &str,
        record: impl FnOnce() -> R,
    ) -> Result<()> {
        if self.external_orgs.insert(org_id)? {
            self.out.write(&record())?;
            self.counts.external_org += 1;
        }
        Ok(())
    }

    /// Whether the project grant `id` was not printed before (under another project); it
    /// counts as printed from now on.
    pub fn new_project_grant(&mut self, id: &str) -> Result<bool> {
        Ok(self.project_grants.insert(id)?)
    }

    /// Whether the grant `id` (a string, or a user grant's `GrantId`) was not printed before
    /// in this project; it counts as printed from now on. Grants of managers are not asked
    /// about: their list is keyed by user and each row's roles are made distinct, so a
    /// repeat is impossible there.
    pub fn new_grant<I: Hash + ?Sized>(&mut self, id: &I) -> Result<bool> {
        Ok(self.grants.insert(id)?)
    }

    /// Forgets the grants printed, as a new project begins: the id of every grant of a
    /// project (and of its project grants) begins with that project's id (or with one of
    /// its project grants' ids, printed under one project only), so no grant of one project
    /// can repeat one of another, and the set stays as large as one project's grants.
    pub fn forget_grants(&mut self) {
        self.grants = IdSet::new(GRANTS);
    }

    /// Counts a skipped grant and warns about it, as long as few of its kind were listed.
    pub fn skip(&mut self, kind: Skipped, message: impl FnOnce() -> String) {
        let count = kind.count(&mut self.counts);
        *count += 1;
        let nth = *count;
        match nth {
            ..=LISTED_WARNINGS => log::warn(&message()),
            _ if log::enabled(Level::Debug) => log::log(Level::Debug, &message(), &[]),
            _ => {}
        }
        if nth == LISTED_WARNINGS + 1 {
            log::warn(&format!(
                "more {} are not listed; the summary counts them all (all are listed at --log-level debug)",
                noun_phrase(kind.name(), true)
            ));
        }
    }

    /// Updates the progress line (shown only on a terminal). External users are counted
    /// apart, as in the summary; the numbers say what a narrow terminal keeps.
    pub fn show_progress(&self, requests: u64) {
        let counts = &self.counts;
        log::progress(|| {
            vec![
                (counted(counts.user, "user"), 4),
                (counted(counts.external_user, "external_user"), 1),
                (counted(counts.project, "project"), 3),
                (counted(counts.entitlement, "entitlement"), 2),
                (counted(counts.grant, "grant"), 5),
                (counted(requests, "request"), 0),
            ]
        });
    }
}
