//! The data the fake serves: organizations with their rows in wire format, and the tokens it accepts.
//!
//! Dataset files (`testdata/demo.json`) hold, per organization, its `org`, `users`, `projects`,
//! `roles` and `userGrants` as ZITADEL serves them, plus its managers (`members`,
//! `projectMembers`) and its projects' grants to other organizations (`projectGrants`). A
//! user grant that names a `projectGrantId` was made by the granted organization through that
//! grant and is listed under it. Loading checks what ZITADEL's commands would have refused.

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

/// The fields of a `GrantedProject` (`zitadel-access-api.md` §4.1), for rendering it in
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
    /// Permission names such as `user.read`.
    pub permissions: Vec<String>,
}

impl Token {
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
        ];
        Token {
            token: token.to_string(),
            user_org: org.to_string(),
            instance_level: false,
            permissions: permissions.map(String::from).to_vec(),
        }
    }
}

impl Dataset {
    /// Returns an empty dataset, to be filled with the `add_*` methods.
    pub fn new() -> Dataset {
        Dataset::default()
    }

    /// Reads and parses a dataset file (format: `testdata/demo.json`).
    pub fn load(path: impl AsRef<Path>) -> Result<Dataset, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Dataset::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a dataset file.
    pub fn parse(text: &str) -> Result<Dataset, String> {
        let root = json::parse(text)?;
        let mut dataset = Dataset::new();
        let entries = array_member(&root, "orgs")?;
        // Rows that others refer to come first, in three passes: the orgs with their users,
        // projects and roles; then the managers and project grants, which name users and orgs
        // anywhere in the file; then the user grants, some made through those project grants.
        let mut org_ids = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let at = |e: String| format!("orgs[{i}]: {e}");
            let org = entry.get("org").ok_or_else(|| at("missing \"org\"".into()))?;
            let org_id = dataset.add_org_value(org).map_err(at)?;
            for (j, user) in array_member(entry, "users").map_err(at)?.iter().enumerate() {
                dataset
                    .add_user_value(&org_id, user)
                    .map_err(|e| at(format!("users[{j}]: {e}")))?;
            }
            for (j, project) in array_member(entry, "projects").map_err(at)?.iter().enumerate() {
                dataset
                    .add_project_value(&org_id, project)
                    .map_err(|e| at(format!("projects[{j}]: {e}")))?;
            }
            for (project_id, roles) in per_project(entry, "roles").map_err(at)? {
                for (j, role) in roles.iter().enumerate() {
                    dataset
                        .add_role_value(&org_id, project_id, role)
                        .map_err(|e| at(format!("roles.{project_id}[{j}]: {e}")))?;
                }
            }
            org_ids.push(org_id);
        }
        for (i, (entry, org_id)) in entries.iter().zip(&org_ids).enumerate() {
            let at = |e: String| format!("orgs[{i}]: {e}");
            for (j, member) in array_member(entry, "members").map_err(at)?.iter().enumerate() {
                dataset
                    .add_org_member_value(org_id, member)
                    .map_err(|e| at(format!("members[{j}]: {e}")))?;
            }
            for (project_id, members) in per_project(entry, "projectMembers").map_err(at)? {
                for (j, member) in members.iter().enumerate() {
                    dataset
                        .add_project_member_value(org_id, project_id, member)
                        .map_err(|e| at(format!("projectMembers.{project_id}[{j}]: {e}")))?;
                }
            }
            for (project_id, grants) in per_project(entry, "projectGrants").map_err(at)? {
                for (j, grant) in grants.iter().enumerate() {
                    dataset
                        .add_project_grant_value(org_id, project_id, grant)
                        .map_err(|e| at(format!("projectGrants.{project_id}[{j}]: {e}")))?;
                }
            }
        }
        for (i, (entry, org_id)) in entries.iter().zip(&org_ids).enumerate() {
            let at = |e: String| format!("orgs[{i}]: {e}");
            for (j, grant) in array_member(entry, "userGrants").map_err(at)?.iter().enumerate() {
                dataset
                    .add_user_grant_value(org_id, grant)
                    .map_err(|e| at(format!("userGrants[{j}]: {e}")))?;
            }
        }
        match root.get("defaultOrg") {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) if dataset.org(id).is_some() => {
                dataset.default_org = Some(id.clone());
            }
            Some(other) => return Err(format!("defaultOrg: unknown org {}", other.to_json())),
        }
        for (i, token) in array_member(&root, "tokens")?.iter().enumerate() {
            let token = token_from_value(token).map_err(|e| format!("tokens[{i}]: {e}"))?;
            dataset.add_token(token);
        }
        Ok(dataset)
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
    /// membership's own fields of a `Member` (`zitadel-access-api.md` §1); the user may belong
    /// to any org of the dataset, and its fields are joined in when the row is served.
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
    /// the `GrantedProject` of `zitadel-access-api.md` §4.1 with the names joined in now.
    pub fn add_project_grant(
        &mut self,
        org_id: &str,
        project_id: &str,
        grant_json: &str,
    ) -> Result<(), String> {
        self.add_project_grant_value(org_id, project_id, &json::parse(grant_json)?)
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

    fn org_mut_or_err(&mut self, org_id: &str) -> Result<&mut Org, String> {
        self.org_mut(org_id).ok_or_else(|| format!("unknown org {org_id:?}"))
    }

    fn add_org_value(&mut self, org: &Value) -> Result<String, String> {
        let id = required_str(org, "id")?.to_string();
        if self.org(&id).is_some() {
            return Err(format!("duplicate org {id:?}"));
        }
        self.orgs.push(Org {
            id: id.clone(),
            json: org.to_json(),
            users: Vec::new(),
            projects: Vec::new(),
            roles: BTreeMap::new(),
            user_grants: Vec::new(),
            members: Vec::new(),
            project_members: BTreeMap::new(),
            project_grants: Vec::new(),
        });
        Ok(id)
    }

    fn add_user_value(&mut self, org_id: &str, user: &Value) -> Result<(), String> {
        check_resource_owner(user, org_id)?;
        let details = user.get("details");
        let row = UserRow {
            id: required_str(user, "id")?.to_string(),
            creation_date: details
                .and_then(|d| d.get("creationDate"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            user_name: user.get("userName").and_then(Value::as_str).unwrap_or_default().to_string(),
            json: user.to_json(),
        };
        self.add_user_row(org_id, row)
    }

    fn add_project_value(&mut self, org_id: &str, project: &Value) -> Result<(), String> {
        check_resource_owner(project, org_id)?;
        let row =
            ProjectRow { id: required_str(project, "id")?.to_string(), json: project.to_json() };
        self.org_mut_or_err(org_id)?.projects.push(row);
        Ok(())
    }

    fn add_role_value(
        &mut self,
        org_id: &str,
        project_id: &str,
        role: &Value,
    ) -> Result<(), String> {
        check_resource_owner(role, org_id)?;
        required_str(role, "key")?;
        let org = self.org_mut_or_err(org_id)?;
        if !org.projects.iter().any(|project| project.id == project_id) {
            return Err(format!("org {org_id:?} has no project {project_id:?}"));
        }
        org.roles.entry(project_id.to_string()).or_default().push(role.to_json());
        Ok(())
    }

    fn add_user_grant_value(&mut self, org_id: &str, grant: &Value) -> Result<(), String> {
        check_resource_owner(grant, org_id)?;
        let row = GrantRow {
            id: required_str(grant, "id")?.to_string(),
            project_id: required_str(grant, "projectId")?.to_string(),
            user_id: required_str(grant, "userId")?.to_string(),
            project_grant_id: match grant.get("projectGrantId") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(id)) => id.clone(),
                Some(_) => return Err("\"projectGrantId\" must be a string".into()),
            },
            json: grant.to_json(),
        };
        if !row.project_grant_id.is_empty() {
            self.check_made_through_grant(org_id, &row, grant)?;
        }
        self.add_user_grant_row(org_id, row)
    }

    /// Checks a user grant made through a project grant the way ZITADEL's `AddUserGrant`
    /// does: the grant is the granting org's, on the grant's project, for an existing user,
    /// with role keys the project grant delegates.
    fn check_made_through_grant(
        &self,
        org_id: &str,
        row: &GrantRow,
        grant: &Value,
    ) -> Result<(), String> {
        let id = &row.project_grant_id;
        let Some((project_grant, _)) = self.project_grant(id) else {
            return Err(format!("unknown project grant {id:?}"));
        };
        if project_grant.granted_org_id != org_id {
            return Err(format!(
                "project grant {id:?} is granted to org {:?}, not to {org_id:?}, so this org cannot grant through it",
                project_grant.granted_org_id
            ));
        }
        if project_grant.project_id != row.project_id {
            return Err(format!(
                "project grant {id:?} is of project {:?}, not {:?}",
                project_grant.project_id, row.project_id
            ));
        }
        if self.user_org(&row.user_id).is_none() {
            return Err(format!("unknown user {:?}", row.user_id));
        }
        for key in array_member(grant, "roleKeys")? {
            let key = key.as_str().ok_or("roleKeys must be strings")?;
            if !project_grant.role_keys.iter().any(|k| k == key) {
                return Err(format!("role key {key:?} is not delegated by project grant {id:?}"));
            }
        }
        Ok(())
    }

    fn add_org_member_value(&mut self, org_id: &str, member: &Value) -> Result<(), String> {
        let row = self.member_row(member, MemberLevel::Org, org_id)?;
        push_member(&mut self.org_mut_or_err(org_id)?.members, row)
    }

    fn add_project_member_value(
        &mut self,
        org_id: &str,
        project_id: &str,
        member: &Value,
    ) -> Result<(), String> {
        let row = self.member_row(member, MemberLevel::Project, org_id)?;
        let org = self.org_mut_or_err(org_id)?;
        if !org.projects.iter().any(|project| project.id == project_id) {
            return Err(format!("org {org_id:?} has no project {project_id:?}"));
        }
        push_member(org.project_members.entry(project_id.to_string()).or_default(), row)
    }

    fn add_project_grant_value(
        &mut self,
        org_id: &str,
        project_id: &str,
        grant: &Value,
    ) -> Result<(), String> {
        const KEYS: &[&str] =
            &["grantId", "grantedOrgId", "grantedRoleKeys", "state", "details", "members"];
        check_keys(grant, KEYS)?;
        let id = required_str(grant, "grantId")?;
        let granted_org_id = required_str(grant, "grantedOrgId")?;
        let active = match required_str(grant, "state")? {
            "PROJECT_GRANT_STATE_ACTIVE" => true,
            "PROJECT_GRANT_STATE_INACTIVE" => false,
            other => return Err(format!("unknown state {other:?}")),
        };
        let mut role_keys: Vec<&str> = Vec::new();
        for key in array_member(grant, "grantedRoleKeys")? {
            match key.as_str() {
                Some(key) if !key.is_empty() && !role_keys.contains(&key) => role_keys.push(key),
                _ => return Err(format!("bad or repeated role key {}", key.to_json())),
            }
        }
        let details = match grant.get("details") {
            Some(details @ Value::Object(_)) => details,
            _ => return Err("missing object \"details\"".into()),
        };
        check_resource_owner(grant, org_id)?;
        if self.project_grant(id).is_some() {
            return Err(format!("duplicate project grant {id:?}"));
        }
        let owner = self.org(org_id).ok_or_else(|| format!("unknown org {org_id:?}"))?;
        let project = owner.projects.iter().find(|project| project.id == project_id);
        let project =
            project.ok_or_else(|| format!("org {org_id:?} has no project {project_id:?}"))?;
        let granted_org = self.org(granted_org_id);
        let granted_org = granted_org.ok_or_else(|| format!("unknown org {granted_org_id:?}"))?;
        if granted_org_id == org_id {
            return Err("an org cannot grant its project to itself".into());
        }
        // ZITADEL's unique constraint: one grant per project and granted org.
        if owner
            .project_grants
            .iter()
            .any(|g| g.project_id == project_id && g.granted_org_id == granted_org_id)
        {
            return Err(format!("project {project_id:?} is already granted to {granted_org_id:?}"));
        }
        let mut members = Vec::new();
        for (j, member) in array_member(grant, "members")?.iter().enumerate() {
            let row = self
                .member_row(member, MemberLevel::ProjectGrant, org_id)
                .map_err(|e| format!("members[{j}]: {e}"))?;
            push_member(&mut members, row).map_err(|e| format!("members[{j}]: {e}"))?;
        }
        let json = GrantedProject {
            grant_id: id,
            granted_org_id,
            granted_org_name: &name_of(&granted_org.json),
            role_keys: &role_keys,
            active,
            project_id,
            project_name: &name_of(&project.json),
            project_owner_id: org_id,
            project_owner_name: &name_of(&owner.json),
            details_json: &details.to_json(),
        }
        .to_json();
        let row = ProjectGrantRow {
            id: id.to_string(),
            project_id: project_id.to_string(),
            granted_org_id: granted_org_id.to_string(),
            role_keys: role_keys.iter().map(|key| key.to_string()).collect(),
            json,
            members,
        };
        self.org_mut_or_err(org_id)?.project_grants.push(row);
        Ok(())
    }

    /// Checks a membership of `level` whose row belongs to `owner` (the org, or for projects
    /// and project grants the project's org) and returns its row.
    fn member_row(
        &self,
        member: &Value,
        level: MemberLevel,
        owner: &str,
    ) -> Result<MemberRow, String> {
        check_keys(member, &["userId", "details", "roles"])?;
        let user_id = required_str(member, "userId")?;
        if self.user_org(user_id).is_none() {
            return Err(format!("unknown user {user_id:?}"));
        }
        let details = match member.get("details") {
            Some(details @ Value::Object(_)) => details,
            _ => return Err("missing object \"details\"".into()),
        };
        check_resource_owner(member, owner)?;
        let mut roles: Vec<&str> = Vec::new();
        for role in array_member(member, "roles")? {
            match role.as_str() {
                Some(role) if level.allows(role) && !roles.contains(&role) => roles.push(role),
                _ => return Err(format!("bad or repeated {level:?} role {}", role.to_json())),
            }
        }
        // ZITADEL refuses to add or change a membership to one without roles.
        if roles.is_empty() {
            return Err("a membership needs at least one role".into());
        }
        Ok(MemberRow::new(user_id, &details.to_json(), &roles))
    }
}

/// Adds a membership to a list unless the user is already a member there, which ZITADEL refuses.
fn push_member(list: &mut Vec<MemberRow>, row: MemberRow) -> Result<(), String> {
    if list.iter().any(|member| member.user_id == row.user_id) {
        return Err(format!("user {:?} is already a member", row.user_id));
    }
    list.push(row);
    Ok(())
}

/// Returns the `name` of an org or project row, or "" without one.
fn name_of(row_json: &str) -> String {
    let row = json::parse(row_json).unwrap_or(Value::Null);
    row.get("name").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Rejects members other than `allowed`, so a misspelt key in a dataset is not silently lost.
fn check_keys(value: &Value, allowed: &[&str]) -> Result<(), String> {
    let Value::Object(members) = value else { return Err("expected an object".into()) };
    match members.iter().find(|(key, _)| !allowed.contains(&key.as_str())) {
        Some((key, _)) => Err(format!("unexpected {key:?} (expected one of {allowed:?})")),
        None => Ok(()),
    }
}

/// Returns the per-project lists of an org entry (`roles`, `projectMembers`,
/// `projectGrants`): an object from project id to an array; missing or null is empty.
fn per_project<'a>(entry: &'a Value, key: &str) -> Result<Vec<(&'a str, &'a [Value])>, String> {
    let projects = match entry.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(projects)) => projects,
        Some(_) => return Err(format!("{key:?} must be an object")),
    };
    let mut lists = Vec::with_capacity(projects.len());
    for (project_id, rows) in projects {
        let rows =
            rows.as_array().ok_or_else(|| format!("{key}.{project_id}: expected an array"))?;
        lists.push((project_id.as_str(), rows));
    }
    Ok(lists)
}

fn token_from_value(value: &Value) -> Result<Token, String> {
    let instance_level = match value.get("instanceLevel") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("\"instanceLevel\" must be a bool".into()),
    };
    let mut permissions = Vec::new();
    for permission in array_member(value, "permissions")? {
        let permission = permission.as_str().ok_or("permissions must be strings")?;
        permissions.push(permission.to_string());
    }
    Ok(Token {
        token: required_str(value, "token")?.to_string(),
        user_org: required_str(value, "userOrg")?.to_string(),
        instance_level,
        permissions,
    })
}

/// Returns the array member `key` of an object; a missing or null member is an empty array.
fn array_member<'a>(value: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key:?} must be an array")),
    }
}

fn required_str<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    match value.get(key).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(format!("missing string {key:?}")),
    }
}

/// Rejects rows whose `details.resourceOwner` names another org, a likely dataset mistake.
fn check_resource_owner(row: &Value, org_id: &str) -> Result<(), String> {
    let owner = row.get("details").and_then(|d| d.get("resourceOwner")).and_then(Value::as_str);
    match owner {
        Some(owner) if owner != org_id => Err(format!(
            "details.resourceOwner is {owner:?}, but the row is listed under org {org_id:?}"
        )),
        _ => Ok(()),
    }
}
