//! List request bodies decoded the way protojson would (unknown fields ignored, camelCase and
//! snake_case names, numbers as strings, null as the default), and the queries they hold.

use crate::json::{self, Value};

/// A decoded list request body; everything defaults like protojson's zero values.
#[derive(Default)]
pub(crate) struct ListRequest {
    pub(crate) offset: u64,
    /// 0 when absent.
    pub(crate) limit: u64,
    pub(crate) asc: bool,
    pub(crate) sort: UserSort,
    /// The `sortingColumn` as sent (an enum name), for the lists other than users.
    pub(crate) sorting_column: String,
    pub(crate) filters: Vec<Filter>,
    /// Whether a `withGrantedQuery` was sent (user grants only; its value does not matter).
    pub(crate) with_granted: bool,
    /// The index of the first `queries` element with no filter set (fails validation).
    pub(crate) empty_query: Option<usize>,
}

/// The user orders the fake implements (`sortingColumn`).
#[derive(Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserSort {
    #[default]
    Id,
    UserName,
    CreationDate,
}

/// A list filter (one `queries` element); the ones the fake does not implement match everything.
pub(crate) enum Filter {
    ProjectId(String),
    UserId(String),
    ProjectGrantId(String),
    GrantedOrgId(String),
    RoleKey(String),
    Ignored,
}

/// The kinds of `queries` elements, each a oneof of the proto of 2025-10-02.
#[derive(Clone, Copy)]
pub(crate) enum QueryKind {
    /// Users, projects and roles: filters are accepted but not applied by the fake.
    Unchecked,
    UserGrant,
    /// `zitadel.member.v1.SearchQuery`, for all three member lists.
    Member,
    ProjectGrant,
    AllProjectGrant,
}

impl QueryKind {
    /// The oneof keys, camelCase and snake_case.
    pub(crate) fn keys(self) -> &'static [(&'static str, &'static str)] {
        match self {
            QueryKind::Unchecked => &[],
            QueryKind::UserGrant => USER_GRANT_QUERY_KEYS,
            QueryKind::Member => MEMBER_QUERY_KEYS,
            QueryKind::ProjectGrant => &ALL_PROJECT_GRANT_QUERY_KEYS[..2],
            QueryKind::AllProjectGrant => ALL_PROJECT_GRANT_QUERY_KEYS,
        }
    }

    /// The message that holds the oneof, with and without its package.
    pub(crate) fn message(self) -> (&'static str, &'static str) {
        match self {
            QueryKind::Unchecked | QueryKind::UserGrant => {
                ("zitadel.user.v1.UserGrantQuery", "UserGrantQuery")
            }
            QueryKind::Member => ("zitadel.member.v1.SearchQuery", "SearchQuery"),
            QueryKind::ProjectGrant => {
                ("zitadel.project.v1.ProjectGrantQuery", "ProjectGrantQuery")
            }
            QueryKind::AllProjectGrant => {
                ("zitadel.project.v1.AllProjectGrantQuery", "AllProjectGrantQuery")
            }
        }
    }
}

/// The oneof keys of `zitadel.member.v1.SearchQuery`.
pub(crate) const MEMBER_QUERY_KEYS: &[(&str, &str)] = &[
    ("firstNameQuery", "first_name_query"),
    ("lastNameQuery", "last_name_query"),
    ("emailQuery", "email_query"),
    ("userIdQuery", "user_id_query"),
];

/// The oneof keys of `AllProjectGrantQuery`; `ProjectGrantQuery` has the first two.
pub(crate) const ALL_PROJECT_GRANT_QUERY_KEYS: &[(&str, &str)] = &[
    ("projectNameQuery", "project_name_query"),
    ("roleKeyQuery", "role_key_query"),
    ("projectIdQuery", "project_id_query"),
    ("grantedOrgIdQuery", "granted_org_id_query"),
];

/// The oneof keys of `UserGrantQuery` in the proto of 2025-10-02, camelCase and snake_case.
pub(crate) const USER_GRANT_QUERY_KEYS: &[(&str, &str)] = &[
    ("projectIdQuery", "project_id_query"),
    ("userIdQuery", "user_id_query"),
    ("withGrantedQuery", "with_granted_query"),
    ("roleKeyQuery", "role_key_query"),
    ("projectGrantIdQuery", "project_grant_id_query"),
    ("userNameQuery", "user_name_query"),
    ("firstNameQuery", "first_name_query"),
    ("lastNameQuery", "last_name_query"),
    ("emailQuery", "email_query"),
    ("orgNameQuery", "org_name_query"),
    ("orgDomainQuery", "org_domain_query"),
    ("projectNameQuery", "project_name_query"),
    ("displayNameQuery", "display_name_query"),
    ("userTypeQuery", "user_type_query"),
];

/// Decodes a list request body the way protojson would: unknown fields are ignored, both
/// camelCase and snake_case names are accepted, numbers may be strings, null is the default.
pub(crate) fn decode_list_request(body: &[u8], kind: QueryKind) -> Result<ListRequest, String> {
    let text = std::str::from_utf8(body)
        .map_err(|_| "syntax error (line 1:1): invalid UTF-8".to_string())?;
    let mut list = ListRequest::default();
    if text.trim().is_empty() {
        return Ok(list);
    }
    let root = json::parse(text)?;
    if !matches!(root, Value::Object(_)) {
        return Err(format!("unexpected token {}", root.to_json()));
    }
    match member(&root, "query", "query") {
        None => {}
        Some(query @ Value::Object(_)) => {
            if let Some(offset) = member(query, "offset", "offset") {
                list.offset =
                    uint_of(offset, u64::MAX).ok_or_else(|| invalid("uint64", "offset", offset))?;
            }
            if let Some(limit) = member(query, "limit", "limit") {
                list.limit = uint_of(limit, u32::MAX.into())
                    .ok_or_else(|| invalid("uint32", "limit", limit))?;
            }
            match member(query, "asc", "asc") {
                None => {}
                Some(Value::Bool(asc)) => list.asc = *asc,
                Some(other) => return Err(invalid("bool", "asc", other)),
            }
        }
        Some(other) => return Err(format!("unexpected token {}", other.to_json())),
    }
    match member(&root, "sortingColumn", "sorting_column") {
        None => {}
        // Unknown enum names are dropped (DiscardUnknown), which leaves the id order.
        Some(Value::String(name)) => {
            list.sorting_column = name.clone();
            list.sort = match name.as_str() {
                "USER_FIELD_NAME_USER_NAME" => UserSort::UserName,
                "USER_FIELD_NAME_CREATION_DATE" => UserSort::CreationDate,
                _ => UserSort::Id,
            }
        }
        Some(Value::Number(_)) => {}
        Some(other) => return Err(invalid("enum", "sortingColumn", other)),
    }
    let queries = match member(&root, "queries", "queries") {
        None => &[][..],
        Some(Value::Array(queries)) => queries.as_slice(),
        Some(other) => return Err(format!("unexpected token {}", other.to_json())),
    };
    for (index, query) in queries.iter().enumerate() {
        if !matches!(query, Value::Object(_)) {
            return Err(format!("unexpected token {}", query.to_json()));
        }
        if let QueryKind::Unchecked = kind {
            // Users and projects filters are accepted but not applied by the fake.
            continue;
        }
        let set: Vec<(&str, &Value)> = kind
            .keys()
            .iter()
            .filter_map(|(camel, snake)| member(query, camel, snake).map(|v| (*camel, v)))
            .collect();
        let filter = match set.as_slice() {
            [] => {
                list.empty_query.get_or_insert(index);
                continue;
            }
            [(key, value)] => filter(kind, key, value)?,
            [_, (key, _), ..] => {
                return Err(format!(
                    "error parsing {key:?}, oneof {}.query is already set",
                    kind.message().0
                ));
            }
        };
        if let QueryKind::UserGrant = kind
            && set[0].0 == "withGrantedQuery"
        {
            list.with_granted = true;
        }
        list.filters.push(filter);
    }
    Ok(list)
}

/// Decodes one filter of a `queries` element.
pub(crate) fn filter(kind: QueryKind, key: &str, value: &Value) -> Result<Filter, String> {
    if !matches!(value, Value::Object(_)) {
        return Err(format!("unexpected token {}", value.to_json()));
    }
    let string_field = |camel: &str, snake: &str| match member(value, camel, snake) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(invalid("string", camel, other)),
    };
    Ok(match (kind, key) {
        (QueryKind::UserGrant, "withGrantedQuery") => {
            // Only the presence of the filter counts, but its value must still decode.
            match member(value, "withGranted", "with_granted") {
                None | Some(Value::Bool(_)) => Filter::Ignored,
                Some(other) => return Err(invalid("bool", "withGranted", other)),
            }
        }
        (QueryKind::UserGrant, "projectGrantIdQuery") => {
            Filter::ProjectGrantId(string_field("projectGrantId", "project_grant_id")?)
        }
        (QueryKind::UserGrant | QueryKind::AllProjectGrant, "projectIdQuery") => {
            Filter::ProjectId(string_field("projectId", "project_id")?)
        }
        (QueryKind::UserGrant | QueryKind::Member, "userIdQuery") => {
            Filter::UserId(string_field("userId", "user_id")?)
        }
        (QueryKind::ProjectGrant | QueryKind::AllProjectGrant, "roleKeyQuery") => {
            Filter::RoleKey(string_field("roleKey", "role_key")?)
        }
        (QueryKind::AllProjectGrant, "grantedOrgIdQuery") => {
            Filter::GrantedOrgId(string_field("grantedOrgId", "granted_org_id")?)
        }
        _ => Filter::Ignored,
    })
}

/// Returns a member by its JSON or proto name; null counts as absent, as in protojson.
pub(crate) fn member<'a>(object: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    object.get(camel).or_else(|| object.get(snake)).filter(|v| !matches!(v, Value::Null))
}

/// Reads an unsigned integer given as a JSON number or numeric string, up to `max`.
pub(crate) fn uint_of(value: &Value, max: u64) -> Option<u64> {
    let text = match value {
        Value::Number(text) | Value::String(text) => text,
        _ => return None,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|n| *n <= max)
}

pub(crate) fn invalid(kind: &str, field: &str, value: &Value) -> String {
    format!("invalid value for {kind} field {field}: {}", value.to_json())
}
