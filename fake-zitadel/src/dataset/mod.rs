//! The data the fake serves: organizations with their rows in wire format, and the tokens it accepts.
//!
//! Dataset files (`testdata/demo.json`) hold, per organization, its `org`, `users`, `projects`,
//! `roles` and `userGrants` as ZITADEL serves them, plus its managers (`members`,
//! `projectMembers`) and its projects' grants to other organizations (`projectGrants`). A
//! user grant that names a `projectGrantId` was made by the granted organization through that
//! grant and is listed under it. Loading (`load.rs`) checks what ZITADEL's commands would have
//! refused.

mod load;

use crate::json::{self, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Everything the fake serves: organizations with their rows, and the known tokens.
///
/// Rows are kept as compact wire-format JSON strings plus the few fields the server filters
/// or sorts by, so a page is served by joining strings, even with 100,000s of rows.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// The organizations, in insertion order.
    pub orgs: Vec<Org>,
    /// The personal access tokens the fake accepts.
    pub tokens: Vec<Token>,
    /// Writes made through `FakeZitadel::with_dataset` (or a `Mutate` fault).
    pub writes: u64,
    /// The instance's default organization, whose member-role lists differ (dataset key
    /// `defaultOrg`); none of the dataset's orgs when unset.
    pub default_org: Option<String>,
    /// The instance itself and its managers (dataset key `instance`); without it,
    /// `GET /admin/v1/instances/me` answers a default instance with no managers.
    pub instance: Option<Instance>,
}

/// The instance: its row as `GetMyInstance` serves it, and its managers.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    /// `InstanceDetail` in wire format, compact.
    pub json: String,
    /// The instance's managers (`ListIAMMembers`), in the order they were added: ZITADEL's
    /// default sort is no order, so the fake serves them shuffled unless sorted by user id.
    pub members: Vec<MemberRow>,
}

/// One organization and the rows it owns.
#[derive(Debug, Clone)]
pub struct Org {
    /// The org id, taken from the org JSON.
    pub id: String,
    /// The org as served by `orgs/me` (wire format, compact).
    pub json: String,
    /// The users; the server sorts them by id before serving, like ZITADEL's default order.
    pub users: Vec<UserRow>,
    /// The projects, served in this order (ZITADEL has no ORDER BY for them).
    pub projects: Vec<ProjectRow>,
    /// Role JSON rows per project id, each list served in its order.
    pub roles: BTreeMap<String, Vec<String>>,
    /// The user grants this org owns, served in this order: its own, and those it made
    /// through another org's project grant.
    pub user_grants: Vec<GrantRow>,
    /// The org's managers (`ListOrgMembers`), served in this order.
    pub members: Vec<MemberRow>,
    /// The managers of each project of the org, each list served in its order.
    pub project_members: BTreeMap<String, Vec<MemberRow>>,
    /// The grants of the org's projects to other orgs, served in this order.
    pub project_grants: Vec<ProjectGrantRow>,
    /// The Personal Access Tokens of the org's service users (dataset key `pats`).
    pub pats: Vec<CredentialRow>,
    /// The machine keys of the org's service users (dataset key `machineKeys`).
    pub machine_keys: Vec<CredentialRow>,
    /// The org's own login policy (`LoginPolicy` wire JSON, dataset key `loginPolicy`); `None`
    /// for the instance's default.
    pub login_policy: Option<String>,
    /// The kinds of authentication method of the org's human users
    /// (`AUTHENTICATION_METHOD_TYPE_*`, dataset key `authMethods`: user id to a list); a
    /// user not named has none.
    pub auth_methods: BTreeMap<String, Vec<String>>,
}

/// A Personal Access Token or a machine key, with the fields the lists filter and sort by.
/// Only what ZITADEL's lists send: the token or key itself is not kept (ZITADEL keeps no
/// token at all, and lists no key).
#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub id: String,
    pub user_id: String,
    pub creation_date: String,
    pub change_date: String,
    pub expiration_date: String,
    /// Extra fields served in every row, as a hostile server might add (tests only).
    pub extra: String,
}

/// A user row: the wire JSON and the fields the server sorts by.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    /// `details.creationDate`, for `USER_FIELD_NAME_CREATION_DATE`.
    pub creation_date: String,
    /// `userName`, for `USER_FIELD_NAME_USER_NAME`.
    pub user_name: String,
    pub json: String,
}

/// A project row: the wire JSON and its id.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: String,
    pub json: String,
}

/// A user grant row: the wire JSON and the fields the grant filters compare.
#[derive(Debug, Clone)]
pub struct GrantRow {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    /// The project grant it was made through; empty for a grant of the project's own org.
    pub project_grant_id: String,
    pub json: String,
}

/// A membership (a manager): its own fields in wire format. The user's fields are joined in
/// from the user's row each time it is served, as ZITADEL joins its user tables, so a
/// membership of a removed user is not served at all.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub user_id: String,
    /// The `Member` object up to its roles, unclosed: `{"userId":..,"details":{..},"roles":[..]`.
    pub head: String,
}

/// A project grant: one of the org's projects delegated to another org with some of its role keys.
#[derive(Debug, Clone)]
pub struct ProjectGrantRow {
    pub id: String,
    pub project_id: String,
    pub granted_org_id: String,
    /// `grantedRoleKeys`, which the user grants made through it must stay within.
    pub role_keys: Vec<String>,
    /// The `GrantedProject` as every project grant endpoint serves it (wire format, compact).
    pub json: String,
    /// The grant's managers (`ListProjectGrantMembers`), served in this order.
    pub members: Vec<MemberRow>,
}

/// What a membership is on; it decides which roles the membership may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberLevel {
    Org,
    Project,
    ProjectGrant,
    Instance,
}

/// ZITADEL's built-in manager roles in the order of `InternalAuthZ.RolePermissionMappings` in
/// `cmd/defaults.yaml` (the system-API roles left out); the member-role lists keep this order.
pub const MANAGER_ROLES: &[&str] = &[
    "IAM_OWNER",
    "IAM_OWNER_VIEWER",
    "IAM_ORG_MANAGER",
    "IAM_USER_MANAGER",
    "IAM_ADMIN_IMPERSONATOR",
    "IAM_END_USER_IMPERSONATOR",
    "ORG_OWNER",
    "IAM_LOGIN_CLIENT",
    "ORG_USER_MANAGER",
    "ORG_OWNER_VIEWER",
    "ORG_SETTINGS_MANAGER",
    "ORG_USER_PERMISSION_EDITOR",
    "ORG_PROJECT_PERMISSION_EDITOR",
    "ORG_PROJECT_CREATOR",
    "ORG_ADMIN_IMPERSONATOR",
    "ORG_END_USER_IMPERSONATOR",
    "PROJECT_OWNER",
    "PROJECT_OWNER_VIEWER",
    "SELF_MANAGEMENT_GLOBAL",
    "ORG_USER_SELF_MANAGER",
    "PROJECT_OWNER_GLOBAL",
    "PROJECT_OWNER_VIEWER_GLOBAL",
    "PROJECT_GRANT_OWNER",
    "PROJECT_GRANT_OWNER_VIEWER",
];

/// The role only the instance's default org lists among its org roles.
const SELF_MANAGEMENT_GLOBAL: &str = "SELF_MANAGEMENT_GLOBAL";

impl MemberLevel {
    /// The roles `ListOrgMemberRoles`, `ListProjectMemberRoles` and
    /// `ListProjectGrantMemberRoles` name, by ZITADEL's rules (`internal/query/member_roles.go`):
    /// org roles start with `ORG` (plus `SELF_MANAGEMENT_GLOBAL` in the default org), project
    /// roles with `PROJECT` but not `PROJECT_GRANT` (only the `*_GLOBAL` ones in the default
    /// org), project grant roles with `PROJECT_GRANT`.
    pub fn roles(self, default_org: bool) -> Vec<&'static str> {
        let mut roles: Vec<&'static str> = MANAGER_ROLES
            .iter()
            .copied()
            .filter(|role| match self {
                MemberLevel::Org => role.starts_with("ORG"),
                MemberLevel::Project => {
                    role.starts_with("PROJECT")
                        && !role.starts_with("PROJECT_GRANT")
                        && (!default_org || role.ends_with("GLOBAL"))
                }
                MemberLevel::ProjectGrant => role.starts_with("PROJECT_GRANT"),
                MemberLevel::Instance => role.starts_with("IAM"),
            })
            .collect();
        if self == MemberLevel::Org && default_org {
            roles.push(SELF_MANAGEMENT_GLOBAL);
        }
        roles
    }

    /// Whether a membership of this level may hold `role`. ZITADEL's commands check the
    /// role's prefix against the instance's configured roles; a self-hosted instance may
    /// configure roles of its own, so only the prefix is checked here.
    fn allows(self, role: &str) -> bool {
        match self {
            MemberLevel::Org => role.starts_with("ORG") || role == SELF_MANAGEMENT_GLOBAL,
            MemberLevel::Project => {
                role.starts_with("PROJECT") && !role.starts_with("PROJECT_GRANT")
            }
            MemberLevel::ProjectGrant => role.starts_with("PROJECT_GRANT"),
            MemberLevel::Instance => role.starts_with("IAM"),
        }
    }
}

impl MemberRow {
    /// A membership of `user_id` with its `details` (compact JSON) and roles.
    pub fn new(user_id: &str, details_json: &str, roles: &[&str]) -> MemberRow {
        let mut head = String::with_capacity(64 + details_json.len());
        head.push_str("{\"userId\":");
        json::write_string(&mut head, user_id);
        head.push_str(",\"details\":");
        head.push_str(details_json);
        head.push_str(",\"roles\":");
        write_strings(&mut head, roles);
        MemberRow { user_id: user_id.to_string(), head }
    }
}

/// The fields of a `GrantedProject` (`docs/zitadel-api.md#project-grants`), for rendering it in
/// ZITADEL's field order with its defaults omitted.
pub struct GrantedProject<'a> {
    pub grant_id: &'a str,
    pub granted_org_id: &'a str,
    /// Empty when the granted org's row is missing (a LEFT JOIN in ZITADEL).
    pub granted_org_name: &'a str,
    pub role_keys: &'a [&'a str],
    pub active: bool,
    pub project_id: &'a str,
    pub project_name: &'a str,
    pub project_owner_id: &'a str,
    pub project_owner_name: &'a str,
    /// The grant's `details` object as compact JSON (`resourceOwner` = the project's owner).
    pub details_json: &'a str,
}

impl GrantedProject<'_> {
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256 + self.details_json.len());
        out.push_str("{\"grantId\":");
        json::write_string(&mut out, self.grant_id);
        out.push_str(",\"grantedOrgId\":");
        json::write_string(&mut out, self.granted_org_id);
        if !self.granted_org_name.is_empty() {
            out.push_str(",\"grantedOrgName\":");
            json::write_string(&mut out, self.granted_org_name);
        }
        if !self.role_keys.is_empty() {
            out.push_str(",\"grantedRoleKeys\":");
            write_strings(&mut out, self.role_keys);
        }
        out.push_str(if self.active {
            ",\"state\":\"PROJECT_GRANT_STATE_ACTIVE\""
        } else {
            ",\"state\":\"PROJECT_GRANT_STATE_INACTIVE\""
        });
        out.push_str(",\"projectId\":");
        json::write_string(&mut out, self.project_id);
        if !self.project_name.is_empty() {
            out.push_str(",\"projectName\":");
            json::write_string(&mut out, self.project_name);
        }
        out.push_str(",\"projectOwnerId\":");
        json::write_string(&mut out, self.project_owner_id);
        if !self.project_owner_name.is_empty() {
            out.push_str(",\"projectOwnerName\":");
            json::write_string(&mut out, self.project_owner_name);
        }
        out.push_str(",\"details\":");
        out.push_str(self.details_json);
        out.push('}');
        out
    }
}

/// Writes `["a","b"]`.
fn write_strings(out: &mut String, items: &[&str]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_string(out, item);
    }
    out.push(']');
}

/// A personal access token and what its user may do.
#[derive(Debug, Clone)]
pub struct Token {
    /// The bearer token text.
    pub token: String,
    /// The org of the token's user: the context org when no `x-zitadel-orgid` is sent.
    pub user_org: String,
    /// Whether the user has an instance-level role, which covers every org.
    pub instance_level: bool,
    /// Permission names such as `user.read`, held in the whole org; or, in ZITADEL's form
    /// for a Project Owner's or a Project Grant Owner's, `project.grant.read:<id>`: held only
    /// for that project or project grant.
    pub permissions: Vec<String>,
    /// The id of the token's user (`userId` in a dataset file), which `GET /auth/v1/users/me`
    /// answers; empty for one made up from the token's text.
    pub user_id: String,
}

impl Token {
    /// The id of the token's user: `user_id`, or 18 digits made from the token's text.
    pub fn user_id(&self) -> String {
        if !self.user_id.is_empty() {
            return self.user_id.clone();
        }
        let seed = self.token.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("3{:017}", crate::generate::mix(seed) % 100_000_000_000_000_000)
    }

    /// Whether it holds `permission` at all, in the whole org or for some ids.
    pub fn holds(&self, permission: &str) -> bool {
        self.permissions.iter().any(|held| {
            held == permission
                || held.strip_prefix(permission).is_some_and(|rest| rest.starts_with(':'))
        })
    }

    /// The ids its `permission` is held for, or `None` when it is held in the whole org.
    pub fn scope(&self, permission: &str) -> Option<Vec<&str>> {
        if self.permissions.iter().any(|held| held == permission) {
            return None;
        }
        let ids = self.permissions.iter().filter_map(|held| {
            held.strip_prefix(permission).and_then(|rest| rest.strip_prefix(':'))
        });
        Some(ids.collect())
    }

    /// A token of an Org Owner Viewer of `org`: every permission a sync needs, in that org.
    pub fn org_viewer(token: &str, org: &str) -> Token {
        let permissions = [
            "org.read",
            "org.member.read",
            "user.read",
            "project.read",
            "project.member.read",
            "project.role.read",
            "project.grant.read",
            "project.grant.member.read",
            "user.grant.read",
            "policy.read",
        ];
        Token {
            token: token.to_string(),
            user_org: org.to_string(),
            instance_level: false,
            permissions: permissions.map(String::from).to_vec(),
            user_id: String::new(),
        }
    }
}

impl Dataset {
    /// Returns an empty dataset, to be filled with the `add_*` methods.
    pub fn new() -> Dataset {
        Dataset::default()
    }

    /// Adds an organization from its wire JSON (`{"id":..,"details":..,"state":..,"name":..}`)
    /// and returns its id.
    pub fn add_org(&mut self, org_json: &str) -> Result<String, String> {
        self.add_org_value(&json::parse(org_json)?)
    }

    /// Adds a user (wire JSON, §1.2) to an org.
    pub fn add_user(&mut self, org_id: &str, user_json: &str) -> Result<(), String> {
        self.add_user_value(org_id, &json::parse(user_json)?)
    }

    /// Adds a user row whose fields the caller has already extracted; the JSON is not checked.
    ///
    /// This is the fast path for generated datasets with 100,000s of users.
    pub fn add_user_row(&mut self, org_id: &str, row: UserRow) -> Result<(), String> {
        self.org_mut_or_err(org_id)?.users.push(row);
        Ok(())
    }

    /// Adds a project (wire JSON, §1.3) to an org.
    pub fn add_project(&mut self, org_id: &str, project_json: &str) -> Result<(), String> {
        self.add_project_value(org_id, &json::parse(project_json)?)
    }

    /// Adds a role (wire JSON, §1.4) to a project the org already has.
    pub fn add_role(
        &mut self,
        org_id: &str,
        project_id: &str,
        role_json: &str,
    ) -> Result<(), String> {
        self.add_role_value(org_id, project_id, &json::parse(role_json)?)
    }

    /// Adds a user grant (wire JSON, §1.5) owned by the org.
    pub fn add_user_grant(&mut self, org_id: &str, grant_json: &str) -> Result<(), String> {
        self.add_user_grant_value(org_id, &json::parse(grant_json)?)
    }

    /// Adds a user grant row whose fields the caller has already extracted; the JSON is not checked.
    pub fn add_user_grant_row(&mut self, org_id: &str, row: GrantRow) -> Result<(), String> {
        self.org_mut_or_err(org_id)?.user_grants.push(row);
        Ok(())
    }

    /// Adds a manager of the org itself: `{"userId":..,"details":{..},"roles":[..]}`, the
    /// membership's own fields of a `Member` (`docs/zitadel-api.md#managers`); the user may
    /// belong to any org of the dataset, and its fields are joined in when the row is served.
    pub fn add_org_member(&mut self, org_id: &str, member_json: &str) -> Result<(), String> {
        self.add_org_member_value(org_id, &json::parse(member_json)?)
    }

    /// Adds a manager of one of the org's projects (the membership as for `add_org_member`).
    pub fn add_project_member(
        &mut self,
        org_id: &str,
        project_id: &str,
        member_json: &str,
    ) -> Result<(), String> {
        self.add_project_member_value(org_id, project_id, &json::parse(member_json)?)
    }

    /// Adds a grant of one of the org's projects to another org:
    /// `{"grantId","grantedOrgId","grantedRoleKeys","state","details","members"}`, served as
    /// the `GrantedProject` of `docs/zitadel-api.md#project-grants`, names joined in now.
    pub fn add_project_grant(
        &mut self,
        org_id: &str,
        project_id: &str,
        grant_json: &str,
    ) -> Result<(), String> {
        self.add_project_grant_value(org_id, project_id, &json::parse(grant_json)?)
    }

    /// Adds a Personal Access Token (`{"id","userId","creationDate","changeDate",
    /// "expirationDate"}`, as the v2 list sends it without `organizationId`) of a service
    /// user of the org.
    pub fn add_pat(&mut self, org_id: &str, pat_json: &str) -> Result<(), String> {
        let row = self.credential_row(org_id, &json::parse(pat_json)?)?;
        self.org_mut_or_err(org_id)?.pats.push(row);
        Ok(())
    }

    /// Adds a machine key, as `add_pat` a token.
    pub fn add_machine_key(&mut self, org_id: &str, key_json: &str) -> Result<(), String> {
        let row = self.credential_row(org_id, &json::parse(key_json)?)?;
        self.org_mut_or_err(org_id)?.machine_keys.push(row);
        Ok(())
    }

    /// Sets the instance (`InstanceDetail` wire JSON) and its managers (memberships as for
    /// `add_org_member`, owned by the instance).
    pub fn set_instance(
        &mut self,
        instance_json: &str,
        members_json: &[&str],
    ) -> Result<(), String> {
        let mut entry = format!("{{\"instance\":{instance_json},\"members\":[");
        entry.push_str(&members_json.join(","));
        entry.push_str("]}");
        self.add_instance_value(&json::parse(&entry)?)
    }

    /// Sets the kinds of authentication method of a user of the org
    /// (`AUTHENTICATION_METHOD_TYPE_*`, any text: a test may play a hostile server).
    pub fn set_auth_methods(
        &mut self,
        org_id: &str,
        user_id: &str,
        methods: &[&str],
    ) -> Result<(), String> {
        let org = self.org_mut_or_err(org_id)?;
        if !org.users.iter().any(|user| user.id == user_id) {
            return Err(format!("org {org_id:?} has no user {user_id:?}"));
        }
        org.auth_methods
            .insert(user_id.to_string(), methods.iter().map(|m| m.to_string()).collect());
        Ok(())
    }

    /// Adds a token the fake accepts.
    pub fn add_token(&mut self, token: Token) {
        self.tokens.push(token);
    }

    /// Returns the org with this id.
    pub fn org(&self, org_id: &str) -> Option<&Org> {
        self.orgs.iter().find(|org| org.id == org_id)
    }

    /// Returns the org with this id, for changing its rows.
    pub fn org_mut(&mut self, org_id: &str) -> Option<&mut Org> {
        self.orgs.iter_mut().find(|org| org.id == org_id)
    }

    /// Removes a user from an org; returns whether it was there. Grants are left alone,
    /// as in ZITADEL's projection lag.
    pub fn remove_user(&mut self, org_id: &str, user_id: &str) -> bool {
        let Some(org) = self.org_mut(org_id) else { return false };
        let before = org.users.len();
        org.users.retain(|user| user.id != user_id);
        org.users.len() != before
    }

    /// Removes a user grant from an org; returns whether it was there.
    pub fn remove_user_grant(&mut self, org_id: &str, grant_id: &str) -> bool {
        let Some(org) = self.org_mut(org_id) else { return false };
        let before = org.user_grants.len();
        org.user_grants.retain(|grant| grant.id != grant_id);
        org.user_grants.len() != before
    }

    /// Removes a manager of the org; returns whether it was there.
    pub fn remove_org_member(&mut self, org_id: &str, user_id: &str) -> bool {
        let Some(org) = self.org_mut(org_id) else { return false };
        let before = org.members.len();
        org.members.retain(|member| member.user_id != user_id);
        org.members.len() != before
    }

    /// Removes a project grant of the org and, as ZITADEL's `RemoveProjectGrant` does, every
    /// user grant made through it; returns whether the project grant was there.
    pub fn remove_project_grant(&mut self, org_id: &str, grant_id: &str) -> bool {
        let Some(org) = self.org_mut(org_id) else { return false };
        let before = org.project_grants.len();
        org.project_grants.retain(|grant| grant.id != grant_id);
        if org.project_grants.len() == before {
            return false;
        }
        for org in &mut self.orgs {
            org.user_grants.retain(|grant| grant.project_grant_id != grant_id);
        }
        true
    }

    /// Returns the id of the org whose users include `user_id`.
    pub fn user_org(&self, user_id: &str) -> Option<&str> {
        let org = self.orgs.iter().find(|org| org.users.iter().any(|user| user.id == user_id))?;
        Some(&org.id)
    }

    /// Returns a project grant of any org, and the id of the org that owns its project.
    pub fn project_grant(&self, grant_id: &str) -> Option<(&ProjectGrantRow, &str)> {
        self.orgs.iter().find_map(|org| {
            let grant = org.project_grants.iter().find(|grant| grant.id == grant_id)?;
            Some((grant, org.id.as_str()))
        })
    }
}
