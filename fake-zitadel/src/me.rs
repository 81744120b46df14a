//! The Auth API's `GetMyUser` (`GET /auth/v1/users/me`): the token's own user.
//!
//! Its permission is `authenticated`: any valid token may call it, in any existing
//! organization's context, member or not (`CheckUserAuthorization` returns before the
//! permission check; `VerifyTokenAndCreateCtxData` checks only that the context organization
//! exists). The answer is `{"user":User}`, with `lastLogin` for a user that has logged in
//! (a service user signing in with a PAT never has). A token's user not in the dataset is
//! answered as a service user of the token's organization.

use crate::dataset::{Dataset, Token};
use crate::json;

/// The body of the answer for `token`.
pub(super) fn answer(dataset: &Dataset, token: &Token) -> String {
    let user_id = token.user_id();
    let row = dataset.orgs.iter().flat_map(|org| &org.users).find(|user| user.id == user_id);
    match row {
        Some(user) => format!("{{\"user\":{}}}", user.json),
        None => {
            let mut body = String::from("{\"user\":{\"id\":");
            json::write_string(&mut body, &user_id);
            body.push_str(",\"details\":{\"sequence\":\"2\",\"creationDate\":\"2025-01-02T03:04:05.678Z\",\"changeDate\":\"2025-01-02T03:04:05.678Z\",\"resourceOwner\":");
            json::write_string(&mut body, &token.user_org);
            body.push_str("},\"state\":\"USER_STATE_ACTIVE\",\"userName\":\"sync\",\"machine\":{\"name\":\"sync\"}}}");
            body
        }
    }
}
