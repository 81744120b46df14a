//! The users walk: the organization's own users, each printed once, and the set of users
//! printed, which every later grant's principal is checked against.

use std::io::Write;

use anyhow::Result;

use super::auth;
use super::fetcher::{Fetcher, List};
use super::ledger::Ledger;
use crate::mapping;
use crate::paging::{self, Shape};
use crate::wire::{self, ListQuery};
use crate::zitadel::Endpoint;

/// A service user printed, for its credentials.
pub struct MachineUser {
    pub id: String,
    /// Whether the user list says it has a client secret.
    pub has_secret: bool,
}

/// `ListUsers`, sorted by id; its totalResult counts metadata rows too (zitadel#10825).
struct Users;

impl List for Users {
    type Row<'b> = wire::User<'b>;
    const SHAPE: Shape = paging::USERS;

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint::Users
    }

    fn request(&self, query: ListQuery) -> Vec<u8> {
        wire::users_request(query)
    }

    fn key<'r>(user: &'r wire::User<'_>) -> &'r str {
        &user.id
    }
}

/// Prints every user of the organization and remembers them in the ledger; the service
/// users go into `machines`, when given, for their credentials.
pub fn users<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    mut machines: Option<&mut Vec<MachineUser>>,
) -> Result<()> {
    let walk = fetcher.walk(&Users, |fetcher, user| {
        if let (Some(machines), Some(machine)) = (machines.as_deref_mut(), &user.machine) {
            machines.push(MachineUser { id: user.id.to_string(), has_secret: machine.has_secret });
        }
        ledger.print(&mapping::user(user, &ledger.org().id))?;
        ledger.counts.user += 1;
        auth::after_user(fetcher, ledger, user)?;
        ledger.show_progress(fetcher.requests());
        Ok(())
    })?;
    // Every user the walk used was printed: grants are checked against them.
    ledger.users_printed(walk.into_used());
    Ok(())
}
