//! The access picture of a generated organization: managers, project grants and the user
//! grants made through them, and what a sync that reads them prints and requests.

use super::*;

/// What a sync that shows the whole access picture prints and requests, built up as the
/// generator goes.
#[derive(Default, Clone)]
pub(super) struct AccessTally {
    pub(super) counts: AccessCounts,
    /// Users of other orgs the stream prints, each once, with their org.
    pub(super) external_users: HashMap<String, &'static str>,
    /// Granted orgs the stream prints, each once, before their first org grant.
    pub(super) external_orgs: HashSet<&'static str>,
    pub(super) requests: BTreeMap<&'static str, u64>,
    /// `AccessTruth::checksum` so far, external users not yet included.
    pub(super) checksum: u64,
    /// The human managers of `OWN` whose authentication methods a sync reads (each once,
    /// before the first grant of a manager role), in that order.
    pub(super) auth_users: Vec<String>,
    auth_asked: HashSet<String>,
}

impl AccessTally {
    /// Adds `n` requests to the endpoint of `path`.
    pub(super) fn request(&mut self, path: &str, n: u64) {
        let endpoint = endpoint_of(path).expect("the fake serves every path a sync requests");
        *self.requests.entry(endpoint).or_default() += n;
    }

    /// Counts one list of managers of the resource `resource_id`: an entitlement per role
    /// the level's role list names or a manager holds, a grant per manager and role, and
    /// managers of other orgs as external users.
    pub(super) fn managers(&mut self, level: MemberLevel, resource_id: &str, managers: &[Manager]) {
        let (resource_type, slug_prefix) = match level {
            MemberLevel::Org => ("org", ""),
            MemberLevel::Project => ("project", "manager:"),
            MemberLevel::ProjectGrant => ("project_grant", ""),
            MemberLevel::Instance => ("instance", ""),
        };
        let entitlement_id =
            |role: &str| format!("{resource_type}:{resource_id}:{slug_prefix}{role}");
        let mut roles = level.roles(false);
        for manager in managers {
            for role in manager.roles {
                if !roles.contains(role) {
                    roles.push(role);
                }
                let id = format!("{}:user:{}", entitlement_id(role), manager.id);
                self.record(&["grant", &id, "", ""]);
            }
            if manager.org == OWN.id
                && !manager.machine
                && self.auth_asked.insert(manager.id.clone())
            {
                let methods = auth_methods_of(&manager.id);
                self.record(&["user_auth", &manager.id, &methods.join(",")]);
                self.counts.user_auth += 1;
                self.request(&format!("/v2/users/{}/authentication_methods", manager.id), 1);
                self.auth_users.push(manager.id.clone());
            }
            let grants = manager.roles.len() as u64;
            self.counts.manager_grant += grants;
            self.counts.grant += grants;
            if manager.org != OWN.id {
                self.external_users.insert(manager.id.clone(), manager.org);
            }
        }
        for role in &roles {
            self.record(&["entitlement", &entitlement_id(role), &manager_role_name(role)]);
        }
        self.counts.entitlement += roles.len() as u64;
    }

    /// Adds a record to `checksum`.
    pub(super) fn record(&mut self, parts: &[&str]) {
        self.checksum = self.checksum.wrapping_add(record_hash(parts));
    }
}

/// What a sync whose records `tally` counted prints and requests.
fn finish(mut tally: AccessTally) -> AccessTruth {
    for (id, org) in &tally.external_users {
        let hash = record_hash(&["external_user", id, org]);
        tally.checksum = tally.checksum.wrapping_add(hash);
    }
    let counts = &mut tally.counts;
    counts.external_user = tally.external_users.len() as u64;
    counts.external_org = tally.external_orgs.len() as u64;
    // The summary, the eight resource types, then one line per record.
    let records = 1
        + 8
        + counts.user
        + counts.external_user
        + counts.pat
        + counts.machine_key
        + counts.client_secret
        + counts.user_auth
        + counts.org
        + counts.external_org
        + counts.instance
        + counts.project
        + counts.project_grant
        + counts.entitlement
        + counts.grant;
    AccessTruth {
        counts: *counts,
        records,
        min_requests: tally.requests.values().sum(),
        requests: tally.requests,
        checksum: tally.checksum,
    }
}

impl Generator {
    /// Managers, project grants and the user grants made through them, plus what a sync that
    /// reads them prints and requests (`GroundTruth::access`). It adds rows only, after every
    /// other, so the rest of the dataset and of the ground truth stay as they were.
    pub(super) fn access(&mut self) {
        let spec = self.spec;
        let granted = &GRANTED_ORGS[..spec.granted_orgs.min(GRANTED_ORGS.len())];
        for &org in granted {
            self.granted_org(org);
        }
        let today = self.truth.counts;
        let mut tally = AccessTally {
            counts: AccessCounts {
                user: today.user,
                project: today.project,
                org: 1,
                entitlement: today.entitlement,
                grant: today.grant,
                user_grant_without_roles: today.user_grant_without_roles,
                unknown_role_key: today.unknown_role_key,
                inactive_user_grant: today.inactive_user_grant,
                ..AccessCounts::default()
            },
            ..AccessTally::default()
        };
        for (j, printed) in self.external_printed.iter().enumerate() {
            if *printed {
                tally.external_users.insert(self.person(OTHER, j).id, OTHER.id);
            }
        }
        for id in ["org", "project_grant", "instance", "pat", "machine_key", "client_secret"] {
            tally.record(&["resource_type", id]);
        }
        tally.record(&["org", OWN.id, OWN.name, "false"]);
        // Each service user the user list says has a client secret: a record, after the users.
        for i in 0..spec.users {
            let person = self.person(OWN, i);
            if person.machine && !person.hash.is_multiple_of(2) {
                tally.record(&["client_secret", &person.id, &person.id]);
                tally.counts.client_secret += 1;
            }
        }
        tally.request("/management/v1/orgs/me", 1);
        tally.request("/management/v1/users/_search", pages(spec.users));
        tally.request("/management/v1/policies/login", 1);
        tally.request("/management/v1/orgs/members/roles/_search", 1);
        // The token is an organization's: the instance's role list answers 403, and the
        // sync goes on without the instance.
        tally.request("/admin/v1/members/roles/_search", 1);
        // The organization's tokens and keys, one list of each.
        self.credentials(&mut tally);
        tally.request("/management/v1/projects/members/roles/_search", 1);
        tally.request("/management/v1/projects/grants/members/roles/_search", 1);
        tally.request("/management/v1/projects/_search", pages(spec.projects));
        // The token's own user, for the summary.
        tally.request("/auth/v1/users/me", 1);
        self.org_managers(&mut tally, granted);

        let plan = self.plan_project_grants(granted.len());
        let delegated = delegated_counts(&spec, plan.len());
        let mut next_delegated = 0;
        if !self.projects.is_empty() {
            // One list of the organization's project grants, read for the first project.
            tally.request("/management/v1/projectgrants/_search", pages(plan.len()));
        }
        for p in 0..self.projects.len() {
            let project_id = self.projects[p].id.clone();
            let members = self.project_managers(&mut tally, p);
            let grants: Vec<usize> = (0..plan.len()).filter(|&k| plan[k].0 == p).collect();
            let mut user_grants = self.projects[p].user_grants;
            for &k in &grants {
                let org = granted[plan[k].1];
                let grant_id = self.project_grant(&mut tally, k, p, org);
                let first = next_delegated;
                next_delegated += delegated[k];
                self.delegated_grants(&mut tally, first..next_delegated, k, &grant_id, p, org);
                user_grants += delegated[k];
            }
            let project = format!("/management/v1/projects/{project_id}");
            tally.request(&format!("{project}/roles/_search"), pages(self.projects[p].roles.len()));
            tally.request(&format!("{project}/members/_search"), pages(members));
            if plan.is_empty() {
                // The organization's list was empty: each project's is read instead.
                tally.request(&format!("{project}/grants/_search"), 1);
            }
            tally.request("/management/v1/users/grants/_search", pages(user_grants));
        }

        // The instance token's sync prints the same, and the instance with its managers.
        let mut with_instance = tally.clone();
        self.instance(&mut with_instance, granted);
        for id in &with_instance.auth_users {
            let methods = auth_methods_of(id);
            self.dataset.set_auth_methods(OWN.id, id, &methods).expect("a user of the org");
        }
        self.truth.access = finish(tally);
        self.truth.instance_access = finish(with_instance);
    }

    /// Adds a granted org and its users.
    pub(super) fn granted_org(&mut self, org: OrgNames) {
        let org_json = format!(
            "{{\"id\":\"{}\",\"details\":{{\"sequence\":\"4\",\"creationDate\":\"2025-01-13T08:30:00.125Z\",\
             \"changeDate\":\"2025-01-13T08:30:00.125Z\",\"resourceOwner\":\"{}\"}},\"state\":\"ORG_STATE_ACTIVE\",\
             \"name\":\"{}\",\"primaryDomain\":\"{}\"}}",
            org.id, org.id, org.name, org.domain
        );
        self.dataset.add_org(&org_json).expect("generated orgs are valid and distinct");
        let mut json = String::new();
        for i in 0..self.spec.granted_org_users {
            let person = self.person(org, i);
            user_json(&mut json, &person, org, i);
            let row = UserRow {
                id: person.id.clone(),
                creation_date: timestamp(person.hash),
                user_name: person.user_name.clone(),
                json: json.clone(),
            };
            self.dataset.add_user_row(org.id, row).expect("the org exists");
        }
    }

    /// The org's managers: mostly its own users, some of the second org and of granted orgs.
    pub(super) fn org_managers(&mut self, tally: &mut AccessTally, granted: &[OrgNames]) {
        let spec = self.spec;
        let mut managers: Vec<Manager> = Vec::new();
        for i in 0..spec.org_managers {
            let (org, index) = match i % 7 {
                3 if spec.other_org_users > 0 => (OTHER, (i * 37) % spec.other_org_users),
                5 if !granted.is_empty() && spec.granted_org_users > 0 => {
                    (granted[i % granted.len()], (i * 13) % spec.granted_org_users)
                }
                _ if spec.users > 0 => (OWN, (i * 4987 + 11) % spec.users),
                _ => continue,
            };
            let person = self.person(org, index);
            if managers.iter().any(|manager| manager.id == person.id) {
                continue;
            }
            let roles = ORG_MANAGER_ROLES[i % ORG_MANAGER_ROLES.len()];
            let details = object_details(mix(spec.seed ^ 0x3c6e ^ ((i as u64) << 20)), OWN.id);
            let row = MemberRow::new(&person.id, &details, roles);
            self.dataset.org_mut(OWN.id).expect("the org exists").members.push(row);
            managers.push(Manager { id: person.id, org: org.id, roles, machine: person.machine });
        }
        tally.managers(MemberLevel::Org, OWN.id, &managers);
        tally.request("/management/v1/orgs/me/members/_search", pages(managers.len()));
    }

    /// One to three managers of the `p`th project, every tenth project's last one of the
    /// second org; returns how many.
    pub(super) fn project_managers(&mut self, tally: &mut AccessTally, p: usize) -> usize {
        let spec = self.spec;
        let hash = mix(spec.seed ^ 0xa54f ^ ((p as u64) << 20));
        let wanted = 1 + (hash % 3) as usize;
        let mut managers: Vec<Manager> = Vec::new();
        let mut rows = Vec::new();
        for t in 0..wanted {
            let (org, index) = if t + 1 == wanted && p % 10 == 4 && spec.other_org_users > 0 {
                (OTHER, (p * 7 + 3) % spec.other_org_users)
            } else if spec.users > 0 {
                (OWN, (p * 7919 + t * 30011 + 17) % spec.users)
            } else {
                continue;
            };
            let person = self.person(org, index);
            if managers.iter().any(|manager| manager.id == person.id) {
                continue;
            }
            let roles = PROJECT_MANAGER_ROLES[t % PROJECT_MANAGER_ROLES.len()];
            let details = object_details(mix(hash ^ t as u64), OWN.id);
            rows.push(MemberRow::new(&person.id, &details, roles));
            managers.push(Manager { id: person.id, org: org.id, roles, machine: person.machine });
        }
        let project_id = self.projects[p].id.clone();
        tally.managers(MemberLevel::Project, &project_id, &managers);
        let org = self.dataset.org_mut(OWN.id).expect("the org exists");
        org.project_members.insert(project_id, rows);
        managers.len()
    }

    /// Which project (position in `projects`) goes to which granted org (position), one
    /// entry per project grant: projects in a scattered order, each to one to three
    /// consecutive granted orgs, so no project is granted to an org twice.
    pub(super) fn plan_project_grants(&self, granted: usize) -> Vec<(usize, usize)> {
        let projects = self.projects.len();
        let mut plan = Vec::with_capacity(self.spec.project_grants);
        if granted == 0 || projects == 0 {
            return plan;
        }
        let mut taken = vec![false; projects];
        for slot in 0..projects {
            let p = (slot * 7919 + 3) % projects;
            if std::mem::replace(&mut taken[p], true) {
                continue;
            }
            let hash = mix(self.spec.seed ^ 0x510e ^ ((slot as u64) << 20));
            let first = (hash >> 8) as usize % granted;
            let count = (1 + (hash % 3) as usize).min(granted);
            for t in 0..count {
                if plan.len() == self.spec.project_grants {
                    return plan;
                }
                plan.push((p, (first + t) % granted));
            }
        }
        plan
    }

    /// Adds the `k`th project grant (of the `p`th project, to `org`) with its managers, counts
    /// what the sync prints for it, and returns its id. Every tenth is inactive, every 25th
    /// has no role keys, every 20th also delegates a key the project does not have.
    pub(super) fn project_grant(
        &mut self,
        tally: &mut AccessTally,
        k: usize,
        p: usize,
        org: OrgNames,
    ) -> String {
        let spec = self.spec;
        let hash = mix(spec.seed ^ 0x9b05 ^ ((k as u64) << 20));
        let id = (PROJECT_GRANT_BASE + k as u64 * ID_STRIDE).to_string();
        let active = k % 10 != 7;
        let project = &self.projects[p];
        let mut keys: Vec<&str> = Vec::new();
        if k % 25 != 11 && !project.roles.is_empty() {
            let wanted = (1 + (hash % 4) as usize).min(project.roles.len());
            let mut pick = hash >> 8;
            while keys.len() < wanted {
                let key = project.roles[(pick % project.roles.len() as u64) as usize].as_str();
                pick = mix(pick);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        if k % 20 == 3 {
            keys.push(UNKNOWN_ROLE);
        }
        let details = object_details(hash, OWN.id);
        let json = GrantedProject {
            grant_id: &id,
            granted_org_id: org.id,
            granted_org_name: org.name,
            role_keys: &keys,
            active,
            project_id: &project.id,
            project_name: &project.name,
            project_owner_id: OWN.id,
            project_owner_name: OWN.name,
            details_json: &details,
        }
        .to_json();

        tally.counts.project_grant += 1;
        let name = format!("{} for {}", project.name, org.name);
        let status = if active { "ENABLED" } else { "DISABLED" };
        tally.record(&["project_grant", &id, &name, status]);
        if !active {
            tally.counts.inactive_project_grant += 1;
        } else {
            for key in &keys {
                if project.roles.iter().any(|role| role == key) {
                    tally.counts.org_grant += 1;
                    tally.counts.grant += 1;
                    if tally.external_orgs.insert(org.id) {
                        tally.record(&["org", org.id, org.name, "true"]);
                    }
                    let grant_id = format!("project:{}:{key}:org:{}", project.id, org.id);
                    tally.record(&["grant", &grant_id, "", "PROJECT_GRANT_STATE_ACTIVE"]);
                } else {
                    tally.counts.unknown_role_key += 1;
                }
            }
        }
        let wanted = if k % 6 == 4 { 0 } else { 1 + ((hash >> 20) % 2) as usize };
        let mut managers: Vec<Manager> = Vec::new();
        let mut members = Vec::new();
        for t in 0..wanted.min(spec.granted_org_users) {
            let person = self.person(org, (k * 31 + t * 97 + 1) % spec.granted_org_users);
            if managers.iter().any(|manager| manager.id == person.id) {
                continue;
            }
            let roles = GRANT_MANAGER_ROLES[t % GRANT_MANAGER_ROLES.len()];
            members.push(MemberRow::new(
                &person.id,
                &object_details(mix(hash ^ t as u64), OWN.id),
                roles,
            ));
            managers.push(Manager { id: person.id, org: org.id, roles, machine: person.machine });
        }
        tally.managers(MemberLevel::ProjectGrant, &id, &managers);
        let path = format!("/management/v1/projects/{}/grants/{id}/members/_search", project.id);
        tally.request(&path, pages(managers.len()));
        let row = ProjectGrantRow {
            id: id.clone(),
            project_id: project.id.clone(),
            granted_org_id: org.id.to_string(),
            role_keys: keys.iter().map(|key| key.to_string()).collect(),
            json,
            members,
        };
        self.dataset.org_mut(OWN.id).expect("the org exists").project_grants.push(row);
        id
    }

    /// Adds the user grants `numbers` (a range of the generator's count of them) that
    /// `org` makes through the `k`th project grant, each for a different user of `org`
    /// with one to three of the grant's keys (none when the grant has none), and counts
    /// what the sync prints for them.
    pub(super) fn delegated_grants(
        &mut self,
        tally: &mut AccessTally,
        numbers: std::ops::Range<usize>,
        k: usize,
        grant_id: &str,
        p: usize,
        org: OrgNames,
    ) {
        let users = self.spec.granted_org_users;
        if numbers.is_empty() || users == 0 {
            return;
        }
        let grant_keys: Vec<String> = {
            let owner = self.dataset.org(OWN.id).expect("the org exists");
            let grant = owner.project_grants.iter().find(|grant| grant.id == grant_id);
            grant.expect("added just before").role_keys.clone()
        };
        let stride = [7919, 7927, 7933, 7937, 7949]
            .into_iter()
            .find(|prime| !users.is_multiple_of(*prime))
            .expect("at most four of five primes divide the number of users");
        let start = (mix(self.spec.seed ^ 0x2b99 ^ ((k as u64) << 20)) % users as u64) as usize;
        let (project_id, project_name) =
            (self.projects[p].id.clone(), self.projects[p].name.clone());
        let mut json = String::new();
        for (i, g) in numbers.enumerate() {
            let person = self.person(org, (start + i * stride) % users);
            let hash = mix(self.spec.seed ^ 0x1f83 ^ ((g as u64) << 24));
            let mut keys: Vec<&str> = Vec::new();
            if !grant_keys.is_empty() {
                let wanted = (1 + (hash % 3) as usize).min(grant_keys.len());
                let mut pick = hash >> 8;
                while keys.len() < wanted {
                    let key = grant_keys[(pick % grant_keys.len() as u64) as usize].as_str();
                    pick = mix(pick);
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            let inactive = (hash >> 40) % 100 < 4;
            let id = (DELEGATED_GRANT_BASE + g as u64 * ID_STRIDE).to_string();
            grant_json(
                &mut json,
                &id,
                &keys,
                inactive,
                &person,
                org,
                org,
                &project_id,
                &project_name,
                grant_id,
                hash,
            );
            let counts = &mut tally.counts;
            if inactive {
                counts.inactive_user_grant += 1;
            } else if keys.is_empty() {
                counts.user_grant_without_roles += 1;
            } else {
                for key in &keys {
                    if self.projects[p].roles.iter().any(|role| role == key) {
                        counts.delegated_grant += 1;
                        counts.grant += 1;
                        tally.external_users.insert(person.id.clone(), org.id);
                        let grant_id = format!(
                            "project:{project_id}:{key}:user:{}:project_grant:{grant_id}",
                            person.id
                        );
                        let hash =
                            record_hash(&["grant", &grant_id, &id, "USER_GRANT_STATE_ACTIVE"]);
                        tally.checksum = tally.checksum.wrapping_add(hash);
                    } else {
                        counts.unknown_role_key += 1;
                    }
                }
            }
            let row = GrantRow {
                id,
                project_id: project_id.clone(),
                user_id: person.id,
                project_grant_id: grant_id.to_string(),
                json: json.clone(),
            };
            self.dataset.add_user_grant_row(org.id, row).expect("the org exists");
        }
    }
}

/// The kinds of authentication method a generated human manager has, by its id: a
/// password, and for some a TOTP, a passkey or an identity provider; a few have none.
pub(super) fn auth_methods_of(id: &str) -> Vec<&'static str> {
    let hash = mix(id.parse::<u64>().unwrap_or_default() ^ 0x7a11);
    let kinds = [
        (!hash.is_multiple_of(9), "AUTHENTICATION_METHOD_TYPE_PASSWORD"),
        (hash % 3 == 1, "AUTHENTICATION_METHOD_TYPE_TOTP"),
        (hash % 5 == 2, "AUTHENTICATION_METHOD_TYPE_PASSKEY"),
        (hash % 7 == 3, "AUTHENTICATION_METHOD_TYPE_IDP"),
    ];
    let mut methods: Vec<&str> =
        kinds.iter().filter(|(has, _)| *has).map(|(_, kind)| *kind).collect();
    methods.sort_unstable();
    methods
}
