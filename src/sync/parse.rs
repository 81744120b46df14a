//! Reading a response body: the one place where ZITADEL's answers are parsed, and the
//! reasons one is refused (`Rejected`), which tell the fetcher whether to ask again.

use serde::Deserialize;
use serde::de::DeserializeSeed;

use super::OrgChanged;
use crate::budget::OverBudget;
use crate::paging::{Verdict, Walk, WalkError};
use crate::wire::{self, Page};
use crate::zitadel::ApiError;

/// Why a response body could not be used.
pub enum Rejected {
    /// The body is not what ZITADEL sends: worth another attempt if it looks cut short.
    Malformed(ApiError),
    /// The body is well-formed, but no ZITADEL would send it.
    Invalid(anyhow::Error),
    /// Anything else, such as a failed write or a failure of a nested list, which says
    /// where it happened itself.
    Fatal(anyhow::Error),
}

impl Rejected {
    /// A well-formed answer that no ZITADEL would send, said in `message`.
    pub fn invalid(message: String) -> Rejected {
        Rejected::Invalid(anyhow::anyhow!(message))
    }
}

impl From<anyhow::Error> for Rejected {
    fn from(err: anyhow::Error) -> Rejected {
        // What a row would add past the memory limit is said with the page it came in; a
        // nested list's own failure already says where it happened.
        match err.chain().count() == 1 && err.is::<OverBudget>() {
            true => Rejected::Invalid(err),
            false => Rejected::Fatal(err),
        }
    }
}

impl From<std::io::Error> for Rejected {
    fn from(err: std::io::Error) -> Rejected {
        Rejected::Fatal(err.into())
    }
}

/// Parses a response body that is one object, such as `orgs/me`'s.
pub fn parse<'b, T: Deserialize<'b>>(bytes: &'b [u8]) -> Result<T, Rejected> {
    deserialize(checked_text(bytes)?, std::marker::PhantomData::<T>)
}

/// Parses a list page of at most `limit` rows, the page size asked for: a longer page fails
/// as soon as its extra row starts, before it costs any memory. The rows' own reader
/// (`wire::Shaped`) reads the page if it is sure to read it as serde_json does; serde_json
/// reads it otherwise, and says what is wrong with it.
pub fn parse_page<'b, T: Deserialize<'b> + wire::Row + wire::Shaped<'b>>(
    bytes: &'b [u8],
    limit: u32,
) -> Result<Page<T>, Rejected> {
    let text = checked_text(bytes)?;
    match T::shaped_page(text, limit) {
        Some(page) => Ok(page),
        None => deserialize(text, Page::reader(limit)),
    }
}

/// `parse_page` with serde_json alone, for the tests that hold the two readers together.
#[cfg(test)]
pub fn parse_page_with_serde<'b, T: Deserialize<'b> + wire::Row>(
    bytes: &'b [u8],
    limit: u32,
) -> Result<Page<T>, Rejected> {
    deserialize(checked_text(bytes)?, Page::reader(limit))
}

/// The body as text, if it may be a ZITADEL answer: UTF-8, and no array.
fn checked_text(bytes: &[u8]) -> Result<&str, Rejected> {
    // serde reads a struct from a JSON array too, and an empty array would pass as an
    // empty page: every ZITADEL answer is an object.
    if bytes.trim_ascii_start().starts_with(b"[") {
        let message = "malformed response: a JSON array where ZITADEL sends an object";
        return Err(Rejected::Invalid(anyhow::anyhow!(message)));
    }
    // Checking UTF-8 once for the whole body is cheaper than serde_json checking each
    // string as it goes (`from_slice`); a body cut inside a character fails here.
    std::str::from_utf8(bytes).map_err(|err| {
        let message = format!("malformed response: not UTF-8 ({err})");
        Rejected::Malformed(ApiError::retryable(message))
    })
}

fn deserialize<'b, S: DeserializeSeed<'b>>(text: &'b str, seed: S) -> Result<S::Value, Rejected> {
    let mut json = serde_json::Deserializer::from_str(text);
    seed.deserialize(&mut json)
        .and_then(|value| json.end().map(|()| value))
        .map_err(|err| Rejected::Malformed(ApiError::malformed(&err)))
}

/// The `details` of a list answer. ZITADEL always sends them, with at least the
/// projection's state; an answer without them (`{}`) is no list, so it is not taken for an
/// empty one. A proxy or a restarting server might send it, so it is worth another attempt.
pub fn list_details(details: &Option<wire::ListDetails>) -> Result<&wire::ListDetails, Rejected> {
    details.as_ref().ok_or_else(|| {
        let message = "malformed response: a list answer without details".to_string();
        Rejected::Malformed(ApiError::retryable(message))
    })
}

/// Asks the walk which rows of a page to use; an empty list when the page is to be ignored.
pub fn judge<'k>(
    walk: &mut Walk,
    details: &Option<wire::ListDetails>,
    keys: impl ExactSizeIterator<Item = &'k str>,
) -> Result<Vec<bool>, Rejected> {
    let details = list_details(details)?;
    match walk.judge(details.total_result, details.processed_sequence, keys) {
        Ok(Verdict::Use(flags)) => Ok(flags),
        Ok(Verdict::Ignore) => Ok(Vec::new()),
        Err(err @ WalkError::ChangedTooOften { .. }) => {
            Err(Rejected::Invalid(anyhow::Error::new(OrgChanged).context(err.to_string())))
        }
        Err(err) => Err(Rejected::Invalid(err.into())),
    }
}
