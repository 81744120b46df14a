//! The users walk: the organization's own users, each printed once, and the set of users
//! printed, which every later grant's principal is checked against.

use std::io::Write;

use anyhow::Result;

use super::auth;
use super::fetcher::{Fetcher, List};
use super::ledger::Ledger;
use crate::budget::Charge;
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

/// The service users printed, charged to the memory budget (a server could send users
/// without end).
#[derive(Default)]
pub struct Machines {
    pub users: Vec<MachineUser>,
    charge: Charge,
}

impl Machines {
    fn push(&mut self, id: &str, has_secret: bool) -> Result<()> {
        // The id's heap block with its header, and the entry with the vector's spare room.
        let bytes = id.len() + 16 + 2 * std::mem::size_of::<MachineUser>();
        let count = self.users.len();
        self.charge.add(bytes, || format!("the ids of the {count} service users printed"))?;
        self.users.push(MachineUser { id: id.to_string(), has_secret });
        Ok(())
    }
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
    mut machines: Option<&mut Machines>,
) -> Result<()> {
    let walk = fetcher.walk(&Users, |fetcher, user| {
        if let (Some(machines), Some(machine)) = (machines.as_deref_mut(), &user.machine) {
            machines.push(&user.id, machine.has_secret)?;
        }
        ledger.print_json(&mapping::user(user, &ledger.org().id))?;
        ledger.counts.user += 1;
        auth::after_user(fetcher, ledger, user)?;
        ledger.show_progress(fetcher.requests());
        Ok(())
    })?;
    // Every user the walk used was printed: grants are checked against them.
    ledger.users_printed(walk.into_used());
    Ok(())
}
