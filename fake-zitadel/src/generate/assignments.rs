//! The role assignments of a generated organization: its users, projects, roles and user
//! grants, the second organization's users holding some, and their ground truth.

use super::*;

impl Generator {
    pub(super) fn run(&mut self) {
        self.truth.min_requests = 1; // orgs/me
        self.truth.records = 1; // the summary; `checksum` counts every other record
        for id in ["user", "project"] {
            self.checksum(&["resource_type", id]);
        }
        for org in [OWN, OTHER] {
            let org_json = format!(
                "{{\"id\":\"{}\",\"details\":{{\"sequence\":\"6\",\"creationDate\":\"2024-11-05T09:02:47.719245Z\",\
                 \"changeDate\":\"2025-02-11T08:00:15.360Z\",\"resourceOwner\":\"{}\"}},\"state\":\"ORG_STATE_ACTIVE\",\
                 \"name\":\"{}\",\"primaryDomain\":\"{}\"}}",
                org.id, org.id, org.name, org.domain
            );
            self.dataset.add_org(&org_json).expect("generated orgs are valid and distinct");
        }
        self.dataset.add_token(Token::org_viewer(GENERATED_PAT, GENERATED_ORG));
        let mut instance_viewer = Token::org_viewer(GENERATED_IAM_PAT, GENERATED_ORG);
        instance_viewer.instance_level = true;
        instance_viewer.permissions.extend(["iam.read".to_string(), "iam.member.read".to_string()]);
        self.dataset.add_token(instance_viewer);
        self.users();
        self.projects();
        self.other_org();
        self.access();
    }

    pub(super) fn users(&mut self) {
        let mut json = String::new();
        for i in 0..self.spec.users {
            let person = self.person(OWN, i);
            user_json(&mut json, &person, OWN, i);
            let row = UserRow {
                id: person.id.clone(),
                creation_date: timestamp(person.hash),
                user_name: person.user_name.clone(),
                json: json.clone(),
            };
            self.dataset.add_user_row(GENERATED_ORG, row).expect("the org exists");
            let status = match person.state {
                "USER_STATE_INACTIVE" | "USER_STATE_SUSPEND" => "DISABLED",
                _ => "ENABLED",
            };
            self.checksum(&[
                "user",
                &person.id,
                &person.shown_name(),
                status,
                GENERATED_ORG,
                "false",
            ]);
            self.truth.counts.user += 1;
        }
        self.truth.min_requests += pages(self.spec.users);
    }

    pub(super) fn projects(&mut self) {
        let sizes = grant_counts(&self.spec);
        let pool = self.spec.users + self.spec.other_org_users;
        let stride = [7919, 7927, 7933, 7937, 7949]
            .into_iter()
            .find(|prime| !pool.is_multiple_of(*prime))
            .expect("at most four of five primes divide the pool");
        let mut next_grant = 0;
        let mut grant = String::new();
        for (p, &size) in sizes.iter().enumerate() {
            let hash = mix(self.spec.seed ^ 0x9e37 ^ ((p as u64) << 20));
            let project_id = (PROJECT_BASE + p as u64 * ID_STRIDE).to_string();
            let name = format!("{} {}", PROJECT_NAMES[p % PROJECT_NAMES.len()], p + 1);
            let active = p % 20 != 19;
            self.add_project(OWN, &project_id, &name, active, hash);
            self.checksum(&[
                "project",
                &project_id,
                &name,
                if active { "ENABLED" } else { "DISABLED" },
            ]);
            self.truth.counts.project += 1;
            let roles = self.add_roles(OWN, &project_id, self.spec.roles_per_project, true);

            let start = (hash % pool as u64) as usize;
            for k in 0..size {
                let principal = (start + k * stride) % pool;
                let g = next_grant;
                next_grant += 1;
                let hash = mix(self.spec.seed ^ 0x6a09 ^ ((g as u64) << 24));
                let (person, org) = if principal < self.spec.users {
                    (self.person(OWN, principal), OWN)
                } else {
                    (self.person(OTHER, principal - self.spec.users), OTHER)
                };
                let mut keys: Vec<&str> = Vec::new();
                if g % 1009 != 17 {
                    let wanted = match hash % 10 {
                        0..=5 => 1,
                        6..=8 => 2,
                        _ => 3,
                    }
                    .min(roles.len());
                    let mut pick = hash >> 8;
                    while keys.len() < wanted {
                        let key = roles[(pick % roles.len() as u64) as usize].as_str();
                        pick = mix(pick);
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                    if g % 997 == 13 {
                        keys.push(UNKNOWN_ROLE);
                    }
                }
                let inactive = (hash >> 40) % 100 < 3;
                let grant_id = (GRANT_BASE + g as u64 * ID_STRIDE).to_string();
                grant_json(
                    &mut grant,
                    &grant_id,
                    &keys,
                    inactive,
                    &person,
                    org,
                    OWN,
                    &project_id,
                    &name,
                    "",
                    hash,
                );
                let row = GrantRow {
                    id: grant_id.clone(),
                    project_id: project_id.clone(),
                    user_id: person.id.clone(),
                    project_grant_id: String::new(),
                    json: grant.clone(),
                };
                self.dataset.add_user_grant_row(GENERATED_ORG, row).expect("the org exists");
                self.expect_grant(
                    &grant_id,
                    &keys,
                    inactive,
                    &person,
                    principal,
                    &project_id,
                    &roles,
                );
            }
            self.truth.min_requests += pages(roles.len()) + pages(size);
            self.projects.push(GeneratedProject { id: project_id, name, roles, user_grants: size });
        }
        self.truth.min_requests += pages(sizes.len());
    }

    /// Adds to the ground truth what the sync prints for one user grant.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn expect_grant(
        &mut self,
        grant_id: &str,
        keys: &[&str],
        inactive: bool,
        person: &Person,
        principal: usize,
        project_id: &str,
        roles: &[String],
    ) {
        let counts = &mut self.truth.counts;
        if inactive {
            counts.inactive_user_grant += 1;
            return;
        }
        if keys.is_empty() {
            counts.user_grant_without_roles += 1;
            return;
        }
        for key in keys {
            if !roles.iter().any(|role| role == key) {
                self.truth.counts.unknown_role_key += 1;
                continue;
            }
            if let Some(j) = principal.checked_sub(self.spec.users)
                && !self.external_printed[j]
            {
                self.external_printed[j] = true;
                self.truth.counts.external_user += 1;
                self.checksum(&[
                    "user",
                    &person.id,
                    &person.shown_name(),
                    "UNSPECIFIED",
                    GENERATED_OTHER_ORG,
                    "true",
                ]);
            }
            let id = format!("project:{project_id}:{key}:user:{}", person.id);
            self.checksum(&["grant", &id, grant_id, "USER_GRANT_STATE_ACTIVE"]);
            self.truth.counts.grant += 1;
        }
    }

    /// The second organization: its users (the external ones) with rows of their own, plus
    /// projects, roles and grants, none of which a sync of the first may print.
    pub(super) fn other_org(&mut self) {
        let mut json = String::new();
        for j in 0..self.spec.other_org_users {
            let person = self.person(OTHER, j);
            user_json(&mut json, &person, OTHER, j);
            let row = UserRow {
                id: person.id.clone(),
                creation_date: timestamp(person.hash),
                user_name: person.user_name.clone(),
                json: json.clone(),
            };
            self.dataset.add_user_row(GENERATED_OTHER_ORG, row).expect("the org exists");
        }
        let mut grant = String::new();
        for (p, project_name) in PROJECT_NAMES.iter().enumerate().take(3) {
            let project_id = (OTHER_PROJECT_BASE + p as u64 * ID_STRIDE).to_string();
            let name = format!("Globex {project_name}");
            self.add_project(OTHER, &project_id, &name, true, mix(p as u64));
            let roles = self.add_roles(OTHER, &project_id, 3, false);
            for j in (p..self.spec.other_org_users).step_by(3) {
                let person = self.person(OTHER, j);
                let grant_id = (OTHER_GRANT_BASE + j as u64 * ID_STRIDE).to_string();
                let keys = [roles[j % roles.len()].as_str()];
                let hash = mix(j as u64);
                grant_json(
                    &mut grant,
                    &grant_id,
                    &keys,
                    false,
                    &person,
                    OTHER,
                    OTHER,
                    &project_id,
                    &name,
                    "",
                    hash,
                );
                let row = GrantRow {
                    id: grant_id,
                    project_id: project_id.clone(),
                    user_id: person.id.clone(),
                    project_grant_id: String::new(),
                    json: grant.clone(),
                };
                self.dataset.add_user_grant_row(GENERATED_OTHER_ORG, row).expect("the org exists");
            }
        }
    }

    pub(super) fn add_project(
        &mut self,
        org: OrgNames,
        id: &str,
        name: &str,
        active: bool,
        hash: u64,
    ) {
        let state = if active { "PROJECT_STATE_ACTIVE" } else { "PROJECT_STATE_INACTIVE" };
        let mut json = format!(
            "{{\"id\":\"{id}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
             \"resourceOwner\":\"{}\"}},\"name\":\"{name}\",\"state\":\"{state}\"",
            hash % 40 + 1,
            timestamp(hash),
            timestamp(hash >> 7),
            org.id
        );
        if hash.is_multiple_of(3) {
            json.push_str(",\"projectRoleAssertion\":true");
        }
        if hash.is_multiple_of(5) {
            json.push_str(",\"hasProjectCheck\":true");
        }
        json.push('}');
        let org = self.dataset.org_mut(org.id).expect("the org exists");
        org.projects.push(ProjectRow { id: id.to_string(), json });
    }

    /// Adds `count` roles to a project and returns their keys.
    pub(super) fn add_roles(
        &mut self,
        org: OrgNames,
        project_id: &str,
        count: usize,
        expect: bool,
    ) -> Vec<String> {
        let mut keys = Vec::with_capacity(count);
        let mut rows = Vec::with_capacity(count);
        for r in 0..count {
            let (key, display_name, group) = match ROLES.get(r) {
                Some(&(key, display_name, group)) => (key.to_string(), display_name, group),
                None => (format!("role-{r}"), "", ""),
            };
            let date = timestamp(mix(r as u64 ^ project_id.len() as u64));
            let mut json = format!(
                "{{\"key\":\"{key}\",\"details\":{{\"sequence\":\"3\",\"creationDate\":\"{date}\",\
                 \"changeDate\":\"{date}\",\"resourceOwner\":\"{}\"}}",
                org.id
            );
            if !display_name.is_empty() {
                let _ = write!(json, ",\"displayName\":\"{display_name}\"");
            }
            if !group.is_empty() {
                let _ = write!(json, ",\"group\":\"{group}\"");
            }
            json.push('}');
            rows.push(json);
            if expect {
                let id = format!("project:{project_id}:{key}");
                let shown = if display_name.is_empty() { key.as_str() } else { display_name };
                self.checksum(&["entitlement", &id, shown]);
                self.truth.counts.entitlement += 1;
            }
            keys.push(key);
        }
        let org = self.dataset.org_mut(org.id).expect("the org exists");
        org.roles.insert(project_id.to_string(), rows);
        keys
    }

    /// The `i`th user of an organization, the same each time it is asked for.
    pub(super) fn person(&self, org: OrgNames, i: usize) -> Person {
        let base = org.user_base;
        let hash = mix(self.spec.seed ^ ((i as u64) << 16) ^ org.salt);
        let machine = org.machines && hash % 10 == 7;
        let (first, first_login) = FIRST_NAMES[(hash >> 8) as usize % FIRST_NAMES.len()];
        let (last, last_login) = LAST_NAMES[(hash >> 16) as usize % LAST_NAMES.len()];
        let state = match (hash >> 24) % 100 {
            0..=89 => "USER_STATE_ACTIVE",
            90..=93 => "USER_STATE_INACTIVE",
            94..=96 => "USER_STATE_LOCKED",
            97..=98 => "USER_STATE_INITIAL",
            _ => "USER_STATE_SUSPEND",
        };
        let user_name = if machine {
            format!(
                "svc-{}-{i}",
                PROJECT_NAMES[(hash >> 32) as usize % PROJECT_NAMES.len()]
                    .to_lowercase()
                    .replace(' ', "-")
            )
        } else {
            format!("{first_login}.{last_login}{i}")
        };
        let preferred_login_name = format!("{user_name}@{}", org.domain);
        Person {
            id: (base + i as u64 * ID_STRIDE).to_string(),
            first_name: if machine { "" } else { first },
            last_name: if machine { "" } else { last },
            display_name: if machine || (hash >> 40).is_multiple_of(13) {
                String::new()
            } else {
                format!("{first} {last}")
            },
            email: if machine { String::new() } else { preferred_login_name.clone() },
            machine_name: if machine { format!("Service Account {i}") } else { String::new() },
            preferred_login_name,
            user_name,
            machine,
            state,
            hash,
        }
    }

    pub(super) fn checksum(&mut self, parts: &[&str]) {
        self.truth.checksum = self.truth.checksum.wrapping_add(record_hash(parts));
        self.truth.records += 1;
    }
}
