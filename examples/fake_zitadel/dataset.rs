//! The data the fake serves: organizations with their rows in wire format, and the tokens it accepts.

use super::json::{self, Value};
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
    /// The user grants this org owns, served in this order.
    pub user_grants: Vec<GrantRow>,
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
    pub json: String,
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
        let permissions =
            ["org.read", "user.read", "project.read", "project.role.read", "user.grant.read"];
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
        for (i, entry) in array_member(&root, "orgs")?.iter().enumerate() {
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
            match entry.get("roles") {
                None | Some(Value::Null) => {}
                Some(Value::Object(projects)) => {
                    for (project_id, roles) in projects {
                        let roles = roles
                            .as_array()
                            .ok_or_else(|| at(format!("roles.{project_id}: expected an array")))?;
                        for (j, role) in roles.iter().enumerate() {
                            dataset
                                .add_role_value(&org_id, project_id, role)
                                .map_err(|e| at(format!("roles.{project_id}[{j}]: {e}")))?;
                        }
                    }
                }
                Some(_) => return Err(at("\"roles\" must be an object".into())),
            }
            for (j, grant) in array_member(entry, "userGrants").map_err(at)?.iter().enumerate() {
                dataset
                    .add_user_grant_value(&org_id, grant)
                    .map_err(|e| at(format!("userGrants[{j}]: {e}")))?;
            }
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
            json: grant.to_json(),
        };
        self.add_user_grant_row(org_id, row)
    }
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
