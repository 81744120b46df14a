//! The bodies we send: offset paging with an explicit limit on every list request.

use serde::Serialize;

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

fn u64_as_string<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// The body of `POST /admin/v1/members/_search` (`ListIAMMembers`), sorted by user id.
///
/// Its default sort column is the instance id, the same on every row: no order at all, so
/// offset pages could repeat and miss rows. Sorted by user id, ascending, managers added
/// while it is read come after the rows read, as with users.
pub fn instance_members_request(query: ListQuery) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        query: ListQuery,
        sorting_column: &'static str,
    }
    let body = Body { query, sorting_column: "MEMBER_FIELD_NAME_USER_ID" };
    serde_json::to_vec(&body).expect("a request body always serializes")
}

/// The body of the v2 lists of an organization's credentials (`POST /v2/users/pats/search`,
/// `POST /v2/users/keys/search`), sorted by id (`sorting_column`) and filtered to `org_id`.
///
/// Without the organization filter ZITADEL drops the rows the token may not read after
/// paging: pages come back short and the total counts rows of the whole instance. Sorted
/// by id, ascending, credentials created during the walk come after the rows read.
pub fn credentials_request(
    query: ListQuery,
    sorting_column: &'static str,
    org_id: &str,
) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        pagination: ListQuery,
        sorting_column: &'static str,
        filters: [OrgFilter<'a>; 1],
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct OrgFilter<'a> {
        organization_id_filter: Id<'a>,
    }
    #[derive(Serialize)]
    struct Id<'a> {
        id: &'a str,
    }
    let filters = [OrgFilter { organization_id_filter: Id { id: org_id } }];
    let body = Body { pagination: query, sorting_column, filters };
    serde_json::to_vec(&body).expect("a request body always serializes")
}
