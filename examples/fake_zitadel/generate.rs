//! Generated organizations for benchmarks, in ZITADEL's wire format, with what a correct sync prints.

use super::dataset::{Dataset, GrantRow, ProjectRow, Token, UserRow};
use std::fmt::Write as _;

/// The organization `Dataset::generate` fills (the demo's ACME id, so ids look alike).
pub const GENERATED_ORG: &str = "284905129371435012";
/// A second organization: some of its users hold grants in the first one, and nothing else of
/// it (its users, projects, roles and grants) may show up in a sync of the first.
pub const GENERATED_OTHER_ORG: &str = "284905311209451523";
/// The token of a viewer of `GENERATED_ORG`, with every permission a sync needs.
pub const GENERATED_PAT: &str = "bench-pat-acme-viewer";

/// The size of a generated organization. Everything else (names, states, which users hold
/// which roles) follows deterministically from `seed`.
#[derive(Debug, Clone, Copy)]
pub struct GenerateSpec {
    pub users: usize,
    pub projects: usize,
    pub roles_per_project: usize,
    pub user_grants: usize,
    /// Users of the second organization; about half of them hold grants in the first.
    pub other_org_users: usize,
    pub seed: u64,
}

impl GenerateSpec {
    /// The large organization of `make bench`.
    pub const LARGE: GenerateSpec = GenerateSpec {
        users: 100_000,
        projects: 1_000,
        roles_per_project: 10,
        user_grants: 300_000,
        other_org_users: 2_000,
        seed: 0x5eed,
    };

    /// The same organization with `factor` times fewer users, projects, grants and external
    /// users (roles per project stay as they are).
    pub fn divided(self, factor: usize) -> GenerateSpec {
        GenerateSpec {
            users: self.users / factor,
            projects: self.projects / factor,
            user_grants: self.user_grants / factor,
            other_org_users: self.other_org_users / factor,
            ..self
        }
    }
}

/// What a correct sync of a generated organization prints with the default flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroundTruth {
    /// The summary's `counts`.
    pub counts: SummaryCounts,
    /// Output lines: the two resource types, every user, project, entitlement and grant
    /// record, and the summary.
    pub records: u64,
    /// The wrapping sum of `record_hash` over every record but the summary, so that the
    /// order of the records does not matter but each one's content does.
    pub checksum: u64,
    /// The requests of a complete walk with 1000-row pages: `orgs/me`, then per list the
    /// pages it needs (an empty list needs one request; a full last page needs none more).
    pub min_requests: u64,
}

/// The counts of the summary record, field for field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SummaryCounts {
    pub user: u64,
    pub project: u64,
    pub entitlement: u64,
    pub grant: u64,
    pub external_user: u64,
    pub user_grant_without_roles: u64,
    pub unknown_role_key: u64,
    pub inactive_user_grant: u64,
}

impl SummaryCounts {
    /// The counts with their names in the summary, in its order.
    pub fn named(&self) -> [(&'static str, u64); 8] {
        [
            ("user", self.user),
            ("project", self.project),
            ("entitlement", self.entitlement),
            ("grant", self.grant),
            ("external_user", self.external_user),
            ("user_grant_without_roles", self.user_grant_without_roles),
            ("unknown_role_key", self.unknown_role_key),
            ("inactive_user_grant", self.inactive_user_grant),
        ]
    }
}

/// A 64-bit FNV-1a hash of a record's identifying and mapped fields, each part ended by a
/// 0x1f byte so that `["ab", "c"]` and `["a", "bc"]` differ. The checksum of a run is the
/// wrapping sum of these over its records: the parts are, by record,
///
/// - `resource_type`: `"resource_type"`, id
/// - user resource: `"user"`, id, display_name, status, org_id, external (`true`/`false`)
/// - project resource: `"project"`, id, display_name, status
/// - `entitlement`: `"entitlement"`, id, display_name
/// - `grant`: `"grant"`, id, user_grant_id, state
pub fn record_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.as_bytes().iter().chain(&[0x1f]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

impl Dataset {
    /// Builds a synthetic organization of `spec`'s size in ZITADEL's exact wire format, plus
    /// the second organization and a token, and what a sync of it must print.
    ///
    /// The rows mix humans and machines, every user state, active and inactive grants with
    /// one to three role keys, a few grants without role keys or naming a role the project
    /// does not have, grants held by users of the second organization, projects without
    /// grants and projects with several pages of them. Ids are 18 digits like ZITADEL's, and
    /// rows are written as JSON text directly (no parsing), so even the large one takes
    /// about a second.
    pub fn generate(spec: GenerateSpec) -> (Dataset, GroundTruth) {
        let mut generator = Generator {
            spec,
            dataset: Dataset::new(),
            truth: GroundTruth::default(),
            external_printed: vec![false; spec.other_org_users],
        };
        generator.run();
        (generator.dataset, generator.truth)
    }
}

// Id ranges: the base plus a multiple of `ID_STRIDE` stays 18 digits and unique across kinds.
const OTHER_USER_BASE: u64 = 284_905_400_000_000_000;
const OTHER_PROJECT_BASE: u64 = 284_905_500_000_000_000;
const OTHER_GRANT_BASE: u64 = 284_905_600_000_000_000;
const USER_BASE: u64 = 284_906_000_000_000_000;
const PROJECT_BASE: u64 = 284_906_400_000_000_000;
const GRANT_BASE: u64 = 284_915_000_000_000_000;
const ID_STRIDE: u64 = 4_099;
/// The page size the walk is measured against: the largest ZITADEL accepts.
const GENERATED_PAGE: u64 = 1000;
/// Every 997th user grant also names this role, which no project has.
const UNKNOWN_ROLE: &str = "deprecated-role";

/// Given names (display form, login form); none needs escaping in JSON.
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Alice", "alice"),
    ("Bob", "bob"),
    ("Carol", "carol"),
    ("Dave", "dave"),
    ("Erin", "erin"),
    ("Frank", "frank"),
    ("Grace", "grace"),
    ("Heidi", "heidi"),
    ("Ivan", "ivan"),
    ("Judy", "judy"),
    ("Mallory", "mallory"),
    ("Niaj", "niaj"),
    ("Olivia", "olivia"),
    ("Peggy", "peggy"),
    ("Rupert", "rupert"),
    ("Sybil", "sybil"),
    ("Trent", "trent"),
    ("Victor", "victor"),
    ("Walter", "walter"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Björn", "bjorn"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Renée", "renee"),
    ("Ángel", "angel"),
    ("Yuki", "yuki"),
    ("Priya", "priya"),
];
const LAST_NAMES: &[(&str, &str)] = &[
    ("Anderson", "anderson"),
    ("Brown", "brown"),
    ("Clark", "clark"),
    ("Davis", "davis"),
    ("Evans", "evans"),
    ("Fischer", "fischer"),
    ("García", "garcia"),
    ("Hill", "hill"),
    ("Ito", "ito"),
    ("Johnson", "johnson"),
    ("Müller", "mueller"),
    ("Nguyễn", "nguyen"),
    ("O'Brien", "obrien"),
    ("Petrović", "petrovic"),
    ("Schmidt", "schmidt"),
    ("Tanaka", "tanaka"),
    ("Van der Berg", "vanderberg"),
    ("Wójcik", "wojcik"),
    ("Yilmaz", "yilmaz"),
    ("Zimmermann", "zimmermann"),
];
const PROJECT_NAMES: &[&str] = &[
    "Customer Portal",
    "Internal Tools",
    "Legacy Billing",
    "Data Platform",
    "Mobile App",
    "Partner API",
    "Support Desk",
    "Analytics",
];
/// Role keys, display names (empty: none, so the key is shown) and groups (empty: none).
const ROLES: &[(&str, &str, &str)] = &[
    ("admin", "Administrator", "Admins"),
    ("editor", "Editor", "Admins"),
    ("viewer", "Viewer", ""),
    ("support", "", ""),
    ("operator", "Operator", "Ops"),
    ("auditor", "Auditor", "Compliance"),
    ("developer", "Developer", ""),
    ("billing.read", "Billing reader", "Finance"),
    ("billing.write", "Billing writer", "Finance"),
    ("owner", "Owner", "Admins"),
];

/// One user as its own row and its grants describe it.
struct Person {
    id: String,
    user_name: String,
    /// Empty for machines.
    first_name: &'static str,
    last_name: &'static str,
    /// The profile's display name; empty for some humans (then "first last" is shown).
    display_name: String,
    /// Empty for machines.
    email: String,
    preferred_login_name: String,
    machine: bool,
    machine_name: String,
    state: &'static str,
    hash: u64,
}

impl Person {
    /// The display name a sync prints, by the connector's fallback order.
    fn shown_name(&self) -> String {
        if self.machine {
            self.machine_name.clone()
        } else if !self.display_name.is_empty() {
            self.display_name.clone()
        } else {
            format!("{} {}", self.first_name, self.last_name)
        }
    }
}

/// Which organization a person or row belongs to.
#[derive(Clone, Copy)]
struct OrgNames {
    id: &'static str,
    name: &'static str,
    domain: &'static str,
    /// The organization's ZITADEL-generated domain, for the first login name.
    zitadel_domain: &'static str,
}

const OWN: OrgNames = OrgNames {
    id: GENERATED_ORG,
    name: "ACME Corporation",
    domain: "acme.example.com",
    zitadel_domain: "acme-corp.zitadel.cloud",
};
const OTHER: OrgNames = OrgNames {
    id: GENERATED_OTHER_ORG,
    name: "Globex",
    domain: "globex.example.com",
    zitadel_domain: "globex.zitadel.cloud",
};

struct Generator {
    spec: GenerateSpec,
    dataset: Dataset,
    truth: GroundTruth,
    /// Which users of the other organization a sync has printed so far.
    external_printed: Vec<bool>,
}

impl Generator {
    fn run(&mut self) {
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
        self.users();
        self.projects();
        self.other_org();
    }

    fn users(&mut self) {
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

    fn projects(&mut self) {
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
        }
        self.truth.min_requests += pages(sizes.len());
    }

    /// Adds to the ground truth what the sync prints for one user grant.
    #[allow(clippy::too_many_arguments)]
    fn expect_grant(
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
    fn other_org(&mut self) {
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

    fn add_project(&mut self, org: OrgNames, id: &str, name: &str, active: bool, hash: u64) {
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
    fn add_roles(
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
    fn person(&self, org: OrgNames, i: usize) -> Person {
        let own = org.id == GENERATED_ORG;
        let base = if own { USER_BASE } else { OTHER_USER_BASE };
        let hash = mix(self.spec.seed ^ ((i as u64) << 16) ^ u64::from(own));
        let machine = own && hash % 10 == 7;
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

    fn checksum(&mut self, parts: &[&str]) {
        self.truth.checksum = self.truth.checksum.wrapping_add(record_hash(parts));
        self.truth.records += 1;
    }
}

/// Writes a user row like `ListUsers` returns it into `out`.
fn user_json(out: &mut String, person: &Person, org: OrgNames, i: usize) {
    let hash = person.hash;
    out.clear();
    let _ = write!(
        out,
        "{{\"id\":\"{}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
         \"resourceOwner\":\"{}\"}},\"state\":\"{}\",\"userName\":\"{}\",\"loginNames\":[\"{}@{}\",\"{}\"],\
         \"preferredLoginName\":\"{}\"",
        person.id,
        hash % 30 + 1,
        timestamp(hash),
        timestamp(hash >> 5),
        org.id,
        person.state,
        person.user_name,
        person.user_name,
        org.zitadel_domain,
        person.preferred_login_name,
        person.preferred_login_name,
    );
    if person.machine {
        let _ = write!(out, ",\"machine\":{{\"name\":\"{}\"", person.machine_name);
        if !hash.is_multiple_of(3) {
            out.push_str(
                ",\"description\":\"Reads users and grants for the nightly access review\"",
            );
        }
        if hash.is_multiple_of(2) {
            out.push_str(",\"accessTokenType\":\"ACCESS_TOKEN_TYPE_JWT\"");
        } else {
            out.push_str(",\"hasSecret\":true");
        }
        out.push_str("}}");
        return;
    }
    let _ = write!(
        out,
        ",\"human\":{{\"profile\":{{\"firstName\":\"{}\",\"lastName\":\"{}\"",
        person.first_name, person.last_name
    );
    if hash.is_multiple_of(4) {
        let _ = write!(out, ",\"nickName\":\"{}\"", &person.user_name[..3]);
    }
    if !person.display_name.is_empty() {
        let _ = write!(out, ",\"displayName\":\"{}\"", person.display_name);
    }
    let language = ["en", "de", "fr", "und", "ja"][(hash >> 44) as usize % 5];
    let _ = write!(out, ",\"preferredLanguage\":\"{language}\"");
    if hash % 5 < 3 {
        let gender = ["GENDER_FEMALE", "GENDER_MALE", "GENDER_DIVERSE"][(hash >> 48) as usize % 3];
        let _ = write!(out, ",\"gender\":\"{gender}\"");
    }
    if hash % 7 < 2 {
        let _ = write!(
            out,
            ",\"avatarUrl\":\"https://{}/assets/v1/{}/users/{}/avatar?v={}\"",
            org.zitadel_domain,
            org.id,
            person.id,
            i % 9 + 1
        );
    }
    let _ = write!(out, "}},\"email\":{{\"email\":\"{}\"", person.email);
    if hash % 10 < 8 {
        out.push_str(",\"isEmailVerified\":true");
    }
    out.push_str("},\"phone\":{");
    if hash.is_multiple_of(3) {
        let _ = write!(out, "\"phone\":\"+4179{:07}\",\"isPhoneVerified\":true", hash % 10_000_000);
    }
    out.push('}');
    if hash.is_multiple_of(2) {
        let _ = write!(out, ",\"passwordChanged\":\"{}\"", timestamp(hash >> 9));
    }
    out.push_str("}}");
}

/// Writes a user grant row like `ListUserGrants` returns it into `out`.
#[allow(clippy::too_many_arguments)]
fn grant_json(
    out: &mut String,
    id: &str,
    keys: &[&str],
    inactive: bool,
    person: &Person,
    person_org: OrgNames,
    owner: OrgNames,
    project_id: &str,
    project_name: &str,
    hash: u64,
) {
    out.clear();
    let _ = write!(
        out,
        "{{\"id\":\"{id}\",\"details\":{{\"sequence\":\"{}\",\"creationDate\":\"{}\",\"changeDate\":\"{}\",\
         \"resourceOwner\":\"{}\"}}",
        hash % 4 + 1,
        timestamp(hash),
        timestamp(hash >> 3),
        owner.id
    );
    if !keys.is_empty() {
        out.push_str(",\"roleKeys\":[");
        for (n, key) in keys.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{key}\"");
        }
        out.push(']');
    }
    let state = if inactive { "USER_GRANT_STATE_INACTIVE" } else { "USER_GRANT_STATE_ACTIVE" };
    let _ = write!(
        out,
        ",\"state\":\"{state}\",\"userId\":\"{}\",\"userName\":\"{}\"",
        person.id, person.user_name
    );
    for (key, value) in [
        ("firstName", person.first_name),
        ("lastName", person.last_name),
        ("email", person.email.as_str()),
        ("displayName", person.display_name.as_str()),
    ] {
        if !value.is_empty() {
            let _ = write!(out, ",\"{key}\":\"{value}\"");
        }
    }
    let _ = write!(
        out,
        ",\"orgId\":\"{}\",\"orgName\":\"{}\",\"orgDomain\":\"{}\",\"projectId\":\"{project_id}\",\
         \"projectName\":\"{project_name}\",\"preferredLoginName\":\"{}\",\"userType\":\"{}\",\
         \"grantedOrgId\":\"{}\",\"grantedOrgName\":\"{}\",\"grantedOrgDomain\":\"{}\"}}",
        owner.id,
        owner.name,
        owner.domain,
        person.preferred_login_name,
        if person.machine { "TYPE_MACHINE" } else { "TYPE_HUMAN" },
        person_org.id,
        person_org.name,
        person_org.domain,
    );
}

/// The number of user grants of each project: a long tail (most projects have a few hundred,
/// some well over a thousand, so several pages), every 97th project none, summing to
/// `spec.user_grants` with no project above the number of distinct users.
fn grant_counts(spec: &GenerateSpec) -> Vec<usize> {
    let pool = spec.users + spec.other_org_users;
    let weights: Vec<f64> = (0..spec.projects)
        .map(|p| {
            if p % 97 == 5 {
                return 0.0;
            }
            let unit =
                (mix(spec.seed ^ 0xbb67 ^ ((p as u64) << 12)) >> 11) as f64 / (1u64 << 53) as f64;
            0.2 + 8.0 * unit.powi(6)
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| ((spec.user_grants as f64 * w / total) as usize).min(pool))
        .collect();
    let mut missing = spec.user_grants.saturating_sub(counts.iter().sum());
    'fill: while missing > 0 {
        let before = missing;
        for (count, weight) in counts.iter_mut().zip(&weights) {
            if missing == 0 {
                break 'fill;
            }
            if *weight > 0.0 && *count < pool {
                *count += 1;
                missing -= 1;
            }
        }
        if missing == before {
            break; // Every project is full: fewer grants than asked for.
        }
    }
    counts
}

/// Requests to walk a list of `rows` rows with full pages (an empty list takes one).
fn pages(rows: usize) -> u64 {
    (rows as u64).div_ceil(GENERATED_PAGE).max(1)
}

/// An RFC 3339 timestamp in 2023 to 2025 with 0, 3 or 6 fractional digits, like ZITADEL's.
fn timestamp(hash: u64) -> String {
    let year = 2023 + hash % 3;
    let month = (hash >> 2) % 12 + 1;
    let day = (hash >> 6) % 28 + 1;
    let hour = (hash >> 11) % 24;
    let minute = (hash >> 16) % 60;
    let second = (hash >> 22) % 60;
    let date = format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    match (hash >> 28) % 3 {
        0 => format!("{date}Z"),
        1 => format!("{date}.{:03}Z", (hash >> 32) % 1000),
        _ => format!("{date}.{:06}Z", (hash >> 32) % 1_000_000),
    }
}

/// splitmix64's finalizer: a deterministic, well-spread hash of a counter.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
