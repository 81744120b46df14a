//! ZITADEL's Management API v1 wire format: the JSON we send and the JSON we read.
//!
//! The gateway omits every field that holds its proto3 default (`false`, `0`, `""`, empty
//! lists, enum value 0), so every field here has a default and a missing key is never an
//! error. 64-bit integers arrive as JSON strings. Strings borrow from the page buffer when
//! they contain no escapes, which keeps a page walk free of per-field allocations.
//!
//! Every list is counted while it is read, so that what a response costs in memory is
//! bounded before it is materialized: a page holds at most the rows asked for, and all its
//! rows' own lists (login names, role keys) at most `MAX_LIST_ITEMS` items together.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The most items that the lists inside one page's rows (login names, role keys) may hold
/// together, and so any one of them: about 1.5 MiB of strings borrowed from the page. Real
/// pages hold a few per row.
pub const MAX_LIST_ITEMS: usize = 1 << 16;

/// The `query` part of every list request: offset paging, always with an explicit limit.
///
/// Servers disagree about a missing or zero `limit` (older ones return every row, v4.20+
/// return 100), so we never rely on a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ListQuery {
    #[serde(serialize_with = "u64_as_string")]
    pub offset: u64,
    pub limit: u32,
    pub asc: bool,
}

/// The body of `POST /management/v1/users/_search`.
///
/// Users are sorted by id; ascending order puts newly created users (higher ids) at the end
/// of the walk instead of shifting every page.
pub fn users_request(query: ListQuery) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        query: ListQuery,
        sorting_column: &'static str,
    }
    let body = Body { query, sorting_column: "USER_FIELD_NAME_UNSPECIFIED" };
    serde_json::to_vec(&body).expect("a request body always serializes")
}

/// The body of `POST /management/v1/projects/_search` and `.../roles/_search`.
pub fn list_request(query: ListQuery) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body {
        query: ListQuery,
    }
    serde_json::to_vec(&Body { query }).expect("a request body always serializes")
}

/// The body of `POST /management/v1/users/grants/_search` for one project.
///
/// `withGrantedQuery` makes ZITADEL include the grants that other organizations made on the
/// project through project grants; without it they are silently left out (its value is
/// ignored, its presence is what counts).
pub fn user_grants_request(query: ListQuery, project_id: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        query: ListQuery,
        queries: (ProjectIdFilter<'a>, WithGrantedFilter),
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ProjectIdFilter<'a> {
        project_id_query: ProjectId<'a>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ProjectId<'a> {
        project_id: &'a str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct WithGrantedFilter {
        with_granted_query: WithGranted,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct WithGranted {
        with_granted: bool,
    }
    let body = Body {
        query,
        queries: (
            ProjectIdFilter { project_id_query: ProjectId { project_id } },
            WithGrantedFilter { with_granted_query: WithGranted { with_granted: true } },
        ),
    };
    serde_json::to_vec(&body).expect("a request body always serializes")
}

/// The body of the three member-role lists, which take no parameters (their HTTP rule has
/// no body, so ZITADEL ignores whatever is sent).
pub const MEMBER_ROLES_REQUEST: &[u8] = b"{}";

/// A list response: `{"details":{...},"result":[...]}`. An empty page has no `result`;
/// every answer has `details` (`None` here when it does not, which no ZITADEL sends).
/// Read it with `Page::reader`, which knows how many rows were asked for.
#[derive(Debug)]
pub struct Page<T> {
    pub details: Option<ListDetails>,
    pub result: Vec<T>,
}

impl<T> Page<T> {
    /// Reads a page of at most `limit` rows. Row `limit + 1` fails the page as soon as it
    /// starts, so a hostile page of a million rows costs no more memory than a full one.
    pub fn reader(limit: u32) -> PageReader<T> {
        PageReader { limit: limit as usize, rows: PhantomData }
    }
}

/// Reads a `Page<T>` of at most `limit` rows (a `DeserializeSeed`).
pub struct PageReader<T> {
    limit: usize,
    rows: PhantomData<T>,
}

/// A row of a list page. Its own lists count toward the page's `MAX_LIST_ITEMS`.
pub trait Row {
    /// Items in the row's lists.
    fn list_items(&self) -> usize {
        0
    }
}

impl<'de, T: Deserialize<'de> + Row> DeserializeSeed<'de> for PageReader<T> {
    type Value = Page<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Page<T>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de> + Row> Visitor<'de> for PageReader<T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "camelCase")]
        enum Field {
            Details,
            Result,
            #[serde(other)]
            Other,
        }
        let (mut details, mut result) = (None, None);
        while let Some(field) = map.next_key()? {
            match field {
                Field::Details if details.is_some() => {
                    return Err(de::Error::duplicate_field("details"));
                }
                Field::Details => details = Some(map.next_value()?),
                Field::Result if result.is_some() => {
                    return Err(de::Error::duplicate_field("result"));
                }
                Field::Result => {
                    let rows = Rows { limit: self.limit, rows: PhantomData };
                    result = Some(map.next_value_seed(rows)?);
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Page { details, result: result.unwrap_or_default() })
    }
}

/// The `result` array of a page: at most `limit` rows.
struct Rows<T> {
    limit: usize,
    rows: PhantomData<T>,
}

impl<'de, T: Deserialize<'de> + Row> DeserializeSeed<'de> for Rows<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de> + Row> Visitor<'de> for Rows<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut rows = Vec::new();
        let mut list_items = 0;
        loop {
            if rows.len() == self.limit {
                // One more row is one too many; skipping it costs nothing.
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom(format_args!(
                        "more rows than the {} asked for",
                        self.limit
                    )));
                }
                return Ok(rows);
            }
            let Some(row) = seq.next_element::<T>()? else {
                return Ok(rows);
            };
            // Each list was bounded while the row was read (`strings`); together they are
            // bounded here, so that a thousand rows cannot hold a thousand such lists.
            list_items += row.list_items();
            if list_items > MAX_LIST_ITEMS {
                return Err(too_many_list_items());
            }
            rows.push(row);
        }
    }
}

fn too_many_list_items<E: de::Error>() -> E {
    E::custom(format_args!(
        "more than {MAX_LIST_ITEMS} login names or role keys in one page, far more than ZITADEL holds"
    ))
}

/// A list of strings inside a row, each borrowed from the page unless it has escapes (serde
/// would copy every one), at most `MAX_LIST_ITEMS` long.
fn strings<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Cow<'a, str>>, D::Error> {
    struct Strings;
    impl<'de> Visitor<'de> for Strings {
        type Value = Vec<Cow<'de, str>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of strings")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut strings = Vec::new();
            while let Some(Text(text)) = seq.next_element()? {
                if strings.len() == MAX_LIST_ITEMS {
                    return Err(too_many_list_items());
                }
                strings.push(text);
            }
            Ok(strings)
        }
    }
    deserializer.deserialize_seq(Strings)
}

/// The longest string a field may hold. ZITADEL's own fields are at most a few hundred
/// characters (names 200, an avatar URL a little more); a longer one is a hostile server's,
/// and refusing it before it is copied keeps a page's memory at its body's size.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

fn check_length<E: de::Error>(text: &str) -> Result<(), E> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(E::custom(format_args!(
            "a string of {} bytes, longer than any ZITADEL field ({MAX_TEXT_BYTES} at most)",
            text.len()
        )));
    }
    Ok(())
}

/// A string field, borrowed from the page unless it has escapes, at most `MAX_TEXT_BYTES`.
fn text<'de: 'a, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'a, str>, D::Error> {
    Text::deserialize(deserializer).map(|text| text.0)
}

/// A string borrowed from the input where possible (what `#[serde(borrow)]` does for a
/// `Cow<str>` field, but not for one inside a list), at most `MAX_TEXT_BYTES` long.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'de>, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                check_length(text)?;
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                check_length(text)?;
                Ok(Text(Cow::Owned(text.to_string())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// `ListDetails`; `totalResult` is omitted on an empty page (it is 0 there).
/// `processedSequence` is the last event the list's projection has processed: while it
/// stays the same, the list has not changed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDetails {
    #[serde(default, deserialize_with = "u64_from_string_or_number")]
    pub total_result: u64,
    #[serde(default, deserialize_with = "u64_from_string_or_number")]
    pub processed_sequence: u64,
}

/// The body of `GET /management/v1/orgs/me`.
#[derive(Debug, Deserialize)]
pub struct OrgResponse<'a> {
    #[serde(borrow)]
    pub org: Org<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Org<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub primary_domain: Cow<'a, str>,
}

impl Org<'_> {
    /// The organization, no longer borrowing from the answer it was read from.
    pub fn into_owned(self) -> Org<'static> {
        Org {
            id: Cow::Owned(self.id.into_owned()),
            details: ObjectDetails {
                creation_date: Cow::Owned(self.details.creation_date.into_owned()),
                resource_owner: Cow::Owned(self.details.resource_owner.into_owned()),
            },
            name: Cow::Owned(self.name.into_owned()),
            state: Cow::Owned(self.state.into_owned()),
            primary_domain: Cow::Owned(self.primary_domain.into_owned()),
        }
    }
}

/// Per-object `details` (`ObjectDetails`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectDetails<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub creation_date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub resource_owner: Cow<'a, str>,
}

/// A user as `ListUsers` returns it: the type is whichever of `human` or `machine` is set.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "strings")]
    pub login_names: Vec<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "text")]
    pub preferred_login_name: Cow<'a, str>,
    #[serde(borrow)]
    pub human: Option<Human<'a>>,
    #[serde(borrow)]
    pub machine: Option<Machine<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Human<'a> {
    #[serde(borrow)]
    pub profile: Profile<'a>,
    #[serde(borrow)]
    pub email: Email<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Profile<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub first_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub last_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Email<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub email: Cow<'a, str>,
    pub is_email_verified: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Machine<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub description: Cow<'a, str>,
}

/// The body of `GET /management/v1/projects/{id}`.
#[derive(Debug, Deserialize)]
pub struct ProjectResponse<'a> {
    #[serde(borrow)]
    pub project: Project<'a>,
}

/// A project of the organization (`ListProjects`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Project<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow, deserialize_with = "text")]
    pub name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
}

/// A project role (`ListProjectRoles`); it does not carry its project's id.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Role<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub key: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub group: Cow<'a, str>,
}

/// A user grant (`ListUserGrants`). `orgId` is the org that owns the grant; the user's own
/// org is `grantedOrgId`, despite the name.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserGrant<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub id: Cow<'a, str>,
    /// `resourceOwner` is the organization that made the grant: another one for a grant made
    /// through a project grant.
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow, deserialize_with = "strings")]
    pub role_keys: Vec<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub first_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub last_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub email: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub project_id: Cow<'a, str>,
    /// Set when the grant was made through a project grant (by the granted organization).
    #[serde(borrow, deserialize_with = "text")]
    pub project_grant_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub preferred_login_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_type: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub granted_org_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub granted_org_name: Cow<'a, str>,
}

/// A manager (`zitadel.member.v1.Member`) of the organization, a project or a project grant.
/// Managers may be users of any organization; `userResourceOwner` names it, but only servers
/// after zitadel#9168 send it. Machine users have no email or names, and their machine name
/// as `displayName`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Member<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub user_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "strings")]
    pub roles: Vec<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "text")]
    pub preferred_login_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub email: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub first_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub last_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub display_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_type: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub user_resource_owner: Cow<'a, str>,
}

/// The answer of a member-role list: the manager roles that exist at that level. No
/// `details`, no paging.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MemberRoles<'a> {
    #[serde(borrow, deserialize_with = "strings")]
    pub result: Vec<Cow<'a, str>>,
}

/// A project grant (`zitadel.project.v1.GrantedProject`): a project delegated to another
/// organization with some of its role keys.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectGrant<'a> {
    #[serde(borrow, deserialize_with = "text")]
    pub grant_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub granted_org_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub granted_org_name: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "strings")]
    pub granted_role_keys: Vec<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "text")]
    pub state: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub project_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "text")]
    pub project_name: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
}

impl Row for User<'_> {
    fn list_items(&self) -> usize {
        self.login_names.len()
    }
}

impl Row for UserGrant<'_> {
    fn list_items(&self) -> usize {
        self.role_keys.len()
    }
}

impl Row for Project<'_> {}

impl Row for Role<'_> {}

/// Rows that are only counted, never read.
impl Row for IgnoredAny {}

impl Row for Member<'_> {
    fn list_items(&self) -> usize {
        self.roles.len()
    }
}

impl Row for ProjectGrant<'_> {
    fn list_items(&self) -> usize {
        self.granted_role_keys.len()
    }
}

/// An error body (`google.rpc.Status`): `{"code":16,"message":"... (AUTH-7fs1e)",
/// "details":[{"id":"AUTH-7fs1e","message":"..."}]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    pub code: i64,
    pub message: String,
    /// The first non-empty `details[].id`; the details are read one at a time and dropped.
    #[serde(rename = "details", deserialize_with = "first_error_id")]
    error_id: String,
}

impl Status {
    /// ZITADEL's own error id (`AUTH-7fs1e`), if the body carries one.
    pub fn error_id(&self) -> Option<&str> {
        Some(self.error_id.as_str()).filter(|id| !id.is_empty())
    }
}

fn first_error_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct ErrorDetail {
        id: String,
    }
    struct FirstId;
    impl<'de> Visitor<'de> for FirstId {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of error details")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
            let mut first = String::new();
            while let Some(detail) = seq.next_element::<ErrorDetail>()? {
                if first.is_empty() {
                    first = detail.id;
                }
            }
            Ok(first)
        }
    }
    deserializer.deserialize_seq(FirstId)
}

fn u64_as_string<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Reads a uint64 the way protojson writes it (a string), or as a plain number. Anything
/// else fails at once, without buffering it as serde's untagged enums would.
fn u64_from_string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct Uint64;
    impl Visitor<'_> for Uint64 {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a uint64 string or number")
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<u64, E> {
            Ok(n)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
            // Quoted whole or not at all: a cut here, before the message is redacted, could
            // leave a piece of the PAT behind; and a short quote is all a reader needs.
            text.parse().map_err(|_| match text.chars().count() {
                ..=64 => E::custom(format_args!("expected a uint64 string, got {text:?}")),
                n => E::custom(format_args!("expected a uint64 string, got {n} characters")),
            })
        }
    }
    deserializer.deserialize_any(Uint64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `json` as a page of at most `limit` rows, as the sync does.
    fn page<'a, T: Deserialize<'a> + Row>(
        json: &'a str,
        limit: u32,
    ) -> serde_json::Result<Page<T>> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let page = Page::reader(limit).deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(page)
    }

    #[test]
    fn request_bodies_always_carry_an_explicit_limit() {
        let query = ListQuery { offset: 2000, limit: 1000, asc: true };
        assert_eq!(
            String::from_utf8(users_request(query)).unwrap(),
            r#"{"query":{"offset":"2000","limit":1000,"asc":true},"sortingColumn":"USER_FIELD_NAME_UNSPECIFIED"}"#
        );
        assert_eq!(
            String::from_utf8(list_request(query)).unwrap(),
            r#"{"query":{"offset":"2000","limit":1000,"asc":true}}"#
        );
        assert_eq!(
            String::from_utf8(user_grants_request(query, "123")).unwrap(),
            r#"{"query":{"offset":"2000","limit":1000,"asc":true},"queries":[{"projectIdQuery":{"projectId":"123"}},{"withGrantedQuery":{"withGranted":true}}]}"#
        );
    }

    #[test]
    fn empty_page_has_no_result_and_no_total() -> serde_json::Result<()> {
        let page: Page<User> = page(
            r#"{"details":{"processedSequence":"9","viewTimestamp":"2025-01-01T00:00:00Z"}}"#,
            1000,
        )?;
        assert_eq!(page.details.map(|details| details.total_result), Some(0));
        assert!(page.result.is_empty());
        Ok(())
    }

    #[test]
    fn total_result_is_read_from_a_string_or_a_number() -> serde_json::Result<()> {
        let read = |json| page::<Role>(json, 10).map(|page| page.details.map(|d| d.total_result));
        assert_eq!(read(r#"{"details":{"totalResult":"42"}}"#)?, Some(42));
        assert_eq!(read(r#"{"details":{"totalResult":7}}"#)?, Some(7));
        let error = read(r#"{"details":{"totalResult":"x"}}"#).unwrap_err().to_string();
        assert!(error.starts_with(r#"expected a uint64 string, got "x""#), "{error}");
        // Long text is not quoted, and other types fail without being read whole.
        let long = format!(r#"{{"details":{{"totalResult":"{}"}}}}"#, "7".repeat(100));
        let error = read(&long).unwrap_err().to_string();
        assert!(error.starts_with("expected a uint64 string, got 100 characters"), "{error}");
        let error = read(r#"{"details":{"totalResult":[{},{}]}}"#).unwrap_err().to_string();
        assert!(error.starts_with("invalid type: sequence, expected a uint64"), "{error}");
        Ok(())
    }

    #[test]
    fn a_page_holds_at_most_the_rows_asked_for() -> serde_json::Result<()> {
        let two =
            r#"{"details":{"totalResult":"3"},"result":[{"key":"a"},{"key":"b"}],"extra":[1]}"#;
        let roles: Page<Role> = page(two, 2)?;
        assert_eq!(roles.result.iter().map(|r| &*r.key).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(roles.details.map(|d| d.total_result), Some(3));
        for limit in [0, 1] {
            let error = page::<Role>(two, limit).unwrap_err();
            assert!(
                error.to_string().starts_with(&format!("more rows than the {limit} asked for")),
                "{error}"
            );
            assert!(error.is_data(), "not worth another attempt: {error}");
        }
        // A million empty rows fail at the second one.
        let million = format!(r#"{{"result":[{}{{}}]}}"#, "{},".repeat(999_999));
        assert!(page::<User>(&million, 1).unwrap_err().to_string().contains("more rows"));
        Ok(())
    }

    #[test]
    fn a_page_is_one_object_with_each_field_once() {
        for json in [
            r#"{"result":[],"result":[]}"#,
            r#"{"details":{},"details":{}}"#,
            r#"{"result":null}"#,
            r#"[]"#,
            r#"{"result":{}}"#,
        ] {
            assert!(page::<Role>(json, 10).is_err(), "{json}");
        }
    }

    #[test]
    fn lists_inside_rows_are_borrowed_and_bounded() -> serde_json::Result<()> {
        let grant: UserGrant = serde_json::from_str(r#"{"roleKeys":["plain","esc\"aped"]}"#)?;
        assert!(matches!(grant.role_keys[0], Cow::Borrowed("plain")));
        assert_eq!(grant.role_keys[1], "esc\"aped");
        let keys = |n: usize| format!("[{}\"\"]", "\"\",".repeat(n - 1));
        let grant = |n| format!(r#"{{"id":"1","roleKeys":{}}}"#, keys(n));
        // One grant with too many role keys, and a page whose grants have too many together.
        let full = format!(r#"{{"result":[{}]}}"#, grant(MAX_LIST_ITEMS));
        assert_eq!(page::<UserGrant>(&full, 1)?.result[0].role_keys.len(), MAX_LIST_ITEMS);
        let over = format!(r#"{{"result":[{}]}}"#, grant(MAX_LIST_ITEMS + 1));
        let half = grant(MAX_LIST_ITEMS / 2 + 1);
        let over_together = format!(r#"{{"result":[{half},{half}]}}"#);
        let users = format!(r#"{{"result":[{{"loginNames":{}}}]}}"#, keys(MAX_LIST_ITEMS + 1));
        for error in [
            page::<UserGrant>(&over, 1).unwrap_err(),
            page::<UserGrant>(&over_together, 2).unwrap_err(),
            page::<User>(&users, 1).unwrap_err(),
        ] {
            assert!(error.to_string().contains("login names or role keys in one page"), "{error}");
        }
        Ok(())
    }

    #[test]
    fn escaped_strings_are_decoded() -> serde_json::Result<()> {
        let role: Role = serde_json::from_str(r#"{"key":"a\"b","displayName":"Zo\u00eb"}"#)?;
        assert_eq!(role.key, "a\"b");
        assert_eq!(role.display_name, "Zoë");
        Ok(())
    }

    #[test]
    fn error_body_gives_zitadel_error_id() -> serde_json::Result<()> {
        let status: Status = serde_json::from_str(
            r#"{"code":16,"message":"Errors.Token.Invalid (AUTH-7fs1e)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"AUTH-7fs1e","message":"Errors.Token.Invalid"}]}"#,
        )?;
        assert_eq!(status.error_id(), Some("AUTH-7fs1e"));
        let plain: Status = serde_json::from_str(r#"{"code":16,"message":"auth header missing"}"#)?;
        assert_eq!(plain.error_id(), None);
        let later: Status =
            serde_json::from_str(r#"{"details":[{},{"id":""},{"id":"QUERY-4M0fs"},{"id":"X"}]}"#)?;
        assert_eq!(later.error_id(), Some("QUERY-4M0fs"));
        Ok(())
    }
}
