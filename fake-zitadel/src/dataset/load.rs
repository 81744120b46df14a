//! Reading a dataset: the file format (`testdata/demo.json`) and the checks ZITADEL would make
//! of each row, so that a dataset ZITADEL would refuse does not load.

use super::*;

impl Dataset {
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
            for (key, pats) in [("pats", true), ("machineKeys", false)] {
                for (j, row) in array_member(entry, key).map_err(at)?.iter().enumerate() {
                    let row = dataset
                        .credential_row(org_id, row)
                        .map_err(|e| at(format!("{key}[{j}]: {e}")))?;
                    let org = dataset.org_mut_or_err(org_id).map_err(at)?;
                    if pats { org.pats.push(row) } else { org.machine_keys.push(row) }
                }
            }
            dataset.add_sign_in_values(org_id, entry).map_err(at)?;
            for (j, grant) in array_member(entry, "userGrants").map_err(at)?.iter().enumerate() {
                dataset
                    .add_user_grant_value(org_id, grant)
                    .map_err(|e| at(format!("userGrants[{j}]: {e}")))?;
            }
        }
        // The instance's managers name users of any org.
        match root.get("instance") {
            None | Some(Value::Null) => {}
            Some(entry) => {
                dataset.add_instance_value(entry).map_err(|e| format!("instance: {e}"))?
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

    /// An org entry's `loginPolicy` (a `LoginPolicy` object) and `authMethods` (user id to
    /// a list of `AUTHENTICATION_METHOD_TYPE_*`, each a user of the org, human).
    fn add_sign_in_values(&mut self, org_id: &str, entry: &Value) -> Result<(), String> {
        match entry.get("loginPolicy") {
            None | Some(Value::Null) => {}
            Some(policy @ Value::Object(_)) => {
                self.org_mut_or_err(org_id)?.login_policy = Some(policy.to_json());
            }
            Some(_) => return Err("\"loginPolicy\" must be an object".into()),
        }
        let methods = match entry.get("authMethods") {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Object(methods)) => methods,
            Some(_) => return Err("\"authMethods\" must be an object".into()),
        };
        for (user_id, list) in methods {
            let at = |e: String| format!("authMethods.{user_id}: {e}");
            let user = self.org(org_id).and_then(|org| org.users.iter().find(|u| u.id == *user_id));
            if user.is_none_or(|user| user.json.contains("\"machine\":")) {
                return Err(at("not a human user of the org".into()));
            }
            let Value::Array(list) = list else { return Err(at("must be an array".into())) };
            let mut names = Vec::new();
            for method in list {
                match method.as_str() {
                    Some(name) if name.starts_with("AUTHENTICATION_METHOD_TYPE_") => {
                        names.push(name)
                    }
                    _ => return Err(at("each must be an AUTHENTICATION_METHOD_TYPE_*".into())),
                }
            }
            self.set_auth_methods(org_id, user_id, &names)?;
        }
        Ok(())
    }

    pub(super) fn org_mut_or_err(&mut self, org_id: &str) -> Result<&mut Org, String> {
        self.org_mut(org_id).ok_or_else(|| format!("unknown org {org_id:?}"))
    }

    pub(super) fn add_org_value(&mut self, org: &Value) -> Result<String, String> {
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
            pats: Vec::new(),
            machine_keys: Vec::new(),
            login_policy: None,
            auth_methods: BTreeMap::new(),
        });
        Ok(id)
    }

    pub(super) fn add_user_value(&mut self, org_id: &str, user: &Value) -> Result<(), String> {
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

    pub(super) fn add_project_value(
        &mut self,
        org_id: &str,
        project: &Value,
    ) -> Result<(), String> {
        check_resource_owner(project, org_id)?;
        let row =
            ProjectRow { id: required_str(project, "id")?.to_string(), json: project.to_json() };
        self.org_mut_or_err(org_id)?.projects.push(row);
        Ok(())
    }

    pub(super) fn add_role_value(
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

    pub(super) fn add_user_grant_value(
        &mut self,
        org_id: &str,
        grant: &Value,
    ) -> Result<(), String> {
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
    pub(super) fn check_made_through_grant(
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

    /// `{"instance":{InstanceDetail},"members":[membership..]}`; each membership's
    /// `details.resourceOwner` is the instance id, as ZITADEL's instance aggregates have.
    pub(super) fn add_instance_value(&mut self, entry: &Value) -> Result<(), String> {
        check_keys(entry, &["instance", "members"])?;
        let instance = entry.get("instance").ok_or("missing \"instance\"")?;
        let id = required_str(instance, "id")?.to_string();
        let mut members = Vec::new();
        for (j, member) in array_member(entry, "members")?.iter().enumerate() {
            let row = self
                .member_row(member, MemberLevel::Instance, &id)
                .map_err(|e| format!("members[{j}]: {e}"))?;
            push_member(&mut members, row).map_err(|e| format!("members[{j}]: {e}"))?;
        }
        self.instance = Some(Instance { id, json: instance.to_json(), members });
        Ok(())
    }

    /// Checks a token or key row: a service user of the org, an id, a creation and an
    /// expiration date (ZITADEL stores `9999-12-31T23:59:59Z` for "never").
    pub(super) fn credential_row(
        &self,
        org_id: &str,
        row: &Value,
    ) -> Result<CredentialRow, String> {
        check_keys(
            row,
            &["id", "userId", "creationDate", "changeDate", "expirationDate", "extra"],
        )?;
        let user_id = required_str(row, "userId")?;
        let org = self.org(org_id).ok_or_else(|| format!("unknown org {org_id:?}"))?;
        let user = org.users.iter().find(|user| user.id == user_id);
        match user {
            None => return Err(format!("org {org_id:?} has no user {user_id:?}")),
            Some(user) if !user.json.contains("\"machine\":") => {
                return Err(format!("user {user_id:?} is no service user (COMMAND-Df2f1)"));
            }
            Some(_) => {}
        }
        let creation_date = required_str(row, "creationDate")?.to_string();
        let extra = match row.get("extra") {
            None | Some(Value::Null) => String::new(),
            Some(Value::Object(fields)) => {
                fields.iter().map(|(k, v)| format!(",{}:{}", json::quote(k), v.to_json())).collect()
            }
            Some(_) => return Err("\"extra\" must be an object".into()),
        };
        Ok(CredentialRow {
            id: required_str(row, "id")?.to_string(),
            user_id: user_id.to_string(),
            change_date: row
                .get("changeDate")
                .and_then(Value::as_str)
                .unwrap_or(&creation_date)
                .to_string(),
            creation_date,
            expiration_date: required_str(row, "expirationDate")?.to_string(),
            extra,
        })
    }

    pub(super) fn add_org_member_value(
        &mut self,
        org_id: &str,
        member: &Value,
    ) -> Result<(), String> {
        let row = self.member_row(member, MemberLevel::Org, org_id)?;
        push_member(&mut self.org_mut_or_err(org_id)?.members, row)
    }

    pub(super) fn add_project_member_value(
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

    pub(super) fn add_project_grant_value(
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
    pub(super) fn member_row(
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
pub(super) fn push_member(list: &mut Vec<MemberRow>, row: MemberRow) -> Result<(), String> {
    if list.iter().any(|member| member.user_id == row.user_id) {
        return Err(format!("user {:?} is already a member", row.user_id));
    }
    list.push(row);
    Ok(())
}

/// Returns the `name` of an org or project row, or "" without one.
pub(super) fn name_of(row_json: &str) -> String {
    let row = json::parse(row_json).unwrap_or(Value::Null);
    row.get("name").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Rejects members other than `allowed`, so a misspelt key in a dataset is not silently lost.
pub(super) fn check_keys(value: &Value, allowed: &[&str]) -> Result<(), String> {
    let Value::Object(members) = value else { return Err("expected an object".into()) };
    match members.iter().find(|(key, _)| !allowed.contains(&key.as_str())) {
        Some((key, _)) => Err(format!("unexpected {key:?} (expected one of {allowed:?})")),
        None => Ok(()),
    }
}

/// Returns the per-project lists of an org entry (`roles`, `projectMembers`,
/// `projectGrants`): an object from project id to an array; missing or null is empty.
pub(super) fn per_project<'a>(
    entry: &'a Value,
    key: &str,
) -> Result<Vec<(&'a str, &'a [Value])>, String> {
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

pub(super) fn token_from_value(value: &Value) -> Result<Token, String> {
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
        user_id: match value.get("userId") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(id)) => id.clone(),
            Some(_) => return Err("\"userId\" must be a string".into()),
        },
    })
}

/// Returns the array member `key` of an object; a missing or null member is an empty array.
pub(super) fn array_member<'a>(value: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key:?} must be an array")),
    }
}

pub(super) fn required_str<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    match value.get(key).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(format!("missing string {key:?}")),
    }
}

/// Rejects rows whose `details.resourceOwner` names another org, a likely dataset mistake.
pub(super) fn check_resource_owner(row: &Value, org_id: &str) -> Result<(), String> {
    let owner = row.get("details").and_then(|d| d.get("resourceOwner")).and_then(Value::as_str);
    match owner {
        Some(owner) if owner != org_id => Err(format!(
            "details.resourceOwner is {owner:?}, but the row is listed under org {org_id:?}"
        )),
        _ => Ok(()),
    }
}
