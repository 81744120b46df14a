//! Who the sync runs as: the token's own user, read once with `GET /auth/v1/users/me`,
//! for the summary's `synced_by`.
//!
//! The call needs no role (`authenticated`), so a ZITADEL that answers the lists answers it
//! too. When it is refused all the same (a 4xx, 501, or an answer without a user id; a
//! proxy that lets only the Management API through, say), the records are as good as
//! ever: the sync goes on, says so once at info level, and the summary's `omitted` names
//! `synced_by` and why. A network or server failure ends the sync, as on any other call.

use anyhow::Result;

use super::fetcher::Fetcher;
use super::parse::parse;
use crate::log;
use crate::record::Omitted;
use crate::wire;
use crate::zitadel::{ApiError, Endpoint};

/// The token's own user id; `None`, with the reason in `omitted`, when ZITADEL refused to
/// say.
pub fn synced_by(fetcher: &mut Fetcher, omitted: &mut Omitted) -> Result<Option<String>> {
    let endpoint = Endpoint::Me;
    let found = fetcher.fetch(endpoint, &[], |bytes| {
        let id = parse::<wire::MyUserResponse>(bytes)?.user.id;
        Ok((!id.is_empty()).then(|| id.into_owned()))
    });
    let reason = match found {
        Ok(Some(id)) => return Ok(Some(id)),
        Ok(None) => format!("{endpoint} answered without a user id"),
        Err(err) => {
            let api = ApiError::in_chain(&err);
            match api.and_then(|api| api.status).filter(|&status| refused(status)) {
                Some(status) => format!("{endpoint} was refused ({status})"),
                None => return Err(err),
            }
        }
    };
    log::info(&format!(
        "the token's own user is not known: {reason}; the records are complete, and the summary names synced_by as omitted"
    ));
    omitted.synced_by = Some(reason);
    Ok(None)
}

/// Whether an answer's status refuses the call for good: a client error other than 429
/// (which is retried), or 501 (no such API). Other failures end the sync.
fn refused(status: u16) -> bool {
    matches!(status, 400..=499 if status != 429) || status == 501
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_and_unimplemented_refuse_the_call() {
        for status in [400, 401, 403, 404, 405, 501] {
            assert!(refused(status), "{status}");
        }
        for status in [200, 429, 500, 502, 503, 504] {
            assert!(!refused(status), "{status}");
        }
    }
}
