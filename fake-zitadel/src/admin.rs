//! The instance (Admin API): the instance itself, its manager roles and its managers.
//!
//! Wire facts from `docs/zitadel-api.md#the-instance-and-its-managers`: `ListIAMMemberRoles` has no body and lists its
//! roles under `roles`, with `details`; `ListIAMMembers` sorts by `sortingColumn`, whose
//! default orders by a column that is the same on every row (no order at all: served
//! shuffled anew on every page here), and its rows name the instance as their resource owner
//! and carry no avatar. Only a token with the instance permissions reads them; an
//! organization's roles give none, so every organization token gets a 403.

use crate::access::{self, Context};
use crate::dataset::{MemberLevel, MemberRow};
use crate::json;
use crate::query::QueryKind;
use crate::routes::{VIEW_TIMESTAMP, shuffle};

/// The instance a dataset without one has: running, with no managers.
const DEFAULT_INSTANCE: &str = r#"{"id":"284904986052325380","details":{"sequence":"1","creationDate":"2024-11-04T15:00:00.000001Z","changeDate":"2024-11-04T15:00:00.000001Z","resourceOwner":"284904986052325380"},"state":"STATE_RUNNING","name":"ZITADEL","version":"v4.2.0"}"#;

/// The endpoints of this file.
pub(super) enum AdminRoute {
    /// `GetMyInstance`.
    Instance,
    /// `ListIAMMemberRoles`.
    MemberRoles,
    /// `ListIAMMembers`.
    Members,
}

impl AdminRoute {
    pub(super) fn of(path: &str) -> Option<AdminRoute> {
        match path {
            "/admin/v1/instances/me" => Some(AdminRoute::Instance),
            "/admin/v1/members/roles/_search" => Some(AdminRoute::MemberRoles),
            "/admin/v1/members/_search" => Some(AdminRoute::Members),
            _ => None,
        }
    }

    pub(super) fn method(&self) -> &'static str {
        match self {
            AdminRoute::Instance => "GET",
            _ => "POST",
        }
    }

    pub(super) fn permission(&self) -> &'static str {
        match self {
            AdminRoute::Instance => "iam.read",
            AdminRoute::MemberRoles | AdminRoute::Members => "iam.member.read",
        }
    }

    pub(super) fn template(&self) -> &'static str {
        match self {
            AdminRoute::Instance => "GET /admin/v1/instances/me",
            AdminRoute::MemberRoles => "POST /admin/v1/members/roles/_search",
            AdminRoute::Members => "POST /admin/v1/members/_search",
        }
    }

    /// Only the member list reads a body; the role list's HTTP rule has none.
    pub(super) fn body(&self) -> Option<(QueryKind, &'static str)> {
        match self {
            AdminRoute::Members => Some((QueryKind::Member, "ListIAMMembersRequest")),
            _ => None,
        }
    }
}

/// Returns the body of the answer.
pub(super) fn answer(route: &AdminRoute, cx: &Context) -> String {
    let instance = cx.dataset.instance.as_ref();
    match route {
        AdminRoute::Instance => {
            let json = instance.map_or(DEFAULT_INSTANCE, |instance| instance.json.as_str());
            format!("{{\"instance\":{json}}}")
        }
        AdminRoute::MemberRoles => {
            let roles = MemberLevel::Instance.roles(false);
            let mut body = format!(
                "{{\"details\":{{\"totalResult\":\"{}\",\"viewTimestamp\":\"{VIEW_TIMESTAMP}\"}},\"roles\":[",
                roles.len()
            );
            for (i, role) in roles.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                json::write_string(&mut body, role);
            }
            body.push_str("]}");
            body
        }
        AdminRoute::Members => {
            let (id, members) = match instance {
                Some(instance) => (instance.id.as_str(), instance.members.as_slice()),
                None => ("284904986052325380", &[][..]),
            };
            let mut rows: Vec<MemberRow> = members.to_vec();
            match cx.list.sorting_column.as_str() {
                "MEMBER_FIELD_NAME_USER_ID" => {
                    rows.sort_by(|a, b| a.user_id.cmp(&b.user_id));
                    if !cx.list.asc {
                        rows.reverse();
                    }
                }
                // `ORDER BY instance_id`: any order, another one for every page.
                _ => shuffle(&mut rows, cx.sequence ^ cx.list.offset.rotate_left(17) ^ 0x1a3),
            }
            let cx = Context { page: cx.page.in_order(), ..*cx };
            access::members_of(&cx, &rows, id, false)
        }
    }
}
