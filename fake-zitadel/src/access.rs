//! Who administers what and which other orgs may hand out roles: the member (manager) lists, their role lists, and project grants.
//!
//! Wire facts from `docs/zitadel-api.md#managers` and `#project-grants`: every list is
//! unordered (served in dataset order), pages like the other v1 lists, and answers an unknown
//! or foreign id with an empty list.

use crate::Options;
use crate::dataset::{Dataset, MemberLevel, MemberRow, ProjectGrantRow};
use crate::json::{self, Value};
use crate::query::{Filter, ListRequest, QueryKind};
use crate::routes::{Index, Page, VIEW_TIMESTAMP, list_body};

/// The endpoints of this file.
pub(super) enum AccessRoute {
    /// `ListOrgMembers`.
    OrgMembers,
    /// `ListOrgMemberRoles`.
    OrgMemberRoles,
    /// `ListProjectMembers`.
    ProjectMembers { project_id: String },
    /// `ListProjectMemberRoles`.
    ProjectMemberRoles,
    /// `ListProjectGrants`: the grants of one project of the context org.
    ProjectGrants { project_id: String },
    /// `ListAllProjectGrants`: the grants of every project of the context org.
    AllProjectGrants,
    /// `ListProjectGrantMembers`.
    ProjectGrantMembers { project_id: String, grant_id: String },
    /// `ListProjectGrantMemberRoles`.
    ProjectGrantMemberRoles,
}

impl AccessRoute {
    /// Finds the endpoint of a path (all of them are POSTs).
    pub(super) fn of(path: &str) -> Option<AccessRoute> {
        let route = match path {
            "/management/v1/orgs/me/members/_search" => AccessRoute::OrgMembers,
            "/management/v1/orgs/members/roles/_search" => AccessRoute::OrgMemberRoles,
            "/management/v1/projectgrants/_search" => AccessRoute::AllProjectGrants,
            // These two also fit the patterns with a project id: grpc-gateway tries the route
            // registered last first, and ZITADEL registers them after `ListProjectRoles`.
            "/management/v1/projects/members/roles/_search" => AccessRoute::ProjectMemberRoles,
            "/management/v1/projects/grants/members/roles/_search" => {
                AccessRoute::ProjectGrantMemberRoles
            }
            _ => {
                let rest = path.strip_prefix("/management/v1/projects/")?;
                let segments: Vec<&str> = rest.split('/').collect();
                if segments.iter().any(|segment| segment.is_empty()) {
                    return None;
                }
                let id = |i: usize| segments[i].to_string();
                match segments.as_slice() {
                    [_, "members", "_search"] => AccessRoute::ProjectMembers { project_id: id(0) },
                    [_, "grants", "_search"] => AccessRoute::ProjectGrants { project_id: id(0) },
                    [_, "grants", _, "members", "_search"] => {
                        AccessRoute::ProjectGrantMembers { project_id: id(0), grant_id: id(2) }
                    }
                    _ => return None,
                }
            }
        };
        Some(route)
    }

    /// The permission the proto's `auth_option` names.
    pub(super) fn permission(&self) -> &'static str {
        match self {
            AccessRoute::OrgMembers | AccessRoute::OrgMemberRoles => "org.member.read",
            AccessRoute::ProjectMembers { .. } | AccessRoute::ProjectMemberRoles => {
                "project.member.read"
            }
            AccessRoute::ProjectGrants { .. } | AccessRoute::AllProjectGrants => {
                "project.grant.read"
            }
            AccessRoute::ProjectGrantMembers { .. } | AccessRoute::ProjectGrantMemberRoles => {
                "project.grant.member.read"
            }
        }
    }

    pub(super) fn template(&self) -> &'static str {
        match self {
            AccessRoute::OrgMembers => "POST /management/v1/orgs/me/members/_search",
            AccessRoute::OrgMemberRoles => "POST /management/v1/orgs/members/roles/_search",
            AccessRoute::ProjectMembers { .. } => {
                "POST /management/v1/projects/{project_id}/members/_search"
            }
            AccessRoute::ProjectMemberRoles => "POST /management/v1/projects/members/roles/_search",
            AccessRoute::ProjectGrants { .. } => {
                "POST /management/v1/projects/{project_id}/grants/_search"
            }
            AccessRoute::AllProjectGrants => "POST /management/v1/projectgrants/_search",
            AccessRoute::ProjectGrantMembers { .. } => {
                "POST /management/v1/projects/{project_id}/grants/{grant_id}/members/_search"
            }
            AccessRoute::ProjectGrantMemberRoles => {
                "POST /management/v1/projects/grants/members/roles/_search"
            }
        }
    }

    /// The kind of `queries` and the request message; `None` for the role lists, whose HTTP
    /// rules have no body, so grpc-gateway never reads one.
    pub(super) fn body(&self) -> Option<(QueryKind, &'static str)> {
        let list = match self {
            AccessRoute::OrgMemberRoles
            | AccessRoute::ProjectMemberRoles
            | AccessRoute::ProjectGrantMemberRoles => return None,
            AccessRoute::OrgMembers => (QueryKind::Member, "ListOrgMembersRequest"),
            AccessRoute::ProjectMembers { .. } => (QueryKind::Member, "ListProjectMembersRequest"),
            AccessRoute::ProjectGrantMembers { .. } => {
                (QueryKind::Member, "ListProjectGrantMembersRequest")
            }
            AccessRoute::ProjectGrants { .. } => {
                (QueryKind::ProjectGrant, "ListProjectGrantsRequest")
            }
            AccessRoute::AllProjectGrants => {
                (QueryKind::AllProjectGrant, "ListAllProjectGrantsRequest")
            }
        };
        Some(list)
    }
}

/// What answering one request needs, once it passed authentication and its checks.
pub(super) struct Context<'a> {
    pub(super) dataset: &'a Dataset,
    pub(super) index: &'a Index,
    /// The position of the context org in `dataset.orgs`.
    pub(super) org: usize,
    pub(super) list: &'a ListRequest,
    pub(super) page: Page,
    /// The `processedSequence` of list answers.
    pub(super) sequence: u64,
    pub(super) options: &'a Options,
    /// The ids the token holds the route's permission for, when not in the whole org.
    pub(super) scope: Option<&'a [String]>,
}

/// Returns the body of the answer.
pub(super) fn answer(route: &AccessRoute, cx: &Context) -> String {
    let org = &cx.dataset.orgs[cx.org];
    let default_org = cx.dataset.default_org.as_deref() == Some(org.id.as_str());
    match route {
        AccessRoute::OrgMembers => members(cx, &org.members, &org.id),
        AccessRoute::ProjectMembers { project_id } => {
            // Only the context org's projects: the rows' resource owner is the project's org.
            let list = org.project_members.get(project_id).map(Vec::as_slice);
            members(cx, list.unwrap_or_default(), &org.id)
        }
        AccessRoute::ProjectGrantMembers { project_id, grant_id } => {
            // Both sides see a grant's managers: the project's org and the granted org.
            let found = cx.dataset.orgs.iter().find_map(|owner| {
                let grant = owner.project_grants.iter().find(|grant| {
                    grant.id == *grant_id
                        && grant.project_id == *project_id
                        && (owner.id == org.id || grant.granted_org_id == org.id)
                })?;
                Some((grant, owner.id.as_str()))
            });
            match found {
                Some((grant, owner)) => members(cx, &grant.members, owner),
                None => members(cx, &[], &org.id),
            }
        }
        AccessRoute::ProjectGrants { project_id } => {
            project_grants(cx, &org.project_grants, |grant| grant.project_id == *project_id)
        }
        AccessRoute::AllProjectGrants => {
            // A permission held for some ids only narrows the list to the grants with those
            // ids (`AppendPermissionQueries`): a Project Owner's project ids match none.
            project_grants(cx, &org.project_grants, |grant| {
                cx.scope.is_none_or(|ids| ids.contains(&grant.id))
            })
        }
        AccessRoute::OrgMemberRoles => roles_body(None, &MemberLevel::Org.roles(default_org)),
        AccessRoute::ProjectMemberRoles => {
            roles_body(None, &MemberLevel::Project.roles(default_org))
        }
        AccessRoute::ProjectGrantMemberRoles => {
            // Unlike the other two, ZITADEL fills in `details` here: the count and the time
            // of the answer (no sequence, so it is omitted).
            let roles = MemberLevel::ProjectGrant.roles(default_org);
            let details = format!(
                "{{\"totalResult\":\"{}\",\"viewTimestamp\":\"{VIEW_TIMESTAMP}\"}}",
                roles.len()
            );
            roles_body(Some(&details), &roles)
        }
    }
}

/// A member-role list: `{"result":[..]}`, with `details` first when given.
fn roles_body(details: Option<&str>, roles: &[&str]) -> String {
    let mut body = String::from("{");
    if let Some(details) = details {
        body.push_str("\"details\":");
        body.push_str(details);
        body.push(',');
    }
    body.push_str("\"result\":[");
    for (i, role) in roles.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        json::write_string(&mut body, role);
    }
    body.push_str("]}");
    body
}

/// A page of project grants, in their order, after the `queries` filters.
fn project_grants(
    cx: &Context,
    grants: &[ProjectGrantRow],
    on_path: impl Fn(&ProjectGrantRow) -> bool,
) -> String {
    let matches = |grant: &&ProjectGrantRow| {
        on_path(grant)
            && cx.list.filters.iter().all(|filter| match filter {
                Filter::ProjectId(id) => grant.project_id == *id,
                Filter::GrantedOrgId(id) => grant.granted_org_id == *id,
                // An exact "array contains", whatever `method` says.
                Filter::RoleKey(key) => grant.role_keys.iter().any(|k| k == key),
                Filter::UserId(_) | Filter::ProjectGrantId(_) | Filter::Ignored => true,
            })
    };
    let rows = grants.iter().filter(matches).map(|grant| grant.json.as_str());
    let (total, rows) = cx.page.apply(rows);
    list_body(total, rows, cx.sequence)
}

/// A page of members whose rows belong to `owner` (`details.resourceOwner`), each joined with
/// its user's row now; a membership whose user is gone is not served, as ZITADEL's projection
/// deletes it with the user.
fn members(cx: &Context, members: &[MemberRow], owner: &str) -> String {
    members_of(cx, members, owner, true)
}

/// `members`, with the avatar URL left out unless `with_avatar` (the instance's member list
/// never sends one).
pub(super) fn members_of(
    cx: &Context,
    members: &[MemberRow],
    owner: &str,
    with_avatar: bool,
) -> String {
    let wanted = |member: &&MemberRow| {
        cx.list.filters.iter().all(|filter| match filter {
            Filter::UserId(id) => member.user_id == *id,
            _ => true,
        })
    };
    let rows: Vec<String> = members
        .iter()
        .filter(wanted)
        .filter_map(|member| {
            let &(org, i) = cx.index.users.get(&member.user_id)?;
            let user_org = &cx.dataset.orgs[org];
            let user = json::parse(&user_org.users[i].json).ok()?;
            let with_owner = !cx.options.omit_member_user_resource_owner;
            let mut row = member_json(member, &user, &user_org.id, owner, with_owner);
            if !with_avatar {
                row = without_avatar(&row);
            }
            Some(row)
        })
        .collect();
    let (total, rows) = cx.page.apply(rows.iter().map(String::as_str));
    list_body(total, rows, cx.sequence)
}

/// The member row without its `avatarUrl`.
fn without_avatar(row: &str) -> String {
    match json::parse(row) {
        Ok(Value::Object(mut fields)) => {
            fields.retain(|(key, _)| key != "avatarUrl");
            Value::Object(fields).to_json()
        }
        _ => row.to_string(),
    }
}

/// A `Member` (`docs/zitadel-api.md#managers`): the membership's fields, then the user's in
/// the proto's order, with empty ones omitted. A machine has no email or names, and its
/// `displayName` is the machine's name. `avatarUrl` names the membership's org rather than
/// the user's, as ZITADEL builds it from the member row's resource owner.
fn member_json(
    member: &MemberRow,
    user: &Value,
    user_org: &str,
    owner: &str,
    with_user_resource_owner: bool,
) -> String {
    let text = |value: Option<&Value>, key: &str| -> String {
        let value = value.and_then(|value| value.get(key)).and_then(Value::as_str);
        value.unwrap_or_default().to_string()
    };
    let human = user.get("human");
    let machine = user.get("machine");
    let profile = human.and_then(|human| human.get("profile"));
    let (display_name, user_type) = match (human, machine) {
        (Some(_), _) => (text(profile, "displayName"), "TYPE_HUMAN"),
        (None, Some(_)) => (text(machine, "name"), "TYPE_MACHINE"),
        (None, None) => (String::new(), ""),
    };
    let avatar_url = text(profile, "avatarUrl").replacen(
        &format!("/assets/v1/{user_org}/"),
        &format!("/assets/v1/{owner}/"),
        1,
    );
    let mut out = member.head.clone();
    let fields = [
        ("preferredLoginName", text(Some(user), "preferredLoginName")),
        ("email", text(human.and_then(|human| human.get("email")), "email")),
        ("firstName", text(profile, "firstName")),
        ("lastName", text(profile, "lastName")),
        ("displayName", display_name),
        ("avatarUrl", avatar_url),
        ("userType", user_type.to_string()),
        (
            "userResourceOwner",
            if with_user_resource_owner { user_org.to_string() } else { String::new() },
        ),
    ];
    for (key, value) in fields {
        if value.is_empty() {
            continue;
        }
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("\":");
        json::write_string(&mut out, &value);
    }
    out.push('}');
    out
}
