//! Service users' credentials: the v2 lists of an instance's Personal Access Tokens and
//! machine keys, and the v1 lists of one user's.
//!
//! Wire facts from `docs/zitadel-api.md#credentials-of-service-users`: the v2 lists need
//! only authentication; they select rows of the whole instance with their filters, page
//! them, and then drop the rows whose user the token may not read, while `totalResult`
//! counts the rows before that drop. Without `organizationIdFilter` an organization's
//! token so gets short pages and a total too large. Their default order is the creation
//! date, descending; `pagination` replaces `details` and has no sequence. The v1 lists
//! read the context organization's rows of the user in the path, in no order. No list
//! sends a token or a key.

use crate::dataset::{CredentialRow, Dataset, Token};
use crate::json::{self, Value};
use crate::query::{invalid, member, uint_of};
use crate::routes::{Page, list_body};
use crate::{Limits, Options};

/// The endpoints of this file.
pub(super) enum CredentialRoute {
    /// `ListPersonalAccessTokens` (user service v2).
    Pats,
    /// `ListKeys` (user service v2).
    Keys,
    /// `ListPersonalAccessTokens` (management v1) of one user.
    UserPats { user_id: String },
    /// `ListMachineKeys` (management v1) of one user.
    UserKeys { user_id: String },
}

impl CredentialRoute {
    pub(super) fn of(path: &str) -> Option<CredentialRoute> {
        match path {
            "/v2/users/pats/search" => return Some(CredentialRoute::Pats),
            "/v2/users/keys/search" => return Some(CredentialRoute::Keys),
            _ => {}
        }
        let rest = path.strip_prefix("/management/v1/users/")?;
        let (user_id, list) = rest.split_once('/')?;
        if user_id.is_empty() || user_id.contains('/') {
            return None;
        }
        let user_id = user_id.to_string();
        match list {
            "pats/_search" => Some(CredentialRoute::UserPats { user_id }),
            "keys/_search" => Some(CredentialRoute::UserKeys { user_id }),
            _ => None,
        }
    }

    /// The v2 lists check only that the caller is authenticated, then each row.
    pub(super) fn permission(&self) -> &'static str {
        match self {
            CredentialRoute::Pats | CredentialRoute::Keys => "",
            _ => "user.read",
        }
    }

    pub(super) fn template(&self) -> &'static str {
        match self {
            CredentialRoute::Pats => "POST /v2/users/pats/search",
            CredentialRoute::Keys => "POST /v2/users/keys/search",
            CredentialRoute::UserPats { .. } => "POST /management/v1/users/{user_id}/pats/_search",
            CredentialRoute::UserKeys { .. } => "POST /management/v1/users/{user_id}/keys/_search",
        }
    }

    /// Whether this is one of the v2 lists, which an older server does not have.
    pub(super) fn is_v2(&self) -> bool {
        matches!(self, CredentialRoute::Pats | CredentialRoute::Keys)
    }
}

/// A v2 list request: `pagination`, `sortingColumn`, `filters`.
struct V2Request {
    offset: u64,
    limit: u64,
    asc: bool,
    by_id: bool,
    org_id: Option<String>,
    user_id: Option<String>,
}

fn decode_v2(body: &[u8]) -> Result<V2Request, String> {
    let text = std::str::from_utf8(body).map_err(|_| "invalid UTF-8".to_string())?;
    let root = if text.trim().is_empty() { Value::Object(Vec::new()) } else { json::parse(text)? };
    let mut request =
        V2Request { offset: 0, limit: 0, asc: false, by_id: false, org_id: None, user_id: None };
    if let Some(pagination) = member(&root, "pagination", "pagination") {
        if let Some(offset) = member(pagination, "offset", "offset") {
            request.offset =
                uint_of(offset, u64::MAX).ok_or_else(|| invalid("uint64", "offset", offset))?;
        }
        if let Some(limit) = member(pagination, "limit", "limit") {
            request.limit =
                uint_of(limit, u32::MAX.into()).ok_or_else(|| invalid("uint32", "limit", limit))?;
        }
        request.asc = matches!(member(pagination, "asc", "asc"), Some(Value::Bool(true)));
    }
    if let Some(Value::String(column)) = member(&root, "sortingColumn", "sorting_column") {
        request.by_id = column.ends_with("_FIELD_NAME_ID");
    }
    let filters = match member(&root, "filters", "filters") {
        Some(Value::Array(filters)) => filters.as_slice(),
        _ => &[],
    };
    for filter in filters {
        let id = |key: &str, snake: &str| {
            let inner = member(filter, key, snake)?;
            inner.get("id").and_then(Value::as_str).map(String::from)
        };
        if let Some(org) = id("organizationIdFilter", "organization_id_filter") {
            request.org_id = Some(org);
        }
        if let Some(user) = id("userIdFilter", "user_id_filter") {
            request.user_id = Some(user);
        }
    }
    Ok(request)
}

/// Answers a v2 list, or the 400 of a limit over the maximum.
pub(super) fn answer_v2(
    route: &CredentialRoute,
    dataset: &Dataset,
    token: &Token,
    body: &[u8],
    options: &Options,
) -> Result<String, (u16, String)> {
    let request = decode_v2(body).map_err(|message| (400, format!("proto: {message}")))?;
    let limit = match options.limits {
        Limits::Unlimited if request.limit == 0 => u64::MAX,
        Limits::Enforced { default, .. } if request.limit == 0 => default,
        Limits::Enforced { max, .. } if request.limit > max => {
            return Err((400, "Limit exceeded (QUERY-4M0fs)".to_string()));
        }
        _ => request.limit,
    };
    let mut rows: Vec<(&str, &CredentialRow)> = dataset
        .orgs
        .iter()
        .flat_map(|org| {
            let list = match route {
                CredentialRoute::Pats => &org.pats,
                _ => &org.machine_keys,
            };
            list.iter().map(move |row| (org.id.as_str(), row))
        })
        .filter(|(org, row)| {
            request.org_id.as_deref().is_none_or(|wanted| wanted == *org)
                && request.user_id.as_deref().is_none_or(|wanted| wanted == row.user_id)
        })
        .collect();
    if request.by_id {
        rows.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    } else {
        rows.sort_by(|a, b| a.1.creation_date.cmp(&b.1.creation_date));
    }
    // Ascending only when asked: the default is descending.
    if !request.asc {
        rows.reverse();
    }
    let total = rows.len();
    let readable = |org: &str| {
        token.permissions.iter().any(|p| p == "user.read")
            && (token.instance_level || token.user_org == org)
    };
    let page: Vec<String> = rows
        .into_iter()
        .skip(usize::try_from(request.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        // The rows the caller may not read are dropped after paging; the total stays.
        .filter(|(org, _)| readable(org))
        .map(|(org, row)| v2_json(row, org))
        .collect();
    let applied = if limit == u64::MAX { 0 } else { limit };
    let mut pagination = String::new();
    if total > 0 {
        pagination.push_str(&format!("\"totalResult\":\"{total}\","));
    }
    pagination.push_str(&format!("\"appliedLimit\":\"{applied}\""));
    let mut out = format!("{{\"pagination\":{{{pagination}}}");
    if !page.is_empty() {
        out.push_str(",\"result\":[");
        out.push_str(&page.join(","));
        out.push(']');
    }
    out.push('}');
    Ok(out)
}

/// A v2 `PersonalAccessToken` or `Key`.
fn v2_json(row: &CredentialRow, org: &str) -> String {
    let mut out = String::from("{\"creationDate\":");
    json::write_string(&mut out, &row.creation_date);
    out.push_str(",\"changeDate\":");
    json::write_string(&mut out, &row.change_date);
    out.push_str(",\"id\":");
    json::write_string(&mut out, &row.id);
    out.push_str(",\"userId\":");
    json::write_string(&mut out, &row.user_id);
    out.push_str(",\"organizationId\":");
    json::write_string(&mut out, org);
    out.push_str(",\"expirationDate\":");
    json::write_string(&mut out, &row.expiration_date);
    out.push_str(&row.extra);
    out.push('}');
    out
}

/// Answers a v1 list of one user's tokens or keys in the context org.
pub(super) fn answer_v1(
    route: &CredentialRoute,
    dataset: &Dataset,
    org_position: usize,
    page: Page,
    sequence: u64,
) -> String {
    let org = &dataset.orgs[org_position];
    let (list, user_id, pats) = match route {
        CredentialRoute::UserPats { user_id } => (&org.pats, user_id, true),
        CredentialRoute::UserKeys { user_id } => (&org.machine_keys, user_id, false),
        _ => unreachable!("only the v1 lists"),
    };
    let rows: Vec<String> = list
        .iter()
        .filter(|row| row.user_id == *user_id)
        .map(|row| v1_json(row, &org.id, pats))
        .collect();
    let (total, rows) = page.apply(rows.iter().map(String::as_str));
    list_body(total, rows, sequence)
}

/// A v1 `PersonalAccessToken` (with the scopes every PAT made through the API has) or
/// `Key`, whose `details.changeDate` is its creation date.
fn v1_json(row: &CredentialRow, org: &str, pat: bool) -> String {
    let change = if pat { &row.change_date } else { &row.creation_date };
    let mut out = String::from("{\"id\":");
    json::write_string(&mut out, &row.id);
    out.push_str(",\"details\":{\"sequence\":\"1\",\"creationDate\":");
    json::write_string(&mut out, &row.creation_date);
    out.push_str(",\"changeDate\":");
    json::write_string(&mut out, change);
    out.push_str(",\"resourceOwner\":");
    json::write_string(&mut out, org);
    out.push('}');
    if !pat {
        out.push_str(",\"type\":\"KEY_TYPE_JSON\"");
    }
    out.push_str(",\"expirationDate\":");
    json::write_string(&mut out, &row.expiration_date);
    if pat {
        out.push_str(",\"scopes\":[\"openid\",\"profile\",\"urn:zitadel:iam:user:metadata\",\"urn:zitadel:iam:user:resourceowner\"]");
    }
    out.push_str(&row.extra);
    out.push('}');
    out
}
