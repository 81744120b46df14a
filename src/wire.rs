//! ZITADEL's Management API v1 wire format: the JSON we send and the JSON we read.
//!
//! The gateway omits every field that holds its proto3 default (`false`, `0`, `""`, empty
//! lists, enum value 0), so every field here has a default and a missing key is never an
//! error. 64-bit integers arrive as JSON strings. Strings borrow from the page buffer when
//! they contain no escapes, which keeps a page walk free of per-field allocations.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};

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
pub fn user_grants_request(query: ListQuery, project_id: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        query: ListQuery,
        queries: [Filter<'a>; 1],
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Filter<'a> {
        project_id_query: ProjectId<'a>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ProjectId<'a> {
        project_id: &'a str,
    }
    let body = Body { query, queries: [Filter { project_id_query: ProjectId { project_id } }] };
    serde_json::to_vec(&body).expect("a request body always serializes")
}

/// A list response: `{"details":{...},"result":[...]}`. An empty page has no `result`;
/// every answer has `details` (`None` here when it does not, which no ZITADEL sends).
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    #[serde(default)]
    pub details: Option<ListDetails>,
    #[serde(default = "Vec::new")]
    pub result: Vec<T>,
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
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub state: Cow<'a, str>,
    #[serde(borrow)]
    pub primary_domain: Cow<'a, str>,
}

/// Per-object `details` (`ObjectDetails`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectDetails<'a> {
    #[serde(borrow)]
    pub creation_date: Cow<'a, str>,
    #[serde(borrow)]
    pub resource_owner: Cow<'a, str>,
}

/// A user as `ListUsers` returns it: the type is whichever of `human` or `machine` is set.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow)]
    pub state: Cow<'a, str>,
    #[serde(borrow)]
    pub user_name: Cow<'a, str>,
    #[serde(borrow)]
    pub login_names: Vec<Cow<'a, str>>,
    #[serde(borrow)]
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
    #[serde(borrow)]
    pub first_name: Cow<'a, str>,
    #[serde(borrow)]
    pub last_name: Cow<'a, str>,
    #[serde(borrow)]
    pub display_name: Cow<'a, str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Email<'a> {
    #[serde(borrow)]
    pub email: Cow<'a, str>,
    pub is_email_verified: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Machine<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
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
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub details: ObjectDetails<'a>,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub state: Cow<'a, str>,
}

/// A project role (`ListProjectRoles`); it does not carry its project's id.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Role<'a> {
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    #[serde(borrow)]
    pub display_name: Cow<'a, str>,
    #[serde(borrow)]
    pub group: Cow<'a, str>,
}

/// A user grant (`ListUserGrants`). `orgId` is the org that owns the grant; the user's own
/// org is `grantedOrgId`, despite the name.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserGrant<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub role_keys: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    pub state: Cow<'a, str>,
    #[serde(borrow)]
    pub user_id: Cow<'a, str>,
    #[serde(borrow)]
    pub user_name: Cow<'a, str>,
    #[serde(borrow)]
    pub first_name: Cow<'a, str>,
    #[serde(borrow)]
    pub last_name: Cow<'a, str>,
    #[serde(borrow)]
    pub email: Cow<'a, str>,
    #[serde(borrow)]
    pub display_name: Cow<'a, str>,
    #[serde(borrow)]
    pub project_id: Cow<'a, str>,
    #[serde(borrow)]
    pub preferred_login_name: Cow<'a, str>,
    #[serde(borrow)]
    pub user_type: Cow<'a, str>,
    #[serde(borrow)]
    pub granted_org_id: Cow<'a, str>,
    #[serde(borrow)]
    pub granted_org_name: Cow<'a, str>,
}

/// An error body (`google.rpc.Status`): `{"code":16,"message":"... (AUTH-7fs1e)",
/// "details":[{"id":"AUTH-7fs1e","message":"..."}]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    pub code: i64,
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    pub id: String,
}

impl Status {
    /// ZITADEL's own error id (`AUTH-7fs1e`), if the body carries one.
    pub fn error_id(&self) -> Option<&str> {
        self.details.iter().map(|d| d.id.as_str()).find(|id| !id.is_empty())
    }
}

fn u64_as_string<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Reads a uint64 the way protojson writes it (a string), or as a plain number.
fn u64_from_string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<'a> {
        Number(u64),
        #[serde(borrow)]
        Text(Cow<'a, str>),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(text) => text.parse().map_err(|_| {
            serde::de::Error::custom(format_args!("expected a uint64 string, got {text:?}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            r#"{"query":{"offset":"2000","limit":1000,"asc":true},"queries":[{"projectIdQuery":{"projectId":"123"}}]}"#
        );
    }

    #[test]
    fn empty_page_has_no_result_and_no_total() -> serde_json::Result<()> {
        let page: Page<User> = serde_json::from_str(
            r#"{"details":{"processedSequence":"9","viewTimestamp":"2025-01-01T00:00:00Z"}}"#,
        )?;
        assert_eq!(page.details.map(|details| details.total_result), Some(0));
        assert!(page.result.is_empty());
        Ok(())
    }

    #[test]
    fn total_result_is_read_from_a_string_or_a_number() -> serde_json::Result<()> {
        let page: Page<Role> = serde_json::from_str(r#"{"details":{"totalResult":"42"}}"#)?;
        assert_eq!(page.details.map(|details| details.total_result), Some(42));
        let page: Page<Role> = serde_json::from_str(r#"{"details":{"totalResult":7}}"#)?;
        assert_eq!(page.details.map(|details| details.total_result), Some(7));
        assert!(serde_json::from_str::<Page<Role>>(r#"{"details":{"totalResult":"x"}}"#).is_err());
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
        Ok(())
    }
}
