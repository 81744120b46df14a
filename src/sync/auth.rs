//! How users sign in: the organization's login policy, for its record, and the kinds of
//! authentication method of its human users who hold a manager role (or, with
//! `--auth-methods all`, of every human user), each user's read once.
//!
//! With `managers`, a user's methods come just before the user's first manager grant, of
//! whichever resource; with `all`, right after the user's record. Service users are never
//! asked: their keys and tokens are no authentication method here. A user whose methods the
//! server will not give (403, 404) gets no record and is counted (`auth_methods_unknown`).
//! What is kept is an 8-byte hash per service user and per manager asked.

use std::io::Write;

use anyhow::Result;

use super::fetcher::Fetcher;
use super::ledger::{Ledger, Skipped};
use super::parse::{Rejected, parse};
use crate::config::AuthMethods;
use crate::keyed::IdSet;
use crate::mapping;
use crate::wire;
use crate::zitadel::{ApiError, Endpoint};

/// Whose methods are read, and what is known of whom so far.
pub struct SignIn {
    whose: AuthMethods,
    /// The service users printed (with `managers` only): their managers' grants ask nothing.
    machines: IdSet,
    /// The users whose methods were asked for (with `managers` only): each is asked once.
    asked: IdSet,
}

impl SignIn {
    /// `whose` as the filters say it (`Filters::auth_methods`): nobody's without users.
    pub fn new(whose: AuthMethods) -> SignIn {
        SignIn {
            whose,
            machines: IdSet::new("the hashes of the service users printed"),
            asked: IdSet::new("the hashes of the managers whose methods were read"),
        }
    }
}

impl Default for SignIn {
    fn default() -> SignIn {
        SignIn::new(AuthMethods::default())
    }
}

/// Reads the organization's login policy (`policy.read`; a 403 ends the sync, naming
/// `--auth-methods none`).
pub fn login_policy(fetcher: &mut Fetcher) -> Result<wire::LoginPolicyResponse<'static>> {
    fetcher.fetch(Endpoint::LoginPolicy, &[], |bytes| {
        let answer = parse::<wire::LoginPolicyResponse>(bytes)?;
        if answer.policy.is_none() {
            return Err(Rejected::invalid("malformed response: no login policy".to_string()));
        }
        Ok(answer.into_owned())
    })
}

/// After a user's record: with `all`, prints a human user's methods; with `managers`,
/// remembers a service user, so that its manager grants ask for nothing.
pub fn after_user<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    user: &wire::User,
) -> Result<()> {
    let machine = user.machine.is_some();
    match ledger.sign_in.whose {
        AuthMethods::All if !machine => print(fetcher, ledger, &user.id),
        AuthMethods::Managers if machine => {
            ledger.sign_in.machines.insert(&*user.id)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Before a manager grant of `user_id`, a user of this organization printed before: with
/// `managers`, prints its methods unless it is a service user or was asked about already.
pub fn before_manager_grant<W: Write>(
    fetcher: &mut Fetcher,
    ledger: &mut Ledger<W>,
    user_id: &str,
) -> Result<()> {
    let sign_in = &mut ledger.sign_in;
    if sign_in.whose != AuthMethods::Managers
        || sign_in.machines.contains(user_id)
        || !sign_in.asked.insert(user_id)?
    {
        return Ok(());
    }
    print(fetcher, ledger, user_id)
}

/// Reads one user's methods and prints them, or counts them as unknown when the server
/// refuses them (403) or does not know the user (404).
fn print<W: Write>(fetcher: &mut Fetcher, ledger: &mut Ledger<W>, user_id: &str) -> Result<()> {
    let endpoint = Endpoint::AuthMethods { user_id };
    let read = fetcher.fetch(endpoint, &[], |bytes| parse::<wire::AuthMethodTypes>(bytes));
    let methods = match read {
        Ok(methods) => methods,
        Err(err) => {
            let api = ApiError::in_chain(&err);
            let Some(status @ (403 | 404)) = api.and_then(|api| api.status) else {
                return Err(err);
            };
            ledger.skip(Skipped::AuthMethodsUnknown, || {
                format!(
                    "user {user_id}: {endpoint} answered HTTP {status}; no user_auth record, and the summary counts the user in auth_methods_unknown (which is not \"no second factor\")"
                )
            });
            return Ok(());
        }
    };
    ledger.print(&mapping::user_auth(user_id, &methods))?;
    ledger.counts.user_auth += 1;
    Ok(())
}
