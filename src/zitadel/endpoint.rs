//! The catalog of the API calls a sync makes (Management API, the Admin API for the
//! instance, the user service v2 for credentials, the Auth API for the token's own user):
//! for each its method, its path, the permission it needs, and the setting that syncs
//! without it.

use std::borrow::Cow;
use std::fmt;

use crate::settings::{self, Setting};

/// The API calls a sync makes.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint<'a> {
    OrgsMe,
    Users,
    Projects,
    /// One project, by id: how `--project-id` values are checked.
    Project {
        project_id: &'a str,
    },
    ProjectRoles {
        project_id: &'a str,
    },
    UserGrants,
    OrgMembers,
    OrgMemberRoles,
    ProjectMembers {
        project_id: &'a str,
    },
    ProjectMemberRoles,
    ProjectGrants {
        project_id: &'a str,
    },
    /// The project grants of every project of the organization, in one list.
    AllProjectGrants,
    ProjectGrantMembers {
        project_id: &'a str,
        grant_id: &'a str,
    },
    ProjectGrantMemberRoles,
    /// `GET /admin/v1/instances/me`: the instance itself.
    Instance,
    InstanceMemberRoles,
    InstanceMembers,
    /// The organization's Personal Access Tokens (user service v2).
    Pats,
    /// The organization's machine keys (user service v2).
    MachineKeys,
    /// One user's Personal Access Tokens (v1), on a server without `Pats`.
    UserPats {
        user_id: &'a str,
    },
    /// One user's machine keys (v1), on a server without `MachineKeys`.
    UserKeys {
        user_id: &'a str,
    },
    /// The organization's login policy.
    LoginPolicy,
    /// The kinds of authentication method of one user (user service v2).
    AuthMethods {
        user_id: &'a str,
    },
    /// `GET /auth/v1/users/me`: the token's own user (Auth API), for the summary.
    Me,
}

/// One row of the catalog. `path` may hold `{project_id}` and `{grant_id}`, which are
/// replaced by the endpoint's ids, each encoded as one path segment.
struct Entry {
    method: &'static str,
    path: &'static str,
    permission: &'static str,
    skipped_by: Option<Skip>,
}

/// What syncs without a call: a switch, or the resource types that leave its list out.
#[derive(Clone, Copy)]
enum Skip {
    Switch(&'static Setting),
    WithoutProjectGrants,
    WithoutCredentials,
    /// `--auth-methods none`.
    WithoutAuthMethods,
}

const SKIP_GRANTS: Option<Skip> = Some(Skip::Switch(&settings::SKIP_GRANTS));
const SKIP_MANAGERS: Option<Skip> = Some(Skip::Switch(&settings::SKIP_MANAGERS));
const WITHOUT_PROJECT_GRANTS: Option<Skip> = Some(Skip::WithoutProjectGrants);
const WITHOUT_CREDENTIALS: Option<Skip> = Some(Skip::WithoutCredentials);
const WITHOUT_AUTH_METHODS: Option<Skip> = Some(Skip::WithoutAuthMethods);

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Switch(setting) => write!(f, "{setting}"),
            Skip::WithoutProjectGrants => {
                let types = &settings::RESOURCE_TYPES;
                let var = types.var.unwrap_or_default();
                write!(f, "{} user,project,org ({var}), without project_grant", types.flag)
            }
            Skip::WithoutCredentials => {
                let types = &settings::RESOURCE_TYPES;
                let var = types.var.unwrap_or_default();
                write!(f, "{} ({var}) without pat and machine_key", types.flag)
            }
            Skip::WithoutAuthMethods => {
                let auth = &settings::AUTH_METHODS;
                write!(f, "{} none ({}=none)", auth.flag, auth.var.unwrap_or_default())
            }
        }
    }
}

impl Endpoint<'_> {
    fn entry(&self) -> Entry {
        let entry =
            |method, path, permission, skipped_by| Entry { method, path, permission, skipped_by };
        let post = |path, permission, skipped_by| entry("POST", path, permission, skipped_by);
        match self {
            Endpoint::OrgsMe => entry("GET", "/management/v1/orgs/me", "org.read", None),
            Endpoint::Users => post("/management/v1/users/_search", "user.read", None),
            Endpoint::Projects => post("/management/v1/projects/_search", "project.read", None),
            Endpoint::Project { .. } => {
                entry("GET", "/management/v1/projects/{project_id}", "project.read", None)
            }
            Endpoint::ProjectRoles { .. } => post(
                "/management/v1/projects/{project_id}/roles/_search",
                "project.role.read",
                None,
            ),
            Endpoint::UserGrants => {
                post("/management/v1/users/grants/_search", "user.grant.read", SKIP_GRANTS)
            }
            Endpoint::OrgMembers => {
                post("/management/v1/orgs/me/members/_search", "org.member.read", SKIP_MANAGERS)
            }
            Endpoint::OrgMemberRoles => {
                post("/management/v1/orgs/members/roles/_search", "org.member.read", SKIP_MANAGERS)
            }
            Endpoint::ProjectMembers { .. } => post(
                "/management/v1/projects/{project_id}/members/_search",
                "project.member.read",
                SKIP_MANAGERS,
            ),
            Endpoint::ProjectMemberRoles => post(
                "/management/v1/projects/members/roles/_search",
                "project.member.read",
                SKIP_MANAGERS,
            ),
            Endpoint::ProjectGrants { .. } => post(
                "/management/v1/projects/{project_id}/grants/_search",
                "project.grant.read",
                WITHOUT_PROJECT_GRANTS,
            ),
            Endpoint::AllProjectGrants => post(
                "/management/v1/projectgrants/_search",
                "project.grant.read",
                WITHOUT_PROJECT_GRANTS,
            ),
            Endpoint::ProjectGrantMembers { .. } => post(
                "/management/v1/projects/{project_id}/grants/{grant_id}/members/_search",
                "project.grant.member.read",
                SKIP_MANAGERS,
            ),
            Endpoint::ProjectGrantMemberRoles => post(
                "/management/v1/projects/grants/members/roles/_search",
                "project.grant.member.read",
                SKIP_MANAGERS,
            ),
            Endpoint::Instance => entry("GET", "/admin/v1/instances/me", "iam.read", SKIP_MANAGERS),
            Endpoint::InstanceMemberRoles => {
                post("/admin/v1/members/roles/_search", "iam.member.read", SKIP_MANAGERS)
            }
            Endpoint::InstanceMembers => {
                post("/admin/v1/members/_search", "iam.member.read", SKIP_MANAGERS)
            }
            Endpoint::Pats => post("/v2/users/pats/search", "user.read", WITHOUT_CREDENTIALS),
            Endpoint::MachineKeys => {
                post("/v2/users/keys/search", "user.read", WITHOUT_CREDENTIALS)
            }
            Endpoint::UserPats { .. } => post(
                "/management/v1/users/{user_id}/pats/_search",
                "user.read",
                WITHOUT_CREDENTIALS,
            ),
            Endpoint::UserKeys { .. } => post(
                "/management/v1/users/{user_id}/keys/_search",
                "user.read",
                WITHOUT_CREDENTIALS,
            ),
            Endpoint::LoginPolicy | Endpoint::AuthMethods { .. } => self.sign_in_entry(),
            Endpoint::Me => entry("GET", "/auth/v1/users/me", "authenticated", None),
        }
    }

    /// How users sign in: the login policy and one user's authentication methods.
    fn sign_in_entry(&self) -> Entry {
        let (path, permission) = match self {
            Endpoint::LoginPolicy => ("/management/v1/policies/login", "policy.read"),
            _ => ("/v2/users/{user_id}/authentication_methods", "user.read"),
        };
        Entry { method: "GET", path, permission, skipped_by: WITHOUT_AUTH_METHODS }
    }

    /// The built-in role that has the call's permission, as a 403 advises it: the instance's
    /// calls need an instance role, every other one an organization role.
    pub fn role(&self) -> &'static str {
        match self {
            Endpoint::Instance | Endpoint::InstanceMemberRoles | Endpoint::InstanceMembers => {
                "the Iam Owner Viewer role (IAM_OWNER_VIEWER) on the instance"
            }
            _ => "the Org Owner Viewer role (ORG_OWNER_VIEWER) on the organization",
        }
    }

    pub fn method(&self) -> &'static str {
        self.entry().method
    }

    pub fn path(&self) -> Cow<'static, str> {
        let path = self.entry().path;
        if let Endpoint::UserPats { user_id }
        | Endpoint::UserKeys { user_id }
        | Endpoint::AuthMethods { user_id } = *self
        {
            return path.replace("{user_id}", &path_segment(user_id)).into();
        }
        let (project_id, grant_id) = match *self {
            Endpoint::Project { project_id }
            | Endpoint::ProjectRoles { project_id }
            | Endpoint::ProjectMembers { project_id }
            | Endpoint::ProjectGrants { project_id } => (project_id, None),
            Endpoint::ProjectGrantMembers { project_id, grant_id } => (project_id, Some(grant_id)),
            _ => return Cow::Borrowed(path),
        };
        let path = path.replace("{project_id}", &path_segment(project_id));
        match grant_id {
            Some(grant_id) => path.replace("{grant_id}", &path_segment(grant_id)).into(),
            None => path.into(),
        }
    }

    /// The ZITADEL permission the call needs.
    pub fn permission(&self) -> &'static str {
        self.entry().permission
    }

    /// The setting that syncs without this call, when there is one: what a user lacking its
    /// permission can do instead of asking for it.
    pub fn skipped_by(&self) -> Option<String> {
        self.entry().skipped_by.map(|skip| skip.to_string())
    }
}

impl fmt::Display for Endpoint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.path())
    }
}

/// Percent-encodes an id for use as one URL path segment.
fn path_segment(text: &str) -> Cow<'_, str> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if text.bytes().all(safe) {
        return Cow::Borrowed(text);
    }
    let mut encoded = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if safe(b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    // As messages spell them.
    const SKIP_GRANTS: Option<&str> = Some("--skip-grants (BATON_SKIP_GRANTS)");
    const SKIP_MANAGERS: Option<&str> = Some("--skip-managers (BATON_SKIP_MANAGERS)");
    const WITHOUT_PROJECT_GRANTS: Option<&str> = Some(
        "--resource-types user,project,org (BATON_SYNC_RESOURCE_TYPES), without project_grant",
    );

    #[test]
    fn project_ids_are_encoded_as_one_path_segment() {
        assert_eq!(
            Endpoint::ProjectRoles { project_id: "284905129371435012" }.path(),
            "/management/v1/projects/284905129371435012/roles/_search"
        );
        assert_eq!(
            Endpoint::ProjectRoles { project_id: "../x?y" }.path(),
            "/management/v1/projects/..%2Fx%3Fy/roles/_search"
        );
        assert_eq!(
            Endpoint::ProjectGrantMembers { project_id: "{grant_id}", grant_id: "g/1" }.path(),
            "/management/v1/projects/%7Bgrant_id%7D/grants/g%2F1/members/_search"
        );
    }

    #[test]
    fn the_catalog() {
        let check = |endpoint: Endpoint, expected: &str, skipped_by: Option<&str>| {
            let shown = format!("{endpoint} needs {}", endpoint.permission());
            assert_eq!(shown, expected);
            assert_eq!(endpoint.skipped_by().as_deref(), skipped_by, "{endpoint}");
        };
        let (project_id, grant_id) = ("1", "2");
        check(Endpoint::OrgsMe, "GET /management/v1/orgs/me needs org.read", None);
        check(Endpoint::Users, "POST /management/v1/users/_search needs user.read", None);
        check(Endpoint::Projects, "POST /management/v1/projects/_search needs project.read", None);
        check(
            Endpoint::Project { project_id },
            "GET /management/v1/projects/1 needs project.read",
            None,
        );
        check(
            Endpoint::ProjectRoles { project_id },
            "POST /management/v1/projects/1/roles/_search needs project.role.read",
            None,
        );
        check(
            Endpoint::UserGrants,
            "POST /management/v1/users/grants/_search needs user.grant.read",
            SKIP_GRANTS,
        );
        check(
            Endpoint::OrgMembers,
            "POST /management/v1/orgs/me/members/_search needs org.member.read",
            SKIP_MANAGERS,
        );
        check(
            Endpoint::OrgMemberRoles,
            "POST /management/v1/orgs/members/roles/_search needs org.member.read",
            SKIP_MANAGERS,
        );
        check(
            Endpoint::ProjectMembers { project_id },
            "POST /management/v1/projects/1/members/_search needs project.member.read",
            SKIP_MANAGERS,
        );
        check(
            Endpoint::ProjectMemberRoles,
            "POST /management/v1/projects/members/roles/_search needs project.member.read",
            SKIP_MANAGERS,
        );
        check(
            Endpoint::ProjectGrants { project_id },
            "POST /management/v1/projects/1/grants/_search needs project.grant.read",
            WITHOUT_PROJECT_GRANTS,
        );
        check(
            Endpoint::AllProjectGrants,
            "POST /management/v1/projectgrants/_search needs project.grant.read",
            WITHOUT_PROJECT_GRANTS,
        );
        check(
            Endpoint::ProjectGrantMembers { project_id, grant_id },
            "POST /management/v1/projects/1/grants/2/members/_search needs project.grant.member.read",
            SKIP_MANAGERS,
        );
        check(
            Endpoint::ProjectGrantMemberRoles,
            "POST /management/v1/projects/grants/members/roles/_search needs project.grant.member.read",
            SKIP_MANAGERS,
        );
    }

    #[test]
    fn the_catalog_of_the_instance_and_of_credentials() {
        let check = |endpoint: Endpoint, expected: &str, skipped_by: Option<&str>| {
            let shown = format!("{endpoint} needs {}", endpoint.permission());
            assert_eq!(shown, expected);
            assert_eq!(endpoint.skipped_by().as_deref(), skipped_by, "{endpoint}");
        };
        check(Endpoint::Instance, "GET /admin/v1/instances/me needs iam.read", SKIP_MANAGERS);
        check(Endpoint::Me, "GET /auth/v1/users/me needs authenticated", None);
        let without =
            Some("--resource-types (BATON_SYNC_RESOURCE_TYPES) without pat and machine_key");
        check(Endpoint::Pats, "POST /v2/users/pats/search needs user.read", without);
        check(Endpoint::MachineKeys, "POST /v2/users/keys/search needs user.read", without);
        check(
            Endpoint::UserPats { user_id: "7/7" },
            "POST /management/v1/users/7%2F7/pats/_search needs user.read",
            without,
        );
        check(
            Endpoint::UserKeys { user_id: "7" },
            "POST /management/v1/users/7/keys/_search needs user.read",
            without,
        );
        check(
            Endpoint::InstanceMemberRoles,
            "POST /admin/v1/members/roles/_search needs iam.member.read",
            SKIP_MANAGERS,
        );
        check(
            Endpoint::InstanceMembers,
            "POST /admin/v1/members/_search needs iam.member.read",
            SKIP_MANAGERS,
        );
        let none = Some("--auth-methods none (BATON_AUTH_METHODS=none)");
        check(Endpoint::LoginPolicy, "GET /management/v1/policies/login needs policy.read", none);
        check(
            Endpoint::AuthMethods { user_id: "7/../8" },
            "GET /v2/users/7%2F..%2F8/authentication_methods needs user.read",
            none,
        );
    }
}
