//! The users walk: the organization's own users, each printed once, and the set of users
//! printed, which every later grant's principal is checked against.

use std::io::Write;

use anyhow::Result;

use super::{Sync, judge, parse_page};
use crate::mapping;
use crate::paging;
use crate::wire;
use crate::zitadel::Endpoint;

impl<W: Write> Sync<'_, W> {
    pub(super) fn users(&mut self) -> Result<()> {
        // ListUsers' totalResult counts metadata rows too (zitadel#10825).
        self.walk(Endpoint::Users, paging::USERS, wire::users_request, |this, bytes, walk| {
            let page = parse_page::<wire::User>(bytes, this.config.page_size)?;
            let keys = page.result.iter().map(|user| &*user.id);
            for (user, new) in page.result.iter().zip(judge(walk, &page.details, keys)?) {
                if new {
                    this.out.write(&mapping::user(user, &this.org.id))?;
                    this.counts.user += 1;
                }
            }
            this.show_progress();
            Ok(())
        })
        // Every user the walk used was printed: grants are checked against them.
        .map(|walk| self.printed_users = Some(walk.into_used()))
    }
}
